/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * Whether a prediction held: the pcisnap.preflight/1 document stored with the snapshot it was
 * made against, held against the snapshot after the reboot. A device is found by its address,
 * or when buses shifted by its ids (when exactly one device has them); it held when the driver
 * bound to it is the one predicted. The kernel held when the predicted release booted.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "preflight/preflight.h"

static const json_t *find_device(const json_t *after, const char *bdf, const char *ids)
{
	const json_t *d = snap_snapshot__device(after, bdf), *x, *found = NULL;
	size_t i, n = 0;

	if (d)
		return d;
	json_array_foreach (json_object_get(after, "devices"), i, x) {
		char have[16];

		snprintf(have, sizeof(have), "%s:%s", snap_json__str(x, "vendor"),
		         snap_json__str(x, "device"));
		if (ids && !strcmp(have, ids)) {
			found = x;
			n++;
		}
	}
	return n == 1 ? found : NULL;
}

static json_t *compare(const json_t *pred, const json_t *after, bool *held)
{
	const char *rel = snap_json__str(json_object_get(pred, "kernel"), "release");
	const char *booted = snap_json__str(json_object_get(after, "kernel"), "release");
	json_t *devs = json_array(), *d;
	size_t i;

	*held = rel && booted && !strcmp(rel, booted);
	json_array_foreach (json_object_get(pred, "devices"), i, d) {
		const char *bdf = snap_json__str(d, "bdf"), *want = snap_json__str(d, "predicted");
		const json_t *now = bdf ? find_device(after, bdf, snap_json__str(d, "ids")) : NULL;
		const char *m = now ? snap_json__str(now, "driver_module") : NULL;
		const char *drv = now ? snap_json__str(now, "driver") : NULL;
		char bound[256] = "";
		bool ok;

		if (!bdf)
			continue;
		if (m || drv)
			snap_kmod__name(bound, sizeof(bound), m ? m : drv);
		ok = now && ((!want && !*bound) || (want && !strcmp(want, bound)));
		*held &= ok;
		json_array_append_new(devs,
		                      json_pack("{s:s, s:o, s:o, s:b, s:b}", "bdf", bdf,
		                                "predicted", snap_json__str_or_null(want), "bound",
		                                snap_json__str_or_null(*bound ? bound : NULL),
		                                "present", now != NULL, "held", ok));
	}
	return json_pack("{s:o, s:o, s:b, s:o}", "predicted", snap_json__str_or_null(rel), "booted",
	                 snap_json__str_or_null(booted), "held", *held, "devices", devs);
}

static void text_section(snap_buf *b, const json_t *c, bool md)
{
	const json_t *d;
	size_t i;

	snap_buf__printf(b, "\n%spreflight prediction for %s: %s\n", md ? "## " : "",
	                 snap_json__str(c, "predicted") ? snap_json__str(c, "predicted") : "?",
	                 json_is_true(json_object_get(c, "held")) ? "held" : "did not hold");
	if (md)
		snap_buf__puts(b, "\n");
	if (snap_json__str(c, "predicted") && snap_json__str(c, "booted") &&
	    strcmp(snap_json__str(c, "predicted"), snap_json__str(c, "booted")))
		snap_buf__printf(b, "%s%s booted, not the predicted kernel\n", md ? "- " : "  ",
		                 snap_json__str(c, "booted"));
	json_array_foreach (json_object_get(c, "devices"), i, d) {
		const char *want = snap_json__str(d, "predicted"),
		           *got = snap_json__str(d, "bound");

		if (!json_is_true(json_object_get(d, "present")))
			snap_buf__printf(b, "%s%s: predicted %s, and the device is gone\n",
			                 md ? "- " : "  ", snap_json__str(d, "bdf"),
			                 want ? want : "no driver");
		else
			snap_buf__printf(b, "%s%s: predicted %s, bound to %s: %s\n",
			                 md ? "- " : "  ", snap_json__str(d, "bdf"),
			                 want ? want : "no driver", got ? got : "no driver",
			                 json_is_true(json_object_get(d, "held")) ? "held"
			                                                          : "MISSED");
	}
}

int snap_preflight_annotate(char **report, int format, int *held, const char *prediction,
                            const snap_snapshot *after, snap_error *err)
{
	json_error_t jerr;
	json_t *pred, *c;
	bool ok;
	char *out = NULL;

	SNAP_ASSERT_ARG(report && *report && prediction && after);
	pred = json_loads(prediction, 0, &jerr);
	if (!pred || !snap_json__str(pred, "schema") ||
	    strcmp(snap_json__str(pred, "schema"), SNAP_PREFLIGHT_SCHEMA)) {
		json_decref(pred);
		return snap_error__set(err, SNAP_EINVALID, "not a %s document",
		                       SNAP_PREFLIGHT_SCHEMA);
	}
	c = compare(pred, after->root, &ok);
	json_decref(pred);
	if (!c)
		return snap_error__set(err, SNAP_ENOMEM, "out of memory");
	if (format == 1) {
		json_t *doc = json_loads(*report, 0, &jerr);
		int e;

		if (!json_is_object(doc)) {
			json_decref(doc);
			json_decref(c);
			return snap_error__set(err, SNAP_EINVALID, "the report is not JSON");
		}
		json_object_set_new(doc, "preflight", c);
		e = snap_json__dump(&out, doc, err);
		json_decref(doc);
		if (e < 0)
			return e;
	} else {
		snap_buf b = SNAP_BUF_INIT;

		snap_buf__puts(&b, *report);
		text_section(&b, c, format == 2);
		json_decref(c);
		if (!(out = snap_buf__detach(&b)))
			return snap_error__set(err, SNAP_ENOMEM, "out of memory");
	}
	free(*report);
	*report = out;
	if (held)
		*held = ok;
	return 0;
}
