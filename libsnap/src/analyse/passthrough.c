/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * Passthrough devices (docs/interface.md "Diff classes"): devices bound to vfio-pci or pci-stub,
 * named by a VM configuration (Proxmox hostpci*, libvirt <hostdev>), or matched by a vfio-pci id
 * from the command line, modprobe.d or the live module; plus the other functions of their slot that
 * share their fate (a GPU's audio function must follow the GPU): those in the same IOMMU group or
 * the same reset scope (docs/classification.md, "Functions of one card").
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "analyse/analyse.h"

bool snap_passthrough__id_matches(const char *id, const json_t *dev)
{
	static const char *const keys[] = {"vendor", "device", "subsystem_vendor",
	                                   "subsystem_device"};
	char *dup = snap_mem__strdup(id), *save = NULL, *tok;
	bool match = dup != NULL;
	size_t i = 0;

	for (tok = dup ? strtok_r(dup, ":", &save) : NULL; tok && i < SNAP_ARRAY_SIZE(keys);
	     tok = strtok_r(NULL, ":", &save), i++) {
		unsigned long want = strtoul(tok, NULL, 16);
		const char *have = snap_json__str(dev, keys[i]);

		if (want == 0xffffffffUL || (i >= 2 && want == 0xffff && strlen(tok) > 4))
			continue;
		if (!have || strtoul(have, NULL, 16) != want) {
			match = false;
			break;
		}
	}
	if (i < 2)
		match = false;
	free(dup);
	return match;
}

/*
 * Whether the kernel resets DEV without touching the other devices of its bus. Of the methods in
 * pci_reset_fn_methods[] (drivers/pci/pci.c), only "bus" (pci_reset_bus_function(): a slot or
 * secondary bus reset) reaches other functions; vfio-pci falls back to a hot reset of the whole
 * slot or bus (vfio_pci_dev_set_hot_reset()) when a device has none of the others.
 */
enum snap_tristate snap_passthrough__resets_alone(const json_t *dev)
{
	static const char *const own[] = {"device_specific", "acpi", "flr", "af_flr", "pm"};
	const json_t *rm = json_object_get(dev, "reset_methods");

	if (json_is_array(rm)) {
		for (size_t i = 0; i < SNAP_ARRAY_SIZE(own); i++)
			if (snap_json__has_string(rm, own[i]))
				return SNAP_YES;
		return SNAP_NO;
	}
	/* a kernel without reset_method (before 5.15): FLR is a reset of its own */
	return json_is_true(json_object_get(dev, "flr")) ? SNAP_YES : SNAP_UNKNOWN;
}

/*
 * How function OTHER of the same slot shares DEV's fate (docs/interface.md "Diff classes"):
 * SNAP_FATE_GROUP when the kernel puts them in one IOMMU group (get_pci_function_alias_group()
 * found no ACS or quirk between them) or no group tells them apart; SNAP_FATE_RESET when they are
 * isolated but DEV is reset only with its bus (no per-function reset: vfio-pci's hot reset takes
 * every device there); SNAP_FATE_NONE for functions the kernel isolates, DEV resetting alone (a
 * four-port NIC split between a VM and the host, pci_quirk_mf_endpoint_acs()).
 */
enum snap_fate snap_passthrough__shares_fate(const json_t *dev, const json_t *other)
{
	const json_t *ga = json_object_get(dev, "iommu_group"),
	             *gb = json_object_get(other, "iommu_group");

	if (!json_is_integer(ga) || !json_is_integer(gb) ||
	    json_integer_value(ga) == json_integer_value(gb))
		return SNAP_FATE_GROUP;
	return snap_passthrough__resets_alone(dev) == SNAP_YES ? SNAP_FATE_NONE : SNAP_FATE_RESET;
}

const char *snap_passthrough__vfio_refuses(const json_t *dev, bool denylist_disabled)
{
	/* vfio_pci_dev_in_denylist() of Linux 6.1 drivers/vfio/pci/vfio_pci.c: Intel QAT
	 * C3xxx, C62x, DH895xCC (PF and VF), DSA and IAX of Sapphire Rapids */
	static const unsigned deny[] = {0x19e2, 0x19e3, 0x37c8, 0x37c9,
	                                0x0435, 0x0443, 0x0b25, 0x0cfe};
	const char *cls = snap_json__str(dev, "class"), *v = snap_json__str(dev, "vendor"),
	           *d = snap_json__str(dev, "device");
	json_int_t vfs =
	    json_integer_value(json_object_get(json_object_get(dev, "sriov"), "num_vfs"));

	if (json_is_object(json_object_get(dev, "bridge")) ||
	    (cls && (!strncmp(cls, "0604", 4) || !strncmp(cls, "0607", 4))))
		return "it is a bridge, not a type-0 function (vfio_pci_core_register_device() "
		       "refuses other header types)";
	if (!denylist_disabled && v && d && strtoul(v, NULL, 16) == 0x8086)
		for (size_t i = 0; i < SNAP_ARRAY_SIZE(deny); i++)
			if (strtoul(d, NULL, 16) == deny[i])
				return "it is on vfio-pci's denylist (vfio_pci_dev_in_denylist(): "
				       "errata that userspace can exploit); options vfio-pci "
				       "disable_denylist=1 lifts it, if the risk is accepted";
	if (vfs > 0)
		return "it is an SR-IOV PF with VFs enabled (vfio_pci_core_register_device(): "
		       "-EBUSY); pass a VF instead, or set sriov_numvfs to 0 before binding";
	return NULL;
}

enum snap_tristate snap_passthrough__vm_binds(const json_t *root, const char *bdf)
{
	enum snap_tristate named = SNAP_UNKNOWN;
	const json_t *vm, *hd, *b;
	size_t i, j, k;

	json_array_foreach (json_object_get(root, "vms"), i, vm)
		json_array_foreach (json_object_get(vm, "hostdevs"), j, hd)
			json_array_foreach (json_object_get(hd, "devices"), k, b) {
				if (strcmp(json_string_value(b), bdf))
					continue;
				if (!json_is_false(json_object_get(hd, "managed")))
					return SNAP_YES;
				named = SNAP_NO;
			}
	return named;
}

static void add_reason(json_t *pt, const char *bdf, const char *reason)
{
	json_t *list = json_object_get(pt, bdf), *r;
	size_t i;

	if (!list) {
		list = json_array();
		json_object_set_new(pt, bdf, list);
	}
	json_array_foreach (list, i, r)
		if (!strcmp(json_string_value(r), reason))
			return;
	json_array_append_new(list, json_string(reason));
}

json_t *snap_passthrough__covered(const json_t *root)
{
	const json_t *ids = json_object_get(json_object_get(root, "vfio"), "ids");
	json_t *covered = json_object(), *d, *id;
	size_t i, j;
	/* the ID list indexed by "vendor:device" (wildcards apart, and duplicates dropped), so
	 * each device is held against the few ids that can match it, not against all of them */
	json_t *by_ids = json_object(), *wild = json_array(), *seen = json_object();

	json_array_foreach (ids, j, id) {
		const char *sid = snap_json__str(id, "id"), *src = snap_json__str(id, "source");
		char key[64], dup[600];
		unsigned long v, dv;
		char *end;
		json_t *list;

		if (!sid)
			continue;
		snprintf(dup, sizeof(dup), "%s %s", sid, src ? src : "");
		if (json_object_get(seen, dup))
			continue;
		json_object_set_new(seen, dup, json_true());
		v = strtoul(sid, &end, 16);
		dv = *end == ':' ? strtoul(end + 1, NULL, 16) : 0xffffffffUL;
		if (v == 0xffffffffUL || dv == 0xffffffffUL) {
			json_array_append(wild, id);
			continue;
		}
		snprintf(key, sizeof(key), "%lx:%lx", v, dv);
		if (!(list = json_object_get(by_ids, key))) {
			list = json_array();
			json_object_set_new(by_ids, key, list);
		}
		json_array_append(list, id);
	}
	json_array_foreach (json_object_get(root, "devices"), i, d) {
		const char *bdf = snap_json__str(d, "bdf");

		for (int pass = 0; pass < 2; pass++) {
			const json_t *cands = wild;
			char key[64];

			if (!pass) {
				const char *v = snap_json__str(d, "vendor"),
				           *dv = snap_json__str(d, "device");

				snprintf(key, sizeof(key), "%lx:%lx",
				         v ? strtoul(v, NULL, 16) : 0xfffffffeUL,
				         dv ? strtoul(dv, NULL, 16) : 0xfffffffeUL);
				cands = json_object_get(by_ids, key);
			}
			json_array_foreach (cands, j, id) {
				const char *sid = snap_json__str(id, "id");
				json_t *list;

				if (!bdf || !sid || !snap_passthrough__id_matches(sid, d))
					continue;
				if (!(list = json_object_get(covered, bdf))) {
					list = json_array();
					json_object_set_new(covered, bdf, list);
				}
				json_array_append(list, id);
			}
		}
	}
	json_decref(by_ids);
	json_decref(wild);
	json_decref(seen);
	return covered;
}

json_t *snap_passthrough__compute(const json_t *root, const json_t *covered)
{
	json_t *pt = json_object(), *devices = json_object_get(root, "devices"), *d, *vm, *id;
	size_t i, j, k;
	char reason[256];

	json_array_foreach (devices, i, d) {
		const char *drv = snap_json__str(d, "driver"), *bdf = snap_json__str(d, "bdf");
		const char *ovr = snap_json__str(d, "driver_override");

		if (drv && (!strcmp(drv, "vfio-pci") || !strcmp(drv, "pci-stub"))) {
			snprintf(reason, sizeof(reason), "bound to %s", drv);
			add_reason(pt, bdf, reason);
		}
		if (ovr && (!strcmp(ovr, "vfio-pci") || !strcmp(ovr, "pci-stub"))) {
			snprintf(reason, sizeof(reason), "driver_override %s", ovr);
			add_reason(pt, bdf, reason);
		}
		json_array_foreach (json_object_get(covered, bdf), j, id) {
			snprintf(reason, sizeof(reason), "vfio-pci id %s (%s)",
			         snap_json__str(id, "id"), snap_json__str(id, "source"));
			add_reason(pt, bdf, reason);
		}
	}
	json_array_foreach (json_object_get(root, "vms"), i, vm) {
		json_t *hd, *b;

		json_array_foreach (json_object_get(vm, "hostdevs"), j, hd) {
			const char *name = snap_json__str(vm, "name");

			snprintf(reason, sizeof(reason), "%s VM %s%s%s%s %s",
			         snap_json__str(vm, "source"),
			         snap_json__str(vm, "id") ? snap_json__str(vm, "id") : "?",
			         name ? " (" : "", name ? name : "", name ? ")" : "",
			         snap_json__str(hd, "key"));
			json_array_foreach (json_object_get(hd, "devices"), k, b)
				add_reason(pt, json_string_value(b), reason);
		}
	}
	/*
	 * siblings: the other functions of each passthrough device's slot that share its fate
	 * (snap_passthrough__shares_fate()). SR-IOV VFs are
	 * functions of their own (reached through ARI, isolated by the PF's ACS), so a VF does not
	 * pull in its PF or the other VFs, nor is it pulled in by them.
	 */
	{
		json_t *direct = json_copy(pt);
		json_t *slots = json_object(); /* "dddd:bb:ss" -> [device objects], VFs left out */
		json_t *vfs = json_object();   /* set of the VFs' bdfs */
		const char *bdf;
		json_t *v;

		json_array_foreach (devices, i, d) {
			const char *b = snap_json__str(d, "bdf");
			const char *dot = b ? strrchr(b, '.') : NULL;
			char slot[32];
			json_t *list;

			if (b && snap_json__str(d, "physfn"))
				json_object_set_new(vfs, b, json_true());
			if (!dot || snap_json__str(d, "physfn"))
				continue;
			snprintf(slot, sizeof(slot), "%.*s", (int)(dot - b), b);
			if (!(list = json_object_get(slots, slot))) {
				list = json_array();
				json_object_set_new(slots, slot, list);
			}
			json_array_append(list, d);
		}
		json_object_foreach (direct, bdf, v) {
			const char *dot = strrchr(bdf, '.');
			const json_t *self = NULL;
			enum snap_fate fate;
			char slot[32];

			if (!dot || json_object_get(vfs, bdf))
				continue;
			snprintf(slot, sizeof(slot), "%.*s", (int)(dot - bdf), bdf);
			json_array_foreach (json_object_get(slots, slot), i, d)
				if (!strcmp(snap_json__str(d, "bdf"), bdf))
					self = d;
			json_array_foreach (json_object_get(slots, slot), i, d) {
				const char *other = snap_json__str(d, "bdf");

				if (!strcmp(other, bdf) || json_object_get(direct, other))
					continue;
				fate =
				    self ? snap_passthrough__shares_fate(self, d) : SNAP_FATE_GROUP;
				if (fate == SNAP_FATE_NONE)
					continue;
				snprintf(reason, sizeof(reason),
				         fate == SNAP_FATE_RESET ? SNAP_PT_RESET_SIBLING "%s"
				                                 : "function of the slot of %s",
				         bdf);
				add_reason(pt, other, reason);
			}
		}
		json_decref(direct);
		json_decref(slots);
		json_decref(vfs);
	}
	return pt;
}

/* A device in D3cold (vfio-pci's runtime PM of an idle device) has its link down by design:
 * pci_set_power_state() takes the link to L2/L3. Its power state, not a fault. */
bool snap_passthrough__in_d3cold(const json_t *dev)
{
	const char *ps = snap_json__str(dev, "power_state");

	return ps && !strcmp(ps, "D3cold");
}

/*
 * The link below port is down (a fault) when the port says Data Link Layer Link Active is clear
 * and below, the device under it on dev's path, did not answer the collector's config read (all
 * ones). A device that answers is reached through that link whatever the bit says (QEMU's root
 * ports report DLLLARC and leave DLLLA clear for the devices present at boot: the real-kernel
 * lab); unknown is not down. dev in D3cold has its link down by design.
 */
bool snap_passthrough__link_down(const json_t *port, const json_t *below, const json_t *dev)
{
	return json_is_false(json_object_get(json_object_get(port, "link_state"), "active")) &&
	       json_is_false(json_object_get(below, "responds")) &&
	       !snap_passthrough__in_d3cold(dev);
}
