/* SPDX-License-Identifier: GPL-2.0-or-later */
/* The allocator of parsed documents (util/jarena.c): what it cuts, gives back and leaves alone.
 * Criterion runs each test in a process of its own, so each starts with no arena set up. */
#include <criterion/criterion.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>

#include "model/model.h"
#include "util/util.h"

/* A snapshot document of n devices, as text (malloc'd). */
static char *doc_text(int n)
{
	snap_buf b = SNAP_BUF_INIT;
	int i;

	snap_buf__puts(&b, "{\"schema\": \"pcisnap.snapshot/1\", \"host\": {\"hostname\": \"h\", "
	                   "\"collected_at\": \"1970-01-01T00:00:00Z\"}, \"kernel\": {}, "
	                   "\"firmware\": {}, \"iommu\": {}, \"groups\": [], \"devices\": [");
	for (i = 0; i < n; i++)
		snap_buf__printf(
		    &b,
		    "%s{\"bdf\": \"0000:%02x:%02x.0\", \"vendor\": \"8086\", "
		    "\"device\": \"10d3\", \"driver\": \"e1000e\", \"iommu_group\": %d}",
		    i ? ", " : "", i / 32, i % 32, i);
	snap_buf__puts(&b, "]}");
	cr_assert(!b.oom);
	return b.ptr;
}

static json_t *parse_in_arena(const char *text)
{
	json_error_t e;
	json_t *v;

	snap_json__arena_begin();
	v = json_loads(text, 0, &e);
	snap_json__arena_end();
	cr_assert_not_null(v, "%s", e.text);
	return v;
}

Test(jarena, values_parsed_inside_the_scope_are_cut_from_chunks_others_are_not)
{
	json_t *in, *out;

	in = parse_in_arena("{\"k\": \"some value\"}");
	out = json_string("made outside");
	cr_assert(snap_json__arena_owns(in));
	cr_assert(snap_json__arena_owns(json_string_value(json_object_get(in, "k"))));
	cr_assert(!snap_json__arena_owns(out));
	cr_assert(!snap_json__arena_owns(json_string_value(out)));
	cr_assert_str_eq(json_string_value(json_object_get(in, "k")), "some value");
	json_decref(in);
	json_decref(out);
}

Test(jarena, a_document_freed_gives_its_chunks_back_and_the_next_reuses_them)
{
	char *text = doc_text(2000);
	int round;

	for (round = 0; round < 20; round++) {
		json_t *v = parse_in_arena(text);

		cr_assert_gt(snap_json__arena_chunks(), 0);
		cr_assert_eq(json_array_size(json_object_get(v, "devices")), 2000);
		json_decref(v);
		cr_assert_eq(snap_json__arena_chunks(), 0, "round %d: %zu chunks still held", round,
		             snap_json__arena_chunks());
	}
	free(text);
}

Test(jarena, a_value_kept_past_its_document_stays_valid_and_pins_only_its_chunk)
{
	char *text = doc_text(2000);
	json_t *v = parse_in_arena(text), *kept;
	size_t all = snap_json__arena_chunks();

	kept = json_incref(json_array_get(json_object_get(v, "devices"), 1999));
	json_decref(v);
	cr_assert_eq(snap_json__arena_chunks(), 1, "%zu of %zu chunks held",
	             snap_json__arena_chunks(), all);
	cr_assert_str_eq(json_string_value(json_object_get(kept, "bdf")), "0000:3e:0f.0");
	json_decref(kept);
	cr_assert_eq(snap_json__arena_chunks(), 0);
	free(text);
}

static void *free_on_thread(void *p)
{
	json_decref(p);
	return NULL;
}

Test(jarena, a_document_parsed_on_one_thread_is_freed_on_another)
{
	char *text = doc_text(2000);
	json_t *v = parse_in_arena(text);
	pthread_t t;

	cr_assert_eq(pthread_create(&t, NULL, free_on_thread, v), 0);
	cr_assert_eq(pthread_join(t, NULL), 0);
	cr_assert_eq(snap_json__arena_chunks(), 0);
	free(text);
}

Test(jarena, a_block_freed_inside_the_scope_is_cut_again)
{
	json_t *a, *b;
	const char *sa;

	snap_json__arena_begin();
	a = json_string("twelve chars");
	sa = json_string_value(a);
	cr_assert(snap_json__arena_owns(a));
	json_decref(a);
	b = json_string("other twelve");
	/* the same two sizes freed, the same two blocks cut again (not two new ones) */
	cr_assert_eq((void *)b, (void *)a);
	cr_assert_eq((const void *)json_string_value(b), (const void *)sa);
	snap_json__arena_end();
	cr_assert_str_eq(json_string_value(b), "other twelve");
	json_decref(b);
	cr_assert_eq(snap_json__arena_chunks(), 0);
}

