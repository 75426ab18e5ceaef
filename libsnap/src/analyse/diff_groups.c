/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * diff: the rules of groups (membership, over-split groups an override asserts), of facts
 * that became unknown (the inconclusive verdict), and of VM configurations.
 */
#include "analyse/diff.h"
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static bool is_bridge(const json_t *obj)
{
	const char *c = snap_json__str(obj, "class");

	return c && !strncmp(c, "0604", 4);
}

void snap_diff__groups(struct ctx *c)
{
	bool *done = calloc(c->tn->n + 1, sizeof(bool)); /* new devices already reported gained */
	json_t *pairs = json_object();                   /* "old:new" group pairs walked */
	size_t renumbered = 0, changed = 0;
	const char *bdf;
	json_t *reasons, *g;
	size_t k;

	if (!done)
		return;
	/* grouping regressions: a passthrough device's group gained a device */
	json_object_foreach (c->pt, bdf, reasons) {
		int i = snap_topo__find(c->to, bdf), j;
		const json_t *go, *gn;
		struct snap_topo_span mn;
		size_t x;
		char lp[512], lg[512];

		if (i < 0 || (j = c->o2n[i]) < 0)
			continue;
		go = json_object_get(c->to->dev[i].obj, "iommu_group");
		gn = json_object_get(c->tn->dev[j].obj, "iommu_group");
		if (!json_is_integer(go) || !json_is_integer(gn))
			continue;
		/* passthrough devices that moved from one group into one other share the
		 * answer: each (old group, new group) pair is walked once, keeping this linear */
		{
			char pair[64];

			snprintf(pair, sizeof(pair),
			         "%" JSON_INTEGER_FORMAT ":%" JSON_INTEGER_FORMAT,
			         json_integer_value(go), json_integer_value(gn));
			if (json_object_get(pairs, pair))
				continue;
			json_object_set_new(pairs, pair, json_true());
		}
		mn = snap_topo__group_members(c->tn, json_integer_value(gn));
		snap_diff__label_n(c, j, lp, sizeof(lp));
		for (x = 0; x < mn.n; x++) {
			int m = mn.idx[x], om = c->n2o[m];
			const json_t *ogm =
			    om >= 0 ? json_object_get(c->to->dev[om].obj, "iommu_group") : NULL;
			/* it was in the old group when its old self was */
			bool was = json_is_integer(ogm) &&
			           json_integer_value(ogm) == json_integer_value(go);

			if (was || done[m])
				continue;
			done[m] = true;
			snap_diff__label_n(c, m, lg, sizeof(lg));
			snap_diff__add(
			    c, SNAP_RULE_GROUP_GREW, c->tn->dev[j].bdf, snap_diff__jdup(go),
			    snap_diff__jdup(gn),
			    "IOMMU group of passthrough device %s gained %s (driver %s%s): every "
			    "device "
			    "in a group must go to the same VM, so the VM will not start, or the "
			    "host "
			    "loses that device.",
			    lp, lg,
			    snap_json__str(c->tn->dev[m].obj, "driver")
			        ? snap_json__str(c->tn->dev[m].obj, "driver")
			        : "none",
			    is_bridge(c->tn->dev[m].obj) ? ", a bridge" : "");
		}
	}
	/* every other group change is listed: compare membership under identity */
	json_array_foreach (json_object_get(c->o, "groups"), k, g) {
		json_int_t gid = json_integer_value(json_object_get(g, "id"));
		struct snap_topo_span mo = snap_topo__group_members(c->to, gid);
		json_int_t ngid = -1;
		bool same = true;
		size_t x;

		for (x = 0; x < mo.n; x++) {
			int j = c->o2n[mo.idx[x]];
			const json_t *gn =
			    j >= 0 ? json_object_get(c->tn->dev[j].obj, "iommu_group") : NULL;

			if (!json_is_integer(gn)) {
				same = false;
				continue;
			}
			if (ngid < 0)
				ngid = json_integer_value(gn);
			else if (ngid != json_integer_value(gn))
				same = false;
		}
		if (same && ngid >= 0)
			same = snap_topo__group_members(c->tn, ngid).n == mo.n;
		if (same && ngid >= 0 && ngid != gid)
			renumbered++;
		else if (!same && json_array_size(json_object_get(c->n, "groups")))
			changed++;
	}
	if (renumbered)
		snap_diff__add(
		    c, SNAP_RULE_GROUPS_RENUMBERED, "IOMMU groups", json_null(), json_null(),
		    "%zu IOMMU group(s) have new numbers but the same members; group numbers carry "
		    "no meaning.",
		    renumbered);
	if (changed)
		snap_diff__add(
		    c, SNAP_RULE_GROUPS_CHANGED, "IOMMU groups", json_null(), json_null(),
		    "%zu IOMMU group(s) changed membership (split, merged, grew or shrank); those "
		    "that matter for passthrough devices are listed above.",
		    changed);
	else if (!json_array_size(json_object_get(c->n, "groups")) &&
	         json_array_size(json_object_get(c->o, "groups")))
		snap_diff__add(c, SNAP_RULE_GROUPS_GONE, "IOMMU groups", json_null(), json_null(),
		               "The new snapshot has no IOMMU groups at all.");
	free(done);
	json_decref(pairs);
}

