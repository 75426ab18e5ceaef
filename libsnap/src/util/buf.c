/* SPDX-License-Identifier: GPL-2.0-or-later */
/* A growable string for reports. Allocation failure is sticky and reported once, at detach. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "util/util.h"

/* Make room for n more bytes plus a NUL. */
static bool grow(snap_buf *b, size_t n)
{
	size_t want, cap;
	char *p;

	if (b->oom)
		return false;
	want = b->len + n + 1;
	if (want <= b->cap)
		return true;
	cap = b->cap ? b->cap : 256;
	while (cap < want)
		cap *= 2;
	if (!(p = realloc(b->ptr, cap))) {
		b->oom = true;
		return false;
	}
	b->ptr = p;
	b->cap = cap;
	return true;
}

void snap_buf__put_grow(snap_buf *b, const char *s, size_t n)
{
	if (!grow(b, n))
		return;
	memcpy(b->ptr + b->len, s, n);
	b->len += n;
	b->ptr[b->len] = '\0';
}

void snap_buf__puts(snap_buf *b, const char *s)
{
	snap_buf__put(b, s, strlen(s));
}

void snap_buf__printf(snap_buf *b, const char *fmt, ...)
{
	va_list ap;
	int n;

	va_start(ap, fmt);
	n = vsnprintf(NULL, 0, fmt, ap);
	va_end(ap);
	if (n < 0 || !grow(b, (size_t)n))
		return;
	va_start(ap, fmt);
	vsnprintf(b->ptr + b->len, (size_t)n + 1, fmt, ap);
	va_end(ap);
	b->len += (size_t)n;
}

/* Hand the string to the caller (never NULL unless out of memory). */
char *snap_buf__detach(snap_buf *b)
{
	char *p;

	if (b->oom) {
		snap_buf__release(b);
		return NULL;
	}
	if (!b->ptr && !grow(b, 0))
		return NULL;
	p = b->ptr;
	p[b->len] = '\0';
	b->ptr = NULL;
	b->len = b->cap = 0;
	return p;
}

void snap_buf__release(snap_buf *b)
{
	free(b->ptr);
	b->ptr = NULL;
	b->len = b->cap = 0;
	b->oom = false;
}
