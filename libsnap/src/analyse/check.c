/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * `pcisnap check`: the on-call playbook for one host, in its order. Each check is PASS, WARN or
 * FAIL with the evidence it used; unknown evidence is WARN, never PASS and never FAIL.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "analyse/analyse.h"
#include "analyse/check.h"

/* Is the device meant to be bound to vfio-pci at boot (not at its VM's start)? */
bool snap_check__bound_at_boot(const json_t *d)
{
	const char *ovr = snap_json__str(d, "driver_override"), *drv = snap_json__str(d, "driver");

	return (ovr && (!strcmp(ovr, "vfio-pci") || !strcmp(ovr, "pci-stub"))) ||
	       (drv && (!strcmp(drv, "vfio-pci") || !strcmp(drv, "pci-stub")));
}

void snap_check__add(snap_check *c, json_t *checks, snap_check_status st, const char *id,
                     const char *subject, const char *fmt, ...)
    __attribute__((format(printf, 6, 7)));

/*
 * Two verdicts: passthrough health (may a VM have its device, isolated, after this boot?) and
 * forensics readiness (would a dead boot leave evidence?). These are the forensics checks.
 */
static const char *section_of(const char *id)
{
	static const char *const forensics[] = {"previous_boot",  "journal_persistent",
	                                        "pstore_backend", "crash_kernel",
	                                        "netconsole",     "panic_settings"};

	for (size_t k = 0; k < SNAP_ARRAY_SIZE(forensics); k++)
		if (!strcmp(id, forensics[k]))
			return "forensics";
	return "passthrough";
}

void snap_check__add(snap_check *c, json_t *checks, snap_check_status st, const char *id,
                     const char *subject, const char *fmt, ...)
{
	char msg[1024];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	json_array_append_new(checks, json_pack("{s:s, s:s, s:s, s:s, s:s}", "id", id, "subject",
	                                        subject, "status", snap_check__status_name(st),
	                                        "message", msg, "section", section_of(id)));
	c->count[st]++;
	if (st > c->verdict)
		c->verdict = st;
}

/* A check that is an effect of another's finding (cause: that check's id): rendered under it. */
void snap_check__add_effect(snap_check *c, json_t *checks, snap_check_status st, const char *id,
                            const char *subject, const char *cause, const char *fmt, ...)
    __attribute__((format(printf, 7, 8)));

void snap_check__add_effect(snap_check *c, json_t *checks, snap_check_status st, const char *id,
                            const char *subject, const char *cause, const char *fmt, ...)
{
	char msg[1024];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	snap_check__add(c, checks, st, id, subject, "%s", msg);
	json_object_set_new(json_array_get(checks, json_array_size(checks) - 1), "cause",
	                    json_string(cause));
}

bool snap_check__host_owned(const json_t *d)
{
	const char *drv = snap_json__str(d, "driver"), *cls = snap_json__str(d, "class");

	if (!drv || !strcmp(drv, "vfio-pci") || !strcmp(drv, "pci-stub") ||
	    !strcmp(drv, "pcieport"))
		return false;
	return !(cls && !strncmp(cls, "0604", 4)); /* bridges are fine in a group */
}

/*
 * The other functions of passthrough device i's slot that stay with the host. One in the same
 * IOMMU group is group_viable's FAIL; with no groups to tell them apart, they are taken to share
 * the device's fate (FAIL). Functions the kernel isolates may stay with the host when the device
 * resets on its own (a per-function reset method); otherwise vfio-pci can reset it only with its
 * bus (vfio_pci_dev_set_hot_reset() needs every device there), which they block (WARN).
 */
