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

/*
 * One finding of check id: its section (passthrough health or forensics readiness, the two
 * verdicts) is its row's in snap_check__defs[].
 */
void snap_check__add(snap_check *c, json_t *checks, snap_check_status st, enum snap_check_id id,
                     const char *subject, const char *fmt, ...)
{
	const struct snap_check_def *def = &snap_check__defs[id];
	char msg[1024];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	json_array_append_new(checks,
	                      json_pack("{s:s, s:s, s:s, s:s, s:s}", "id", def->id, "subject",
	                                subject, "status", snap_check__status_name(st), "message",
	                                msg, "section", def->section));
	c->count[st]++;
	if (st > c->verdict)
		c->verdict = st;
}

/* A check that is an effect of another's finding (cause: that check): rendered under it. */
void snap_check__add_effect(snap_check *c, json_t *checks, snap_check_status st,
                            enum snap_check_id id, const char *subject, enum snap_check_id cause,
                            const char *fmt, ...)
{
	char msg[1024];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	snap_check__add(c, checks, st, id, subject, "%s", msg);
	json_object_set_new(json_array_get(checks, json_array_size(checks) - 1), "cause",
	                    json_string(snap_check__defs[cause].id));
}

bool snap_check__host_owned(const json_t *d)
{
	const char *drv = snap_json__str(d, "driver"), *cls = snap_json__str(d, "class");

	if (!drv || !strcmp(drv, "vfio-pci") || !strcmp(drv, "pci-stub") ||
	    !strcmp(drv, "pcieport"))
		return false;
	return !(cls && !strncmp(cls, "0604", 4)); /* bridges are fine in a group */
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

/* 1-2. The IOMMU and interrupt remapping. */
static void check_iommu(snap_check *c, json_t *checks, const json_t *root)
{
	const json_t *io = json_object_get(root, "iommu");
	const char *ir;

	if (json_is_true(json_object_get(io, "enabled")))
		snap_check__add(c, checks, SNAP_CHECK_PASS, SNAP_CHK_IOMMU_ACTIVE, "IOMMU",
		                "IOMMU active (%s, %zu unit(s), %zu group(s))",
		                snap_json__str(io, "vendor") ? snap_json__str(io, "vendor")
		                                             : "unknown vendor",
		                json_array_size(json_object_get(io, "units")),
		                json_array_size(json_object_get(root, "groups")));
	else
		snap_check__add(
		    c, checks, SNAP_CHECK_FAIL, SNAP_CHK_IOMMU_ACTIVE, "IOMMU",
		    "no IOMMU units and no IOMMU groups: enable VT-d/AMD-Vi in the firmware and "
		    "intel_iommu=on (Intel) on the command line");
	/* 2. interrupt remapping */
	ir = snap_json__str(io, "irq_remapping");
	if (ir && !strcmp(ir, "enabled"))
		snap_check__add(c, checks, SNAP_CHECK_PASS, SNAP_CHK_IRQ_REMAPPING,
		                "interrupt remapping", "enabled");
	else if (ir && !strcmp(ir, "disabled"))
		snap_check__add(
		    c, checks, SNAP_CHECK_FAIL, SNAP_CHK_IRQ_REMAPPING, "interrupt remapping",
		    "disabled: guests can inject interrupts; enable x2APIC/interrupt remapping in "
		    "the firmware, drop intremap=off");
	else
		snap_check__add(
		    c, checks, SNAP_CHECK_WARN, SNAP_CHK_IRQ_REMAPPING, "interrupt remapping",
		    "unknown: no proc/interrupts or kernel log evidence (collect as root, with "
		    "--dmesg)");
}

/* 3-4. vfio's unsafe modes (of the container it uses: vfio_iommu_type1 or iommufd) and the
 * ACS override. */
static void check_unsafe_modes(snap_check *c, json_t *checks, const json_t *root)
{
	const json_t *io = json_object_get(root, "iommu"), *vfio = json_object_get(root, "vfio");
	const char *ctr;

	{
		const json_t *mods = json_object_get(vfio, "modules");

		ctr = json_is_true(json_object_get(mods, "iommufd")) &&
		              !json_is_true(json_object_get(mods, "vfio_iommu_type1"))
		          ? "iommufd"
		          : "vfio_iommu_type1";
	}
	if (json_is_true(json_object_get(io, "allow_unsafe_interrupts")))
		snap_check__add(
		    c, checks, SNAP_CHECK_FAIL, SNAP_CHK_UNSAFE_INTERRUPTS, ctr,
		    "allow_unsafe_interrupts is on: remove it and fix interrupt remapping");
	else
		snap_check__add(c, checks,
		                json_is_false(json_object_get(io, "allow_unsafe_interrupts"))
		                    ? SNAP_CHECK_PASS
		                    : SNAP_CHECK_WARN,
		                SNAP_CHK_UNSAFE_INTERRUPTS, ctr, "allow_unsafe_interrupts %s",
		                json_is_false(json_object_get(io, "allow_unsafe_interrupts"))
		                    ? "off"
		                    : "unknown (vfio_iommu_type1 not loaded)");
	if (json_is_true(json_object_get(io, "noiommu_mode")))
		snap_check__add(c, checks, SNAP_CHECK_FAIL, SNAP_CHK_NOIOMMU_MODE, "vfio",
		                "enable_unsafe_noiommu_mode is on: no DMA isolation at all");
	else
		snap_check__add(
		    c, checks, SNAP_CHECK_PASS, SNAP_CHK_NOIOMMU_MODE, "vfio", "no-IOMMU mode %s",
		    json_is_false(json_object_get(io, "noiommu_mode")) ? "off" : "not configured");
	/* 4. ACS override and asserted isolation */
	if (snap_json__str(io, "acs_override"))
		snap_check__add(
		    c, checks, SNAP_CHECK_WARN, SNAP_CHK_ACS_OVERRIDE, "pcie_acs_override",
		    "pcie_acs_override=%s: groups may claim isolation the hardware does not "
		    "provide",
		    snap_json__str(io, "acs_override"));
	else
		snap_check__add(c, checks, SNAP_CHECK_PASS, SNAP_CHK_ACS_OVERRIDE,
		                "pcie_acs_override", "not set");
}

/* The host's settings: what hides faults on every passthrough path, Secure Boot. */
static void check_host(snap_check *c, json_t *checks, const json_t *root, const json_t *pt)
{
	const json_t *fw = json_object_get(root, "firmware");

	/* settings that hide faults on every passthrough path: hidden, not fixed */
	if (json_object_size(pt)) {
		json_t *hiding = snap_faultlog__hiding(root);
		const json_t *h;
		size_t x;

		json_array_foreach (hiding, x, h) {
			bool osc = !strcmp(snap_json__str(h, "option"), "_OSC");

			snap_check__add(
			    c, checks, SNAP_CHECK_WARN, SNAP_CHK_FAULT_REPORTING,
			    snap_json__str(h, "option"),
			    "%s%s: %s; faults on the passthrough devices' paths are hidden%s, not "
			    "fixed",
			    snap_json__str(h, "option"),
			    osc ? " (the kernel log)" : " on the command line",
			    snap_json__str(h, "why"),
			    osc ? " from the kernel's AER service (they reach it only if the "
			          "firmware reports them: APEI/GHES)"
			        : "");
		}
		json_decref(hiding);
	}
	if (!json_object_size(pt))
		snap_check__add(
		    c, checks, SNAP_CHECK_PASS, SNAP_CHK_PASSTHROUGH_DEVICES, "host",
		    "no passthrough devices (nothing bound to vfio-pci, named by a VM or "
		    "vfio-pci.ids)");
	/* 6. Secure Boot / lockdown: noted */
	snap_check__add(
	    c, checks,
	    json_is_boolean(json_object_get(fw, "secure_boot")) ? SNAP_CHECK_PASS : SNAP_CHECK_WARN,
	    SNAP_CHK_SECURE_BOOT, "firmware", "Secure Boot %s, lockdown %s",
	    json_is_true(json_object_get(fw, "secure_boot"))    ? "on"
	    : json_is_false(json_object_get(fw, "secure_boot")) ? "off"
	                                                        : "unknown",
	    snap_json__str(fw, "lockdown") ? snap_json__str(fw, "lockdown") : "unknown");
}

int snap_check_run(snap_check **out, const snap_snapshot *s, snap_error *err)
{
	unsigned long oom = snap_mem__failures(); /* util.h: lost to memory is an error */
	snap_analysis *an = snap_analysis__get(s);
	struct snap_check_run r = {0};
	const char *bdf;
	json_t *reasons;

	SNAP_ASSERT_ARG(out && s);
	r.root = s->root;
	if (!(r.t = snap_analysis__topo(an)) || !(r.pt = snap_analysis__passthrough(an)) ||
	    !(r.covered = snap_analysis__covered(an)) || !(r.c = calloc(1, sizeof(*r.c))))
		return snap_error__set(err, SNAP_ENOMEM, "out of memory");
	if (!(r.checks = json_array()) || !(r.owned_by_group = json_object())) {
		json_decref(r.checks);
		free(r.c);
		return snap_error__set(err, SNAP_ENOMEM, "out of memory");
	}
	r.c->faultlog = snap_faultlog__count(r.root);
	check_iommu(r.c, r.checks, r.root);
	check_unsafe_modes(r.c, r.checks, r.root);
	snap_check__explain_groups(r.c, r.checks, r.t, r.root);
	/* 5. per passthrough device */
	json_object_foreach (r.pt, bdf, reasons)
		snap_check__device(&r, bdf, reasons);
	check_host(r.c, r.checks, r.root, r.pt);
	snap_check__boot_and_forensics(r.c, r.checks, r.root);

	r.c->doc = json_pack("{s:s, s:s, s:s, s:o, s:o, s:o}", "schema", "pcisnap.check/1", "host",
	                     snap_snapshot_hostname(s) ? snap_snapshot_hostname(s) : "unknown",
	                     "verdict", snap_check__status_name(r.c->verdict), "checks", r.checks,
	                     "implied_groups", snap_check__implied_groups(r.t), "sections",
	                     snap_check__section_verdicts(r.checks));
	json_decref(r.owned_by_group);
	if (!r.c->doc || snap_mem__failures() != oom) {
		snap_check_free(r.c);
		return snap_error__set(err, SNAP_ENOMEM, "out of memory");
	}
	*out = r.c;
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
