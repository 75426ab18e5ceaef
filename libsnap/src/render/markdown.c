/* SPDX-License-Identifier: GPL-2.0-or-later */
/* Markdown shared by the reports that have a Markdown form (diff, fleet). */
#include "render/render.h"

/*
 * Text from a snapshot in one Markdown table cell: a newline would end the row (and start lines
 * of its own), '|' the cell, and HTML would render: none of them pass as they are.
 */
void snap_render__md_cell(snap_buf *b, const char *s)
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