void snap_check__check_slot_functions(snap_check *c, json_t *checks, const snap_topo *t, int i)
{
	struct snap_topo_span m = snap_topo__slot_members(t, i);
	const json_t *d = t->dev[i].obj, *gid = json_object_get(d, "iommu_group");
	const char *bdf = t->dev[i].bdf;
	snap_buf isolated = SNAP_BUF_INIT;
	char *list;

	for (size_t x = 0; x < m.n; x++) {
		size_t k = (size_t)m.idx[x];
		const json_t *o = t->dev[k].obj, *go = json_object_get(o, "iommu_group");

		if ((int)k == i || snap_json__str(o, "physfn") || !snap_check__host_owned(o))
			continue;
		if (!json_is_integer(gid) || !json_is_integer(go))
			snap_check__add(
			    c, checks, SNAP_CHECK_FAIL, "slot_functions", bdf,
			    "function %s of the same slot is bound to host driver %s and no "
			    "IOMMU group tells them apart: bind every function of the card to "
			    "vfio-pci",
			    t->dev[k].bdf, snap_json__str(o, "driver"));
		else if (json_integer_value(go) != json_integer_value(gid))
			snap_buf__printf(&isolated, "%s%s (%s, group %" JSON_INTEGER_FORMAT ")",
			                 isolated.len ? ", " : "", t->dev[k].bdf,
			                 snap_json__str(o, "driver"), json_integer_value(go));
		/* the same group: group_viable says it */
	}
	if (!isolated.len)
		return;
	list = snap_buf__detach(&isolated);
	switch (snap_passthrough__resets_alone(d)) {
	case SNAP_YES:
		snap_check__add(
		    c, checks, SNAP_CHECK_PASS, "slot_functions", bdf,
		    "the card's other functions %s stay with the host: the kernel isolates them "
		    "and resets %s on its own",
		    list ? list : "", bdf);
		break;
	case SNAP_NO:
		snap_check__add(
		    c, checks, SNAP_CHECK_WARN, "slot_functions", bdf,
		    "%s has no reset of its own: vfio-pci resets it with its bus, which fails "
		    "while %s stay with the host; bind them to vfio-pci too if the VM needs a "
		    "clean reset",
		    bdf, list ? list : "");
		break;
	case SNAP_UNKNOWN:
		snap_check__add(
		    c, checks, SNAP_CHECK_WARN, "slot_functions", bdf,
		    "the card's other functions %s stay with the host, isolated by the kernel; "
		    "whether %s resets without them is unknown (collect as root)",
		    list ? list : "", bdf);
		break;
	}
	free(list);
}

/* A function in the passthrough set only for sharing a device's reset:
 * snap_check__check_slot_functions() of that device speaks for it. */
bool snap_check__reset_sibling_only(const json_t *reasons)
{
	const json_t *r;
	size_t x;

	json_array_foreach (reasons, x, r)
		if (strncmp(json_string_value(r), SNAP_PT_RESET_SIBLING,
		            strlen(SNAP_PT_RESET_SIBLING)))
			return false;
	return json_array_size(reasons) > 0;
}

/* In the passthrough set only as a function of a passthrough device's slot. */
bool snap_check__only_sibling(const json_t *reasons)
{
	const json_t *r;
	size_t x;

	json_array_foreach (reasons, x, r)
		if (strncmp(json_string_value(r), "function of the slot of ", 24))
			return false;
	return json_array_size(reasons) != 0;
}

/*
 * The uncorrectable AER errors the kernel counted since boot on device i and on each port on
 * its path: the device's own aer_dev_* counters, and a root port's aer_rootport_total_err_*,
 * where Linux 6.1 counts what the devices below it reported (a fatal error of a passthrough
 * device's link is counted there and not in the device's aer_dev_fatal).
 */
