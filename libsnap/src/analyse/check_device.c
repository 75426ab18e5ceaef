// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * check_device.c: the checks of one passthrough device, in the playbook's order: its IOMMU
 * group (group_viable), whether the hardware backs it (isolation_enforced), the card's other
 * functions (slot_functions), its reset, boot VGA, the faults on its path (aer_errors,
 * fault_log) and what binds it to vfio-pci (vfio_binding).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "analyse/analyse.h"
#include "analyse/check.h"

/* One passthrough device under check. */
struct dev {
	struct snap_check_run *r;
	int i;           /* its index in r->t */
	const char *bdf; /* borrowed */
	const json_t *d; /* its device object */
	const json_t *reasons;
	char lbl[512]; /* its printable name */
};

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
			    c, checks, SNAP_CHECK_FAIL, SNAP_CHK_SLOT_FUNCTIONS, bdf,
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
		    c, checks, SNAP_CHECK_PASS, SNAP_CHK_SLOT_FUNCTIONS, bdf,
		    "the card's other functions %s stay with the host: the kernel isolates them "
		    "and resets %s on its own",
		    list ? list : "", bdf);
		break;
	case SNAP_NO:
		snap_check__add(
		    c, checks, SNAP_CHECK_WARN, SNAP_CHK_SLOT_FUNCTIONS, bdf,
		    "%s has no reset of its own: vfio-pci resets it with its bus, which fails "
		    "while %s stay with the host; bind them to vfio-pci too if the VM needs a "
		    "clean reset",
		    bdf, list ? list : "");
		break;
	case SNAP_UNKNOWN:
		snap_check__add(
		    c, checks, SNAP_CHECK_WARN, SNAP_CHK_SLOT_FUNCTIONS, bdf,
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
			    c, checks, lfa ? SNAP_CHECK_FAIL : SNAP_CHECK_WARN, SNAP_CHK_FAULT_LOG,
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
	    c, checks, fa > 0 ? SNAP_CHECK_FAIL : SNAP_CHECK_WARN, SNAP_CHK_AER_ERRORS,
	    t->dev[i].bdf,
	    "%s: uncorrectable PCIe errors since boot (AER) on its path: %s; check the card's "
	    "seating, riser and power, and the journal's AER lines; a fatal error resets the link "
	    "under the VM",
	    lbl, list ? list : "");
	free(list);
}

/* aer.c's aer_uncorrectable_error_string[]: the names of the uncorrectable error bits */
static void uncor_names(snap_buf *b, unsigned bits)
{
	static const char *const names[32] = {[4] = "DLP",
	                                      [5] = "SDES",
	                                      [12] = "TLP",
	                                      [13] = "FCP",
	                                      [14] = "CmpltTO",
	                                      [15] = "CmpltAbrt",
	                                      [16] = "UnxCmplt",
	                                      [17] = "RxOF",
	                                      [18] = "MalfTLP",
	                                      [19] = "ECRC",
	                                      [20] = "UnsupReq",
	                                      [21] = "ACSViol",
	                                      [22] = "UncorrIntErr",
	                                      [23] = "BlockedTLP",
	                                      [24] = "AtomicOpBlocked",
	                                      [25] = "TLPBlockedErr",
	                                      [26] = "PoisonTLPBlocked"};
	bool first = true;

	for (unsigned k = 0; k < 32; k++)
		if (bits & (1u << k)) {
			snap_buf__printf(b, "%s%s", first ? "" : "+", names[k] ? names[k] : "?");
			first = false;
		}
}

static unsigned reg(const json_t *regs, const char *key)
{
	const char *v = snap_json__str(regs, key);

	return v ? (unsigned)strtoul(v, NULL, 16) : 0;
}

/*
 * What config space says on the path of passthrough device i: a port whose DPC contained the
 * link (Trigger Status, set until dpc_reset_link() recovers it) or whose link is down (Data Link
 * Layer Link Active clear, the device below not answering: snap_passthrough__link_down()): FAIL,
 * the device is cut off; uncorrectable errors logged under the AER mask (status and mask both set:
 * aer.c never hears of them): WARN, hidden, not fixed.
 */