/*
 * Isolation asserted, not enforced: a passthrough device whose kernel group is narrower than the
 * group its hardware ACS implies. Reported when NEW has it and OLD did not.
 */
static bool over_split(snap_topo *t, int i, char *why, size_t n)
{
	const char *reason = NULL;
	const json_t *gk;
	int k = -1;

	if (snap_topo__isolation_asserted(t, i, &k, &reason) != SNAP_YES)
		return false;
	gk = json_object_get(t->dev[k].obj, "iommu_group");
	snprintf(why, n,
	         "%s is in group %" JSON_INTEGER_FORMAT
	         " though the hardware cannot isolate it from %s (%s)",
	         t->dev[k].bdf, json_integer_value(gk), t->dev[i].bdf,
	         reason ? reason : "shared upstream path without ACS");
	return true;
}

void snap_diff__asserted(struct ctx *c)
{
	const char *bdf;
	json_t *reasons;

	json_object_foreach (c->pt, bdf, reasons) {
		int i = snap_topo__find(c->to, bdf), j;
		char wn[768], wo[768], lbl[512];

		if (i < 0 || (j = c->o2n[i]) < 0)
			continue;
		if (!over_split(c->tn, j, wn, sizeof(wn)) || over_split(c->to, i, wo, sizeof(wo)))
			continue;
		snap_diff__label_n(c, j, lbl, sizeof(lbl));
		snap_diff__add(
		    c, SNAP_RULE_ISOLATION_ASSERTED, c->tn->dev[j].bdf, json_null(), json_null(),
		    "The group of passthrough device %s is split more finely than its hardware ACS "
		    "allows: %s. Isolation is asserted by the kernel, not enforced by the "
		    "hardware.",
		    lbl, wn);
	}
}

/* ---- what became unknown that matters ---- */

static void unknown_add(struct ctx *c, json_t *seen, const char *what)
{
	if (json_object_get(seen, what))
		return;
	json_object_set_new(seen, what, json_true());
	json_array_append_new(c->unknown, json_string(what));
}

/* A fact of OLD's device i known there and unknown in NEW's device j. */
static void fact_lost(struct ctx *c, json_t *seen, int i, int j, const char *key, const char *name)
{
	const json_t *a = json_object_get(c->to->dev[i].obj, key);
	const json_t *b = json_object_get(c->tn->dev[j].obj, key);
	char what[160];

	if (a && !json_is_null(a) && (!b || json_is_null(b))) {
		snprintf(what, sizeof(what), "%s of %s", name, c->tn->dev[j].bdf);
		unknown_add(c, seen, what);
	}
}

/*
 * The facts that decide a passthrough device's isolation and binding, and the ACS of every port
 * on its path: any of them known in OLD and unknown in NEW makes the comparison inconclusive
 * (a capture without root cannot show a regression; it must not pass for "harmless").
 */
void snap_diff__unknown(struct ctx *c)
{
	const char *bdf, *iro = snap_json__str(json_object_get(c->o, "iommu"), "irq_remapping"),
	                 *irn = snap_json__str(json_object_get(c->n, "iommu"), "irq_remapping");
	json_t *reasons, *seen = json_object();

	if (iro && strcmp(iro, "unknown") && (!irn || !strcmp(irn, "unknown")) &&
	    json_object_size(c->pt))
		unknown_add(c, seen, "interrupt remapping");
	json_object_foreach (c->pt, bdf, reasons) {
		int i = snap_topo__find(c->to, bdf), j;

		if (i < 0 || (j = c->o2n[i]) < 0)
			continue;
		fact_lost(c, seen, i, j, "acs", "ACS");
		fact_lost(c, seen, i, j, "flr", "FLR");
		/* with the IOMMU off there are no groups: a fact (isolation_loss), not unknown */
		if (json_is_true(json_object_get(json_object_get(c->n, "iommu"), "enabled")))
			fact_lost(c, seen, i, j, "iommu_group", "IOMMU group");
		fact_lost(c, seen, i, j, "multifunction", "multifunction bit");
		for (int p = c->to->dev[i].parent; p >= 0; p = c->to->dev[p].parent) {
			int q = c->o2n[p];

			if (q >= 0)
				fact_lost(c, seen, p, q, "acs", "ACS");
		}
	}
	json_decref(seen);
}

