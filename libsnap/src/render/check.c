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

/* Is check ch an effect shown under its cause (a check of that id shown at the top)? */
static bool nested(const json_t *ch, const json_t *causes)
{
	const char *cause = snap_json__str(ch, "cause");

	return cause && json_object_get(causes, cause);
}

/*
 * The checks of status st, those with the same id and message merged: [{id, message, subjects}].
 * cause NULL: the top rows (no effect of a check in causes); else the effects of that check.
 */
static json_t *merged(const json_t *checks, const char *st, const char *cause, const json_t *causes)
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
		if (cause ? !nested(ch, causes) || strcmp(snap_json__str(ch, "cause"), cause)
		          : nested(ch, causes))
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

static void put_row(snap_buf *b, const json_t *row, const char *st, int width, const char *indent)
{
	const json_t *subjects = json_object_get(row, "subjects"), *s;
	size_t n = json_array_size(subjects), k;

	snap_buf__printf(b, "%s%-4s  %-*s  %s", indent, st, width, snap_json__str(row, "id"),
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

/* ACPT: a finding the policy accepted (still shown, failing nothing) */
static const char *const order[] = {"FAIL", "WARN", "ACPT", "PASS"};

static int status_index(const char *st)
{
	for (int k = 0; k < 4; k++)
		if (!strcmp(order[k], st))
			return k;
	return 3;
}

/* checks with each accepted finding as an ACPT row that says why (new array) */
static json_t *with_accepted(const json_t *checks)
{
	json_t *out = json_array(), *ch;
	size_t i;

	json_array_foreach (checks, i, ch) {
		const char *why = snap_json__str(ch, "accepted");

		if (why) {
			json_t *c = json_deep_copy(ch);
			char *msg = NULL;

			if (c && asprintf(&msg, "%s [accepted: %s]", snap_json__str(ch, "message"),
			                  why) >= 0) {
				json_object_set_new(c, "message", json_string(msg));
				json_object_set_new(c, "status", json_string("ACPT"));
			}
			free(msg);
			json_array_append_new(out, c);
		} else {
			json_array_append(out, ch);
		}
	}
	return out;
}

/*
 * Each cause once, its effects under it ("  -> "): FAIL, then WARN, then (verbose) PASS, then
 * the passes counted. shown[] (FAIL, WARN, PASS; may be NULL) gets the lines of each status,
 * what a header must count.
 */
void snap_render__check_rows(snap_buf *b, const json_t *given, size_t shown[4], int verbose)
{
	const json_t *ch;
	json_t *causes = json_object(), *checks = with_accepted(given);
	size_t i, lines[4] = {0, 0, 0, 0};
	int width = 0;

	/* the checks shown at the top, whose effects go under them */
	json_array_foreach (checks, i, ch) {
		const char *st = snap_json__str(ch, "status"), *id = snap_json__str(ch, "id");

		if (id && st && !snap_json__str(ch, "cause") && (verbose || strcmp(st, "PASS")))
			json_object_set_new(causes, id, json_true());
	}
	/* the id column as wide as its longest id, so no line is pushed out of step */
	json_array_foreach (checks, i, ch) {
		int len = (int)strlen(snap_json__str(ch, "id") ? snap_json__str(ch, "id") : "");

		if ((verbose || strcmp(snap_json__str(ch, "status"), "PASS")) && len > width)
			width = len;
	}
	for (int k = 0; k < 4; k++) {
		json_t *rows = merged(checks, order[k], NULL, causes), *row;
		size_t r;

		if (k == 3 && !verbose) {
			lines[3] += json_array_size(rows);
			json_decref(rows);
			break;
		}
		json_array_foreach (rows, r, row) {
			const char *id = snap_json__str(row, "id");
			const json_t *next = json_array_get(rows, r + 1);

			put_row(b, row, order[k], width, "");
			lines[k]++;
			/* after the last row of this check, once: its effects */
			if ((next && !strcmp(snap_json__str(next, "id"), id)) ||
			    !json_is_true(json_object_get(causes, id)))
				continue;
			json_object_set_new(causes, id, json_false());
			for (int e = 0; e < 4; e++) {
				json_t *effects = merged(checks, order[e], id, causes), *x;
				size_t q;

				json_array_foreach (effects, q, x) {
					if (e < 3 || verbose)
						put_row(b, x, order[e],
						        width - 4 > 0 ? width - 4 : 0, "  -> ");
					lines[status_index(order[e])]++;
				}
				json_decref(effects);
			}
		}
		json_decref(rows);
	}
	json_decref(causes);
	json_decref(checks);
	if (!verbose && lines[3])
		snap_buf__printf(b, "%zu check%s passed (--verbose lists them)\n", lines[3],
		                 lines[3] == 1 ? "" : "s");
	if (shown) { /* FAIL, WARN, PASS, accepted */
		shown[0] = lines[0];
		shown[1] = lines[1];
		shown[2] = lines[3];
		shown[3] = lines[2];
	}
}

/* What a section is for: passthrough health decides the verdict; forensics readiness (what a
 * dead boot leaves behind) is a verdict of its own. */
static const struct {
	const char *name, *title;
} sections[] = {
    {"passthrough", "Passthrough health"},
    {"forensics", "Forensics readiness"},
};

int snap_check_render_text(char **out, const snap_check *c, int verbose, snap_error *err)
{
	snap_buf b = SNAP_BUF_INIT, body = SNAP_BUF_INIT;
	size_t total[4] = {0, 0, 0, 0};
	char *text, *rest;

	SNAP_ASSERT_ARG(out && c);
	for (size_t k = 0; k < SNAP_ARRAY_SIZE(sections); k++) {
		json_t *part = json_array(), *ch;
		size_t i, shown[4];
		const char *worst = "PASS";

		json_array_foreach (json_object_get(c->doc, "checks"), i, ch) {
			const char *sec = snap_json__str(ch, "section");

			if (!strcmp(sec ? sec : "passthrough", sections[k].name)) {
				json_array_append(part, ch);
				if (!json_object_get(ch, "accepted") &&
				    status_index(snap_json__str(ch, "status")) <
				        status_index(worst))
					worst = snap_json__str(ch, "status");
			}
		}
		if (json_array_size(part)) {
			snap_buf__printf(&body, "%s%s: %s\n", k ? "\n" : "", sections[k].title,
			                 worst);
			snap_render__check_rows(&body, part, shown, verbose);
			for (int s = 0; s < 4; s++)
				total[s] += shown[s];
		}
		json_decref(part);
	}
	/* the header counts the lines shown below it */
	snap_buf__printf(&b, "pcisnap check: %s: %s (%zu fail, %zu warn, %zu pass",
	                 snap_json__str(c->doc, "host"), snap_check__status_name(c->verdict),
	                 total[0], total[1], total[2]);
	if (total[3])
		snap_buf__printf(&b, ", %zu accepted", total[3]);
	snap_buf__puts(&b, ")\n");
	if ((rest = snap_buf__detach(&body))) {
		snap_buf__puts(&b, rest);
		free(rest);
	}
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
