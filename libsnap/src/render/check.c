/* SPDX-License-Identifier: GPL-2.0-or-later */
/* The text form of a check (the JSON form is the document itself). */
#include <stdio.h>
#include <stdlib.h>

#include "analyse/check.h"

int snap_check_render(char **out, const snap_check *c, int json, snap_error *err)
{
	snap_buf b = SNAP_BUF_INIT;
	size_t i;
	json_t *ch;
	char *text;

	SNAP_ASSERT_ARG(out && c);
	if (json)
		return snap_json__dump(out, c->doc, err);
	snap_buf__printf(&b, "pcisnap check: %s: %s (%zu pass, %zu warn, %zu fail)\n",
	                 snap_json__str(c->doc, "host"), snap_check__status_name(c->verdict),
	                 c->count[SNAP_CHECK_PASS], c->count[SNAP_CHECK_WARN],
	                 c->count[SNAP_CHECK_FAIL]);
	json_array_foreach (json_object_get(c->doc, "checks"), i, ch)
		snap_buf__printf(&b, "%-4s  %-18s %s\n", snap_json__str(ch, "status"),
		                 snap_json__str(ch, "id"), snap_json__str(ch, "message"));
	if (!(text = snap_buf__detach(&b)))
		return snap_error__set(err, SNAP_ENOMEM, "out of memory");
	*out = text;
	return 0;
}
