/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * diff: the rules of devices, matched by identity: drivers, FLR and reset methods,
 * ACS of the ports on a passthrough device's path, links, AER counters (the faults section).
 */
#include "analyse/diff.h"
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

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
		int i = snap_topo__find(c->to, bdf);
		char pdev[512];

		if (i < 0)
			continue;
		snap_diff__label_o(c, i, pdev, sizeof(pdev));
		for (int p = c->to->dev[i].parent; p >= 0; p = c->to->dev[p].parent) {
			int q = c->o2n[p];
			const json_t *ao, *an;
			unsigned lost;
			char flags[64], lbl[512];

			if (q < 0 || reported[p])
				continue;
			ao = json_object_get(c->to->dev[p].obj, "acs");
			an = json_object_get(c->tn->dev[q].obj, "acs");
			if (!json_is_object(ao) || !json_is_object(an))
				continue; /* unknown on either side: no claim (lost evidence is
				             counted) */
			lost = acs_not_enabled(an) & ~acs_not_enabled(ao);
			if (!lost)
				continue;
			reported[p] = true;
			snap_acs__names(flags, sizeof(flags), lost, " ");
			snap_diff__label_n(c, q, lbl, sizeof(lbl));
			snap_diff__add(
			    c, SNAP_RULE_ACS_LOST, c->tn->dev[q].bdf, snap_diff__jdup(ao),
			    snap_diff__jdup(an),
			    "%s %s on the path of passthrough device %s lost ACS %s: devices below "
			    "it "
			    "can now reach each other without the IOMMU seeing it.",
			    snap_json__str(c->tn->dev[q].obj, "pcie_type")
			        ? snap_json__str(c->tn->dev[q].obj, "pcie_type")
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
 * reported) they are faults, in their own section (docs/interface.md "Faults are not a class"); on
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
	const json_t *ea = json_object_get(c->to->dev[i].obj, "aer"),
	             *eb = json_object_get(c->tn->dev[j].obj, "aer");

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
			                                c->tn->dev[j].bdf, "device", pt_dev, "old",
			                                (json_int_t)xv, "new", (json_int_t)yv,
			                                "counter", keys[k], "message", msg));
		} else {
			snap_diff__add(c, SNAP_RULE_AER_ERRORS, c->tn->dev[j].bdf,
			               json_incref((json_t *)x), json_incref((json_t *)y), "%s",
			               msg);
		}
	}
}

static void add_fault(struct ctx *c, const char *kind, const char *severity, int j,
                      const char *pt_dev, json_int_t old, json_int_t now, const char *counter,
                      const char *msg)
{
	json_array_append_new(c->faults, json_pack("{s:s, s:s, s:s, s:s, s:I, s:I, s:s, s:s}",
	                                           "kind", kind, "severity", severity, "subject",
	                                           c->tn->dev[j].bdf, "device", pt_dev, "old", old,
	                                           "new", now, "counter", counter, "message", msg));
}

/*
 * Config space on a passthrough device's path in NEW (collect/pcie_regs.c): a port whose DPC
 * contained the link, or whose link went down, since OLD; errors the AER mask newly hides.
 * Faults, in their own section.
 */
static void diff_containment(struct ctx *c, int i, int j, const char *pt_dev, const char *ln)
{
	const json_t *a = c->to->dev[i].obj, *b = c->tn->dev[j].obj;
	const json_t *da = json_object_get(a, "dpc"), *db = json_object_get(b, "dpc");
	const json_t *la = json_object_get(json_object_get(a, "link_state"), "active");
	const char *ma = snap_json__str(json_object_get(a, "aer_regs"), "uncor_mask"),
	           *mb = snap_json__str(json_object_get(b, "aer_regs"), "uncor_mask");
	char msg[1024];

	if (!pt_dev)
		return;
	if (json_is_true(json_object_get(db, "triggered")) &&
	    !json_is_true(json_object_get(da, "triggered"))) {
		snprintf(msg, sizeof(msg),
		         "%s has contained the link (DPC, triggered by %s): the passthrough device "
		         "%s below it is cut off.",
		         ln, snap_faultlog__dpc_reason(snap_json__str(db, "reason")), pt_dev);
		add_fault(c, "dpc", "contained", j, pt_dev, 0, 1, "dpc_status", msg);
	}
	int d = snap_topo__find(c->tn, pt_dev), below = d; /* on_path names NEW's devices */

	while (below >= 0 && c->tn->dev[below].parent != j)
		below = c->tn->dev[below].parent;
	/* down in NEW (snap_passthrough__link_down()), and not already down in OLD */
	if (below >= 0 &&
	    snap_passthrough__link_down(b, c->tn->dev[below].obj, c->tn->dev[d].obj) &&
	    !(json_is_false(la) && c->n2o[below] >= 0 &&
	      json_is_false(json_object_get(c->to->dev[c->n2o[below]].obj, "responds")))) {
		snprintf(msg, sizeof(msg),
		         "The link below %s is down (Data Link Layer not active): the passthrough "
		         "device %s is unreachable.",
		         ln, pt_dev);
		add_fault(c, "link", "down", j, pt_dev, 1, 0, "link_active", msg);
	}
	if (ma && mb && (strtoul(mb, NULL, 16) & ~strtoul(ma, NULL, 16))) {
		snprintf(
		    msg, sizeof(msg),
		    "The AER uncorrectable mask of %s grew (%s -> %s): errors on the path of %s "
		    "are hidden from now on, not fixed.",
		    ln, ma, mb, pt_dev);
		add_fault(c, "hidden", "hidden", j, pt_dev, 0, 1, "aer_mask", msg);
	}
}

