/* SPDX-License-Identifier: GPL-2.0-or-later */
/* Boot ids: what a snapshot, the store's boot records and boot stop accept as one. */
#include <stdbool.h>
#include <string.h>

#include "model/model.h"
#include "snap/snapshot.h"

int snap_boot_id_valid(const char *id)
{
	/* the kernel's random/boot_id: a version 4 UUID, lowercase, 8-4-4-4-12 (drivers/char/
	 * random.c, proc_do_uuid(): "%pU" of a random UUID) */
	if (!id || strlen(id) != 36)
		return 0;
	for (int i = 0; i < 36; i++) {
		bool dash = i == 8 || i == 13 || i == 18 || i == 23;

		if (dash ? id[i] != '-'
		         : !((id[i] >= '0' && id[i] <= '9') || (id[i] >= 'a' && id[i] <= 'f')))
			return 0;
	}
	return 1;
}

int64_t snap_snapshot_boot_started(const snap_snapshot *s)
{
	json_t *boot = s ? json_object_get(s->root, "boot") : NULL;
	json_t *up = json_object_get(boot, "uptime");
	int64_t at = snap_time__parse(
	    snap_json__str(json_object_get(s ? s->root : NULL, "host"), "collected_at"));

	if (at < 0 || !json_is_integer(up) || json_integer_value(up) < 0 ||
	    json_integer_value(up) > at)
		return -1;
	return at - (int64_t)json_integer_value(up);
}
