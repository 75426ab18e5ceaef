/* SPDX-License-Identifier: GPL-2.0-or-later */
/* The text and Markdown forms of a diff (the JSON form is the document itself). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "analyse/diff.h"
#include "render/render.h"

/* The verdict line names the faults: they are not a class, and never harmless. */
static void faults_suffix(snap_buf *b, const snap_diff *d)
{
	size_t n = json_array_size(json_object_get(d->doc, "faults"));

	if (n)
		snap_buf__printf(b, "; %zu fault%s on the path of passthrough devices", n,
		                 n == 1 ? "" : "s");
}

/* The faults section, before the classes: each fault with its device, then the next step. */
static void render_faults(snap_buf *b, const snap_diff *d, bool md)
{
	const json_t *faults = json_object_get(d->doc, "faults"), *f;
	size_t i;

	if (!json_array_size(faults))
		return;
	snap_buf__puts(b, md ? "\n### faults\n\n" : "\nfaults\n");
	json_array_foreach (faults, i, f) {
		const char *dev = snap_json__str(f, "device"), *subj = snap_json__str(f, "subject");

		if (!strcmp(snap_json__str(f, "kind"), "hidden"))
			snap_buf__printf(b, "%s[reporting off] %s", md ? "- " : "  ",
			                 snap_json__str(f, "message"));
		else
			snap_buf__printf(b, "%s[%s %s] %s", md ? "- " : "  ",
			                 snap_json__str(f, "kind"), snap_json__str(f, "severity"),
			                 snap_json__str(f, "message"));
		if (dev && *dev && subj && strcmp(dev, subj))
			snap_buf__printf(b, " (on the path of passthrough device %s)", dev);
		snap_buf__puts(b, "\n");
	}
	snap_buf__printf(b,
	                 "%sNext: check the card's seating, riser and power and the kernel's AER "
	                 "lines (journalctl -k -g 'AER|DPC'); switching reporting off "
	                 "(pci=noaer, pcie_aspm=off) hides faults, it does not fix them.\n",
	                 md ? "\n" : "  ");
}