/*
 * The kernel log's fault lines (faultlog.c) about a passthrough device or a port on its path in
 * NEW: more than OLD logged about that device in the same boot, or any after a reboot (the log
 * is a boot's). Faults, in their own section.
 */
static void diff_fault_log(struct ctx *c, const char **on_path)
{
	const char *bo = snap_json__str(json_object_get(c->o, "boot"), "id"),
	           *bn = snap_json__str(json_object_get(c->n, "boot"), "id");
	bool rebooted = !bo || !bn || strcmp(bo, bn);
	json_t *lo = snap_faultlog__count(c->o), *ln = snap_faultlog__count(c->n);

	for (size_t j = 0; j < c->tn->n; j++) {
		const json_t *per = json_object_get(ln, c->tn->dev[j].bdf), *n;
		const json_t *before =
		    c->n2o[j] >= 0 ? json_object_get(lo, c->to->dev[c->n2o[j]].bdf) : NULL;
		const char *sev;
		char label[512];

		if (!on_path[j] || !per)
			continue;
		snap_diff__label_n(c, (int)j, label, sizeof(label));
		json_object_foreach ((json_t *)per, sev, n) {
			json_int_t yv = json_integer_value(n),
			           xv = json_integer_value(json_object_get(before, sev));
			char msg[1024];

			if (yv <= (rebooted ? 0 : xv) || !strcmp(sev, "correctable"))
				continue;
			snprintf(msg, sizeof(msg),
			         "%s: %" JSON_INTEGER_FORMAT
			         " %s fault line(s) in the kernel log%s (AER, "
			         "DPC or IOMMU, by the device they name).",
			         label, yv, sev, rebooted ? " of this boot" : " since OLD");
			json_array_append_new(
			    c->faults,
			    json_pack("{s:s, s:s, s:s, s:s, s:I, s:I, s:s, s:s}", "kind", "log",
			              "severity", sev, "subject", c->tn->dev[j].bdf, "device",
			              on_path[j], "old", (json_int_t)(rebooted ? 0 : xv), "new",
			              (json_int_t)yv, "counter", "kernel_log", "message", msg));
		}
	}
	json_decref(lo);
	json_decref(ln);
}

/* What one pass over the matched devices gathers for summary changes. */
struct devs {
	snap_buf renum, lost; /* examples: renumbered devices, devices whose ACS/FLR went unknown */
	size_t nrenum, nlost;
};

/* The driver of a matched pair: a passthrough device leaving vfio-pci/pci-stub is a binding
 * regression */
static void diff_driver(struct ctx *c, int i, int j, bool pt, const char *ln)
{
	const json_t *a = c->to->dev[i].obj, *b = c->tn->dev[j].obj;
	const char *da = snap_json__str(a, "driver"), *db = snap_json__str(b, "driver");

	if (!snap_diff__str_eq(da, db)) {
		bool was_vfio = da && (!strcmp(da, "vfio-pci") || !strcmp(da, "pci-stub"));
		/* pci-stub -> vfio-pci still keeps the host away: an upgrade */
		bool still_vfio = db && (!strcmp(db, "vfio-pci") || !strcmp(db, "pci-stub"));

		if (pt && was_vfio && !still_vfio) {
			snap_diff__add_next(c, SNAP_RULE_PT_DRIVER_CHANGED,
			                    db ? db : "any host driver", db ? db : "<driver>",
			                    c->tn->dev[j].bdf, json_string(da),
			                    snap_json__str_or_null(db),
			                    "Passthrough device %s is no longer bound to %s: %s.",
			                    ln, da, db ? db : "no driver at all");
		} else {
			snap_diff__add(c, SNAP_RULE_DRIVER_CHANGED, c->tn->dev[j].bdf,
			               snap_json__str_or_null(da), snap_json__str_or_null(db),
			               "Driver of %s: %s -> %s.", ln, da ? da : "none",
			               db ? db : "none");
		}
	}
}