void snap_check__check_containment(snap_check *c, json_t *checks, const snap_topo *t, int i,
                                   const char *lbl)
{
	snap_buf hidden = SNAP_BUF_INIT;

	for (int k = i, below = -1; k >= 0; below = k, k = t->dev[k].parent) {
		const json_t *o = t->dev[k].obj, *dpc = json_object_get(o, "dpc");
		const json_t *ls = json_object_get(o, "link_state");
		/* Unsupported Request (bit 20) left out: firmware masks it because probing a
		 * function that is not there answers with one, and its status stays set */
		unsigned masked = reg(json_object_get(o, "aer_regs"), "uncor_status") &
		                  reg(json_object_get(o, "aer_regs"), "uncor_mask") & ~(1u << 20);

		if (json_is_true(json_object_get(dpc, "triggered")))
			snap_check__add(
			    c, checks, SNAP_CHECK_FAIL, SNAP_CHK_CONTAINMENT, t->dev[i].bdf,
			    "%s: port %s has contained the link (DPC, triggered by %s, source %s): "
			    "the device is cut off until the link is recovered; read the kernel's "
			    "DPC and AER lines, reseat the card, check its riser and power",
			    lbl, t->dev[k].bdf,
			    snap_faultlog__dpc_reason(snap_json__str(dpc, "reason")),
			    snap_json__str(dpc, "source") ? snap_json__str(dpc, "source") : "?");
		else if (below >= 0 &&
		         snap_passthrough__link_down(o, t->dev[below].obj, t->dev[i].obj))
			snap_check__add(
			    c, checks, SNAP_CHECK_FAIL, SNAP_CHK_CONTAINMENT, t->dev[i].bdf,
			    "%s: the link below port %s is down (Data Link Layer not active%s): "
			    "the "
			    "device is unreachable; reseat the card, check its riser and power",
			    lbl, t->dev[k].bdf,
			    json_is_true(json_object_get(ls, "training")) ? ", training" : "");
		if (masked) {
			snap_buf__printf(&hidden, "%s%s %s (", hidden.len ? ", " : "",
			                 k == i ? "the device" : "port", t->dev[k].bdf);
			uncor_names(&hidden, masked);
			snap_buf__puts(&hidden, ")");
		}
		/* a bridge with SERR# forwarding off passes no ERR_ message up from below */
		if (k != i && json_is_false(json_object_get(json_object_get(o, "bridge"), "serr")))
			snap_buf__printf(&hidden, "%sport %s (SERR# forwarding off)",
			                 hidden.len ? ", " : "", t->dev[k].bdf);
	}
	if (hidden.len) {
		char *list = snap_buf__detach(&hidden);

		snap_check__add(
		    c, checks, SNAP_CHECK_WARN, SNAP_CHK_AER_MASKED, t->dev[i].bdf,
		    "%s: errors on its path the kernel never hears of: %s; hidden, not fixed "
		    "(unmask them, set SERR# forwarding again)",
		    lbl, list ? list : "");
		free(list);
	}
	snap_buf__release(&hidden);
}

/* Does a reset_method list name this method? */
bool snap_check__has_method(const json_t *rm, const char *name)
{
	return snap_json__has_string(rm, name);
}

/* Whether its IOMMU group can go to a VM: every other member bound to vfio-pci/pci-stub,
 * driverless or a bridge; otherwise who holds what, and the fix that spares the host. */
