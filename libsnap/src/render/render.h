/* SPDX-License-Identifier: GPL-2.0-or-later */
/* render/: helpers shared by the text and Markdown forms of the reports. */
#ifndef SNAP_RENDER_RENDER_H
#define SNAP_RENDER_RENDER_H

#include "util/util.h"

/* s as one Markdown table cell: '|' escaped, HTML as entities, control characters as spaces. */
void snap_render__md_cell(snap_buf *b, const char *s);

#endif