/* Function Level Reset lost, refused, gained, or unknown now (lost evidence) */
static void diff_flr(struct ctx *c, int i, int j, bool pt, const char *ln, struct devs *acc)
{
	const json_t *a = c->to->dev[i].obj, *b = c->tn->dev[j].obj;
	const json_t *fa = json_object_get(a, "flr"), *fb = json_object_get(b, "flr");
	const char *why = snap_json__str(b, "flr_refused");

	if (json_is_true(fa) && json_is_false(fb) && why)
		snap_diff__add(c, pt ? SNAP_RULE_PT_FLR_REFUSED : SNAP_RULE_FLR_REFUSED,
		               c->tn->dev[j].bdf, json_true(), json_false(),
		               "%s still advertises Function Level Reset, and the kernel "
		               "no longer uses it (%s).",
		               ln, why);
	else if (json_is_true(fa) && json_is_false(fb))
		snap_diff__add(c, pt ? SNAP_RULE_PT_FLR_LOST : SNAP_RULE_FLR_LOST,
		               c->tn->dev[j].bdf, json_true(), json_false(),
		               "%s no longer advertises Function Level Reset.", ln);
	else if (json_is_boolean(fa) && json_is_null(fb)) {
		char ex[128];

		/* a device answering no config read is not a capture without root */
		snprintf(ex, sizeof(ex), "%s%s", c->tn->dev[j].bdf,
		         json_is_false(json_object_get(b, "responds"))
		             ? " (answers no config read: its link is down or it is gone)"
		             : "");
		examples_append(&acc->lost, &acc->nlost, ex);
	} else if (json_is_false(fa) && json_is_true(fb))
		snap_diff__add(c, SNAP_RULE_FLR_GAINED, c->tn->dev[j].bdf, json_false(),
		               json_true(), "%s now advertises Function Level Reset.", ln);
}

/* ACS changes off the passthrough paths (diff_path_acs() reports those on them): listed */
static void diff_acs_elsewhere(struct ctx *c, int i, int j, const char *ln, const bool *reported)
{
	const json_t *a = c->to->dev[i].obj, *b = c->tn->dev[j].obj;
	const json_t *aa = json_object_get(a, "acs"), *ab = json_object_get(b, "acs");

	if (json_is_object(aa) && json_is_null(ab))
		; /* counted with the FLR loss above: same cause */
	else if (json_is_object(aa) && json_is_object(ab) && !json_equal(aa, ab) && !reported[i])
		snap_diff__add(c, SNAP_RULE_ACS_CHANGED, c->tn->dev[j].bdf, snap_diff__jdup(aa),
		               snap_diff__jdup(ab), "ACS of %s changed%s.", ln,
		               acs_not_enabled(ab) & ~acs_not_enabled(aa)
		                   ? " (not on the path of a passthrough device)"
		                   : ": every flag it enforced is still enforced (a flag gone "
		                     "from the capability register is hard-wired on: "
		                     "pci_acs_flags_enabled())");
}

/* Reset methods: none left on a passthrough device is an isolation loss */
static void diff_reset(struct ctx *c, int i, int j, const char *ln)
{
	const json_t *a = c->to->dev[i].obj, *b = c->tn->dev[j].obj;
	const json_t *ra = json_object_get(a, "reset_methods"),
	             *rb = json_object_get(b, "reset_methods");

	/* a passthrough device with no reset left (not by losing FLR alone, which
	 * flr_lost says): vfio-pci cannot reset it between VMs */
	if (json_is_array(ra) && json_is_array(rb) && !json_equal(ra, rb) &&
	    json_object_get(c->pt, c->to->dev[i].bdf) && json_array_size(ra) &&
	    !json_array_size(rb) && !(json_array_size(ra) == 1 && snap_json__has_string(ra, "flr")))
		snap_diff__add(c, SNAP_RULE_PT_RESET_LOST, c->tn->dev[j].bdf, snap_diff__jdup(ra),
		               snap_diff__jdup(rb),
		               "Passthrough device %s has no reset method left (its "
		               "reset_method had %s).",
		               ln, json_string_value(json_array_get(ra, 0)));
	else if (json_is_array(ra) && json_is_array(rb) && !json_equal(ra, rb))
		snap_diff__add(c, SNAP_RULE_RESET_METHODS_CHANGED, c->tn->dev[j].bdf,
		               snap_diff__jdup(ra), snap_diff__jdup(rb),
		               "Reset methods of %s changed.", ln);
}

