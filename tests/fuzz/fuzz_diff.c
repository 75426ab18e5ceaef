/* SPDX-License-Identifier: GPL-2.0-or-later */
/* Fuzz target: two snapshots in one input (split at the first NUL), diffed both ways. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "fuzz_main.h"
#include "json_mutator.h"
#include "snap/diff.h"
#include "snap/snap.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	const uint8_t *nul = memchr(data, 0, size);
	snap_snapshot *a = NULL, *b = NULL;

	if (!nul)
		return 0;
	if (snap_snapshot_load_buffer(&a, (const char *)data, (size_t)(nul - data), NULL) == 0 &&
	    snap_snapshot_load_buffer(&b, (const char *)nul + 1, size - (size_t)(nul - data) - 1,
	                              NULL) == 0) {
		for (int dir = 0; dir < 2; dir++) {
			snap_diff *d = NULL;
			char *text = NULL;

			if (snap_diff_compute(&d, dir ? b : a, dir ? a : b, NULL) == 0 &&
			    snap_diff_render(&text, d, dir ? SNAP_DIFF_MARKDOWN : SNAP_DIFF_TEXT,
			                     NULL) == 0)
				free(text);
			snap_diff_free(d);
		}
	}
	snap_snapshot_free(a);
	snap_snapshot_free(b);
	return 0;
}
