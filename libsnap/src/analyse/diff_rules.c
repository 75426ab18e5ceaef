/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * The diff rules: what each kind of change is, its class and what to do about it (the table),
 * and the rule families that find the changes, as CONTRACT.md "Diff classes" and
 * docs/classification.md define them. Adding a rule is a row here, the code that finds its
 * changes, and a test (tests/unit/test_diff.c).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "analyse/diff.h"

const struct snap_diff_rule_def snap_diff__rules[SNAP_RULE_COUNT] = {
    [SNAP_RULE_EVIDENCE_LOST_FIELD] = {"evidence_lost", SNAP_CLASS_HARMLESS, NULL},
    [SNAP_RULE_KERNEL_RELEASE] = {"kernel_release", SNAP_CLASS_HARMLESS, NULL},
    [SNAP_RULE_FIRMWARE] = {"firmware", SNAP_CLASS_HARMLESS, NULL},
    [SNAP_RULE_SERIAL_NUMBER] = {"serial_number", SNAP_CLASS_HARMLESS, NULL},
    [SNAP_RULE_SECURE_BOOT] = {"secure_boot", SNAP_CLASS_HARMLESS, NULL},
    [SNAP_RULE_CMDLINE_TOKEN_ADDED] = {"cmdline_token_added", SNAP_CLASS_HARMLESS, NULL},
    [SNAP_RULE_CMDLINE_TOKEN_REMOVED] = {"cmdline_token_removed", SNAP_CLASS_HARMLESS, NULL},
    [SNAP_RULE_MODULES_LOADED] = {"modules_loaded", SNAP_CLASS_HARMLESS, NULL},
    [SNAP_RULE_MODULES_UNLOADED] = {"modules_unloaded", SNAP_CLASS_HARMLESS, NULL},
    [SNAP_RULE_IOMMU_DISABLED] =
        {"iommu_disabled", SNAP_CLASS_ISOLATION_LOSS,
         "enable VT-d / AMD-Vi (\"IOMMU\", \"SVM/VT-d\") in the firmware setup again "
         "and keep "
         "intel_iommu=on or amd_iommu=on on the command line; do not start passthrough "
         "VMs "
         "until 'pcisnap check' passes."},
    [SNAP_RULE_IRQ_REMAPPING_DISABLED] =
        {"irq_remapping_disabled", SNAP_CLASS_ISOLATION_LOSS,
         "enable x2APIC and interrupt remapping in the firmware (often reset by a BIOS "
         "update), remove intremap=off if present, and do not set "
         "allow_unsafe_interrupts "
         "as a workaround."},
    [SNAP_RULE_EVIDENCE_LOST_IRQ] = {"evidence_lost", SNAP_CLASS_HARMLESS,
                                     "collect as root with the kernel log (--dmesg) to confirm."},
    [SNAP_RULE_UNSAFE_INTERRUPTS] =
        {"unsafe_interrupts", SNAP_CLASS_ISOLATION_LOSS,
         "remove allow_unsafe_interrupts=1 from /etc/modprobe.d and the command line, "
         "and "
         "fix interrupt remapping instead."},
    [SNAP_RULE_NOIOMMU_MODE] =
        {"noiommu_mode", SNAP_CLASS_ISOLATION_LOSS,
         "turn enable_unsafe_noiommu_mode off; it is for DPDK test rigs, never for VMs."},
    [SNAP_RULE_ACS_OVERRIDE] =
        {"acs_override", SNAP_CLASS_ISOLATION_LOSS,
         "remove pcie_acs_override and get real isolation: a CPU-attached slot, a board "
         "with ACS on its root ports, or the BIOS ACS setting."},
    [SNAP_RULE_ACS_OVERRIDE_REMOVED] = {"acs_override_removed", SNAP_CLASS_HARMLESS, NULL},
    [SNAP_RULE_VFIO_MODULE_MISSING] =
        {"vfio_module_missing", SNAP_CLASS_BINDING_REGRESSION,
         "put vfio, vfio_iommu_type1 and vfio_pci in /etc/modules (or "
         "/etc/initramfs-tools/modules), run update-initramfs -u -k all, "
         "reboot."},
    [SNAP_RULE_VFIO_IDS_UNCOVERED] =
        {"vfio_ids_uncovered", SNAP_CLASS_BINDING_REGRESSION,
         "add its vendor:device to 'options vfio-pci ids=' in /etc/modprobe.d/vfio.conf "
         "(or vfio-pci.ids= on the command line) and update the initramfs."},
    [SNAP_RULE_ACS_LOST] = {"acs_lost", SNAP_CLASS_ISOLATION_LOSS,
                            "check the firmware's ACS / PCIe settings (a BIOS update can hide the "
                            "ACS "
                            "capability or clear its controls); do not compensate with "
                            "pcie_acs_override."},
    [SNAP_RULE_PT_DEVICE_REMOVED] = {"device_removed", SNAP_CLASS_BINDING_REGRESSION,
                                     "check that the card is seated and powered and enabled in the "
                                     "firmware (slot bifurcation, 'Above 4G decoding'), and 'dmesg "
                                     "| grep "
                                     "-i pci' for link training errors."},
    [SNAP_RULE_DEVICE_REMOVED] = {"device_removed", SNAP_CLASS_HARMLESS, NULL},
    [SNAP_RULE_PT_DRIVER_CHANGED] =
        {"driver_changed", SNAP_CLASS_BINDING_REGRESSION,
         "make vfio-pci claim it before {1}: 'softdep {2} pre: vfio-pci' and its id in 'options "
         "vfio-pci ids=' in /etc/modprobe.d, vfio modules in the initramfs (update-initramfs -u -k "
         "all), then reboot."},
    [SNAP_RULE_DRIVER_CHANGED] = {"driver_changed", SNAP_CLASS_HARMLESS, NULL},
    [SNAP_RULE_PT_FLR_LOST] = {"flr_lost", SNAP_CLASS_ISOLATION_LOSS,
                               "check the device firmware version (a firmware update can "
                               "drop "
                               "FLR); without it, state can leak between VMs across "
                               "resets."},
    [SNAP_RULE_FLR_LOST] = {"flr_lost", SNAP_CLASS_HARMLESS, NULL},
    [SNAP_RULE_PT_FLR_REFUSED] = {"flr_refused", SNAP_CLASS_ISOLATION_LOSS,
                                  "this kernel refuses the device's FLR (a quirk: FLR is known "
                                  "to hang it) and resets it by the next method of its "
                                  "reset_method; restart the VM once and check that the device "
                                  "comes back before relying on it, or stay on the kernel that "
                                  "used FLR."},
    [SNAP_RULE_FLR_REFUSED] = {"flr_refused", SNAP_CLASS_HARMLESS, NULL},
    [SNAP_RULE_FLR_GAINED] = {"flr_gained", SNAP_CLASS_HARMLESS, NULL},
    [SNAP_RULE_ACS_CHANGED] = {"acs_changed", SNAP_CLASS_HARMLESS, NULL},
    [SNAP_RULE_RESET_METHODS_CHANGED] = {"reset_methods_changed", SNAP_CLASS_HARMLESS, NULL},
    [SNAP_RULE_LINK_DOWNTRAINED] = {"link_downtrained", SNAP_CLASS_HARMLESS,
                                    "reseat the card or check the slot and riser if it persists."},
    [SNAP_RULE_AER_ERRORS] = {"aer_errors", SNAP_CLASS_HARMLESS, NULL},
    [SNAP_RULE_DEVICE_ADDED] = {"device_added", SNAP_CLASS_HARMLESS, NULL},
    [SNAP_RULE_DEVICES_RENUMBERED] = {"devices_renumbered", SNAP_CLASS_HARMLESS, NULL},
    [SNAP_RULE_EVIDENCE_LOST_CONFIG] = {"evidence_lost", SNAP_CLASS_HARMLESS,
                                        "collect as root to read the full config space."},
    [SNAP_RULE_GROUP_GREW] = {"group_grew", SNAP_CLASS_GROUPING_REGRESSION,
                              "move the card to a CPU-attached slot, or check the BIOS PCIe/ACS "
                              "settings "
                              "(a firmware update can disable ACS or change bifurcation) before "
                              "anyone "
                              "reaches for pcie_acs_override."},
    [SNAP_RULE_GROUPS_RENUMBERED] = {"groups_renumbered", SNAP_CLASS_HARMLESS, NULL},
    [SNAP_RULE_GROUPS_CHANGED] = {"groups_changed", SNAP_CLASS_HARMLESS, NULL},
    [SNAP_RULE_GROUPS_GONE] = {"groups_gone", SNAP_CLASS_HARMLESS, NULL},
    [SNAP_RULE_ISOLATION_ASSERTED] =
        {"isolation_asserted", SNAP_CLASS_ISOLATION_LOSS,
         "treat the devices as one group: pass them to the same VM, or move the card to "
         "a "
         "slot whose root port has ACS; remove pcie_acs_override."},
    [SNAP_RULE_VM_HOSTDEV_REMOVED] = {"vm_hostdev_removed", SNAP_CLASS_HARMLESS, NULL},
    [SNAP_RULE_VM_DEVICE_ADDED] = {"vm_device_added", SNAP_CLASS_HARMLESS, NULL},
    [SNAP_RULE_VM_DEVICE_CHANGED] = {"vm_device_changed", SNAP_CLASS_BINDING_REGRESSION,
                                     "edit the VM configuration to the device's new address "
                                     "(compare "
                                     "'pcisnap show' of both snapshots), or use a Proxmox "
                                     "resource "
                                     "mapping so the VM follows the device, not the bus "
                                     "number."},
};

