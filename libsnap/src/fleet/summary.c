/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * What a commit of the store records beside its snapshot: the facts and verdicts log, hosts
 * and fleet show without loading snapshots. The store only writes these fields (and checks
 * them on pull); they are computed here, above both the store and the analysis.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "analyse/analyse.h"
#include "analyse/check.h"
#include "snap/diff.h"
#include "snap/fleet.h"

static const char *or_unknown(const char *s)
{
	return s ? s : "?";
}

/* A field of firmware strings and separators: parts[odd] are strings, unknown ones "?". */
static int field_of(snap_store_fields *f, const char *key, const char *const parts[], size_t n)
{
	snap_buf buf = SNAP_BUF_INIT;
	char *value;
	int rc;

	for (size_t i = 0; i < n; i++)
		snap_buf__puts(&buf, i % 2 ? or_unknown(parts[i]) : parts[i]);
	if (!(value = snap_buf__detach(&buf)))
		return SNAP_ENOMEM;
	rc = snap_store_fields_add(f, key, value);
	free(value);
	return rc;
}

int snap_fleet_summary(snap_store_fields *f, const snap_snapshot *s, const snap_snapshot *parent,
                       const char *parent_id, void *payload)
{
	const json_t *root = s->root, *fw = json_object_get(root, "firmware");
	const char *k = snap_json__str(json_object_get(root, "kernel"), "release");
	char line[128], inv[17], cfg[17];
	snap_check *chk = NULL;
	int rc = 0;

	(void)payload;
	rc |= snap_store_fields_add(f, "kernel", k ? k : "unknown");
	/* "vendor version (date)" and "vendor name / product" */
	{
		const char *const bios[] = {"",   snap_json__str(fw, "bios_vendor"),
		                            " ",  snap_json__str(fw, "bios_version"),
		                            " (", snap_json__str(fw, "bios_date"),
		                            ")"};
		const char *const model[] = {"",    snap_json__str(fw, "board_vendor"),
		                             " ",   snap_json__str(fw, "board_name"),
		                             " / ", snap_json__str(fw, "product_name")};

		rc |= field_of(f, "bios", bios, SNAP_ARRAY_SIZE(bios));
		rc |= field_of(f, "model", model, SNAP_ARRAY_SIZE(model));
	}
	{
		const json_t *boot = json_object_get(root, "boot");
		const char *prev = snap_json__str(boot, "previous_id");

		if (snap_json__str(boot, "id"))
			rc |= snap_store_fields_add(f, "boot", snap_json__str(boot, "id"));
		if (prev && json_is_boolean(json_object_get(boot, "previous_clean"))) {
			snprintf(line, sizeof(line), "%s %s",
			         json_is_true(json_object_get(boot, "previous_clean")) ? "clean"
			                                                               : "unclean",
			         prev);
			rc |= snap_store_fields_add(f, "previous_boot", line);
		} else if (snap_json__str(boot, "id")) {
			/* no earlier boot in the store: said, so the next snapshot of this boot
			 * need not look again through the whole history */
			rc |= snap_store_fields_add(f, "previous_boot", "none");
		}
	}
	if (snap_check_run(&chk, s, NULL) == 0) {
		rc |= snap_store_fields_add(f, "check",
		                            snap_check__status_name(snap_check_verdict(chk)));
		/* the fleet's column: passthrough health alone, not forensics readiness */
		rc |= snap_store_fields_add(f, "passthrough", snap_check__passthrough(chk));
	}
	snap_check_free(chk);
	if (!parent_id) {
		rc |= snap_store_fields_add(f, "verdict", "first snapshot");
	} else {
		snap_diff *d = NULL;

		/* a parent that could not be read, or a diff that failed: unknown */
		if (parent && snap_diff_compute(&d, parent, s, NULL) == 0) {
			snprintf(line, sizeof(line), "%s (against %.8s)",
			         snap_class_name(snap_diff_verdict(d)), parent_id);
			rc |= snap_store_fields_add(f, "verdict", line);
		} else {
			rc |= snap_store_fields_add(f, "verdict", "unknown");
		}
		snap_diff_free(d);
	}
	if (snap_fingerprint__compute(inv, cfg, s) == 0) {
		rc |= snap_store_fields_add(f, "inventory", inv);
		rc |= snap_store_fields_add(f, "config", cfg);
	}
	return rc ? SNAP_ENOMEM : 0;
}