/* The link trained down (speed or width) */
static void diff_link(struct ctx *c, int i, int j, const char *ln)
{
	const json_t *a = c->to->dev[i].obj, *b = c->tn->dev[j].obj;
	const json_t *la = json_object_get(a, "link"), *lb = json_object_get(b, "link");

	if (json_is_object(la) && json_is_object(lb) &&
	    (speed_of(lb, "cur_speed") < speed_of(la, "cur_speed") ||
	     json_integer_value(json_object_get(lb, "cur_width")) <
	         json_integer_value(json_object_get(la, "cur_width"))))
		snap_diff__add(
		    c, SNAP_RULE_LINK_DOWNTRAINED, c->tn->dev[j].bdf, snap_diff__jdup(la),
		    snap_diff__jdup(lb),
		    "Link of %s trained down: %s x%" JSON_INTEGER_FORMAT
		    " -> %s x%" JSON_INTEGER_FORMAT ".",
		    ln, snap_json__str(la, "cur_speed") ? snap_json__str(la, "cur_speed") : "?",
		    json_integer_value(json_object_get(la, "cur_width")),
		    snap_json__str(lb, "cur_speed") ? snap_json__str(lb, "cur_speed") : "?",
		    json_integer_value(json_object_get(lb, "cur_width")));
}

/* A passthrough device's D3cold permission (sysfs d3cold_allowed), when both know it. */
static void diff_power(struct ctx *c, int i, int j, const char *ln)
{
	const json_t *a = json_object_get(c->to->dev[i].obj, "d3cold_allowed"),
	             *b = json_object_get(c->tn->dev[j].obj, "d3cold_allowed");

	if (json_is_boolean(a) && json_is_boolean(b) && json_is_true(a) != json_is_true(b))
		snap_diff__add(c, SNAP_RULE_POWER_CHANGED, c->tn->dev[j].bdf,
		               json_incref((json_t *)a), json_incref((json_t *)b),
		               "D3cold of passthrough device %s is %s.", ln,
		               json_is_true(b) ? "allowed now" : "no longer allowed");
}

/* One device of OLD and its match in NEW (j), or none (j < 0). */
static void diff_pair(struct ctx *c, int i, int j, const bool *reported, const char **on_path,
                      struct devs *acc)
{
	bool pt = snap_diff__is_pt(c, i);
	char lo[512], ln[512];

	snap_diff__label_o(c, i, lo, sizeof(lo));
	if (j < 0) {
		if (pt)
			snap_diff__add(c, SNAP_RULE_PT_DEVICE_REMOVED, c->to->dev[i].bdf,
			               json_string(c->to->dev[i].bdf), json_null(),
			               "Passthrough device %s is gone.", lo);
		else
			snap_diff__add(c, SNAP_RULE_DEVICE_REMOVED, c->to->dev[i].bdf,
			               json_string(c->to->dev[i].bdf), json_null(),
			               "Device %s is gone.", lo);
		return;
	}
	snap_diff__label_n(c, j, ln, sizeof(ln));
	if (strcmp(c->to->dev[i].bdf, c->tn->dev[j].bdf)) {
		char pair[64];

		snprintf(pair, sizeof(pair), "%s -> %s", c->to->dev[i].bdf, c->tn->dev[j].bdf);
		examples_append(&acc->renum, &acc->nrenum, pair);
	}
	diff_driver(c, i, j, pt, ln);
	diff_flr(c, i, j, pt, ln, acc);
	diff_acs_elsewhere(c, i, j, ln, reported);
	diff_reset(c, i, j, ln);
	if (pt)
		diff_power(c, i, j, ln);
	diff_link(c, i, j, ln);
	diff_aer(c, i, j, on_path[j], ln);
	diff_containment(c, i, j, on_path[j], ln);
}

/* Has this snapshot a claim of owner inside a BAR of bdf? */
static bool claimed(const json_t *root, const char *bdf, const char *owner)
{
	const json_t *cl;
	size_t k;

	json_array_foreach (json_object_get(root, "bar_claims"), k, cl)
		if (!strcmp(snap_json__str(cl, "device"), bdf) &&
		    !strcmp(snap_json__str(cl, "owner"), owner))
			return true;
	return false;
}

