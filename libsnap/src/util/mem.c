// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * mem.c: allocation failures counted, so that whoever builds a document can tell that part of
 * it was lost (util.h says how the count is used).
 */
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>

#include "util/util.h"

static atomic_ulong failures;

unsigned long snap_mem__failures(void)
{
	snap_json__hooks_install(); /* from now on jansson's failures count too */
	return atomic_load(&failures);
}

void snap_mem__failed(void)
{
	atomic_fetch_add(&failures, 1);
}

void *snap_mem__malloc(size_t n)
{
	void *p = malloc(n);

	if (!p)
		snap_mem__failed();
	return p;
}

char *snap_mem__strdup(const char *s)
{
	char *p = s ? strdup(s) : NULL;

	if (s && !p)
		snap_mem__failed();
	return p;
}
