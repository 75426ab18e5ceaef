/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * The allocator of parsed documents.
 *
 * A parsed 1,000-device snapshot is ~100,000 small jansson allocations that all die together,
 * when the snapshot is freed. malloc() spends a tenth of the parse on them, rounds each up to 32
 * bytes, and on a second thread grows that thread's heap one mprotect() per page. Between
 * snap_json__arena_begin() and _end() this thread's jansson allocations are instead cut from
 * 1 MiB chunks of one reserved range of address space, one after the other.
 *
 * Nothing else changes: the hooks given to json_set_alloc_funcs() hand every other allocation
 * to the functions that were set before (malloc and free unless the program set its own), and
 * a pointer is the arena's exactly when it lies in the reserved range, so memory jansson got
 * elsewhere, before or after, is freed where it came from. A chunk counts its live
 * allocations; the free of its last one (on any thread) gives its pages back (MADV_DONTNEED)
 * and the chunk to the free list. So a value kept past its document's life stays valid, as
 * with malloc; it pins its chunk, no more.
 *
 * Where the range cannot be reserved (RLIMIT_AS, an exhausted address space), or when it is
 * full, allocations fall back to the previous functions: slower, never wrong.
 */
#include <pthread.h>
#include <stdatomic.h>
#include <stdint.h>
#include <string.h>
#include <sys/mman.h>

#include "util/util.h"

#if defined(__SANITIZE_ADDRESS__)
#include <sanitizer/asan_interface.h>
#define POISON(p, n)   ASAN_POISON_MEMORY_REGION((p), (n))
#define UNPOISON(p, n) ASAN_UNPOISON_MEMORY_REGION((p), (n))
#else
#define POISON(p, n)   ((void)(p), (void)(n))
#define UNPOISON(p, n) ((void)(p), (void)(n))
#endif

#define CHUNK_SHIFT 20
#define ALIGN       8 /* jansson stores pointers, size_t, json_int_t and double, no wider */
#define CHUNK_SIZE  ((size_t)1 << CHUNK_SHIFT)
#define CHUNKS      4096u             /* 4 GiB of address space, PROT_NONE until used */
#define BIG         (CHUNK_SIZE / 16) /* larger requests go to the previous malloc */
#define GRANULES    (CHUNK_SIZE / ALIGN)
#define HEAD        (64 + GRANULES / 8)     /* the count, the bitmap, then the allocations */
#define RECYCLED    128                     /* classes of sizes freed and cut again: 8..1024 */
#define BIAS        ((int_fast64_t)1 << 62) /* see seal() */

struct chunk_head {
	/* live allocations: BIAS - frees while a thread still cuts from it, then allocs - frees */
	_Atomic int_fast64_t live;
	char pad[64 - sizeof(_Atomic int_fast64_t)];
	uint64_t starts[GRANULES / 64]; /* a bit for each granule an allocation begins at */
};

static pthread_once_t once = PTHREAD_ONCE_INIT;
static pthread_mutex_t lock = PTHREAD_MUTEX_INITIALIZER;
static _Atomic(char *) reserve; /* NULL: no arena, every allocation goes to prev_* */
static json_malloc_t prev_malloc;
static json_free_t prev_free;
/* under lock: the chunks given back (a list through next_free, index + 1, 0 ends it) and the
 * first chunk never used */
static uint32_t free_head, next_free[CHUNKS], next_unused;
static bool writable[CHUNKS]; /* under lock: made PROT_READ | PROT_WRITE (once; kept) */

static _Thread_local struct {
	unsigned depth;           /* nested begin()s */
	char *chunk;              /* the chunk this thread cuts from, or NULL */
	size_t used;              /* bytes of it cut */
	int_fast64_t allocs;      /* allocations cut from it, less those it freed itself */
	void *recycled[RECYCLED]; /* blocks of it this thread freed, by size: lists through them */
} tls;

static void *arena_malloc(size_t size);
static void arena_free(void *p);

/* Every allocation of jansson's, counted when it fails (util/mem.c). */
static void *counting_malloc(size_t size)
{
	void *p = arena_malloc(size);

	if (!p)
		snap_mem__failed();
	return p;
}

static void setup(void)
{
	void *p = mmap(NULL, CHUNKS * CHUNK_SIZE, PROT_NONE,
	               MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);

	json_get_alloc_funcs(&prev_malloc, &prev_free);
	if (!prev_malloc || !prev_free) {
		prev_malloc = malloc;
		prev_free = free;
	}
	/* without the range the hooks still count failed allocations (snap_mem__failures()) */
	if (p != MAP_FAILED)
		atomic_store(&reserve, (char *)p);
	json_set_alloc_funcs(counting_malloc, arena_free);
}

static char *chunk_at(uint32_t i)
{
	return atomic_load_explicit(&reserve, memory_order_relaxed) + (size_t)i * CHUNK_SIZE;
}

/* A chunk ready to cut from, or NULL (the range is full or cannot be made writable). */
static char *acquire(void)
{
	uint32_t i;
	char *c;

	pthread_mutex_lock(&lock);
	if (free_head) {
		i = free_head - 1;
		free_head = next_free[i];
	} else if (next_unused < CHUNKS) {
		i = next_unused++;
	} else {
		pthread_mutex_unlock(&lock);
		return NULL;
	}
	c = chunk_at(i);
	if (!writable[i] && mprotect(c, CHUNK_SIZE, PROT_READ | PROT_WRITE) < 0) {
		next_free[i] = free_head; /* kept, still PROT_NONE: a later use tries again */
		free_head = i + 1;
		pthread_mutex_unlock(&lock);
		return NULL;
	}
	writable[i] = true;
	pthread_mutex_unlock(&lock);
	UNPOISON(c, HEAD);
	POISON(c + HEAD, CHUNK_SIZE - HEAD);
	atomic_store_explicit(&((struct chunk_head *)(void *)c)->live, BIAS, memory_order_relaxed);
	return c;
}