static void check_group_viable(const struct dev *x)
{
	snap_check *c = x->r->c;
	json_t *checks = x->r->checks;
	const snap_topo *t = x->r->t;
	const json_t *root = x->r->root, *io = json_object_get(root, "iommu");
	const json_t *gid = json_object_get(x->d, "iommu_group");
	json_t *owned_by_group = x->r->owned_by_group, *pt = x->r->pt;
	const char *bdf = x->bdf, *lbl = x->lbl;
	int i = x->i;

	if (!json_is_integer(gid)) {
		snap_check__add(c, checks,
		                json_is_true(json_object_get(io, "enabled")) ? SNAP_CHECK_FAIL
		                                                             : SNAP_CHECK_WARN,
		                SNAP_CHK_GROUP_VIABLE, bdf, "%s has no IOMMU group", lbl);
	} else {
		const json_t *g =
		    snap_check__host_owned_of(owned_by_group, t, json_integer_value(gid), pt, root);
		const char *why = snap_json__str(g, "reason"),
		           *needed = snap_json__str(g, "needed");
		size_t n_other, n_named;
		char *other = snap_check__owned_list(t, json_object_get(g, "other"), i, &n_other);
		char *named = snap_check__owned_list(t, json_object_get(g, "named"), i, &n_named);
		char because[320] = "";

		if (why)
			snprintf(because, sizeof(because), " (the group is shared because %s)",
			         why);
		if (n_other && snap_check__other_in_slot(t, json_object_get(g, "other"), i))
			/* the card's own functions, which no ACS tells apart */
			snap_check__add(
			    c, checks, SNAP_CHECK_FAIL, SNAP_CHK_GROUP_VIABLE, bdf,
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
			    c, checks, SNAP_CHECK_FAIL, SNAP_CHK_GROUP_VIABLE, bdf,
			    "group %" JSON_INTEGER_FORMAT " of %s also holds host-owned "
			    "%s%s: do not give vfio-pci the host's %s; move the card to a "
			    "slot whose path has ACS (CPU-attached), or the host's device "
			    "to "
			    "another slot",
			    json_integer_value(gid), lbl, other ? other : "", because, needed);
		else if (n_other)
			snap_check__add(c, checks, SNAP_CHECK_FAIL, SNAP_CHK_GROUP_VIABLE, bdf,
			                "group %" JSON_INTEGER_FORMAT
			                " of %s also holds host-owned "
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
			    SNAP_CHK_GROUP_VIABLE, bdf, SNAP_CHK_VFIO_BINDING,
			    "group %" JSON_INTEGER_FORMAT " of %s is viable only once "
			    "%s, passthrough device(s) a host driver holds, are bound to "
			    "vfio-pci%s",
			    json_integer_value(gid), lbl, named ? named : "",
			    json_is_true(json_object_get(g, "vm_bound"))
			        ? ": their VM's start binds them"
			        : "");
		else
			snap_check__add(c, checks, SNAP_CHECK_PASS, SNAP_CHK_GROUP_VIABLE, bdf,
			                "group %" JSON_INTEGER_FORMAT
			                " of %s: every other member is bound "
			                "to vfio-pci/pci-stub, driverless or a bridge",
			                json_integer_value(gid), lbl);
		free(other);
		free(named);
	}
}

/* Isolation asserted, not enforced: the kernel's group is narrower than its hardware's ACS. */
static void check_isolation(const struct dev *x)
{
	snap_check *c = x->r->c;
	json_t *checks = x->r->checks;
	snap_topo *t = x->r->t;
	const char *bdf = x->bdf;
	int i = x->i;

	{
		const char *why = NULL;
		int k = -1;

		switch (snap_topo__isolation_asserted(t, i, &k, &why)) {
		case SNAP_UNKNOWN:
			/* the same for every device it concerns: one line, devices listed
			 */
			snap_check__add(
			    c, checks, SNAP_CHECK_WARN, SNAP_CHK_ISOLATION_ENFORCED, bdf,
			    "cannot tell whether the hardware isolates the device as its "
			    "group claims: ACS of a device on its path is unknown (collect "
			    "as root)");
			break;
		case SNAP_YES:
			snap_check__add(
			    c, checks, SNAP_CHECK_FAIL, SNAP_CHK_ISOLATION_ENFORCED, bdf,
			    "%s is in group %" JSON_INTEGER_FORMAT
			    " but the hardware cannot isolate it from %s (%s): isolation "
			    "asserted, not enforced",
			    t->dev[k].bdf,
			    json_integer_value(json_object_get(t->dev[k].obj, "iommu_group")), bdf,
			    why ? why : "shared path");
			break;
		case SNAP_NO:
			break;
		}
	}
}