static void label_o(const struct ctx *c, int i, char *buf, size_t n)
{
	snap_topo__label(&c->to, i, buf, n);
}

static void label_n(const struct ctx *c, int j, char *buf, size_t n)
{
	snap_topo__label(&c->tn, j, buf, n);
}

/* ---- host level ---- */

static void cmp_string(struct ctx *c, enum snap_diff_rule rule, const char *subject, const char *a,
                       const char *b)
{
	if (snap_diff__str_eq(a, b))
		return;
	if (a && !b) {
		snap_diff__add(
		    c, SNAP_RULE_EVIDENCE_LOST_FIELD, subject, json_string(a), json_null(),
		    "%s is no longer known (was '%s'): lost evidence, not a change.", subject, a);
		return;
	}
	snap_diff__add(c, rule, subject, snap_json__str_or_null(a), snap_json__str_or_null(b),
	               "%s changed: '%s' -> '%s'.", subject, a ? a : "unknown", b ? b : "unknown");
}

/* A token's identity for comparison: key, and "=value" when it has one. */
static void token_key(char *buf, size_t n, const json_t *t)
{
	const char *k = snap_json__str(t, "key"), *v = snap_json__str(t, "value");

	snprintf(buf, n, "%s%s%s", k ? k : "", v ? "=" : "", v ? v : "");
}

