/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * Identity matching: which device of NEW is which device of OLD, whatever their bus numbers
 * (a BIOS update or an added card renumbers buses; the devices are the same).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "analyse/diff.h"

/* ---- identity matching ---- */

void snap_diff__match(struct ctx *c)
{
	json_t *bykey = json_object();
	size_t i;

	for (i = 0; i < c->tn->n; i++) {
		json_t *list = json_object_get(bykey, c->tn->dev[i].identity);

		if (!list) {
			list = json_array();
			json_object_set_new(bykey, c->tn->dev[i].identity, list);
		}
		json_array_append_new(list, json_integer((json_int_t)i));
	}
	/* pass 1: same identity, same BDF; pass 2: same identity and serial (one host only);
	 * pass 3: same identity, in BDF order */
	for (int pass = 1; pass <= 3; pass++) {
		for (i = 0; i < c->to->n; i++) {
			json_t *list = json_object_get(bykey, c->to->dev[i].identity), *v;
			size_t k;

			if (c->o2n[i] >= 0 || !list)
				continue;
			json_array_foreach (list, k, v) {
				int j = (int)json_integer_value(v);
				bool ok = false;

				if (c->n2o[j] >= 0)
					continue;
				if (pass == 1)
					ok = !strcmp(c->to->dev[i].bdf, c->tn->dev[j].bdf);
				else if (pass == 2) {
					const char *a = snap_json__str(c->to->dev[i].obj, "dsn");
					const char *b = snap_json__str(c->tn->dev[j].obj, "dsn");

					ok = c->same_host && a && b && !strcmp(a, b);
				} else
					ok = true;
				if (ok) {
					c->o2n[i] = j;
					c->n2o[j] = (int)i;
					break;
				}
			}
		}
	}
	json_decref(bykey);
}