Test(jarena, a_scope_whose_values_all_died_gives_its_chunk_back_at_its_end)
{
	snap_json__arena_begin();
	json_decref(json_pack("{s:s, s:[i, i]}", "a", "b", "c", 1, 2));
	cr_assert_eq(snap_json__arena_chunks(), 1); /* still cut from */
	snap_json__arena_end();
	cr_assert_eq(snap_json__arena_chunks(), 0);
}

Test(jarena, large_blocks_and_nested_scopes)
{
	size_t n = 200000;
	char *big = malloc(n + 1);
	json_t *s, *inner;

	memset(big, 'x', n);
	big[n] = '\0';
	snap_json__arena_begin();
	s = json_string(big); /* its text is past the largest block the arena cuts */
	snap_json__arena_begin();
	snap_json__arena_end();
	inner = json_string("still inside the outer scope");
	snap_json__arena_end();
	cr_assert(snap_json__arena_owns(s));
	cr_assert(!snap_json__arena_owns(json_string_value(s)));
	cr_assert_eq(strlen(json_string_value(s)), n);
	cr_assert(snap_json__arena_owns(inner));
	json_decref(s);
	json_decref(inner);
	cr_assert_eq(snap_json__arena_chunks(), 0);
	free(big);
}

/* Where the address space cannot be reserved, everything still works, from malloc. (These two
 * not under ASan, whose shadow memory and allocator need more than these limits leave.) */
#if !defined(__SANITIZE_ADDRESS__)
Test(jarena, without_its_reserve_the_arena_falls_back_to_malloc)
{
	struct rlimit rl = {512u << 20, 512u << 20};
	char *text = doc_text(100);
	snap_snapshot *s = NULL;
	json_t *v;

	cr_assert_eq(setrlimit(RLIMIT_AS, &rl), 0);
	v = parse_in_arena(text);
	cr_assert(!snap_json__arena_owns(v));
	cr_assert_eq(snap_snapshot_load_buffer(&s, text, strlen(text), NULL), 0);
	snap_snapshot_free(s);
	json_decref(v);
	free(text);
}

/* What jansson hands the caller inside a scope (json_dumps()) is freed the way jansson's manual
 * asks, with the free function it came from: free() of a block cut from a chunk would abort. */
Test(jarena, text_dumped_inside_a_scope_is_freed_with_jansson_s_free)
{
	json_t *v;
	char *text;

	snap_json__arena_begin();
	v = json_pack("{s:[i, i, i]}", "k", 1, 2, 3);
	text = json_dumps(v, JSON_COMPACT);
	snap_json__arena_end();
	cr_assert(snap_json__arena_owns(text));
	cr_assert_str_eq(text, "{\"k\":[1,2,3]}");
	snap_json__free(text);
	json_decref(v);
	cr_assert_eq(snap_json__arena_chunks(), 0);
	snap_json__free(NULL);
	v = json_object();
	text = json_dumps(v, 0); /* outside any scope: malloc'd, freed by free() */
	cr_assert(!snap_json__arena_owns(text));
	snap_json__free(text);
	json_decref(v);
}

static long vm_data_kb(void)
{
	char line[256];
	long kb = -1;
	FILE *f = fopen("/proc/self/status", "r");

	while (f && fgets(line, sizeof(line), f))
		if (!strncmp(line, "VmData:", 7))
			kb = strtol(line + 7, NULL, 10);
	if (f)
		fclose(f);
	return kb;
}

/* A chunk that could not be made writable (RLIMIT_DATA counts a writable private mapping) is
 * kept PROT_NONE on the free list: when it is used again it is made writable first, never
 * written as it is. */
Test(jarena, a_chunk_that_could_not_be_made_writable_is_made_so_when_used_again)
{
	enum { N = 150000 }; /* 24-byte integers: three chunks and more */
	json_t **keep = calloc(N, sizeof(*keep)), *v;
	struct rlimit old, tight;
	size_t k;

	cr_assert_not_null(keep);
	snap_json__arena_begin(); /* the range reserved, no chunk yet */
	snap_json__arena_end();
	cr_assert_eq(getrlimit(RLIMIT_DATA, &old), 0);
	tight = old;
	tight.rlim_cur = (rlim_t)(vm_data_kb() + 1536) << 10; /* room for one chunk, not two */
	cr_assert_eq(setrlimit(RLIMIT_DATA, &tight), 0);
	snap_json__arena_begin();
	for (k = 0; k < N; k++) /* the second chunk's mprotect() fails: malloc, then nothing */
		keep[k] = json_integer((json_int_t)k);
	snap_json__arena_end();
	cr_assert_eq(setrlimit(RLIMIT_DATA, &old), 0);
	cr_assert(snap_json__arena_owns(keep[0]));
	snap_json__arena_begin();
	v = json_integer(42); /* the chunk kept PROT_NONE is the first one taken again */
	snap_json__arena_end();
	cr_assert(snap_json__arena_owns(v));
	cr_assert_eq(json_integer_value(v), 42);
	json_decref(v);
	for (k = 0; k < N; k++)
		json_decref(keep[k]);
	free(keep);
}
#endif
