// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * render/fleet.c: the text and Markdown forms of a pcisnap.fleet/1 document (fleet/fleet.c
 * builds it): a header, each model with its hosts as a table, the commands to run next, worst
 * host first, and the counts.
 */
#include <stdio.h>
#include <string.h>

#include "render/render.h"
#include "snap/diff.h"

/* An age as the table shows it: minutes, hours up to two days, then days. */
static void age(char *buf, size_t n, int64_t secs)
{
	if (secs < 0)
		secs = 0;
	if (secs < 3600)
		snprintf(buf, n, "%lldm", (long long)(secs / 60));
	else if (secs < 172800)
		snprintf(buf, n, "%lldh", (long long)(secs / 3600));
	else
		snprintf(buf, n, "%lldd", (long long)(secs / 86400));
}

void snap_render__fleet(snap_buf *b, const json_t *doc, bool md)
{
	snap_buf__printf(b,
	                 "%spcisnap fleet: %zu host(s), %zu model(s); %zu failing (a regression "
	                 "against the model's baseline, or passthrough health FAIL)\n",
	                 md ? "## " : "", json_array_size(json_object_get(doc, "hosts")),
	                 json_array_size(json_object_get(doc, "models")),
	                 (size_t)json_integer_value(json_object_get(doc, "failing_hosts")));
	{
		size_t i;
		json_t *m, *h;

		json_array_foreach (json_object_get(doc, "models"), i, m) {
			size_t k;

			snap_buf__printf(b,
			                 "\n%s%s  [inventory %s]: %" JSON_INTEGER_FORMAT
			                 " host(s), baseline %s (config %s)\n",
			                 md ? "### " : "", snap_json__str(m, "model"),
			                 snap_json__str(m, "inventory"),
			                 json_integer_value(json_object_get(m, "hosts")),
			                 snap_json__str(m, "baseline"),
			                 snap_json__str(m, "config"));
			if (md)
				snap_buf__puts(
				    b, "\n| host | age | passthrough | kernel | BIOS | verdict "
				       "against baseline |\n"
				       "|---|---|---|---|---|---|\n");
			json_t *cells = json_array();

			json_array_foreach (json_object_get(doc, "hosts"), k, h) {
				char a[32], verdict[160];

				if (strcmp(snap_json__str(h, "model"),
				           snap_json__str(m, "model")) ||
				    strcmp(snap_json__str(h, "inventory"),
				           snap_json__str(m, "inventory")))
					continue;
				age(a, sizeof(a),
				    json_integer_value(json_object_get(h, "age_seconds")));
				snprintf(
				    verdict, sizeof(verdict), "%s%s", snap_json__str(h, "verdict"),
				    json_is_true(json_object_get(h, "is_baseline")) ? " (baseline)"
				                                                    : "");
				if (md) {
					snap_buf__printf(b, "| %s | %s | %s | ",
					                 snap_json__str(h, "host"), a,
					                 snap_json__str(h, "check"));
					snap_render__md_cell(b, snap_json__str(h, "kernel"));
					snap_buf__puts(b, " | ");
					snap_render__md_cell(b, snap_json__str(h, "bios"));
					snap_buf__printf(b, " | %s |\n", verdict);
				} else {
					json_array_append_new(
					    cells, json_pack("[s, s, s, s, s, s]",
					                     snap_json__str(h, "host"), a,
					                     snap_json__str(h, "check"),
					                     snap_json__str(h, "kernel"),
					                     snap_json__str(h, "bios"), verdict));
				}
			}
			{
				static const char *const header[] = {
				    "HOST", "AGE", "PASSTHROUGH", "KERNEL", "BIOS", "VERDICT"};

				snap_table__render(b, "  ", header, 6, cells);
				json_decref(cells);
			}
		}
	}
	{
		/* the commands to run next, worst host first */
		size_t i, listed = 0;
		json_t *h;

		json_array_foreach (json_object_get(doc, "hosts"), i, h) {
			const char *next = snap_json__str(h, "next");

			if (!next)
				continue;
			if (!listed++)
				snap_buf__printf(b, "\n%snext:\n", md ? "### " : "");
			snap_buf__printf(
			    b,
			    md ? "- `%s` (%s, passthrough %s)\n" : "  %-44s # %s, passthrough %s\n",
			    next, snap_json__str(h, "verdict"), snap_json__str(h, "check"));
		}
	}
	snap_buf__puts(b, "\nsummary:");
	for (int k = SNAP_CLASS_COUNT - 1; k >= 0; k--)
		snap_buf__printf(
		    b, " %s %" JSON_INTEGER_FORMAT "%s", snap_class_name((snap_class)k),
		    json_integer_value(json_object_get(json_object_get(doc, "counts"),
		                                       snap_class_name((snap_class)k))),
		    k ? "," : "\n");
}
