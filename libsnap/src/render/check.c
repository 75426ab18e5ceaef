/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * The text form of a check (the JSON form is the document itself): problems first, FAIL then
 * WARN, each check once with the devices it concerns, then the passes, counted or listed.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "analyse/check.h"
#include "render/render.h"

#define MAX_SUBJECTS 8 /* devices listed on one line */

/* The checks of status st, those with the same id and message merged: [{id, message, subjects}] */
static json_t *merged(const json_t *checks, const char *st)
{
	json_t *out = json_array(), *by = json_object(), *ch;
	size_t i;

	json_array_foreach (checks, i, ch) {
		const char *id = snap_json__str(ch, "id"), *msg = snap_json__str(ch, "message");
		const char *subject = snap_json__str(ch, "subject");
		json_t *row;
		snap_buf key = SNAP_BUF_INIT;
		char *k;

		if (!id || !msg || strcmp(snap_json__str(ch, "status"), st))
			continue;
		snap_buf__printf(&key, "%s\n%s", id, msg);
		if (!(k = snap_buf__detach(&key)))
			continue;
		if (!(row = json_object_get(by, k))) {
			row = json_pack("{s:s, s:s, s:[]}", "id", id, "message", msg, "subjects");
			json_object_set_new(by, k, json_incref(row));
			json_array_append_new(out, row);
		}
		/* a subject the message already names is not repeated */
		if (subject && !strstr(msg, subject))
			json_array_append_new(json_object_get(row, "subjects"),
			                      json_string(subject));
		free(k);
	}
	json_decref(by);
	/* the rows of one check together, checks in the playbook's order (of their first row) */
	{
		json_t *by_id = json_object(), *ids = json_array(), *sorted = json_array(), *r,
		       *list;
		size_t x;

		json_array_foreach (out, x, r) {
			const char *id = snap_json__str(r, "id");

			if (!(list = json_object_get(by_id, id))) {
				list = json_array();
				json_object_set_new(by_id, id, list);
				json_array_append_new(ids, json_string(id));
			}
			json_array_append(list, r);
		}
		json_array_foreach (ids, x, r)
			json_array_extend(sorted, json_object_get(by_id, json_string_value(r)));
		json_decref(by_id);
		json_decref(ids);
		json_decref(out);
		out = sorted;
	}
	return out;
}

static void put_rows(snap_buf *b, const json_t *rows, const char *st, int width)
{
	size_t i, k;
	json_t *row, *s;

	json_array_foreach (rows, i, row) {
		const json_t *subjects = json_object_get(row, "subjects");
		size_t n = json_array_size(subjects);

		snap_buf__printf(b, "%-4s  %-*s  %s", st, width, snap_json__str(row, "id"),
		                 snap_json__str(row, "message"));
		if (n) {
			snap_buf__puts(b, " (");
			json_array_foreach (subjects, k, s) {
				if (k == MAX_SUBJECTS) {
					snap_buf__printf(b, " and %zu more", n - MAX_SUBJECTS);
					break;
				}
				snap_buf__printf(b, "%s%s", k ? ", " : "", json_string_value(s));
			}
			snap_buf__puts(b, ")");
		}
		snap_buf__puts(b, "\n");
	}
}

void snap_render__check_rows(snap_buf *b, const json_t *checks, const size_t count[3], int verbose)
{
	static const char *const order[] = {"FAIL", "WARN", "PASS"};
	const json_t *ch;
	json_t *rows;
	int width = 0;
	size_t i;

	/* the id column as wide as its longest id, so no line is pushed out of step */
	json_array_foreach (checks, i, ch) {
		int len = (int)strlen(snap_json__str(ch, "id") ? snap_json__str(ch, "id") : "");

		if ((verbose || strcmp(snap_json__str(ch, "status"), "PASS")) && len > width)
			width = len;
	}
	for (i = 0; i < 3; i++) {
		if (i == 2 && !verbose)
			break;
		rows = merged(checks, order[i]);
		put_rows(b, rows, order[i], width);
		json_decref(rows);
	}
	if (!verbose && count[SNAP_CHECK_PASS])
		snap_buf__printf(b, "%zu check%s passed (--verbose lists them)\n",
		                 count[SNAP_CHECK_PASS], count[SNAP_CHECK_PASS] == 1 ? "" : "s");
}

int snap_check_render_text(char **out, const snap_check *c, int verbose, snap_error *err)
{
	snap_buf b = SNAP_BUF_INIT;
	char *text;

	SNAP_ASSERT_ARG(out && c);
	snap_buf__printf(&b, "pcisnap check: %s: %s (%zu fail, %zu warn, %zu pass)\n",
	                 snap_json__str(c->doc, "host"), snap_check__status_name(c->verdict),
	                 c->count[SNAP_CHECK_FAIL], c->count[SNAP_CHECK_WARN],
	                 c->count[SNAP_CHECK_PASS]);
	snap_render__check_rows(&b, json_object_get(c->doc, "checks"), c->count, verbose);
	if (!(text = snap_buf__detach(&b)))
		return snap_error__set(err, SNAP_ENOMEM, "out of memory");
	*out = text;
	return 0;
}

int snap_check_render(char **out, const snap_check *c, int json, snap_error *err)
{
	SNAP_ASSERT_ARG(out && c);
	if (json)
		return snap_json__dump(out, c->doc, err);
	return snap_check_render_text(out, c, 0, err);
}
