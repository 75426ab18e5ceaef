/* SPDX-License-Identifier: GPL-2.0-or-later */
/* The result of a check, shared by analyse/check.c (which builds it) and render/check.c. */
#ifndef SNAP_ANALYSE_CHECK_H
#define SNAP_ANALYSE_CHECK_H

#include "analyse/analyse.h"
#include "snap/check.h"

struct snap_check {
	json_t *doc;               /* owned: pcisnap.check/1 document */
	size_t count[3];           /* checks per status */
	snap_check_status verdict; /* worst status */
};

/* "PASS", "WARN" or "FAIL" */
static inline const char *snap_check__status_name(snap_check_status st)
{
	static const char *const names[] = {"PASS", "WARN", "FAIL"};

	return (unsigned)st < 3 ? names[st] : "?";
}

/* The verdict of the passthrough section alone (check.c's "sections"): "PASS", "WARN", "FAIL" */
static inline const char *snap_check__passthrough(const snap_check *c)
{
	const char *v = snap_json__str(json_object_get(c->doc, "sections"), "passthrough");

	return v ? v : snap_check__status_name(c->verdict);
}

#endif