/*
 * The firmware framebuffer holding memory inside a BAR of a passthrough device in NEW (a new
 * kernel that builds simpledrm or sysfb in, a lost initcall_blacklist=sysfb_init), which OLD
 * did not record: vfio-pci cannot reserve the BAR, the VM gets no display or does not start.
 */
static void diff_bar_claims(struct ctx *c)
{
	const json_t *cl;
	size_t k;

	json_array_foreach (json_object_get(c->n, "bar_claims"), k, cl) {
		const char *bdf = snap_json__str(cl, "device"),
		           *owner = snap_json__str(cl, "owner");
		int j = snap_topo__find(c->tn, bdf), i = j >= 0 ? c->n2o[j] : -1;
		char ln[512];

		if (i < 0 || !snap_diff__is_pt(c, i) || claimed(c->o, c->to->dev[i].bdf, owner))
			continue;
		snap_diff__label_n(c, j, ln, sizeof(ln));
		snap_diff__add(c, SNAP_RULE_PT_BAR_CLAIMED, bdf, json_null(), json_string(owner),
		               "%s inside a BAR of passthrough device %s (%s-%s): vfio-pci cannot "
		               "reserve the BAR (\"BAR 0: can't reserve\").",
		               owner, ln, snap_json__str(cl, "start"), snap_json__str(cl, "end"));
	}
}

void snap_diff__devices(struct ctx *c)
{
	struct devs acc = {SNAP_BUF_INIT, SNAP_BUF_INIT, 0, 0};
	bool *reported = calloc(c->to->n + 1, sizeof(bool));
	const char **on_path;
	char ln[512];

	if (!reported)
		return;
	diff_path_acs(c, reported);
	/* NEW's passthrough devices and the ports on their paths: bdf of the device, or NULL */
	on_path = calloc(c->tn->n + 1, sizeof(*on_path));
	if (!on_path) {
		free(reported);
		return;
	}
	{
		const char *bdf;
		json_t *reasons;

		json_object_foreach (c->pt, bdf, reasons) {
			int i = snap_topo__find(c->to, bdf), j = i >= 0 ? c->o2n[i] : -1;

			for (int k = j; k >= 0; k = c->tn->dev[k].parent)
				if (!on_path[k])
					on_path[k] = c->tn->dev[j].bdf;
		}
	}
	for (size_t i = 0; i < c->to->n; i++)
		diff_pair(c, (int)i, c->o2n[i], reported, on_path, &acc);
	diff_fault_log(c, on_path);
	diff_bar_claims(c);
	free(on_path);
	for (size_t j = 0; j < c->tn->n; j++) {
		const json_t *g = json_object_get(c->tn->dev[j].obj, "iommu_group");

		if (c->n2o[j] >= 0)
			continue;
		snap_diff__label_n(c, (int)j, ln, sizeof(ln));
		snap_diff__add(c, SNAP_RULE_DEVICE_ADDED, c->tn->dev[j].bdf, json_null(),
		               json_string(c->tn->dev[j].bdf), "New device %s%s.", ln,
		               json_is_integer(g) ? " (its group is compared below)" : "");
	}
	if (acc.nrenum) {
		char *ex = snap_buf__detach(&acc.renum);

		snap_diff__add(
		    c, SNAP_RULE_DEVICES_RENUMBERED, "PCI addresses", json_null(), json_null(),
		    "%zu device(s) have new bus addresses but the same identity (bus numbers "
		    "shifted, e.g. by a BIOS change): %s%s.",
		    acc.nrenum, ex ? ex : "", acc.nrenum > MAX_EXAMPLES ? ", ..." : "");
		free(ex);
	}
	if (acc.nlost) {
		char *ex = snap_buf__detach(&acc.lost);

		snap_diff__add(
		    c, SNAP_RULE_EVIDENCE_LOST_CONFIG, "config space", json_null(), json_null(),
		    "ACS/FLR of %zu device(s) became unknown (config space readable only in part, "
		    "e.g. a capture without root): %s%s. Lost evidence, not a loss.",
		    acc.nlost, ex ? ex : "", acc.nlost > MAX_EXAMPLES ? ", ..." : "");
		free(ex);
	}
	snap_buf__release(&acc.renum);
	snap_buf__release(&acc.lost);
	free(reported);
}

/* ---- groups ---- */
