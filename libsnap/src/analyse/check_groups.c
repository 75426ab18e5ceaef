/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * check: what a passthrough device's IOMMU group holds besides it: the host-owned members,
 * the passthrough devices a host driver holds, what the host runs on (never advised to vfio-pci),
 * functions of one card, and why the kernel shared each group.
 */
#include "analyse/analyse.h"
#include "analyse/check.h"
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* What the host itself runs on: its disks, its network, its console. Advice never hands such a
 * device to vfio-pci (a class heuristic: the mount table and routes are not collected). */
static const char *host_needs(const json_t *d)
{
	const char *cls = snap_json__str(d, "class");

	if (!cls)
		return NULL;
	if (!strncmp(cls, "01", 2))
		return "storage controller";
	if (!strncmp(cls, "02", 2))
		return "network controller";
	if (!strncmp(cls, "03", 2) && json_is_true(json_object_get(d, "boot_vga")))
		return "console GPU";
	return NULL;
}

/* A device the passthrough set names by itself (vfio-pci, a VM, an id), not as a slot sibling. */
static bool named_passthrough(const json_t *pt, const char *bdf)
{
	const json_t *reasons = json_object_get(pt, bdf);

	return reasons && !snap_check__only_sibling(reasons);
}

/*
 * The host-owned members of kernel group gid, computed once per group and kept in cache
 * (gid -> object), so a group of n passthrough devices costs n, not n squared:
 *   "other": [count, index...]  members no passthrough device names (the first MAX_NAMED + 1,
 *                               one more than a message names, so one can be its own subject)
 *   "named": [count, index...]  passthrough devices a host driver holds: vfio_binding's subjects
 *   "vm_bound": every "named" one is bound by its VM's start (libvirt managed, Proxmox)
 *   "needed": the first "other" member the host runs on ("storage controller" ...), or absent
 *   "reason": why the kernel merged the group (topo.c), or absent
 */
const json_t *snap_check__host_owned_of(json_t *cache, const snap_topo *t, json_int_t gid,
                                        const json_t *pt, const json_t *root)
{
	struct snap_topo_span members = snap_topo__group_members(t, gid);
	json_t *v, *other, *named;
	char key[32];
	size_t x, n_other = 0, n_named = 0;
	bool vm_bound = true;

	snprintf(key, sizeof(key), "%" JSON_INTEGER_FORMAT, gid);
	if ((v = json_object_get(cache, key)))
		return v;
	other = json_array();
	named = json_array();
	json_array_append_new(other, json_integer(0));
	json_array_append_new(named, json_integer(0));
	v = json_pack("{s:o, s:o}", "other", other, "named", named);
	for (x = 0; x < members.n; x++) {
		const struct snap_topo_dev *m = &t->dev[members.idx[x]];

		if (m->merge_reason && !json_object_get(v, "reason"))
			json_object_set_new(v, "reason", json_string(m->merge_reason));
		if (!snap_check__host_owned(m->obj))
			continue;
		if (named_passthrough(pt, m->bdf)) {
			if (snap_passthrough__vm_binds(root, m->bdf) != SNAP_YES)
				vm_bound = false;
			if (n_named++ <= MAX_NAMED)
				json_array_append_new(named, json_integer(members.idx[x]));
			continue;
		}
		if (host_needs(m->obj) && !json_object_get(v, "needed"))
			json_object_set_new(v, "needed", json_string(host_needs(m->obj)));
		if (n_other++ <= MAX_NAMED)
			json_array_append_new(other, json_integer(members.idx[x]));
	}
	json_array_set_new(other, 0, json_integer((json_int_t)n_other));
	json_array_set_new(named, 0, json_integer((json_int_t)n_named));
	json_object_set_new(v, "vm_bound", json_boolean(vm_bound));
	json_object_set_new(cache, key, v);
	return v;
}

/* Is every member of list ([count, index...]) other than i a function of i's slot? */
bool snap_check__other_in_slot(const snap_topo *t, const json_t *list, int i)
{
	struct snap_topo_span slot = snap_topo__slot_members(t, i);
	const json_t *m;
	size_t x, seen = 0;

	if ((size_t)json_integer_value(json_array_get(list, 0)) + 1 > json_array_size(list))
		return false; /* more than the list holds: not all can be checked */
	json_array_foreach (list, x, m) {
		int k = (int)json_integer_value(m);
		bool in = false;

		if (x == 0 || k == i)
			continue;
		for (size_t y = 0; y < slot.n; y++)
			in = in || slot.idx[y] == k;
		if (!in)
			return false;
		seen++;
	}
	return seen > 0;
}

/* "0000:01:00.1 (snd_hda_intel), ..." of list ([count, index...]) without device i; NULL on
 * ENOMEM. *n: how many there are without i. */
char *snap_check__owned_list(const snap_topo *t, const json_t *list, int i, size_t *n)
{
	snap_buf b = SNAP_BUF_INIT;
	size_t printed = 0, x, all = (size_t)json_integer_value(json_array_get(list, 0));
	const json_t *m;

	*n = all;
	json_array_foreach (list, x, m) {
		size_t k = (size_t)json_integer_value(m);

		if (x == 0)
			continue;
		if ((int)k == i) {
			(*n)--;
			continue;
		}
		if (printed++ == MAX_NAMED)
			break;
		snap_buf__printf(&b, "%s%s (%s)", printed > 1 ? ", " : "", t->dev[k].bdf,
		                 snap_json__str(t->dev[k].obj, "driver"));
	}
	if (*n > MAX_NAMED)
		snap_buf__printf(&b, " and %zu more", *n - MAX_NAMED);
	return snap_buf__detach(&b);
}

/* Explain each multi-device group by what merges it (used by show and check). */
void snap_check__explain_groups(snap_check *c, json_t *checks, snap_topo *t, const json_t *root)
{
	size_t i;
	json_t *g;

	json_array_foreach (json_object_get(root, "groups"), i, g) {
		const json_t *members = json_object_get(g, "devices"), *m;
		snap_buf b = SNAP_BUF_INIT;
		const char *reason;
		bool uncertain;
		char subject[64], *text;
		size_t k;

		if (json_array_size(members) < 2)
			continue;
		snprintf(subject, sizeof(subject), "group %" JSON_INTEGER_FORMAT,
		         json_integer_value(json_object_get(g, "id")));
		json_array_foreach (members, k, m)
			snap_buf__printf(&b, "%s%s", k ? ", " : "", json_string_value(m));
		reason = snap_topo__group_reason(t, members, &uncertain);
		text = snap_buf__detach(&b);
		if (reason)
			snap_check__add(c, checks, SNAP_CHECK_PASS, SNAP_CHK_GROUP_EXPLAINED,
			                subject, "%s = %s because %s", subject, text ? text : "",
			                reason);
		else if (uncertain)
			snap_check__add(
			    c, checks, SNAP_CHECK_WARN, SNAP_CHK_GROUP_EXPLAINED, subject,
			    "%s = %s: cannot be explained, ACS is unknown (collect as root)",
			    subject, text ? text : "");
		else
			snap_check__add(
			    c, checks, SNAP_CHECK_PASS, SNAP_CHK_GROUP_EXPLAINED, subject,
			    "%s = %s: not explained by ACS: a DMA alias quirk of these devices",
			    subject, text ? text : "");
		free(text);
	}
}
