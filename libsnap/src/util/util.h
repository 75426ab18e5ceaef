/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * util/: what every layer of libsnap may use (errors, growable strings, text and JSON helpers).
 * Nothing here is installed; names are snap_<noun>__<verb>().
 */
#ifndef SNAP_UTIL_UTIL_H
#define SNAP_UTIL_UTIL_H

#include <assert.h>
#include <jansson.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include "snap/common.h"
#include "snap/error.h"

#ifdef NDEBUG
#define SNAP_ASSERT_ARG(expr)                                                                      \
	do {                                                                                       \
		if (!(expr))                                                                       \
			return snap_error__set(err, SNAP_EINVALID, "invalid argument: %s", #expr); \
	} while (0)
#else
#define SNAP_ASSERT_ARG(expr) assert(expr)
#endif

#define SNAP_ARRAY_SIZE(a) (sizeof(a) / sizeof((a)[0]))

/* error.c */
int snap_error__set(snap_error *err, int code, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
int snap_error__errno(snap_error *err, const char *what, const char *path);
/* buf.c: a growable string. After an allocation failure oom is set and appends are ignored. */
typedef struct {
	char *ptr;  /* NUL-terminated when len > 0 or after snap_buf__detach() */
	size_t len; /* bytes used, without the NUL */
	size_t cap; /* bytes allocated */
	bool oom;   /* an append failed */
} snap_buf;
#define SNAP_BUF_INIT                                                                              \
	{                                                                                          \
		NULL, 0, 0, false                                                                  \
	}
void snap_buf__put_grow(snap_buf *b, const char *s, size_t n); /* snap_buf__put(), growing */
/* Append n bytes. Inline where they fit (a serialiser hands out a token at a time). */
static inline void snap_buf__put(snap_buf *b, const char *s, size_t n)
{
	if (b->ptr && !b->oom && n < b->cap - b->len) {
		memcpy(b->ptr + b->len, s, n);
		b->len += n;
		b->ptr[b->len] = '\0';
		return;
	}
	snap_buf__put_grow(b, s, n);
}
void snap_buf__puts(snap_buf *b, const char *s);
void snap_buf__printf(snap_buf *b, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
char *snap_buf__detach(snap_buf *b); /* caller frees; NULL after oom */
void snap_buf__release(snap_buf *b);

/* text.c: small text helpers, no I/O. */
char *snap_parse__trim(char *s);                             /* in place; returns s past blanks */
int snap_parse__hex_attr(unsigned long *out, const char *s); /* "0x10de\n" -> 0x10de; 0 or -1 */
int snap_parse__int(long *out, const char *s);               /* decimal, whole string; 0 or -1 */
/* "2.5" -> 25: a decimal number in tenths, whatever the locale; *end past it; -1 if huge */
long snap_parse__tenths(const char *s, const char **end);
char *snap_parse__basename_dup(const char *path);
/*
 * Make *text (malloc'd, NUL-terminated) valid UTF-8 for JSON. Valid text is left as it is (0).
 * Otherwise (1) every byte that is not part of a valid sequence, and every backslash, becomes
 * "\xNN", so the raw bytes stay recoverable from the escaped text. -1 when out of memory.
 */
int snap_parse__utf8_escape(char **text);
/* Edit distance (Levenshtein) of two short strings, for "did you mean"; SIZE_MAX past 64 bytes. */
size_t snap_parse__distance(const char *a, const char *b);

/* json.c: jansson helpers */
const char *snap_json__str(const json_t *obj, const char *key); /* NULL unless a string */
bool snap_json__has_string(const json_t *array, const char *s); /* s among array's strings */
json_t *snap_json__str_or_null(const char *s);                  /* new ref */
json_t *snap_json__string(const char *s); /* json_string(), quicker for ASCII; NULL if not UTF-8 */
int snap_json__sort_by_key(json_t *array, const char *key); /* stable, by string key */
int snap_json__dump(char **out, const json_t *root, snap_error *err);
/* The same document with no whitespace (sorted keys, ASCII, a final newline): the stored form */
int snap_json__dump_compact(char **out, const json_t *root, snap_error *err);
/* snap_json__dump() of a document whose bulk is the array root[key]: byte for byte the same
 * text, its array's second half written on a second thread (from 2,048 elements; _min: from
 * min, for the tests) */
int snap_json__dump_split(char **out, const json_t *root, const char *key, snap_error *err);
int snap_json__dump_split_min(char **out, const json_t *root, const char *key, size_t min,
                              snap_error *err);
/* the same text, in pieces to cb as json_dump_callback() hands them (from min elements);
 * 0, or -1 when cb failed or memory ran out */
int snap_json__dump_split_cb(const json_t *root, const char *key, size_t min,
                             json_dump_callback_t cb, void *data);

/*
 * jarena.c: the allocator of parsed documents. Between begin() and end() (nestable, per thread)
 * jansson's allocations are cut from 1 MiB chunks, each given back when its last allocation is
 * freed; everything else goes to the allocator set before. Installs jansson's alloc hooks on
 * first use (json_set_alloc_funcs): a program must not replace them afterwards.
 */
void snap_json__arena_begin(void);
void snap_json__arena_end(void);
void snap_json__hooks_install(void);       /* the hooks without an arena (snap_mem__failures()) */
bool snap_json__arena_owns(const void *p); /* p was cut from a chunk (tests) */
/* Free what jansson allocated for the caller (json_dumps()): with the free function it was
 * allocated for, as jansson's manual asks, not free(): it may have been cut from a chunk. */
void snap_json__free(void *p);
size_t snap_json__arena_chunks(void); /* chunks holding live allocations (tests) */

/*
 * mem.c: the one idiom for running out of memory. jansson's allocations (through jarena.c's
 * hooks) and those of snap_mem__malloc()/snap_mem__strdup() count their failures; a function
 * that builds a document or a verdict reads snap_mem__failures() before and after and returns
 * SNAP_ENOMEM when it moved, so a finding lost to a failed allocation is an error, never a
 * verdict (tests/unit/test_oom.c fails each allocation in turn). A process-wide count: a
 * failure on another thread at the same time also makes it ENOMEM, never a wrong answer.
 */
unsigned long snap_mem__failures(void);
void snap_mem__failed(void); /* count one (an allocator's own failure path) */
void *snap_mem__malloc(size_t n);
char *snap_mem__strdup(const char *s);

/* thread.c: snap_thread_start(), declared in snap/common.h */

/*
 * table.c: rows ([[cell, ...], ...], strings) under a header of ncols names (16 at most),
 * each column as wide as its widest cell, two spaces apart, each line after indent; nothing
 * when there are no rows.
 */
void snap_table__render(snap_buf *b, const char *indent, const char *const *header, size_t ncols,
                        const json_t *rows);

/* time.c: RFC 3339 in UTC, "2026-01-02T03:04:05Z" (basic: "20260102T030405Z"). */
void snap_time__format(char *buf, size_t n, int64_t t, bool basic);
int64_t snap_time__parse(const char *s); /* seconds since the epoch; -1 when s is not one */

/* fsroot.c */
void snap_strv__free(char **v, size_t n); /* free n strings and the array */

#endif