/* ---- VM configurations ---- */

static json_t *identities(const snap_topo *t, const json_t *bdfs)
{
	json_t *ids = json_array(), *v;
	size_t i;

	json_array_foreach (bdfs, i, v) {
		int k = snap_topo__find(t, json_string_value(v));

		json_array_append_new(ids, json_string(k >= 0 ? t->dev[k].identity : "?"));
	}
	return ids;
}

/* "source id" of a VM: how it is found again in the other snapshot */
static void vm_key(char *buf, size_t n, const json_t *vm)
{
	const char *src = snap_json__str(vm, "source"), *id = snap_json__str(vm, "id");

	snprintf(buf, n, "%s%c%s", src ? src : "", 0x1f, id ? id : "");
}

/* key -> VM (the first of a key), and within a VM, hostdev key -> hostdev: lookups, not scans */
static json_t *index_by(const json_t *list, bool vms)
{
	json_t *index = json_object(), *v;
	char key[1024];
	size_t i;

	json_array_foreach (list, i, v) {
		if (vms)
			vm_key(key, sizeof(key), v);
		else
			snprintf(key, sizeof(key), "%s",
			         snap_json__str(v, "key") ? snap_json__str(v, "key") : "");
		if (!json_object_get(index, key))
			json_object_set(index, key, v);
	}
	return index;
}

void snap_diff__vms(struct ctx *c)
{
	size_t i, k;
	json_t *vm, *hd;

	json_t *new_vms = index_by(json_object_get(c->n, "vms"), true);

	json_array_foreach (json_object_get(c->o, "vms"), i, vm) {
		const json_t *nvm;
		json_t *new_hds;
		char subject[256], key[1024];

		vm_key(key, sizeof(key), vm);
		nvm = json_object_get(new_vms, key);
		new_hds = index_by(json_object_get(nvm, "hostdevs"), false);

		json_array_foreach (json_object_get(vm, "hostdevs"), k, hd) {
			const json_t *nhd;
			json_t *io, *in;

			snprintf(subject, sizeof(subject), "%s VM %s %s",
			         snap_json__str(vm, "source"),
			         snap_json__str(vm, "id") ? snap_json__str(vm, "id") : "?",
			         snap_json__str(hd, "key"));
			nhd = json_object_get(
			    new_hds, snap_json__str(hd, "key") ? snap_json__str(hd, "key") : "");
			if (!nhd) {
				snap_diff__add(c, SNAP_RULE_VM_HOSTDEV_REMOVED, subject,
				               snap_diff__jdup(json_object_get(hd, "addresses")),
				               json_null(), "%s no longer passes a device.",
				               subject);
				continue;
			}
			io = identities(c->to, json_object_get(hd, "devices"));
			in = identities(c->tn, json_object_get(nhd, "devices"));
			if (!json_equal(io, in)) {
				json_t *od = json_object_get(hd, "devices"),
				       *nd = json_object_get(nhd, "devices");
				bool kept = true; /* every device it named before is still named */
				size_t y, z;
				json_t *w, *u;

				json_array_foreach (io, y, w) {
					bool found = false;

					json_array_foreach (in, z, u)
						found |= json_equal(w, u);
					kept &= found;
				}
				if (kept)
					snap_diff__add(c, SNAP_RULE_VM_DEVICE_ADDED, subject,
					               snap_diff__jdup(od), snap_diff__jdup(nd),
					               "%s (a whole slot) now also passes %zu more "
					               "function(s); the "
					               "devices it passed before are still there.",
					               subject,
					               json_array_size(nd) - json_array_size(od));
				else
					snap_diff__add(
					    c, SNAP_RULE_VM_DEVICE_CHANGED, subject,
					    snap_diff__jdup(od), snap_diff__jdup(nd),
					    "%s now points at %s instead of the device it named "
					    "before (%s): "
					    "starting the VM would hand it the wrong device or "
					    "fail.",
					    subject,
					    json_array_size(nd)
					        ? json_string_value(json_array_get(nd, 0))
					        : "nothing present",
					    json_array_size(od)
					        ? json_string_value(json_array_get(od, 0))
					        : "?");
			}
			json_decref(io);
			json_decref(in);
		}
		json_decref(new_hds);
	}
	json_decref(new_vms);
}