static json_t *token_set(const json_t *tokens)
{
	json_t *set = json_object(), *t;
	char key[1024];
	size_t i;

	json_array_foreach (tokens, i, t) {
		token_key(key, sizeof(key), t);
		json_object_set_new(set, key, json_true());
	}
	return set;
}

void snap_diff__host(struct ctx *c)
{
	static const char *const fw[] = {"bios_vendor",   "bios_version", "bios_date",
	                                 "bios_release",  "board_vendor", "board_name",
	                                 "board_version", "product_name", "product_version",
	                                 "sys_vendor",    "lockdown"};
	static const char *const serials[] = {"product_serial", "board_serial", "product_uuid",
	                                      "chassis_serial"};
	const json_t *ko = json_object_get(c->o, "kernel"), *kn = json_object_get(c->n, "kernel");
	const json_t *fo = json_object_get(c->o, "firmware"),
	             *fn = json_object_get(c->n, "firmware");
	char subject[128];
	size_t i, j;
	json_t *t, *u;

	cmp_string(c, SNAP_RULE_KERNEL_RELEASE, "kernel release", snap_json__str(ko, "release"),
	           snap_json__str(kn, "release"));
	for (i = 0; i < SNAP_ARRAY_SIZE(fw); i++) {
		snprintf(subject, sizeof(subject), "firmware %s", fw[i]);
		cmp_string(c, SNAP_RULE_FIRMWARE, subject, snap_json__str(fo, fw[i]),
		           snap_json__str(fn, fw[i]));
	}
	for (i = 0; i < SNAP_ARRAY_SIZE(serials); i++) {
		const char *a = snap_json__str(fo, serials[i]), *b = snap_json__str(fn, serials[i]);

		if (a && b && strcmp(a, b))
			snap_diff__add(c, SNAP_RULE_SERIAL_NUMBER, serials[i], json_string(a),
			               json_string(b), "%s differs%s.", serials[i],
			               c->same_host
			                   ? " (board or chassis replaced?)"
			                   : " (another host: serial numbers differ by nature)");
	}
	if (!json_equal(json_object_get(fo, "secure_boot"), json_object_get(fn, "secure_boot")) &&
	    json_is_boolean(json_object_get(fn, "secure_boot")))
		snap_diff__add(c, SNAP_RULE_SECURE_BOOT, "Secure Boot",
		               snap_diff__jdup(json_object_get(fo, "secure_boot")),
		               snap_diff__jdup(json_object_get(fn, "secure_boot")),
		               "Secure Boot is now %s.",
		               json_is_true(json_object_get(fn, "secure_boot")) ? "on" : "off");
	/* command-line tokens, as multisets of "key[=value]" */
	{
		json_t *to = json_object_get(ko, "cmdline_tokens"),
		       *tn = json_object_get(kn, "cmdline_tokens");

		for (int dir = 0; dir < 2; dir++) {
			json_t *a = dir ? tn : to, *b = dir ? to : tn;
			json_t *in_b = token_set(b); /* linear: a set, not a scan per token */

			json_array_foreach (a, i, t) {
				char key[1024];

				token_key(key, sizeof(key), t);
				if (json_object_get(in_b, key))
					continue;
				{
					const char *k = snap_json__str(t, "key"),
					           *v = snap_json__str(t, "value");
					char tok[512];

					if (!k || !strcmp(k, "BOOT_IMAGE") || !strcmp(k, "initrd"))
						continue; /* follows the kernel release */
					snprintf(tok, sizeof(tok), "%s%s%s", k, v ? "=" : "",
					         v ? v : "");
					snap_diff__add(c,
					               dir ? SNAP_RULE_CMDLINE_TOKEN_ADDED
					                   : SNAP_RULE_CMDLINE_TOKEN_REMOVED,
					               "kernel command line",
					               dir ? json_null() : json_string(tok),
					               dir ? json_string(tok) : json_null(),
					               "Command-line token '%s' %s.", tok,
					               dir ? "added" : "removed");
				}
			}
			json_decref(in_b);
		}
	}
	/* loaded modules (vfio ones are judged in diff_vfio) */
	for (int dir = 0; dir < 2; dir++) {
		json_t *a = json_object_get(dir ? kn : ko, "modules"),
		       *b = json_object_get(dir ? ko : kn, "modules");
		json_t *list = json_array(), *in_b = json_object();

		json_array_foreach (b, j, u)
			json_object_set_new(in_b, json_string_value(u), json_true());
		json_array_foreach (a, i, t) {
			if (!json_object_get(in_b, json_string_value(t)) &&
			    strncmp(json_string_value(t), "vfio", 4))
				json_array_append(list, t);
		}
		json_decref(in_b);
		if (json_array_size(list) && json_array_size(b))
			snap_diff__add(
			    c, dir ? SNAP_RULE_MODULES_LOADED : SNAP_RULE_MODULES_UNLOADED,
			    "kernel modules", dir ? json_null() : json_incref(list),
			    dir ? json_incref(list) : json_null(), "%zu module(s) %s.",
			    json_array_size(list), dir ? "now loaded" : "no longer loaded");
		json_decref(list);
	}
}

/* ---- IOMMU and interrupt isolation ---- */

static size_t override_scope(const char *v)
{
	size_t n = 0;

	if (!v)
		return 0;
	n = 1;
	for (const char *p = v; *p; p++)
		n += *p == ',';
	return n;
}

/* A setting that hides faults, new in NEW while there are passthrough devices: named in the
 * faults section as hiding them (CONTRACT: never as a fix). */