/* How the kernel resets it between VMs: FLR, another per-function method, or none. */
static void check_reset(const struct dev *x)
{
	snap_check *c = x->r->c;
	json_t *checks = x->r->checks;
	const json_t *d = x->d, *rm;
	const char *bdf = x->bdf, *lbl = x->lbl;

	rm = json_object_get(d, "reset_methods");
	if (json_is_true(json_object_get(d, "flr")))
		snap_check__add(c, checks, SNAP_CHECK_PASS, SNAP_CHK_RESET, bdf,
		                "%s has Function Level Reset", lbl);
	else if (json_is_null(json_object_get(d, "flr")) && snap_check__has_method(rm, "flr"))
		snap_check__add(c, checks, SNAP_CHECK_PASS, SNAP_CHK_RESET, bdf,
		                "%s has Function Level Reset (the kernel's reset_method lists flr)",
		                lbl);
	else if (json_is_array(rm) && json_array_size(rm) &&
	         json_is_false(json_object_get(d, "flr")))
		snap_check__add(
		    c, checks, SNAP_CHECK_PASS, SNAP_CHK_RESET, bdf,
		    "%s: no FLR%s%s%s, reset by %s", lbl,
		    snap_json__str(d, "flr_refused") ? " (advertised, refused by the kernel: " : "",
		    snap_json__str(d, "flr_refused") ? snap_json__str(d, "flr_refused") : "",
		    snap_json__str(d, "flr_refused") ? ")" : "",
		    json_string_value(json_array_get(rm, 0)));
	else if (json_is_array(rm) && json_array_size(rm))
		snap_check__add(c, checks, SNAP_CHECK_WARN, SNAP_CHK_RESET, bdf,
		                "FLR unknown (collect as root); the kernel resets the device by %s",
		                json_string_value(json_array_get(rm, 0)));
	else if (json_is_array(rm) || json_is_false(json_object_get(d, "flr")))
		snap_check__add(
		    c, checks, json_is_array(rm) ? SNAP_CHECK_FAIL : SNAP_CHECK_WARN,
		    SNAP_CHK_RESET, bdf, "%s has no FLR%s: state can leak between VM runs", lbl,
		    json_is_array(rm) ? " and no reset method" : " (reset methods unknown)");
	else
		snap_check__add(c, checks, SNAP_CHECK_WARN, SNAP_CHK_RESET, bdf,
		                "reset capability unknown (collect as root)");
}

