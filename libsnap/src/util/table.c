/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * Tables as log, hosts, fleet and canary print them: a header of capitals, then the rows, each
 * column as wide as its widest cell (in characters, not bytes), two spaces between columns, the
 * last column not padded. Whole and plain: a terminal's width is the caller's business
 * (pcisnap's output.c cuts the widest cells there, finding the columns by the header).
 */
#include <string.h>

#include "util/util.h"

/* characters of UTF-8 text: the bytes that do not continue a sequence */
static size_t chars(const char *s)
{
	size_t n = 0;

	for (; *s; s++)
		n += ((unsigned char)*s & 0xc0) != 0x80;
	return n;
}

void snap_table__render(snap_buf *b, const char *indent, const char *const *header, size_t ncols,
                        const json_t *rows)
{
	size_t width[16] = {0}, i;
	const json_t *row;

	if (ncols > 16 || !json_array_size(rows))
		return;
	for (size_t c = 0; c < ncols; c++)
		width[c] = chars(header[c]);
	json_array_foreach (rows, i, row)
		for (size_t c = 0; c < ncols; c++) {
			const char *cell = json_string_value(json_array_get(row, c));
			size_t w = chars(cell ? cell : "");

			if (w > width[c])
				width[c] = w;
		}
	for (i = 0; i <= json_array_size(rows); i++) {
		size_t end;

		row = i ? json_array_get(rows, i - 1) : NULL;
		snap_buf__puts(b, indent);
		for (size_t c = 0; c < ncols; c++) {
			const char *cell =
			    row ? json_string_value(json_array_get(row, c)) : header[c];

			cell = cell ? cell : "";
			snap_buf__puts(b, cell);
			if (c + 1 < ncols)
				for (size_t pad = chars(cell); pad < width[c] + 2; pad++)
					snap_buf__puts(b, " ");
		}
		/* no trailing blanks (empty last cells) */
		for (end = b->len; end > 0 && b->ptr[end - 1] == ' '; end--)
			;
		b->len = end;
		snap_buf__puts(b, "\n");
	}
}