static void diff_hiding(struct ctx *c)
{
	json_t *ho = snap_cmdline__hiding(
	           json_object_get(json_object_get(c->o, "kernel"), "cmdline_options")),
	       *hn = snap_cmdline__hiding(
	           json_object_get(json_object_get(c->n, "kernel"), "cmdline_options")),
	       *h, *g;
	size_t i, k;

	json_array_foreach (hn, i, h) {
		bool before = false;

		json_array_foreach (ho, k, g)
			before |= !strcmp(snap_json__str(g, "option"), snap_json__str(h, "option"));
		if (before || !json_object_size(c->pt))
			continue;
		json_array_append_new(
		    c->faults,
		    json_pack("{s:s, s:s, s:s, s:s, s:I, s:I, s:s, s:o}", "kind", "hidden",
		              "severity", "hidden", "subject", snap_json__str(h, "option"),
		              "device", "", "old", (json_int_t)0, "new", (json_int_t)1, "counter",
		              "cmdline", "message",
		              json_sprintf("%s is new on the command line: %s. Faults on the "
		                           "passthrough devices' paths are hidden from now on, not "
		                           "fixed.",
		                           snap_json__str(h, "option"), snap_json__str(h, "why"))));
	}
	json_decref(ho);
	json_decref(hn);
}

void snap_diff__iommu(struct ctx *c)
{
	diff_hiding(c);
	const json_t *io = json_object_get(c->o, "iommu"), *in = json_object_get(c->n, "iommu");
	const char *iro = snap_json__str(io, "irq_remapping"),
	           *irn = snap_json__str(in, "irq_remapping");
	const char *ao = snap_json__str(io, "acs_override"),
	           *an = snap_json__str(in, "acs_override");

	if (json_is_true(json_object_get(io, "enabled")) &&
	    !json_is_true(json_object_get(in, "enabled")))
		snap_diff__add(
		    c, SNAP_RULE_IOMMU_DISABLED, "IOMMU", json_true(), json_false(),
		    "The IOMMU was on and is not: no IOMMU units and no groups, so there is no DMA "
		    "isolation and vfio-pci cannot bind any device (a firmware update or reset "
		    "often "
		    "turns VT-d/AMD-Vi off).");
	if (iro && irn && !strcmp(iro, "enabled") && !strcmp(irn, "disabled"))
		snap_diff__add(c, SNAP_RULE_IRQ_REMAPPING_DISABLED, "interrupt remapping",
		               json_string(iro), json_string(irn),
		               "Interrupt remapping was enabled and is disabled: a guest with a "
		               "passed-through "
		               "device can forge MSIs to the host.");
	else if (iro && irn && !strcmp(iro, "enabled") && !strcmp(irn, "unknown"))
		snap_diff__add(
		    c, SNAP_RULE_EVIDENCE_LOST_IRQ, "interrupt remapping", json_string(iro),
		    json_string(irn),
		    "Interrupt remapping can no longer be confirmed (no interrupts file or kernel "
		    "log "
		    "in the new snapshot): lost evidence, not a loss.");
	if (!json_is_true(json_object_get(io, "allow_unsafe_interrupts")) &&
	    json_is_true(json_object_get(in, "allow_unsafe_interrupts"))) {
		/* the container vfio uses: iommufd when only it is loaded (kernels from 6.2) */
		const json_t *mods = json_object_get(json_object_get(c->n, "vfio"), "modules");
		const char *ctr = json_is_true(json_object_get(mods, "iommufd")) &&
		                          !json_is_true(json_object_get(mods, "vfio_iommu_type1"))
		                      ? "iommufd"
		                      : "vfio_iommu_type1";

		snap_diff__add(c, SNAP_RULE_UNSAFE_INTERRUPTS, ctr,
		               snap_diff__jdup(json_object_get(io, "allow_unsafe_interrupts")),
		               json_true(),
		               "%s.allow_unsafe_interrupts is on: vfio accepts devices on a host "
		               "whose interrupts are not isolated.",
		               ctr);
	}
	if (!json_is_true(json_object_get(io, "noiommu_mode")) &&
	    json_is_true(json_object_get(in, "noiommu_mode")))
		snap_diff__add(
		    c, SNAP_RULE_NOIOMMU_MODE, "vfio",
		    snap_diff__jdup(json_object_get(io, "noiommu_mode")), json_true(),
		    "vfio no-IOMMU mode is on: devices do DMA with no isolation at all.");
	if (an && (!ao || override_scope(an) > override_scope(ao) ||
	           (override_scope(an) == override_scope(ao) && strcmp(an, ao))))
		snap_diff__add(
		    c, SNAP_RULE_ACS_OVERRIDE, "pcie_acs_override", snap_json__str_or_null(ao),
		    json_string(an),
		    "pcie_acs_override=%s %s: the kernel now claims isolation the hardware does "
		    "not "
		    "provide, so devices in 'separate' groups can still reach each other by "
		    "peer-to-peer DMA.",
		    an, ao ? "widened" : "appeared");
	else if (ao && !an)
		snap_diff__add(c, SNAP_RULE_ACS_OVERRIDE_REMOVED, "pcie_acs_override",
		               json_string(ao), json_null(),
		               "pcie_acs_override was removed: groups now follow the hardware.");
}

/* ---- vfio ---- */

/* Is the device (of OLD or NEW) covered by that snapshot's vfio-pci ID list? */
static bool covered_by_ids(const json_t *covered, const char *bdf)
{
	return json_object_get(covered, bdf) != NULL;
}

