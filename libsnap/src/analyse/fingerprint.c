/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * Fingerprints of a snapshot, so hosts of one hardware model can be compared from their commit
 * messages alone: inventory (the multiset of vendor:device ids) and config (what passthrough
 * depends on, without the values that differ from host to host).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <nettle/sha2.h>

#include "analyse/analyse.h"

static void hash16(char out[17], const char *text)
{
	struct sha256_ctx ctx;
	uint8_t d[SHA256_DIGEST_SIZE];

	sha256_init(&ctx);
	sha256_update(&ctx, strlen(text), (const uint8_t *)text);
	sha256_digest(&ctx, sizeof(d), d);
	for (int i = 0; i < 8; i++)
		snprintf(out + 2 * i, 3, "%02x", d[i]);
}

static json_t *or_null(const json_t *v)
{
	return v ? (json_t *)v : json_null();
}

int snap_fingerprint__compute(char inv[17], char cfg[17], const snap_snapshot *s)
{
	const json_t *root = s->root, *d, *io = json_object_get(root, "iommu");
	const json_t *vfio = json_object_get(root, "vfio");
	json_t *ids = json_array(), *proj, *devs = json_array(), *vids = json_array(), *v;
	json_t *by_group = json_object(), *empty = json_array();
	char *text;
	size_t i;

	/* each group by its members, not its number: gid -> [bdf...], built once */
	json_array_foreach (json_object_get(root, "devices"), i, d) {
		const json_t *g = json_object_get(d, "iommu_group");
		char key[32];
		json_t *list;

		if (!json_is_integer(g))
			continue;
		snprintf(key, sizeof(key), "%" JSON_INTEGER_FORMAT, json_integer_value(g));
		if (!(list = json_object_get(by_group, key))) {
			list = json_array();
			json_object_set_new(by_group, key, list);
		}
		json_array_append_new(list, json_string(snap_json__str(d, "bdf")));
	}
	json_array_foreach (json_object_get(root, "devices"), i, d) {
		char vd[16], key[32];
		const json_t *g = json_object_get(d, "iommu_group");
		json_t *members = NULL;

		snprintf(vd, sizeof(vd), "%s:%s", snap_json__str(d, "vendor"),
		         snap_json__str(d, "device"));
		json_array_append_new(ids, json_pack("{s:s}", "k", vd));
		if (json_is_integer(g)) {
			snprintf(key, sizeof(key), "%" JSON_INTEGER_FORMAT, json_integer_value(g));
			members = json_object_get(by_group, key);
		}
		json_array_append_new(devs,
		                      json_pack("[s, s, O, O, O, O, O]", snap_json__str(d, "bdf"),
		                                vd, or_null(json_object_get(d, "driver")),
		                                or_null(json_object_get(d, "acs")),
		                                or_null(json_object_get(d, "flr")),
		                                or_null(json_object_get(d, "pcie_type")),
		                                members ? members : empty));
	}
	json_decref(by_group);
	json_decref(empty);
	snap_json__sort_by_key(ids, "k");
	{
		snap_buf b = SNAP_BUF_INIT;

		json_array_foreach (ids, i, v)
			snap_buf__printf(&b, "%s\n", snap_json__str(v, "k"));
		text = snap_buf__detach(&b);
		hash16(inv, text ? text : "");
		free(text);
	}
	json_array_foreach (json_object_get(vfio, "ids"), i, v)
		json_array_append_new(
		    vids, json_string(snap_json__str(v, "id") ? snap_json__str(v, "id") : ""));
	proj = json_pack(
	    "{s:O, s:O, s:{s:O, s:O, s:O, s:O, s:O, s:O}, s:{s:O, s:o}, s:o}", "kernel",
	    or_null(json_object_get(json_object_get(root, "kernel"), "release")), "cmdline_options",
	    or_null(json_object_get(json_object_get(root, "kernel"), "cmdline_options")), "iommu",
	    "enabled", or_null(json_object_get(io, "enabled")), "vendor",
	    or_null(json_object_get(io, "vendor")), "irq_remapping",
	    or_null(json_object_get(io, "irq_remapping")), "allow_unsafe_interrupts",
	    or_null(json_object_get(io, "allow_unsafe_interrupts")), "noiommu_mode",
	    or_null(json_object_get(io, "noiommu_mode")), "acs_override",
	    or_null(json_object_get(io, "acs_override")), "vfio", "modules",
	    or_null(json_object_get(vfio, "modules")), "ids", vids, "devices", devs);
	json_decref(ids);
	if (!proj)
		return SNAP_ENOMEM;
	text = json_dumps(proj, JSON_SORT_KEYS | JSON_COMPACT);
	json_decref(proj);
	if (!text)
		return SNAP_ENOMEM;
	hash16(cfg, text);
	snap_json__free(text);
	return 0;
}