/* Every allocation of c is freed: its pages go back, the chunk to the free list. */
static void release(char *c)
{
	uint32_t i = (uint32_t)((size_t)(c - chunk_at(0)) >> CHUNK_SHIFT);

	UNPOISON(c, CHUNK_SIZE);
	(void)madvise(c, CHUNK_SIZE, MADV_DONTNEED); /* zero-filled on next use either way */
	POISON(c, CHUNK_SIZE);
	pthread_mutex_lock(&lock);
	next_free[i] = free_head;
	free_head = i + 1;
	pthread_mutex_unlock(&lock);
}

/*
 * This thread stops cutting from its chunk. Its count held BIAS - frees so far, which no free
 * can bring to 0; adding allocs - BIAS leaves the true count, and whichever of this and the
 * last free brings it to 0 releases the chunk.
 */
static void seal(void)
{
	struct chunk_head *h = (struct chunk_head *)(void *)tls.chunk;
	int_fast64_t delta = tls.allocs - BIAS;

	if (atomic_fetch_add_explicit(&h->live, delta, memory_order_acq_rel) + delta == 0)
		release(tls.chunk);
	tls.chunk = NULL;
	tls.used = 0;
	tls.allocs = 0;
	memset(tls.recycled, 0, sizeof(tls.recycled));
}

/*
 * The size of the block at offset off of this thread's chunk: up to the next allocation's
 * start, or to the end of what was cut.
 */
static size_t block_size(const struct chunk_head *h, size_t off)
{
	size_t first = off / ALIGN, g = first + 1, end = tls.used / ALIGN;

	while (g < end) {
		uint64_t w = h->starts[g / 64] >> (g % 64);

		if (w) {
			g += (size_t)__builtin_ctzll(w);
			break;
		}
		g = (g / 64 + 1) * 64;
	}
	return ((g < end ? g : end) - first) * ALIGN;
}

static void *arena_malloc(size_t size)
{
	void *p;

	if (!tls.depth || size > BIG || !atomic_load_explicit(&reserve, memory_order_relaxed))
		return prev_malloc(size);
	size = (size + ALIGN - 1) & ~(size_t)(ALIGN - 1);
	if (!size)
		size = ALIGN;
	if (tls.chunk && size / ALIGN <= RECYCLED && (p = tls.recycled[size / ALIGN - 1])) {
		UNPOISON(p, size);
		tls.recycled[size / ALIGN - 1] = *(void **)p;
		tls.allocs++;
		return p;
	}
	if (!tls.chunk || tls.used + size > CHUNK_SIZE) {
		if (tls.chunk)
			seal();
		if (!(tls.chunk = acquire()))
			return prev_malloc(size);
		tls.used = HEAD;
	}
	p = tls.chunk + tls.used;
	((struct chunk_head *)(void *)tls.chunk)->starts[tls.used / ALIGN / 64] |=
	    (uint64_t)1 << (tls.used / ALIGN % 64);
	tls.used += size;
	tls.allocs++;
	UNPOISON(p, size);
	return p;
}

/* The chunk p was cut from, or NULL: p is not the arena's. */
static char *chunk_of(const void *p)
{
	char *base = atomic_load_explicit(&reserve, memory_order_relaxed);

	if (!base || !p || (const char *)p < base || (const char *)p >= base + CHUNKS * CHUNK_SIZE)
		return NULL;
	return base + ((size_t)((const char *)p - base) & ~(CHUNK_SIZE - 1));
}

static void arena_free(void *p)
{
	char *c = chunk_of(p);
	struct chunk_head *h;

	if (!c) {
		if (p)
			prev_free(p);
		return;
	}
	h = (struct chunk_head *)(void *)c;
	if (c == tls.chunk) { /* this thread still cuts from it: the block may be cut again */
		size_t size = block_size(h, (size_t)((char *)p - c));

		tls.allocs--;
		if (size / ALIGN <= RECYCLED) {
			*(void **)p = tls.recycled[size / ALIGN - 1];
			tls.recycled[size / ALIGN - 1] = p;
			POISON(p, size);
		}
		return;
	}
	if (atomic_fetch_sub_explicit(&h->live, 1, memory_order_acq_rel) == 1)
		release(c);
}

void snap_json__hooks_install(void)
{
	pthread_once(&once, setup);
}

void snap_json__arena_begin(void)
{
	pthread_once(&once, setup);
	tls.depth++;
}

void snap_json__arena_end(void)
{
	if (tls.depth && !--tls.depth && tls.chunk)
		seal();
}

bool snap_json__arena_owns(const void *p)
{
	return chunk_of(p) != NULL;
}

size_t snap_json__arena_chunks(void)
{
	size_t n, free_n = 0;
	uint32_t i;

	pthread_mutex_lock(&lock);
	n = next_unused;
	for (i = free_head; i; i = next_free[i - 1])
		free_n++;
	pthread_mutex_unlock(&lock);
	return n - free_n;
}

void snap_json__free(void *p)
{
	json_malloc_t m;
	json_free_t f;

	json_get_alloc_funcs(&m, &f);
	(f ? f : free)(p);
}