void snap_diff__vfio(struct ctx *c)
{
	static const char *const mods[] = {"vfio", "vfio_pci", "vfio_iommu_type1"};
	const json_t *mo = json_object_get(json_object_get(c->o, "vfio"), "modules");
	const json_t *mn = json_object_get(json_object_get(c->n, "vfio"), "modules");
	const char *bdf;
	json_t *reasons;

	if (!json_object_size(c->pt))
		return;
	for (size_t i = 0; i < SNAP_ARRAY_SIZE(mods); i++)
		if (json_is_true(json_object_get(mo, mods[i])) &&
		    json_is_false(json_object_get(mn, mods[i])) &&
		    /* a kernel that serves the container by iommufd never loads type1 */
		    !(!strcmp(mods[i], "vfio_iommu_type1") &&
		      json_is_true(json_object_get(mn, "iommufd"))))
			snap_diff__add(
			    c, SNAP_RULE_VFIO_MODULE_MISSING, mods[i], json_true(), json_false(),
			    "Module %s is no longer loaded: the new kernel's initramfs probably "
			    "lacks "
			    "vfio, so host drivers claim the passthrough devices at boot.",
			    mods[i]);
	json_object_foreach (c->pt, bdf, reasons) {
		int i = snap_topo__find(&c->to, bdf), j;
		char lbl[512];

		if (i < 0 || (j = c->o2n[i]) < 0 || !covered_by_ids(c->cov_o, c->to.dev[i].bdf))
			continue;
		if (covered_by_ids(c->cov_n, c->tn.dev[j].bdf))
			continue;
		label_n(c, j, lbl, sizeof(lbl));
		snap_diff__add(c, SNAP_RULE_VFIO_IDS_UNCOVERED, c->tn.dev[j].bdf, json_true(),
		               json_false(),
		               "The vfio-pci ID list no longer covers passthrough device %s.", lbl);
	}
}

/* ---- devices ---- */

static long speed_of(const json_t *link, const char *key)
{
	const char *s = snap_json__str(link, key);

	return s ? snap_parse__tenths(s, NULL) : 0;
}

static unsigned acs_mask(const json_t *acs, const char *key)
{
	return snap_acs__bits(json_object_get(acs, key));
}

/*
 * The required ACS flags (SV RR CR UF) a port does not enforce, as pci_acs_flags_enabled()
 * decides: a flag missing from the capability register is hard-wired on; one the capability
 * has must be set in the control word, which Intel's SPT-class root ports keep in a dword of
 * their own (pci_quirk_intel_spt_pch_acs(): ctl_intel_spt, recorded only for them). Without an
 * ACS capability none is enforced.
 */
static unsigned acs_not_enabled(const json_t *acs)
{
	unsigned cap, ctl;

	if (!json_is_true(json_object_get(acs, "present")))
		return SNAP_ACS_REQ;
	cap = acs_mask(acs, "cap") & SNAP_ACS_REQ;
	ctl = json_is_array(json_object_get(acs, "ctl_intel_spt")) ? acs_mask(acs, "ctl_intel_spt")
	                                                           : acs_mask(acs, "ctl");
	return cap & ~ctl;
}

/* Ports on the path from each passthrough device to its root that lost required ACS flags. */
static void diff_path_acs(struct ctx *c, bool *reported)
{
	const char *bdf;
	json_t *reasons;

	json_object_foreach (c->pt, bdf, reasons) {
		int i = snap_topo__find(&c->to, bdf);
		char pdev[512];

		if (i < 0)
			continue;
		label_o(c, i, pdev, sizeof(pdev));
		for (int p = c->to.dev[i].parent; p >= 0; p = c->to.dev[p].parent) {
			int q = c->o2n[p];
			const json_t *ao, *an;
			unsigned lost;
			char flags[64], lbl[512];

			if (q < 0 || reported[p])
				continue;
			ao = json_object_get(c->to.dev[p].obj, "acs");
			an = json_object_get(c->tn.dev[q].obj, "acs");
			if (!json_is_object(ao) || !json_is_object(an))
				continue; /* unknown on either side: no claim (lost evidence is
				             counted) */
			lost = acs_not_enabled(an) & ~acs_not_enabled(ao);
			if (!lost)
				continue;
			reported[p] = true;
			snap_acs__names(flags, sizeof(flags), lost, " ");
			label_n(c, q, lbl, sizeof(lbl));
			snap_diff__add(
			    c, SNAP_RULE_ACS_LOST, c->tn.dev[q].bdf, snap_diff__jdup(ao),
			    snap_diff__jdup(an),
			    "%s %s on the path of passthrough device %s lost ACS %s: devices below "
			    "it "
			    "can now reach each other without the IOMMU seeing it.",
			    snap_json__str(c->tn.dev[q].obj, "pcie_type")
			        ? snap_json__str(c->tn.dev[q].obj, "pcie_type")
			        : "port",
			    lbl, pdev, flags);
		}
	}
}

static void examples_append(snap_buf *b, size_t *n, const char *s)
{
	if ((*n)++ < MAX_EXAMPLES)
		snap_buf__printf(b, "%s%s", *n > 1 ? ", " : "", s);
}

/*
 * AER counters of a matched device. They start at zero each boot: across a reboot every
 * uncorrectable error NEW counts is new, corrected ones (a few at each link training are
 * common) when more than the boot before; within a boot, any rise. On a passthrough device or
 * a port on its path (a root port's aer_rootport_total_err_* count what the devices below it
 * reported) they are faults, in their own section (CONTRACT "Faults are not a class"); on
 * another device a harmless change.
 */
