// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * render/listing.c: the rows of log and hosts (store/listing.c reads them from the store) as a
 * text table (util/table.c), one JSON document, or one JSON object per line.
 */
#include <stdio.h>
#include <string.h>

#include "render/render.h"

/* The columns of a text table: their header and each row's cells */
struct columns {
	const char *const *header;
	size_t n;
	json_t *(*cells)(const json_t *row); /* new array of n strings */
};

/* rows as a text table (util/table.c), as one document of schema, or one per line. */
static int render_rows(char **out, const json_t *rows, enum snap_render_list format,
                       const char *schema, const char *key, const struct columns *cols,
                       snap_error *err)
{
	snap_buf b = SNAP_BUF_INIT;
	size_t i;
	json_t *row;

	switch (format) {
	case SNAP_RENDER_JSON: {
		json_t *doc = json_pack("{s:s, s:O}", "schema", schema, key, (json_t *)rows);
		int error = doc ? snap_json__dump(out, doc, err)
		                : snap_error__set(err, SNAP_ENOMEM, "out of memory");

		json_decref(doc);
		return error;
	}
	case SNAP_RENDER_JSONL:
		json_array_foreach (rows, i, row) {
			char *line =
			    json_dumps(row, JSON_SORT_KEYS | JSON_COMPACT | JSON_ENSURE_ASCII);

			if (!line)
				b.oom = true;
			else
				snap_buf__printf(&b, "%s\n", line);
			snap_json__free(line);
		}
		break;
	case SNAP_RENDER_TEXT: {
		json_t *cells = json_array();

		json_array_foreach (rows, i, row)
			json_array_append_new(cells, cols->cells(row));
		snap_table__render(&b, "", cols->header, cols->n, cells);
		json_decref(cells);
		break;
	}
	default:
		return snap_error__set(err, SNAP_EINVALID, "unknown list format %d", (int)format);
	}
	if (!(*out = snap_buf__detach(&b)))
		return snap_error__set(err, SNAP_ENOMEM, "out of memory");
	return 0;
}

static json_t *log_cells(const json_t *r)
{
	const json_t *labels = json_object_get(r, "labels"), *l;
	snap_buf lb = SNAP_BUF_INIT;
	size_t i;
	char *joined, commit[11], note[64] = "";

	json_array_foreach (labels, i, l)
		snap_buf__printf(&lb, "%s%s", i ? "," : "", json_string_value(l));
	joined = snap_buf__detach(&lb);
	snprintf(commit, sizeof(commit), "%.10s", snap_json__str(r, "commit"));
	/* the boot before ended in a crash, a power loss or a hard lockup */
	if (snap_json__str(r, "previous_boot") &&
	    !strncmp(snap_json__str(r, "previous_boot"), "unclean ", 8))
		snprintf(note, sizeof(note), "after an unclean end of boot %.8s",
		         snap_json__str(r, "previous_boot") + 8);
	{
		json_t *cells = json_pack(
		    "[s, s, s, s, s, s, s, s, s]", snap_json__str(r, "host"),
		    snap_json__str(r, "collected_at"), commit, joined && *joined ? joined : "-",
		    snap_json__str(r, "kernel"), snap_json__str(r, "bios"),
		    snap_json__str(r, "check"), snap_json__str(r, "verdict"), note);

		free(joined);
		return cells;
	}
}

static const char *const log_header[] = {"HOST", "COLLECTED", "COMMIT",  "LABELS", "KERNEL",
                                         "BIOS", "CHECK",     "VERDICT", ""};
static const struct columns log_columns = {log_header, 9, log_cells};

static json_t *hosts_cells(const json_t *r)
{
	return json_pack("[s, s, s, s, s]", snap_json__str(r, "host"), snap_json__str(r, "model"),
	                 snap_json__str(r, "kernel"), snap_json__str(r, "latest"),
	                 snap_json__str(r, "check"));
}

static const char *const hosts_header[] = {"HOST", "MODEL", "KERNEL", "LATEST", "CHECK"};
static const struct columns hosts_columns = {hosts_header, 5, hosts_cells};

int snap_render__list(char **out, const json_t *rows, enum snap_render_list format, bool hosts,
                      snap_error *err)
{
	return hosts
	           ? render_rows(out, rows, format, "pcisnap.hosts/1", "hosts", &hosts_columns, err)
	           : render_rows(out, rows, format, "pcisnap.log/1", "snapshots", &log_columns,
	                         err);
}
