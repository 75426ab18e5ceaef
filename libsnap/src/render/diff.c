/* SPDX-License-Identifier: GPL-2.0-or-later */
/* The text and Markdown forms of a diff (the JSON form is the document itself). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "analyse/diff.h"

/*
 * Text from a snapshot in one Markdown table cell: a newline would end the row (and start lines
 * of its own), '|' the cell, and HTML would render: none of them pass as they are.
 */
static void md_cell(snap_buf *b, const char *s)
{
	for (const unsigned char *p = (const unsigned char *)(s ? s : ""); *p; p++) {
		switch (*p) {
		case '|':
			snap_buf__puts(b, "\\|");
			break;
		case '<':
			snap_buf__puts(b, "&lt;");
			break;
		case '>':
			snap_buf__puts(b, "&gt;");
			break;
		case '&':
			snap_buf__puts(b, "&amp;");
			break;
		default:
			if (*p < 0x20 || *p == 0x7f)
				snap_buf__puts(b, " ");
			else
				snap_buf__put(b, (const char *)p, 1);
		}
	}
}

static void render_header(snap_buf *b, const snap_diff *d, bool md)
{
	const json_t *o = json_object_get(d->doc, "old"), *n = json_object_get(d->doc, "new");

	snap_buf__printf(b, "%spcisnap diff: %s (%s, %s) -> %s (%s, %s)\n", md ? "## " : "",
	                 snap_json__str(o, "hostname"), snap_json__str(o, "collected_at"),
	                 snap_json__str(o, "kernel") ? snap_json__str(o, "kernel") : "?",
	                 snap_json__str(n, "hostname"), snap_json__str(n, "collected_at"),
	                 snap_json__str(n, "kernel") ? snap_json__str(n, "kernel") : "?");
	snap_buf__printf(b, "%sverdict: %s%s%s  (", md ? "\n" : "", md ? "**" : "",
	                 snap_class_name(snap_diff_verdict(d)), md ? "**" : "");
	for (int k = SNAP_CLASS_COUNT - 1; k >= 0; k--)
		snap_buf__printf(b, "%zu %s%s", d->count[k], snap_class_name((snap_class)k),
		                 k ? ", " : ")\n");
	if (!d->conclusive) {
		const json_t *unk = json_object_get(d->doc, "unknown"), *u;
		size_t i;

		snap_buf__printf(b,
		                 "%sinconclusive: NEW does not show %zu fact(s) that decide "
		                 "isolation (collect it as root, with --dmesg):",
		                 md ? "\n" : "", json_array_size(unk));
		json_array_foreach (unk, i, u) {
			if (i == MAX_EXAMPLES) {
				snap_buf__printf(b, " and %zu more",
				                 json_array_size(unk) - MAX_EXAMPLES);
				break;
			}
			snap_buf__printf(b, "%s %s", i ? "," : "", json_string_value(u));
		}
		snap_buf__puts(b, "\n");
	}
}

int snap_diff_render(char **out, const snap_diff *d, snap_diff_format format, snap_error *err)
{
	snap_buf b = SNAP_BUF_INIT;
	const char *section = "";
	size_t i;
	json_t *ch;
	char *text;

	SNAP_ASSERT_ARG(out && d);
	if (format == SNAP_DIFF_JSON)
		return snap_json__dump(out, d->doc, err);
	if (format != SNAP_DIFF_TEXT && format != SNAP_DIFF_MARKDOWN)
		return snap_error__set(err, SNAP_EINVALID, "unknown diff format %d", (int)format);
	render_header(&b, d, format == SNAP_DIFF_MARKDOWN);
	if (format == SNAP_DIFF_MARKDOWN && json_array_size(json_object_get(d->doc, "changes")))
		snap_buf__puts(&b, "\n| class | kind | subject | what changed and what to do |\n"
		                   "|---|---|---|---|\n");
	json_array_foreach (json_object_get(d->doc, "changes"), i, ch) {
		const char *cls = snap_json__str(ch, "class");

		if (format == SNAP_DIFF_MARKDOWN) {
			snap_buf__printf(&b, "| %s | %s | ", cls, snap_json__str(ch, "kind"));
			md_cell(&b, snap_json__str(ch, "subject"));
			snap_buf__puts(&b, " | ");
			md_cell(&b, snap_json__str(ch, "message"));
			snap_buf__puts(&b, " |\n");
			continue;
		}
		if (strcmp(section, cls)) {
			section = cls;
			snap_buf__printf(&b, "\n%s\n", cls);
		}
		snap_buf__printf(&b, "  [%s] %s\n", snap_json__str(ch, "kind"),
		                 snap_json__str(ch, "message"));
	}
	if (!json_array_size(json_object_get(d->doc, "changes")))
		snap_buf__puts(&b, "\nno changes\n");
	if (!(text = snap_buf__detach(&b)))
		return snap_error__set(err, SNAP_ENOMEM, "out of memory");
	*out = text;
	return 0;
}