void snap_check__check_faults(snap_check *c, json_t *checks, const snap_topo *t, int i,
                              const char *lbl)
{
	json_int_t nf = 0, fa = 0;
	snap_buf where = SNAP_BUF_INIT;
	char *list;

	for (int k = i; k >= 0; k = t->dev[k].parent) {
		const json_t *aer = json_object_get(t->dev[k].obj, "aer");
		json_int_t knf = json_integer_value(json_object_get(aer, "nonfatal")) +
		                 json_integer_value(json_object_get(aer, "rootport_nonfatal")),
		           kfa = json_integer_value(json_object_get(aer, "fatal")) +
		                 json_integer_value(json_object_get(aer, "rootport_fatal"));

		if (knf <= 0 && kfa <= 0)
			continue;
		snap_buf__printf(&where,
		                 "%s%s %s (%" JSON_INTEGER_FORMAT " fatal, %" JSON_INTEGER_FORMAT
		                 " non-fatal%s)",
		                 where.len ? ", " : "", k == i ? "the device" : "port",
		                 t->dev[k].bdf, kfa, knf,
		                 json_object_get(aer, "rootport_fatal") ? ", as root port" : "");
		nf += knf;
		fa += kfa;
	}
	/* the kernel log's fault lines about the device or a port on its path */
	{
		snap_buf lw = SNAP_BUF_INIT;
		json_int_t lfa = 0, lnf = 0, liommu = 0;

		for (int k = i; k >= 0; k = t->dev[k].parent) {
			const json_t *per = json_object_get(c->faultlog, t->dev[k].bdf), *n;
			const char *sev;

			json_object_foreach ((json_t *)per, sev, n) {
				json_int_t v = json_integer_value(n);

				if (!strcmp(sev, "fatal") || !strcmp(sev, "contained"))
					lfa += v;
				else if (!strcmp(sev, "nonfatal"))
					lnf += v;
				else if (!strcmp(sev, "iommu") && k == i)
					liommu += v;
				else
					continue;
				snap_buf__printf(&lw, "%s%s %s: %" JSON_INTEGER_FORMAT " %s",
				                 lw.len ? ", " : "", k == i ? "the device" : "port",
				                 t->dev[k].bdf, v, sev);
			}
		}
		if (lw.len) {
			char *text = snap_buf__detach(&lw);

			snap_check__add(
			    c, checks, lfa ? SNAP_CHECK_FAIL : SNAP_CHECK_WARN, "fault_log",
			    t->dev[i].bdf,
			    "%s: the kernel log has fault lines on its path (AER, DPC, IOMMU "
			    "faults): %s; %s",
			    lbl, text ? text : "",
			    lfa ? "a fatal error or a containment resets the link under the VM: "
			          "check the card's seating, riser and power"
			    : liommu && !lnf
			        ? "the device reached memory its VM did not map: check the "
			          "guest driver and the VM's configuration"
			        : "check the card's seating, riser and power");
			free(text);
		}
	}
	if (!where.len)
		return;
	list = snap_buf__detach(&where);
	snap_check__add(
	    c, checks, fa > 0 ? SNAP_CHECK_FAIL : SNAP_CHECK_WARN, "aer_errors", t->dev[i].bdf,
	    "%s: uncorrectable PCIe errors since boot (AER) on its path: %s; check the card's "
	    "seating, riser and power, and the journal's AER lines; a fatal error resets the link "
	    "under the VM",
	    lbl, list ? list : "");
	free(list);
}

/* Does a reset_method list name this method? */
bool snap_check__has_method(const json_t *rm, const char *name)
{
	return snap_json__has_string(rm, name);
}

/* {"passthrough": worst status, "forensics": worst status} of the checks */
json_t *snap_check__section_verdicts(const json_t *checks)
{
	snap_check_status worst[2] = {SNAP_CHECK_PASS, SNAP_CHECK_PASS};
	const json_t *ch;
	size_t i;

	json_array_foreach (checks, i, ch) {
		int k = !strcmp(snap_json__str(ch, "section"), "forensics");

		if (json_object_get(ch, "accepted"))
			continue;
		const char *st = snap_json__str(ch, "status");
		snap_check_status v = !strcmp(st, "FAIL")   ? SNAP_CHECK_FAIL
		                      : !strcmp(st, "WARN") ? SNAP_CHECK_WARN
		                                            : SNAP_CHECK_PASS;

		if (v > worst[k])
			worst[k] = v;
	}
	return json_pack("{s:s, s:s}", "passthrough", snap_check__status_name(worst[0]),
	                 "forensics", snap_check__status_name(worst[1]));
}

/* The groups the hardware's isolation implies (topo.c), for comparison with the kernel's. */
json_t *snap_check__implied_groups(snap_topo *t)
{
	json_t *groups = json_array();

	for (size_t i = 0; i < t->n; i++) {
		json_t *members;

		if (snap_topo__implied_root(t, (int)i) != (int)i)
			continue;
		members = json_array();
		/* through the index: linear, where a scan per group was quadratic */
		{
			struct snap_topo_span m = snap_topo__implied_members(t, (int)i);

			for (size_t x = 0; x < m.n; x++)
				json_array_append_new(members, json_string(t->dev[m.idx[x]].bdf));
		}
		json_array_append_new(groups, json_pack("{s:o, s:b}", "devices", members,
		                                        "uncertain", t->dev[i].uncertain));
	}
	return groups;
}

