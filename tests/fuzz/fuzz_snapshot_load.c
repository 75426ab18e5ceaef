/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * Fuzz target: load any bytes as a snapshot; when it loads, render every report, check it, and
 * diff it both ways against a copy changed where diff looks (drivers, groups, ACS, parents, a
 * device gone), so the rules run on pairs that differ, not only on identical twins.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#include "fuzz_main.h"
#include "json_mutator.h"
#include "snap/check.h"
#include "snap/diff.h"
#include "snap/snap.h"

static void run_diff(const snap_snapshot *a, const snap_snapshot *b)
{
	snap_diff *d = NULL;
	char *text = NULL;

	for (int f = SNAP_DIFF_TEXT; f <= SNAP_DIFF_MARKDOWN; f++) {
		if (snap_diff_compute(&d, a, b, NULL) == 0 &&
		    snap_diff_render(&text, d, (snap_diff_format)f, NULL) == 0)
			free(text);
		text = NULL;
		snap_diff_free(d);
		d = NULL;
	}
}

/* A changed copy: the input's bytes pick what changes, so it is the same for the same input. */
static snap_snapshot *changed_copy(const uint8_t *data, size_t size)
{
	json_t *root = json_loadb((const char *)data, size, 0, NULL), *devs, *d;
	snap_snapshot *s = NULL;
	char *text;
	size_t i, n;

	if (!root)
		return NULL;
	devs = json_object_get(root, "devices");
	n = json_array_size(devs);
	json_array_foreach (devs, i, d) {
		uint8_t b = size ? data[(i * 7) % size] : 0;

		switch (b % 6) {
		case 0:
			json_object_set_new(d, "driver", json_string("vfio-pci"));
			break;
		case 1:
			json_object_set_new(d, "driver", json_null());
			break;
		case 2:
			json_object_set_new(d, "iommu_group", json_integer((json_int_t)(b % 3)));
			break;
		case 3:
			json_object_set_new(d, "acs", json_null());
			break;
		case 4:
			json_object_set_new(
			    d, "acs",
			    json_pack("{s:b, s:[s], s:[]}", "present", 1, "cap", "SV", "ctl"));
			break;
		default:
			break;
		}
	}
	if (n > 1)
		json_array_remove(devs, (size_t)data[0] % n);
	json_object_set_new(json_object_get(root, "iommu"), "irq_remapping",
	                    json_string(size && data[size - 1] % 2 ? "disabled" : "unknown"));
	text = json_dumps(root, JSON_COMPACT);
	if (text)
		snap_snapshot_load_buffer(&s, text, strlen(text), NULL);
	free(text);
	json_decref(root);
	return s;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	snap_snapshot *s = NULL, *t;
	char *text = NULL;

	if (snap_snapshot_load_buffer(&s, (const char *)data, size, NULL) < 0)
		return 0;
	for (int f = SNAP_REPORT_TEXT; f <= SNAP_REPORT_JSON; f++) {
		if (snap_report_render(&text, s, (snap_report_format)f, NULL) == 0)
			free(text);
		text = NULL;
	}
	{
		snap_check *c = NULL;

		for (int json = 0; json < 2; json++) {
			if (snap_check_run(&c, s, NULL) == 0 &&
			    snap_check_render(&text, c, json, NULL) == 0)
				free(text);
			text = NULL;
			snap_check_free(c);
			c = NULL;
		}
	}
	run_diff(s, s);
	if ((t = changed_copy(data, size))) {
		run_diff(s, t);
		run_diff(t, s);
		snap_snapshot_free(t);
	}
	snap_snapshot_free(s);
	return 0;
}