static void diff_aer(struct ctx *c, int i, int j, const char *pt_dev, const char *ln)
{
	static const char *const keys[] = {
	    "correctable",          "nonfatal",          "fatal",
	    "rootport_correctable", "rootport_nonfatal", "rootport_fatal"};
	const char *bo = snap_json__str(json_object_get(c->o, "boot"), "id"),
	           *bn = snap_json__str(json_object_get(c->n, "boot"), "id");
	bool rebooted = bo && bn && strcmp(bo, bn);
	const json_t *ea = json_object_get(c->to.dev[i].obj, "aer"),
	             *eb = json_object_get(c->tn.dev[j].obj, "aer");

	for (size_t k = 0; k < SNAP_ARRAY_SIZE(keys); k++) {
		const json_t *x = json_object_get(ea, keys[k]), *y = json_object_get(eb, keys[k]);
		bool corrected = strstr(keys[k], "correctable") != NULL;
		json_int_t xv = json_is_integer(x) ? json_integer_value(x) : 0,
		           yv = json_integer_value(y);
		char msg[1024];

		if (!json_is_integer(y))
			continue;
		if (json_is_integer(x) ? !(rebooted ? yv > (corrected ? xv : 0) : yv > xv)
		                       : yv <= 0) /* a counter OLD lacked counts from 0 */
			continue;
		if (rebooted)
			snprintf(msg, sizeof(msg),
			         "%s: %" JSON_INTEGER_FORMAT
			         " %s AER error(s) since the reboot (%" JSON_INTEGER_FORMAT
			         " in the boot before).",
			         ln, yv, keys[k], xv);
		else
			snprintf(msg, sizeof(msg),
			         "%s: %s AER errors rose from %" JSON_INTEGER_FORMAT
			         " to %" JSON_INTEGER_FORMAT ".",
			         ln, keys[k], xv, yv);
		if (pt_dev) {
			const char *sev = strstr(keys[k], "fatal") && !strstr(keys[k], "nonfatal")
			                      ? "fatal"
			                  : strstr(keys[k], "nonfatal") ? "nonfatal"
			                                                : "correctable";

			json_array_append_new(c->faults,
			                      json_pack("{s:s, s:s, s:s, s:s, s:I, s:I, s:s, s:s}",
			                                "kind", "aer", "severity", sev, "subject",
			                                c->tn.dev[j].bdf, "device", pt_dev, "old",
			                                (json_int_t)xv, "new", (json_int_t)yv,
			                                "counter", keys[k], "message", msg));
		} else {
			snap_diff__add(c, SNAP_RULE_AER_ERRORS, c->tn.dev[j].bdf,
			               json_incref((json_t *)x), json_incref((json_t *)y), "%s",
			               msg);
		}
	}
}

