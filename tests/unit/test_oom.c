/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * Out of memory is an error, never a verdict: with jansson's allocator failing at its n-th
 * allocation, for every n, check and diff either return SNAP_ENOMEM or the very document they
 * return with memory to spare (a finding lost to a failed allocation would be a false PASS).
 */
#include <criterion/criterion.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "analyse/analyse.h"
#include "model/model.h"
#include "snap/check.h"
#include "snap/diff.h"

#define BASE SNAP_TEST_DATA "/../golden/collect/pve-intel/expected.stdout"

static long budget = -1; /* allocations before the one that fails; -1: none fails */
static bool failed;      /* the failing allocation was reached */

static void *failing_malloc(size_t n)
{
	if (budget == 0) { /* this one alone fails: what follows may well succeed */
		budget = -1;
		failed = true;
		return NULL;
	}
	if (budget > 0)
		budget--;
	return malloc(n);
}

static char *check_doc(snap_snapshot *s, int *rc)
{
	snap_check *c = NULL;
	char *text = NULL;

	*rc = snap_check_run(&c, s, NULL);
	if (*rc == 0) {
		long keep = budget;

		budget = -1;
		cr_assert_eq(snap_check_render(&text, c, 1, NULL), 0);
		budget = keep;
	}
	snap_check_free(c);
	return text;
}

static snap_snapshot *load(void)
{
	snap_snapshot *s = NULL;

	budget = -1;
	cr_assert_eq(snap_snapshot_load_file(&s, BASE, NULL), 0);
	return s;
}

Test(oom, check_returns_enomem_or_the_whole_document)
{
	snap_snapshot *s;
	char *want;
	int rc, wrong = 0, enomem = 0;

	/* before anything parses: util/jarena.c hands what it does not cut to these */
	json_set_alloc_funcs(failing_malloc, free);
	s = load();
	want = check_doc(s, &rc);
	cr_assert_eq(rc, 0);
	snap_snapshot_free(s);
	for (long n = 0;; n++) {
		bool exhausted;
		char *got;

		s = load();
		failed = false;
		budget = n;
		got = check_doc(s, &rc);
		exhausted = failed;
		budget = -1;
		if (rc == 0 && strcmp(got, want) && !wrong++)
			fprintf(stderr, "allocation %ld failed: check gave another document\n", n);
		enomem += rc == SNAP_ENOMEM;
		free(got);
		snap_snapshot_free(s);
		if (!exhausted) { /* the run needed fewer than n allocations: all are covered */
			fprintf(stderr, "check: %ld allocation points, %d ENOMEM\n", n, enomem);
			break;
		}
	}
	free(want);
	cr_assert_eq(wrong, 0, "%d failed allocations gave a different document, rc 0", wrong);
	cr_assert_gt(enomem, 0);
}

static char *diff_doc(snap_snapshot *o, snap_snapshot *n, int *rc)
{
	snap_diff *d = NULL;
	char *text = NULL;

	*rc = snap_diff_compute(&d, o, n, NULL);
	if (*rc == 0) {
		long keep = budget;

		budget = -1;
		cr_assert_eq(snap_diff_render(&text, d, SNAP_DIFF_JSON, NULL), 0);
		budget = keep;
	}
	snap_diff_free(d);
	return text;
}

/* NEW: OLD with its GPU's driver changed and a bridge's ACS gone, so the diff has findings */
static snap_snapshot *changed(void)
{
	snap_snapshot *s = load();
	json_t *d;
	size_t i;

	json_array_foreach (json_object_get(s->root, "devices"), i, d)
		if (!strcmp(json_string_value(json_object_get(d, "bdf")), "0000:01:00.0"))
			json_object_set_new(d, "driver", json_string("nouveau"));
	return s;
}

Test(oom, diff_returns_enomem_or_the_whole_document)
{
	snap_snapshot *o, *n;
	char *want;
	int rc, wrong = 0, enomem = 0;

	json_set_alloc_funcs(failing_malloc, free);
	o = load();
	n = changed();
	want = diff_doc(o, n, &rc);
	cr_assert_eq(rc, 0);
	cr_assert_not_null(strstr(want, "binding_regression"));
	snap_snapshot_free(o);
	snap_snapshot_free(n);
	for (long k = 0;; k++) {
		bool exhausted;
		char *got;

		o = load();
		n = changed();
		failed = false;
		budget = k;
		got = diff_doc(o, n, &rc);
		exhausted = failed;
		budget = -1;
		if (rc == 0 && strcmp(got, want) && !wrong++)
			fprintf(stderr, "allocation %ld failed: diff gave another document\n", k);
		enomem += rc == SNAP_ENOMEM;
		free(got);
		snap_snapshot_free(o);
		snap_snapshot_free(n);
		if (!exhausted) {
			fprintf(stderr, "diff: %ld allocation points, %d ENOMEM\n", k, enomem);
			break;
		}
	}
	free(want);
	cr_assert_eq(wrong, 0, "%d failed allocations gave a different document, rc 0", wrong);
	cr_assert_gt(enomem, 0);
}