int snap_check_run(snap_check **out, const snap_snapshot *s, snap_error *err)
{
	const json_t *root, *io, *fw, *vfio;
	json_t *checks, *reasons, *owned_by_group, *pt, *covered;
	snap_analysis *an = snap_analysis__get(s);
	snap_check *c;
	snap_topo *t;
	const char *bdf, *ir, *ctr;

	SNAP_ASSERT_ARG(out && s);
	root = s->root;
	io = json_object_get(root, "iommu");
	fw = json_object_get(root, "firmware");
	vfio = json_object_get(root, "vfio");
	checks = NULL;
	if (!(t = snap_analysis__topo(an)) || !(pt = snap_analysis__passthrough(an)) ||
	    !(covered = snap_analysis__covered(an)) || !(c = calloc(1, sizeof(*c))))
		return snap_error__set(err, SNAP_ENOMEM, "out of memory");
	if (!(checks = json_array())) {
		free(c);
		return snap_error__set(err, SNAP_ENOMEM, "out of memory");
	}
	c->faultlog = snap_faultlog__count(root);
	owned_by_group = json_object();

	/* 1. IOMMU */
	if (json_is_true(json_object_get(io, "enabled")))
		snap_check__add(c, checks, SNAP_CHECK_PASS, "iommu_active", "IOMMU",
		                "IOMMU active (%s, %zu unit(s), %zu group(s))",
		                snap_json__str(io, "vendor") ? snap_json__str(io, "vendor")
		                                             : "unknown vendor",
		                json_array_size(json_object_get(io, "units")),
		                json_array_size(json_object_get(root, "groups")));
	else
		snap_check__add(
		    c, checks, SNAP_CHECK_FAIL, "iommu_active", "IOMMU",
		    "no IOMMU units and no IOMMU groups: enable VT-d/AMD-Vi in the firmware and "
		    "intel_iommu=on (Intel) on the command line");
	/* 2. interrupt remapping */
	ir = snap_json__str(io, "irq_remapping");
	if (ir && !strcmp(ir, "enabled"))
		snap_check__add(c, checks, SNAP_CHECK_PASS, "irq_remapping", "interrupt remapping",
		                "enabled");
	else if (ir && !strcmp(ir, "disabled"))
		snap_check__add(
		    c, checks, SNAP_CHECK_FAIL, "irq_remapping", "interrupt remapping",
		    "disabled: guests can inject interrupts; enable x2APIC/interrupt remapping in "
		    "the firmware, drop intremap=off");
	else
		snap_check__add(
		    c, checks, SNAP_CHECK_WARN, "irq_remapping", "interrupt remapping",
		    "unknown: no proc/interrupts or kernel log evidence (collect as root, with "
		    "--dmesg)");
	/* 3. unsafe modes: of the container vfio uses, vfio_iommu_type1 or iommufd */
	{
		const json_t *mods = json_object_get(vfio, "modules");

		ctr = json_is_true(json_object_get(mods, "iommufd")) &&
		              !json_is_true(json_object_get(mods, "vfio_iommu_type1"))
		          ? "iommufd"
		          : "vfio_iommu_type1";
	}
	if (json_is_true(json_object_get(io, "allow_unsafe_interrupts")))
		snap_check__add(
		    c, checks, SNAP_CHECK_FAIL, "unsafe_interrupts", ctr,
		    "allow_unsafe_interrupts is on: remove it and fix interrupt remapping");
	else
		snap_check__add(c, checks,
		                json_is_false(json_object_get(io, "allow_unsafe_interrupts"))
		                    ? SNAP_CHECK_PASS
		                    : SNAP_CHECK_WARN,
		                "unsafe_interrupts", ctr, "allow_unsafe_interrupts %s",
		                json_is_false(json_object_get(io, "allow_unsafe_interrupts"))
		                    ? "off"
		                    : "unknown (vfio_iommu_type1 not loaded)");
	if (json_is_true(json_object_get(io, "noiommu_mode")))
		snap_check__add(c, checks, SNAP_CHECK_FAIL, "noiommu_mode", "vfio",
		                "enable_unsafe_noiommu_mode is on: no DMA isolation at all");
	else
		snap_check__add(
		    c, checks, SNAP_CHECK_PASS, "noiommu_mode", "vfio", "no-IOMMU mode %s",
		    json_is_false(json_object_get(io, "noiommu_mode")) ? "off" : "not configured");
	/* 4. ACS override and asserted isolation */
	if (snap_json__str(io, "acs_override"))
		snap_check__add(
		    c, checks, SNAP_CHECK_WARN, "acs_override", "pcie_acs_override",
		    "pcie_acs_override=%s: groups may claim isolation the hardware does not "
		    "provide",
		    snap_json__str(io, "acs_override"));
	else
		snap_check__add(c, checks, SNAP_CHECK_PASS, "acs_override", "pcie_acs_override",
		                "not set");
	snap_check__explain_groups(c, checks, t, root);

	/* 5. per passthrough device */
	json_object_foreach (pt, bdf, reasons) {
		int i = snap_topo__find(t, bdf);
		const json_t *d, *gid, *rm;
		char lbl[512];

		if (i < 0 || snap_check__reset_sibling_only(reasons))
			continue;
		d = t->dev[i].obj;
		snap_topo__label(t, i, lbl, sizeof(lbl));
		gid = json_object_get(d, "iommu_group");
		/* group viable */
		if (!json_is_integer(gid)) {
			snap_check__add(c, checks,
			                json_is_true(json_object_get(io, "enabled"))
			                    ? SNAP_CHECK_FAIL
			                    : SNAP_CHECK_WARN,
			                "group_viable", bdf, "%s has no IOMMU group", lbl);
		} else {
			const json_t *g = snap_check__host_owned_of(
			    owned_by_group, t, json_integer_value(gid), pt, root);
			const char *why = snap_json__str(g, "reason"),
			           *needed = snap_json__str(g, "needed");
			size_t n_other, n_named;
			char *other =
			    snap_check__owned_list(t, json_object_get(g, "other"), i, &n_other);
			char *named =
			    snap_check__owned_list(t, json_object_get(g, "named"), i, &n_named);
			char because[320] = "";

			if (why)
				snprintf(because, sizeof(because),
				         " (the group is shared because %s)", why);
			if (n_other && snap_check__other_in_slot(t, json_object_get(g, "other"), i))
				/* the card's own functions, which no ACS tells apart */
				snap_check__add(
				    c, checks, SNAP_CHECK_FAIL, "group_viable", bdf,
				    "group %" JSON_INTEGER_FORMAT " of %s also holds host-owned "
				    "%s, functions of the same card%s: they cannot be split "
				    "between "
				    "a VM and the host; give the VM the whole card%s, or another "
				    "card",
				    json_integer_value(gid), lbl, other ? other : "", because,
				    needed ? " (if the host can spare it: one of them is its own "
				             "device)"
				           : "");
			else if (n_other && needed)
				/* the host runs on it: binding it would take the host's disk,
				 * network or console; the fix is the slot or the ACS */
				snap_check__add(
				    c, checks, SNAP_CHECK_FAIL, "group_viable", bdf,
				    "group %" JSON_INTEGER_FORMAT " of %s also holds host-owned "
				    "%s%s: do not give vfio-pci the host's %s; move the card to a "
				    "slot whose path has ACS (CPU-attached), or the host's device "
				    "to "
				    "another slot",
				    json_integer_value(gid), lbl, other ? other : "", because,
				    needed);
			else if (n_other)
				snap_check__add(
				    c, checks, SNAP_CHECK_FAIL, "group_viable", bdf,
				    "group %" JSON_INTEGER_FORMAT " of %s also holds host-owned "
				    "%s%s: bind them to vfio-pci too if the host does not use "
				    "them, "
				    "or move the card to a CPU-attached slot",
				    json_integer_value(gid), lbl, other ? other : "", because);
			else if (n_named)
				/* an effect: the cause is the binding of passthrough devices */
				snap_check__add_effect(
				    c, checks,
				    json_is_true(json_object_get(g, "vm_bound")) ? SNAP_CHECK_PASS
				                                                 : SNAP_CHECK_FAIL,
				    "group_viable", bdf, "vfio_binding",
				    "group %" JSON_INTEGER_FORMAT " of %s is viable only once "
				    "%s, passthrough device(s) a host driver holds, are bound to "
				    "vfio-pci%s",
				    json_integer_value(gid), lbl, named ? named : "",
				    json_is_true(json_object_get(g, "vm_bound"))
				        ? ": their VM's start binds them"
				        : "");
			else
				snap_check__add(c, checks, SNAP_CHECK_PASS, "group_viable", bdf,
				                "group %" JSON_INTEGER_FORMAT
				                " of %s: every other member is bound "
				                "to vfio-pci/pci-stub, driverless or a bridge",
				                json_integer_value(gid), lbl);
			free(other);
			free(named);
		}
		/* isolation asserted, not enforced */
		{
			const char *why = NULL;
			int k = -1;

			switch (snap_topo__isolation_asserted(t, i, &k, &why)) {
			case SNAP_UNKNOWN:
				/* the same for every device it concerns: one line, devices listed
				 */
				snap_check__add(
				    c, checks, SNAP_CHECK_WARN, "isolation_enforced", bdf,
				    "cannot tell whether the hardware isolates the device as its "
				    "group claims: ACS of a device on its path is unknown (collect "
				    "as root)");
				break;
			case SNAP_YES:
				snap_check__add(
				    c, checks, SNAP_CHECK_FAIL, "isolation_enforced", bdf,
				    "%s is in group %" JSON_INTEGER_FORMAT
				    " but the hardware cannot isolate it from %s (%s): isolation "
				    "asserted, not enforced",
				    t->dev[k].bdf,
				    json_integer_value(
				        json_object_get(t->dev[k].obj, "iommu_group")),
				    bdf, why ? why : "shared path");
				break;
			case SNAP_NO:
				break;
			}
		}
		/* functions of the card: those that share its fate must go with it */
		if (!snap_json__str(d, "physfn"))
			snap_check__check_slot_functions(c, checks, t, i);
		/* reset */
		rm = json_object_get(d, "reset_methods");
		if (json_is_true(json_object_get(d, "flr")))
			snap_check__add(c, checks, SNAP_CHECK_PASS, "reset", bdf,
			                "%s has Function Level Reset", lbl);
		else if (json_is_null(json_object_get(d, "flr")) &&
		         snap_check__has_method(rm, "flr"))
			snap_check__add(
			    c, checks, SNAP_CHECK_PASS, "reset", bdf,
			    "%s has Function Level Reset (the kernel's reset_method lists flr)",
			    lbl);
		else if (json_is_array(rm) && json_array_size(rm) &&
		         json_is_false(json_object_get(d, "flr")))
			snap_check__add(c, checks, SNAP_CHECK_PASS, "reset", bdf,
			                "%s: no FLR%s%s%s, reset by %s", lbl,
			                snap_json__str(d, "flr_refused")
			                    ? " (advertised, refused by the kernel: "
			                    : "",
			                snap_json__str(d, "flr_refused")
			                    ? snap_json__str(d, "flr_refused")
			                    : "",
			                snap_json__str(d, "flr_refused") ? ")" : "",
			                json_string_value(json_array_get(rm, 0)));
		else if (json_is_array(rm) && json_array_size(rm))
			snap_check__add(
			    c, checks, SNAP_CHECK_WARN, "reset", bdf,
			    "FLR unknown (collect as root); the kernel resets the device by %s",
			    json_string_value(json_array_get(rm, 0)));
		else if (json_is_array(rm) || json_is_false(json_object_get(d, "flr")))
			snap_check__add(
			    c, checks, json_is_array(rm) ? SNAP_CHECK_FAIL : SNAP_CHECK_WARN,
			    "reset", bdf, "%s has no FLR%s: state can leak between VM runs", lbl,
			    json_is_array(rm) ? " and no reset method"
			                      : " (reset methods unknown)");
		else
			snap_check__add(c, checks, SNAP_CHECK_WARN, "reset", bdf,
			                "reset capability unknown (collect as root)");
		/* boot VGA */
		if (json_is_true(json_object_get(d, "boot_vga")))
			snap_check__add(
			    c, checks, SNAP_CHECK_WARN, "boot_vga", bdf,
			    "%s is the boot VGA device: the host console and firmware framebuffer "
			    "hold "
			    "it (video=efifb:off, or boot on another GPU)",
			    lbl);
		/* uncorrectable AER errors since boot, on the device or a port on its path:
		 * faults are never harmless (fatal: FAIL, non-fatal: WARN) */
		snap_check__check_faults(c, checks, t, i, lbl);
		/* vfio binding and ID list */
		{
			const char *drv = snap_json__str(d, "driver");
			bool ids = json_object_get(covered, bdf) != NULL;
			bool at_boot = ids || snap_check__bound_at_boot(d);
			bool loaded = json_is_true(
			    json_object_get(json_object_get(vfio, "modules"), "vfio_pci"));
			enum snap_tristate binds = snap_passthrough__vm_binds(root, bdf);

			const char *dl = snap_json__str(
			    json_object_get(json_object_get(vfio, "parameters"), "vfio_pci"),
			    "disable_denylist");
			const char *refused =
			    (drv && (!strcmp(drv, "vfio-pci") || !strcmp(drv, "pci-stub"))) ||
			            snap_check__only_sibling(reasons)
			        ? NULL
			        : snap_passthrough__vfio_refuses(d, dl && !strcasecmp(dl, "y"));

			if (refused)
				snap_check__add(c, checks, SNAP_CHECK_FAIL, "vfio_binding", bdf,
				                "%s: vfio-pci will not bind it: %s", lbl, refused);
			else if (!loaded && at_boot)
				snap_check__add(
				    c, checks, SNAP_CHECK_FAIL, "vfio_binding", bdf,
				    "vfio-pci is not loaded: add vfio, vfio_iommu_type1, vfio_pci "
				    "to the "
				    "initramfs");
			else if (!loaded)
				/* named by a VM only: libvirt's managed hostdev and Proxmox load
				 * vfio-pci and bind the device when the VM starts */
				snap_check__add(
				    c, checks, SNAP_CHECK_WARN, "vfio_binding", bdf,
				    "%s: driver %s; vfio-pci is not loaded yet: %s", lbl,
				    drv ? drv : "none",
				    binds == SNAP_NO
				        ? "the VM names it with managed='no', so nothing binds it: "
				          "set managed='yes', or add its id to 'options vfio-pci "
				          "ids='"
				        : "the VM's start binds it (libvirt managed='yes', "
				          "Proxmox); for binding at boot, add its id to 'options "
				          "vfio-pci ids='");
			else if (drv && strcmp(drv, "vfio-pci") && strcmp(drv, "pci-stub"))
				snap_check__add(
				    c, checks,
				    ids                 ? SNAP_CHECK_FAIL
				    : binds == SNAP_YES ? SNAP_CHECK_PASS
				                        : SNAP_CHECK_WARN,
				    "vfio_binding", bdf, "%s is bound to host driver %s%s", lbl,
				    drv,
				    ids ? " although vfio-pci.ids lists it: the host driver won "
				          "the race "
				          "(softdep <driver> pre: vfio-pci)"
				    : binds == SNAP_YES
				        ? " until its VM starts and binds it to vfio-pci "
				          "(libvirt managed='yes', Proxmox)"
				        : "; nothing binds it to vfio-pci before its VM starts "
				          "(no vfio-pci id covers it, no VM binds it)");
			else
				snap_check__add(
				    c, checks,
				    ids || binds == SNAP_YES ? SNAP_CHECK_PASS : SNAP_CHECK_WARN,
				    "vfio_binding", bdf, "%s: driver %s; %s", lbl,
				    drv ? drv : "none",
				    ids ? "covered by the vfio-pci ID list"
				    : binds == SNAP_YES
				        ? "bound by its VM's start (libvirt managed='yes', Proxmox)"
				        : "not covered by any vfio-pci id and bound by no VM's "
				          "start: "
				          "bound by hand, lost at the next boot");
		}
	}
	/* settings that hide faults on every passthrough path: hidden, not fixed */
	if (json_object_size(pt)) {
		json_t *hiding = snap_cmdline__hiding(
		    json_object_get(json_object_get(root, "kernel"), "cmdline_options"));
		const json_t *h;
		size_t x;

		json_array_foreach (hiding, x, h)
			snap_check__add(
			    c, checks, SNAP_CHECK_WARN, "fault_reporting",
			    snap_json__str(h, "option"),
			    "%s on the command line: %s; faults on the passthrough devices' paths "
			    "are "
			    "hidden, not fixed",
			    snap_json__str(h, "option"), snap_json__str(h, "why"));
		json_decref(hiding);
	}
	if (!json_object_size(pt))
		snap_check__add(
		    c, checks, SNAP_CHECK_PASS, "passthrough_devices", "host",
		    "no passthrough devices (nothing bound to vfio-pci, named by a VM or "
		    "vfio-pci.ids)");
	/* 6. Secure Boot / lockdown: noted */
	snap_check__add(
	    c, checks,
	    json_is_boolean(json_object_get(fw, "secure_boot")) ? SNAP_CHECK_PASS : SNAP_CHECK_WARN,
	    "secure_boot", "firmware", "Secure Boot %s, lockdown %s",
	    json_is_true(json_object_get(fw, "secure_boot"))    ? "on"
	    : json_is_false(json_object_get(fw, "secure_boot")) ? "off"
	                                                        : "unknown",
	    snap_json__str(fw, "lockdown") ? snap_json__str(fw, "lockdown") : "unknown");

	snap_check__boot_and_forensics(c, checks, root);

	c->doc = json_pack("{s:s, s:s, s:s, s:o, s:o, s:o}", "schema", "pcisnap.check/1", "host",
	                   snap_snapshot_hostname(s) ? snap_snapshot_hostname(s) : "unknown",
	                   "verdict", snap_check__status_name(c->verdict), "checks", checks,
	                   "implied_groups", snap_check__implied_groups(t), "sections",
	                   snap_check__section_verdicts(checks));
	json_decref(owned_by_group);
	if (!c->doc) {
		free(c);
		return snap_error__set(err, SNAP_ENOMEM, "out of memory");
	}
	*out = c;
	return 0;
}