static void render_header(snap_buf *b, const snap_diff *d, bool md)
{
	const json_t *o = json_object_get(d->doc, "old"), *n = json_object_get(d->doc, "new");

	snap_buf__printf(b, "%spcisnap diff: %s (%s, %s) -> %s (%s, %s)\n", md ? "## " : "",
	                 snap_json__str(o, "hostname"), snap_json__str(o, "collected_at"),
	                 snap_json__str(o, "kernel") ? snap_json__str(o, "kernel") : "?",
	                 snap_json__str(n, "hostname"), snap_json__str(n, "collected_at"),
	                 snap_json__str(n, "kernel") ? snap_json__str(n, "kernel") : "?");
	if (!json_array_size(json_object_get(d->doc, "changes"))) {
		snap_buf__printf(b, "%sverdict: %sno changes%s", md ? "\n" : "", md ? "**" : "",
		                 md ? "**" : "");
		faults_suffix(b, d);
		snap_buf__puts(b, "\n");
	} else {
		const json_t *after = json_object_get(d->doc, "after"), *a;
		bool first = true;
		size_t i;

		snap_buf__printf(b, "%sverdict: %s%s%s", md ? "\n" : "", md ? "**" : "",
		                 snap_class_name(snap_diff_verdict(d)), md ? "**" : "");
		/* the kernel or firmware change that preceded a regression */
		json_array_foreach (after, i, a)
			snap_buf__printf(b, "%s%s", i ? ", " : " after ", json_string_value(a));
		snap_buf__puts(b, "  (");
		for (int k = SNAP_CLASS_COUNT - 1; k >= 0; k--) {
			if (!d->count[k])
				continue;
			snap_buf__printf(b, "%s%zu %s", first ? "" : ", ", d->count[k],
			                 snap_class_name((snap_class)k));
			first = false;
		}
		snap_buf__puts(b, ")");
		faults_suffix(b, d);
		snap_buf__puts(b, "\n");
	}
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

/* A change's message without the " Next: ..." its JSON form carries. */
static void put_message(snap_buf *b, const json_t *ch)
{
	const char *msg = snap_json__str(ch, "message"), *next = snap_json__str(ch, "next_step");
	size_t len = strlen(msg);

	if (next && *next) {
		size_t nl = strlen(next) + 7;

		if (len >= nl && !strncmp(msg + len - nl, " Next: ", 7) &&
		    !strcmp(msg + len - nl + 7, next))
			len -= nl;
	}
	snap_buf__put(b, msg, len);
}

static int class_rank(const json_t *ch)
{
	const char *cls = snap_json__str(ch, "class");

	for (int k = 0; k < SNAP_CLASS_COUNT; k++)
		if (cls && !strcmp(cls, snap_class_name((snap_class)k)))
			return k;
	return 0;
}

/*
 * The text form: one section per class, worst first. A change that explains others comes
 * first, the changes it explains under it (in its section, whatever their class); the next
 * step of a run of changes that share it is printed once, after the run.
 */
static void render_text(snap_buf *b, const snap_diff *d)
{
	const json_t *changes = json_object_get(d->doc, "changes"), *ch;
	size_t n = json_array_size(changes), i, k;
	int *rank = calloc(n + 1, sizeof(int)), *cause = calloc(n + 1, sizeof(int));
	bool *has_effects = calloc(n + 1, sizeof(bool));
	json_t *printed = json_object(); /* next steps already printed */
	size_t *start = NULL, *fill = NULL, *effs = NULL;

	if (!rank || !cause || !has_effects || !printed) {
		b->oom = true;
		goto done;
	}
	/* a group (a change and what it explains) belongs to its worst member's section */
	json_array_foreach (changes, i, ch) {
		const json_t *c = json_object_get(ch, "cause");

		cause[i] = json_is_integer(c) && json_integer_value(c) >= 0 &&
		                   (size_t)json_integer_value(c) < n &&
		                   (size_t)json_integer_value(c) != i
		               ? (int)json_integer_value(c)
		               : -1;
		rank[i] = class_rank(ch);
	}
	for (i = 0; i < n; i++)
		if (cause[i] >= 0 && cause[cause[i]] >= 0)
			cause[i] = -1; /* explain() points at roots; anything else stands alone */
	for (i = 0; i < n; i++)
		if (cause[i] >= 0) {
			has_effects[cause[i]] = true;
			if (rank[i] > rank[cause[i]])
				rank[cause[i]] = rank[i];
		}
	/* each cause's effects in document order, listed once: effs[start[c] .. start[c + 1]) */
	start = calloc(n + 2, sizeof(size_t));
	fill = calloc(n + 1, sizeof(size_t));
	effs = calloc(n + 1, sizeof(size_t));
	if (!start || !fill || !effs) {
		b->oom = true;
		goto done;
	}
	for (i = 0; i < n; i++)
		if (cause[i] >= 0)
			start[cause[i] + 1]++;
	for (i = 0; i < n; i++)
		start[i + 1] += start[i];
	memcpy(fill, start, n * sizeof(size_t));
	for (i = 0; i < n; i++)
		if (cause[i] >= 0)
			effs[fill[cause[i]]++] = i;
	for (int sec = SNAP_CLASS_COUNT - 1; sec >= 0; sec--) {
		size_t m = 0;
		size_t *top = calloc(n + 1, sizeof(size_t));

		if (!top) {
			b->oom = true;
			goto done;
		}
		/*
		 * The changes that explain others first, with the others of their kind (the three
		 * vfio modules) before the one the effects hang under; then the rest; each in
		 * document order.
		 */
		json_t *cause_kinds = json_object();

		for (i = 0; i < n; i++)
			if (cause[i] < 0 && rank[i] == sec && has_effects[i])
				json_object_set_new(
				    cause_kinds, snap_json__str(json_array_get(changes, i), "kind"),
				    json_true());
		for (int pass = 0; pass < 3; pass++)
			for (i = 0; i < n; i++) {
				const char *kind =
				    snap_json__str(json_array_get(changes, i), "kind");
				bool ck = json_object_get(cause_kinds, kind) != NULL;

				if (cause[i] >= 0 || rank[i] != sec)
					continue;
				if ((pass == 0 && ck && !has_effects[i]) ||
				    (pass == 1 && has_effects[i]) ||
				    (pass == 2 && !ck && !has_effects[i]))
					top[m++] = i;
			}
		json_decref(cause_kinds);
		if (m)
			snap_buf__printf(b, "\n%s\n", snap_class_name((snap_class)sec));
		for (k = 0; k < m; k++) {
			const json_t *root = json_array_get(changes, top[k]);
			const char *next = snap_json__str(root, "next_step"), *after_next = NULL;
			json_t *group_next = json_array(), *in_group = json_object();

			snap_buf__printf(b, "  [%s] ", snap_json__str(root, "kind"));
			if (class_rank(root) !=
			    sec) /* a harmless change that explains a regression */
				snap_buf__printf(b, "(%s) ", snap_json__str(root, "class"));
			put_message(b, root);
			snap_buf__puts(b, "\n");
			if (next && *next)
				json_array_append_new(group_next, json_string(next));
			for (size_t e = start[top[k]]; e < start[top[k] + 1]; e++) {
				const char *en;

				ch = json_array_get(changes, effs[e]);
				en = snap_json__str(ch, "next_step");
				snap_buf__printf(b, "    -> [%s] ", snap_json__str(ch, "kind"));
				if (class_rank(ch) != sec)
					snap_buf__printf(b, "(%s) ", snap_json__str(ch, "class"));
				put_message(b, ch);
				snap_buf__puts(b, "\n");
				/* the cause's next step is the fix; without one, the effects' own
				 */
				if (!(next && *next) && en && *en &&
				    !json_object_get(in_group, en)) {
					json_array_append_new(group_next, json_string(en));
					json_object_set_new(in_group, en, json_true());
				}
			}
			/* a run of top-level changes with one next step prints it once, after it */
			if (k + 1 < m)
				after_next = snap_json__str(json_array_get(changes, top[k + 1]),
				                            "next_step");
			json_array_foreach (group_next, i, ch) {
				const char *text = json_string_value(ch);

				if (json_object_get(printed, text))
					continue;
				if (json_array_size(group_next) == 1 && after_next &&
				    !strcmp(after_next, text))
					continue; /* the next change has the same: print it there */
				snap_buf__printf(b, "  Next: %s\n", text);
				json_object_set_new(printed, text, json_true());
			}
			json_decref(group_next);
			json_decref(in_group);
		}
		free(top);
	}
	if (!n)
		snap_buf__puts(b, "\nno changes\n");
done:
	free(rank);
	free(cause);
	free(has_effects);
	free(start);
	free(fill);
	free(effs);
	json_decref(printed);
}

int snap_diff_render(char **out, const snap_diff *d, snap_diff_format format, snap_error *err)
{
	snap_buf b = SNAP_BUF_INIT;
	size_t i;
	json_t *ch;
	char *text;

	SNAP_ASSERT_ARG(out && d);
	if (format == SNAP_DIFF_JSON)
		return snap_json__dump(out, d->doc, err);
	if (format != SNAP_DIFF_TEXT && format != SNAP_DIFF_MARKDOWN)
		return snap_error__set(err, SNAP_EINVALID, "unknown diff format %d", (int)format);
	render_header(&b, d, format == SNAP_DIFF_MARKDOWN);
	render_faults(&b, d, format == SNAP_DIFF_MARKDOWN);
	if (format == SNAP_DIFF_MARKDOWN && json_array_size(json_object_get(d->doc, "changes")))
		snap_buf__puts(&b, "\n| class | kind | subject | what changed and what to do |\n"
		                   "|---|---|---|---|\n");
	if (format == SNAP_DIFF_TEXT) {
		render_text(&b, d);
	} else {
		json_array_foreach (json_object_get(d->doc, "changes"), i, ch) {
			snap_buf__printf(&b, "| %s | %s | ", snap_json__str(ch, "class"),
			                 snap_json__str(ch, "kind"));
			snap_render__md_cell(&b, snap_json__str(ch, "subject"));
			snap_buf__puts(&b, " | ");
			snap_render__md_cell(&b, snap_json__str(ch, "message"));
			snap_buf__puts(&b, " |\n");
		}
		if (!json_array_size(json_object_get(d->doc, "changes")))
			snap_buf__puts(&b, "\nno changes\n");
	}
	if (!(text = snap_buf__detach(&b)))
		return snap_error__set(err, SNAP_ENOMEM, "out of memory");
	*out = text;
	return 0;
}