void snap_diff__devices(struct ctx *c)
{
	snap_buf renum = SNAP_BUF_INIT, lost = SNAP_BUF_INIT;
	size_t nrenum = 0, nlost = 0;
	bool *reported = calloc(c->to.n + 1, sizeof(bool));
	const char **on_path;
	char lo[512], ln[512];

	if (!reported)
		return;
	diff_path_acs(c, reported);
	/* NEW's passthrough devices and the ports on their paths: bdf of the device, or NULL */
	on_path = calloc(c->tn.n + 1, sizeof(*on_path));
	if (!on_path) {
		free(reported);
		return;
	}
	{
		const char *bdf;
		json_t *reasons;

		json_object_foreach (c->pt, bdf, reasons) {
			int i = snap_topo__find(&c->to, bdf), j = i >= 0 ? c->o2n[i] : -1;

			for (int k = j; k >= 0; k = c->tn.dev[k].parent)
				if (!on_path[k])
					on_path[k] = c->tn.dev[j].bdf;
		}
	}
	for (size_t i = 0; i < c->to.n; i++) {
		const json_t *a = c->to.dev[i].obj, *b;
		int j = c->o2n[i];
		bool pt = snap_diff__is_pt(c, (int)i);

		label_o(c, (int)i, lo, sizeof(lo));
		if (j < 0) {
			if (pt)
				snap_diff__add(c, SNAP_RULE_PT_DEVICE_REMOVED, c->to.dev[i].bdf,
				               json_string(c->to.dev[i].bdf), json_null(),
				               "Passthrough device %s is gone.", lo);
			else
				snap_diff__add(c, SNAP_RULE_DEVICE_REMOVED, c->to.dev[i].bdf,
				               json_string(c->to.dev[i].bdf), json_null(),
				               "Device %s is gone.", lo);
			continue;
		}
		b = c->tn.dev[j].obj;
		label_n(c, j, ln, sizeof(ln));
		if (strcmp(c->to.dev[i].bdf, c->tn.dev[j].bdf)) {
			char pair[64];

			snprintf(pair, sizeof(pair), "%s -> %s", c->to.dev[i].bdf,
			         c->tn.dev[j].bdf);
			examples_append(&renum, &nrenum, pair);
		}
		/* driver */
		{
			const char *da = snap_json__str(a, "driver"),
			           *db = snap_json__str(b, "driver");

			if (!snap_diff__str_eq(da, db)) {
				bool was_vfio =
				    da && (!strcmp(da, "vfio-pci") || !strcmp(da, "pci-stub"));
				/* pci-stub -> vfio-pci still keeps the host away: an upgrade */
				bool still_vfio =
				    db && (!strcmp(db, "vfio-pci") || !strcmp(db, "pci-stub"));

				if (pt && was_vfio && !still_vfio) {
					snap_diff__add_next(
					    c, SNAP_RULE_PT_DRIVER_CHANGED,
					    db ? db : "any host driver", db ? db : "<driver>",
					    c->tn.dev[j].bdf, json_string(da),
					    snap_json__str_or_null(db),
					    "Passthrough device %s is no longer bound to %s: %s.",
					    ln, da, db ? db : "no driver at all");
				} else {
					snap_diff__add(c, SNAP_RULE_DRIVER_CHANGED,
					               c->tn.dev[j].bdf, snap_json__str_or_null(da),
					               snap_json__str_or_null(db),
					               "Driver of %s: %s -> %s.", ln,
					               da ? da : "none", db ? db : "none");
				}
			}
		}
		/* FLR */
		{
			const json_t *fa = json_object_get(a, "flr"),
			             *fb = json_object_get(b, "flr");
			const char *why = snap_json__str(b, "flr_refused");

			if (json_is_true(fa) && json_is_false(fb) && why)
				snap_diff__add(
				    c, pt ? SNAP_RULE_PT_FLR_REFUSED : SNAP_RULE_FLR_REFUSED,
				    c->tn.dev[j].bdf, json_true(), json_false(),
				    "%s still advertises Function Level Reset, and the kernel "
				    "no longer uses it (%s).",
				    ln, why);
			else if (json_is_true(fa) && json_is_false(fb))
				snap_diff__add(c, pt ? SNAP_RULE_PT_FLR_LOST : SNAP_RULE_FLR_LOST,
				               c->tn.dev[j].bdf, json_true(), json_false(),
				               "%s no longer advertises Function Level Reset.", ln);
			else if (json_is_boolean(fa) && json_is_null(fb))
				examples_append(&lost, &nlost, c->tn.dev[j].bdf);
			else if (json_is_false(fa) && json_is_true(fb))
				snap_diff__add(c, SNAP_RULE_FLR_GAINED, c->tn.dev[j].bdf,
				               json_false(), json_true(),
				               "%s now advertises Function Level Reset.", ln);
		}
		/* ACS anywhere else: listed */
		{
			const json_t *aa = json_object_get(a, "acs"),
			             *ab = json_object_get(b, "acs");

			if (json_is_object(aa) && json_is_null(ab))
				; /* counted with the FLR loss above: same cause */
			else if (json_is_object(aa) && json_is_object(ab) && !json_equal(aa, ab) &&
			         !reported[i])
				snap_diff__add(
				    c, SNAP_RULE_ACS_CHANGED, c->tn.dev[j].bdf, snap_diff__jdup(aa),
				    snap_diff__jdup(ab), "ACS of %s changed%s.", ln,
				    acs_not_enabled(ab) & ~acs_not_enabled(aa)
				        ? " (not on the path of a passthrough device)"
				        : ": every flag it enforced is still enforced (a flag gone "
				          "from the capability register is hard-wired on: "
				          "pci_acs_flags_enabled())");
		}
		/* reset methods */
		{
			const json_t *ra = json_object_get(a, "reset_methods"),
			             *rb = json_object_get(b, "reset_methods");

			if (json_is_array(ra) && json_is_array(rb) && !json_equal(ra, rb))
				snap_diff__add(c, SNAP_RULE_RESET_METHODS_CHANGED, c->tn.dev[j].bdf,
				               snap_diff__jdup(ra), snap_diff__jdup(rb),
				               "Reset methods of %s changed.", ln);
		}
		/* link training */
		{
			const json_t *la = json_object_get(a, "link"),
			             *lb = json_object_get(b, "link");

			if (json_is_object(la) && json_is_object(lb) &&
			    (speed_of(lb, "cur_speed") < speed_of(la, "cur_speed") ||
			     json_integer_value(json_object_get(lb, "cur_width")) <
			         json_integer_value(json_object_get(la, "cur_width"))))
				snap_diff__add(
				    c, SNAP_RULE_LINK_DOWNTRAINED, c->tn.dev[j].bdf,
				    snap_diff__jdup(la), snap_diff__jdup(lb),
				    "Link of %s trained down: %s x%" JSON_INTEGER_FORMAT
				    " -> %s x%" JSON_INTEGER_FORMAT ".",
				    ln,
				    snap_json__str(la, "cur_speed")
				        ? snap_json__str(la, "cur_speed")
				        : "?",
				    json_integer_value(json_object_get(la, "cur_width")),
				    snap_json__str(lb, "cur_speed")
				        ? snap_json__str(lb, "cur_speed")
				        : "?",
				    json_integer_value(json_object_get(lb, "cur_width")));
		}
		/* AER counters */
		diff_aer(c, (int)i, j, on_path[j], ln);
	}
	free(on_path);
	for (size_t j = 0; j < c->tn.n; j++) {
		const json_t *g = json_object_get(c->tn.dev[j].obj, "iommu_group");

		if (c->n2o[j] >= 0)
			continue;
		label_n(c, (int)j, ln, sizeof(ln));
		snap_diff__add(c, SNAP_RULE_DEVICE_ADDED, c->tn.dev[j].bdf, json_null(),
		               json_string(c->tn.dev[j].bdf), "New device %s%s.", ln,
		               json_is_integer(g) ? " (its group is compared below)" : "");
	}
	if (nrenum) {
		char *ex = snap_buf__detach(&renum);

		snap_diff__add(
		    c, SNAP_RULE_DEVICES_RENUMBERED, "PCI addresses", json_null(), json_null(),
		    "%zu device(s) have new bus addresses but the same identity (bus numbers "
		    "shifted, e.g. by a BIOS change): %s%s.",
		    nrenum, ex ? ex : "", nrenum > MAX_EXAMPLES ? ", ..." : "");
		free(ex);
	}
	if (nlost) {
		char *ex = snap_buf__detach(&lost);

		snap_diff__add(
		    c, SNAP_RULE_EVIDENCE_LOST_CONFIG, "config space", json_null(), json_null(),
		    "ACS/FLR of %zu device(s) became unknown (config space readable only in part, "
		    "e.g. a capture without root): %s%s. Lost evidence, not a loss.",
		    nlost, ex ? ex : "", nlost > MAX_EXAMPLES ? ", ..." : "");
		free(ex);
	}
	snap_buf__release(&renum);
	snap_buf__release(&lost);
	free(reported);
}