int snap_check_accept(snap_check *c, const struct snap_policy *p, const snap_snapshot *s)
{
	json_t *checks, *ch;
	size_t i, accepted = 0;

	if (!c || !s || !p)
		return 0;
	checks = json_object_get(c->doc, "checks");
	memset(c->count, 0, sizeof(c->count));
	c->verdict = SNAP_CHECK_PASS;
	json_array_foreach (checks, i, ch) {
		const char *st = snap_json__str(ch, "status");
		snap_check_status v = !strcmp(st, "FAIL")   ? SNAP_CHECK_FAIL
		                      : !strcmp(st, "WARN") ? SNAP_CHECK_WARN
		                                            : SNAP_CHECK_PASS;
		const char *why = v == SNAP_CHECK_PASS
		                      ? NULL
		                      : snap_policy__accepts(p, s->root, snap_json__str(ch, "id"),
		                                             snap_json__str(ch, "subject"),
		                                             snap_json__str(ch, "message"));

		if (why) { /* still shown, marked; fails nothing */
			json_object_set_new(ch, "accepted", json_string(why));
			accepted++;
			continue;
		}
		c->count[v]++;
		if (v > c->verdict)
			c->verdict = v;
	}
	json_object_set_new(c->doc, "verdict", json_string(snap_check__status_name(c->verdict)));
	json_object_set_new(c->doc, "sections", snap_check__section_verdicts(checks));
	return (int)accepted;
}

snap_check_status snap_check_verdict(const snap_check *c)
{
	return c->verdict;
}

size_t snap_check_count(const snap_check *c, snap_check_status st)
{
	return (unsigned)st < 3 ? c->count[st] : 0;
}

void snap_check_free(snap_check *c)
{
	if (!c)
		return;
	json_decref(c->doc);
	json_decref(c->faultlog);
	free(c);
}
