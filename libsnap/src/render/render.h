/* SPDX-License-Identifier: GPL-2.0-or-later */
/* render/: helpers shared by the text and Markdown forms of the reports. */
#ifndef SNAP_RENDER_RENDER_H
#define SNAP_RENDER_RENDER_H

#include "util/util.h"

/* s as one Markdown table cell: '|' escaped, HTML as entities, control characters as spaces. */
void snap_render__md_cell(snap_buf *b, const char *s);

/*
 * check.c: the rows of a list of checks ({id, subject, status, message, cause}) as check prints
 * them: FAILs, then WARNs, each check once with the subjects it concerns and the checks that are
 * its effects ("cause": its id) under it; the passes listed when verbose, else counted. shown
 * (may be NULL) gets the lines of each status in the order FAIL, WARN, PASS, then those of the
 * findings a policy accepted (ACPT rows, after the WARNs): what a header counts.
 */
void snap_render__check_rows(snap_buf *b, const json_t *checks, size_t shown[4], int verbose);

/* fleet.c: a pcisnap.fleet/1 document as text (md false) or Markdown. */
void snap_render__fleet(snap_buf *b, const json_t *doc, bool md);

/* listing.c: the rows of log (hosts false) or hosts as text, a document or JSON lines. The
 * values are snap_list_format's (snap/store.h), which this layer does not include. */
enum snap_render_list { SNAP_RENDER_TEXT = 0, SNAP_RENDER_JSON = 1, SNAP_RENDER_JSONL = 2 };
int snap_render__list(char **out, const json_t *rows, enum snap_render_list format, bool hosts,
                      snap_error *err);

#endif