/* ---- groups ---- */

static bool is_bridge(const json_t *obj)
{
	const char *c = snap_json__str(obj, "class");

	return c && !strncmp(c, "0604", 4);
}

void snap_diff__groups(struct ctx *c)
{
	bool *done = calloc(c->tn.n + 1, sizeof(bool)); /* new devices already reported gained */
	json_t *pairs = json_object();                  /* "old:new" group pairs walked */
	size_t renumbered = 0, changed = 0;
	const char *bdf;
	json_t *reasons, *g;
	size_t k;

	if (!done)
		return;
	/* grouping regressions: a passthrough device's group gained a device */
	json_object_foreach (c->pt, bdf, reasons) {
		int i = snap_topo__find(&c->to, bdf), j;
		const json_t *go, *gn;
		struct snap_topo_span mn;
		size_t x;
		char lp[512], lg[512];

		if (i < 0 || (j = c->o2n[i]) < 0)
			continue;
		go = json_object_get(c->to.dev[i].obj, "iommu_group");
		gn = json_object_get(c->tn.dev[j].obj, "iommu_group");
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
		mn = snap_topo__group_members(&c->tn, json_integer_value(gn));
		label_n(c, j, lp, sizeof(lp));
		for (x = 0; x < mn.n; x++) {
			int m = mn.idx[x], om = c->n2o[m];
			const json_t *ogm =
			    om >= 0 ? json_object_get(c->to.dev[om].obj, "iommu_group") : NULL;
			/* it was in the old group when its old self was */
			bool was = json_is_integer(ogm) &&
			           json_integer_value(ogm) == json_integer_value(go);

			if (was || done[m])
				continue;
			done[m] = true;
			label_n(c, m, lg, sizeof(lg));
			snap_diff__add(
			    c, SNAP_RULE_GROUP_GREW, c->tn.dev[j].bdf, snap_diff__jdup(go),
			    snap_diff__jdup(gn),
			    "IOMMU group of passthrough device %s gained %s (driver %s%s): every "
			    "device "
			    "in a group must go to the same VM, so the VM will not start, or the "
			    "host "
			    "loses that device.",
			    lp, lg,
			    snap_json__str(c->tn.dev[m].obj, "driver")
			        ? snap_json__str(c->tn.dev[m].obj, "driver")
			        : "none",
			    is_bridge(c->tn.dev[m].obj) ? ", a bridge" : "");
		}
	}
	/* every other group change is listed: compare membership under identity */
	json_array_foreach (json_object_get(c->o, "groups"), k, g) {
		json_int_t gid = json_integer_value(json_object_get(g, "id"));
		struct snap_topo_span mo = snap_topo__group_members(&c->to, gid);
		json_int_t ngid = -1;
		bool same = true;
		size_t x;

		for (x = 0; x < mo.n; x++) {
			int j = c->o2n[mo.idx[x]];
			const json_t *gn =
			    j >= 0 ? json_object_get(c->tn.dev[j].obj, "iommu_group") : NULL;

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
			same = snap_topo__group_members(&c->tn, ngid).n == mo.n;
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
		int i = snap_topo__find(&c->to, bdf), j;
		char wn[768], wo[768], lbl[512];

		if (i < 0 || (j = c->o2n[i]) < 0)
			continue;
		if (!over_split(&c->tn, j, wn, sizeof(wn)) || over_split(&c->to, i, wo, sizeof(wo)))
			continue;
		label_n(c, j, lbl, sizeof(lbl));
		snap_diff__add(
		    c, SNAP_RULE_ISOLATION_ASSERTED, c->tn.dev[j].bdf, json_null(), json_null(),
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
	const json_t *a = json_object_get(c->to.dev[i].obj, key);
	const json_t *b = json_object_get(c->tn.dev[j].obj, key);
	char what[160];

	if (a && !json_is_null(a) && (!b || json_is_null(b))) {
		snprintf(what, sizeof(what), "%s of %s", name, c->tn.dev[j].bdf);
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
		int i = snap_topo__find(&c->to, bdf), j;

		if (i < 0 || (j = c->o2n[i]) < 0)
			continue;
		fact_lost(c, seen, i, j, "acs", "ACS");
		fact_lost(c, seen, i, j, "flr", "FLR");
		/* with the IOMMU off there are no groups: a fact (isolation_loss), not unknown */
		if (json_is_true(json_object_get(json_object_get(c->n, "iommu"), "enabled")))
			fact_lost(c, seen, i, j, "iommu_group", "IOMMU group");
		fact_lost(c, seen, i, j, "multifunction", "multifunction bit");
		for (int p = c->to.dev[i].parent; p >= 0; p = c->to.dev[p].parent) {
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
			io = identities(&c->to, json_object_get(hd, "devices"));
			in = identities(&c->tn, json_object_get(nhd, "devices"));
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
