/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * The diff rules: what each kind of change is, its class and what to do about it (the table),
 * and the rule families of the host, the IOMMU and vfio, as docs/interface.md "Diff classes" and
 * docs/classification.md define them; diff_devices.c holds the devices' rules, diff_groups.c
 * those of groups, lost facts and VMs. Adding a rule is a row here, the code that finds its
 * changes, and a test (tests/unit/test_diff.c).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

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
    [SNAP_RULE_PT_RESET_LOST] = {"reset_lost", SNAP_CLASS_ISOLATION_LOSS,
                                 "the kernel can no longer reset the device between VMs "
                                 "(state leaks from one VM to the next): check the kernel's "
                                 "reset quirks for it, or stay on the kernel before."},
    [SNAP_RULE_PT_BAR_CLAIMED] = {"bar_claimed", SNAP_CLASS_BINDING_REGRESSION,
                                  "keep the firmware framebuffer off the passthrough GPU: add "
                                  "initcall_blacklist=sysfb_init to the command line (or "
                                  "video=efifb:off, video=vesafb:off), or boot on another "
                                  "GPU."},
    [SNAP_RULE_POWER_CHANGED] = {"power_changed", SNAP_CLASS_HARMLESS,
                                 "a device that does not come back from D3cold fails its VM's "
                                 "start: if it started failing, keep it out of D3cold "
                                 "(d3cold_allowed 0, or vfio-pci disable_idle_d3=1)."},
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

void snap_diff__label_o(const struct ctx *c, int i, char *buf, size_t n)
{
	snap_topo__label(c->to, i, buf, n);
}

void snap_diff__label_n(const struct ctx *c, int j, char *buf, size_t n)
{
	snap_topo__label(c->tn, j, buf, n);
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

/*
 * The uncorrectable faults one snapshot shows on the paths of OLD's passthrough devices: AER
 * counters (the device's and a root port's totals) and fault lines, each device counted once.
 * t is the snapshot's topology; map takes OLD's device indexes into it (NULL for OLD itself).
 */
static json_int_t faults_on_paths(const struct ctx *c, const snap_topo *t, const json_t *root,
                                  const int *map)
{
	static const char *const counters[] = {"nonfatal", "fatal", "rootport_nonfatal",
	                                       "rootport_fatal"};
	static const char *const lines[] = {"nonfatal", "fatal", "contained"};
	json_t *log = snap_faultlog__count(root), *reasons;
	bool *seen = calloc(t->n + 1, sizeof(bool));
	json_int_t n = 0;
	const char *bdf;

	json_object_foreach (c->pt, bdf, reasons) {
		int i = snap_topo__find(c->to, bdf), k = i >= 0 && map ? map[i] : i;

		for (; seen && k >= 0 && !seen[k]; k = t->dev[k].parent) {
			const json_t *aer = json_object_get(t->dev[k].obj, "aer"),
			             *per = json_object_get(log, t->dev[k].bdf);

			seen[k] = true;
			for (size_t x = 0; x < SNAP_ARRAY_SIZE(counters); x++)
				n += json_integer_value(json_object_get(aer, counters[x]));
			for (size_t x = 0; x < SNAP_ARRAY_SIZE(lines); x++)
				n += json_integer_value(json_object_get(per, lines[x]));
		}
	}
	free(seen);
	json_decref(log);
	return n;
}

/* A setting that hides faults, new in NEW while there are passthrough devices: named in the
 * faults section as hiding them (docs/interface.md: never as a fix), most of all when OLD
 * showed faults on the passthrough paths and NEW, with the setting, shows none. */
static void diff_hiding(struct ctx *c)
{
	json_t *ho = snap_faultlog__hiding(c->o), *hn = snap_faultlog__hiding(c->n), *h, *g;
	json_int_t before_n = -1, after_n = -1;
	char silenced[256] = "";
	size_t i, k;

	json_array_foreach (hn, i, h) {
		bool before = false;

		json_array_foreach (ho, k, g)
			before |= !strcmp(snap_json__str(g, "option"), snap_json__str(h, "option"));
		if (before || !json_object_size(c->pt))
			continue;
		if (before_n < 0) {
			before_n = faults_on_paths(c, c->to, c->o, NULL);
			after_n = faults_on_paths(c, c->tn, c->n, c->o2n);
			if (before_n > 0 && after_n == 0)
				snprintf(
				    silenced, sizeof(silenced),
				    " OLD showed %" JSON_INTEGER_FORMAT
				    " uncorrectable fault(s) on those paths and NEW none: that "
				    "silence is the reporting switched off, not a fix.",
				    before_n);
		}
		json_array_append_new(
		    c->faults,
		    json_pack("{s:s, s:s, s:s, s:s, s:I, s:I, s:s, s:o}", "kind", "hidden",
		              "severity", "hidden", "subject", snap_json__str(h, "option"),
		              "device", "", "old", (json_int_t)0, "new", (json_int_t)1, "counter",
		              strcmp(snap_json__str(h, "option"), "_OSC") ? "cmdline" : "osc",
		              "message",
		              json_sprintf("%s is new %s: %s. Faults on the "
		                           "passthrough devices' paths are hidden from now on, not "
		                           "fixed.%s",
		                           snap_json__str(h, "option"),
		                           strcmp(snap_json__str(h, "option"), "_OSC")
		                               ? "on the command line"
		                               : "in the kernel log",
		                           snap_json__str(h, "why"), silenced)));
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
	/* vfio-pci's disable_idle_d3: whether idle passthrough devices go to D3 at all */
	{
		const char *po = snap_json__str(
		               json_object_get(
		                   json_object_get(json_object_get(c->o, "vfio"), "parameters"),
		                   "vfio_pci"),
		               "disable_idle_d3"),
		           *pn = snap_json__str(
		               json_object_get(
		                   json_object_get(json_object_get(c->n, "vfio"), "parameters"),
		                   "vfio_pci"),
		               "disable_idle_d3");

		if (po && pn && strcmp(po, pn))
			snap_diff__add(
			    c, SNAP_RULE_POWER_CHANGED, "vfio_pci.disable_idle_d3", json_string(po),
			    json_string(pn),
			    "vfio-pci's disable_idle_d3: %s -> %s (idle passthrough devices "
			    "%s put in D3).",
			    po, pn,
			    !strcasecmp(pn, "y") || !strcmp(pn, "1") ? "are no longer" : "are now");
	}
	json_object_foreach (c->pt, bdf, reasons) {
		int i = snap_topo__find(c->to, bdf), j;
		char lbl[512];

		if (i < 0 || (j = c->o2n[i]) < 0 || !covered_by_ids(c->cov_o, c->to->dev[i].bdf))
			continue;
		if (covered_by_ids(c->cov_n, c->tn->dev[j].bdf))
			continue;
		snap_diff__label_n(c, j, lbl, sizeof(lbl));
		snap_diff__add(c, SNAP_RULE_VFIO_IDS_UNCOVERED, c->tn->dev[j].bdf, json_true(),
		               json_false(),
		               "The vfio-pci ID list no longer covers passthrough device %s.", lbl);
	}
}

/* ---- devices ---- */