/* What binds it to vfio-pci (ids, driver_override, its VM's start) and whether vfio-pci will. */
static void check_binding(const struct dev *x)
{
	snap_check *c = x->r->c;
	json_t *checks = x->r->checks;
	const json_t *d = x->d, *root = x->r->root, *vfio = json_object_get(root, "vfio");
	const json_t *covered = x->r->covered, *reasons = x->reasons;
	const char *bdf = x->bdf, *lbl = x->lbl;

	{
		const char *drv = snap_json__str(d, "driver");
		bool ids = json_object_get(covered, bdf) != NULL;
		bool at_boot = ids || snap_check__bound_at_boot(d);
		bool loaded =
		    json_is_true(json_object_get(json_object_get(vfio, "modules"), "vfio_pci"));
		enum snap_tristate binds = snap_passthrough__vm_binds(root, bdf);

		const char *dl =
		    snap_json__str(json_object_get(json_object_get(vfio, "parameters"), "vfio_pci"),
		                   "disable_denylist");
		const char *refused =
		    (drv && (!strcmp(drv, "vfio-pci") || !strcmp(drv, "pci-stub"))) ||
		            snap_check__only_sibling(reasons)
		        ? NULL
		        : snap_passthrough__vfio_refuses(d, dl && !strcasecmp(dl, "y"));

		if (refused)
			snap_check__add(c, checks, SNAP_CHECK_FAIL, SNAP_CHK_VFIO_BINDING, bdf,
			                "%s: vfio-pci will not bind it: %s", lbl, refused);
		else if (!loaded && at_boot)
			snap_check__add(
			    c, checks, SNAP_CHECK_FAIL, SNAP_CHK_VFIO_BINDING, bdf,
			    "vfio-pci is not loaded: add vfio, vfio_iommu_type1, vfio_pci "
			    "to the "
			    "initramfs");
		else if (!loaded)
			/* named by a VM only: libvirt's managed hostdev and Proxmox load
			 * vfio-pci and bind the device when the VM starts */
			snap_check__add(
			    c, checks, SNAP_CHECK_WARN, SNAP_CHK_VFIO_BINDING, bdf,
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
			    SNAP_CHK_VFIO_BINDING, bdf, "%s is bound to host driver %s%s", lbl, drv,
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
			    c, checks, ids || binds == SNAP_YES ? SNAP_CHECK_PASS : SNAP_CHECK_WARN,
			    SNAP_CHK_VFIO_BINDING, bdf, "%s: driver %s; %s", lbl,
			    drv ? drv : "none",
			    ids ? "covered by the vfio-pci ID list"
			    : binds == SNAP_YES
			        ? "bound by its VM's start (libvirt managed='yes', Proxmox)"
			        : "not covered by any vfio-pci id and bound by no VM's "
			          "start: "
			          "bound by hand, lost at the next boot");
	}
}

void snap_check__device(struct snap_check_run *r, const char *bdf, const json_t *reasons)
{
	struct dev x = {r, snap_topo__find(r->t, bdf), bdf, NULL, reasons, ""};

	if (x.i < 0 || snap_check__reset_sibling_only(reasons))
		return;
	x.d = r->t->dev[x.i].obj;
	snap_topo__label(r->t, x.i, x.lbl, sizeof(x.lbl));
	check_group_viable(&x);
	check_isolation(&x);
	/* functions of the card: those that share its fate must go with it */
	if (!snap_json__str(x.d, "physfn"))
		snap_check__check_slot_functions(r->c, r->checks, r->t, x.i);
	check_reset(&x);
	/* boot VGA */
	if (json_is_true(json_object_get(x.d, "boot_vga")))
		snap_check__add(
		    r->c, r->checks, SNAP_CHECK_WARN, SNAP_CHK_BOOT_VGA, bdf,
		    "%s is the boot VGA device: the host console and firmware framebuffer "
		    "hold "
		    "it (video=efifb:off, or boot on another GPU)",
		    x.lbl);
	/* the firmware framebuffer inside its BARs (proc/iomem): vfio-pci cannot reserve them */
	{
		const json_t *cl;
		size_t k;

		json_array_foreach (json_object_get(r->root, "bar_claims"), k, cl)
			if (!strcmp(snap_json__str(cl, "device"), bdf))
				snap_check__add(
				    r->c, r->checks, SNAP_CHECK_FAIL, SNAP_CHK_BAR_CLAIMED, bdf,
				    "%s: %s holds %s-%s inside its BARs: vfio-pci cannot reserve "
				    "them (\"BAR 0: can't reserve\") and its VM gets no display or "
				    "does not start; add initcall_blacklist=sysfb_init to the "
				    "command "
				    "line (or video=efifb:off, video=vesafb:off), or boot on "
				    "another GPU",
				    x.lbl, snap_json__str(cl, "owner"), snap_json__str(cl, "start"),
				    snap_json__str(cl, "end"));
	}
	/* uncorrectable AER errors since boot, on the device or a port on its path:
	 * faults are never harmless (fatal: FAIL, non-fatal: WARN) */
	snap_check__check_faults(r->c, r->checks, r->t, x.i, x.lbl);
	snap_check__check_containment(r->c, r->checks, r->t, x.i, x.lbl);
	check_binding(&x);
}
