/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * The diff engine: match devices by identity, compare groups by membership, and classify every
 * change as CONTRACT.md "Diff classes" defines, with a message an operator can act on.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "analyse/analyse.h"
#include "snap/diff.h"

#define MAX_EXAMPLES 6

struct snap_diff {
	json_t *doc;      /* owned: the pcisnap.diff/1 document */
	unsigned classes; /* mask of classes present */
	bool conclusive;  /* no deciding fact became unknown */
	size_t count[SNAP_CLASS_COUNT];
};

/* State of one comparison. o2n/n2o map device indices across the two snapshots (-1: none). */
struct ctx {
	const json_t *o, *n;   /* the two snapshot roots */
	snap_topo to, tn;      /* their indexes */
	int *o2n, *n2o;        /* identity matching */
	json_t *pt;            /* passthrough devices of OLD: bdf -> reasons */
	json_t *cov_o, *cov_n; /* bdfs the vfio-pci ID lists of OLD and NEW cover */
	json_t *changes;       /* the result */
	json_t *unknown;       /* deciding facts known in OLD and unknown in NEW: [string] */
	bool same_host;        /* both snapshots are of one host (serials may break ties) */
};

static const char *const class_names[] = {"harmless", "binding_regression", "grouping_regression",
                                          "isolation_loss"};

const char *snap_class_name(snap_class c)
{
	return (unsigned)c < SNAP_CLASS_COUNT ? class_names[c] : NULL;
}

int snap_class_parse_list(unsigned *out, const char *list, snap_error *err)
{
	char *dup = strdup(list), *save = NULL, *tok;
	unsigned mask = 0;
	bool named = false;

	if (!dup)
		return snap_error__set(err, SNAP_ENOMEM, "out of memory");
	for (tok = strtok_r(dup, ", ", &save); tok; tok = strtok_r(NULL, ", ", &save)) {
		unsigned c;

		named = true;
		if (!strcmp(tok, "all")) {
			mask |= SNAP_CLASS_REGRESSIONS;
			continue;
		}
		if (!strcmp(tok, "none"))
			continue;
		for (c = 0; c < SNAP_CLASS_COUNT; c++)
			if (!strcmp(tok, class_names[c]))
				break;
		if (c == SNAP_CLASS_COUNT) {
			snap_error__set(err, SNAP_EINVALID,
			                "unknown class '%s' (isolation_loss, grouping_regression, "
			                "binding_regression, harmless, all, none)",
			                tok);
			free(dup);
			return SNAP_EINVALID;
		}
		mask |= SNAP_CLASS_BIT(c);
	}
	free(dup);
	if (!named) /* "" or ",,," (an unset shell variable) must not turn the gate off */
		return snap_error__set(err, SNAP_EINVALID,
		                       "no class named in '%s' (say 'none' to fail on nothing)",
		                       list);
	*out = mask;
	return 0;
}

static json_t *jdup(const json_t *v)
{
	return v ? json_deep_copy(v) : json_null();
}

/* Record one change. next may be NULL. old/new are stolen. */
static void __attribute__((format(printf, 8, 9)))
add(struct ctx *c, snap_class cls, const char *kind, const char *subject, json_t *oldv,
    json_t *newv, const char *next, const char *fmt, ...)
{
	char msg[1024];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	if (next && *next) {
		size_t len = strlen(msg);

		snprintf(msg + len, sizeof(msg) - len, " Next: %s", next);
	}
	json_array_append_new(c->changes,
	                      json_pack("{s:s, s:s, s:s, s:o, s:o, s:s, s:o}", "class",
	                                class_names[cls], "kind", kind, "subject", subject, "old",
	                                oldv ? oldv : json_null(), "new", newv ? newv : json_null(),
	                                "message", msg, "next_step", snap_json__str_or_null(next)));
}

static void label_o(const struct ctx *c, int i, char *buf, size_t n)
{
	snap_topo__label(&c->to, i, buf, n);
}

static void label_n(const struct ctx *c, int j, char *buf, size_t n)
{
	snap_topo__label(&c->tn, j, buf, n);
}

static bool is_pt(const struct ctx *c, int i)
{
	return json_object_get(c->pt, c->to.dev[i].bdf) != NULL;
}

static bool str_eq(const char *a, const char *b)
{
	return (!a && !b) || (a && b && !strcmp(a, b));
}

/* ---- identity matching ---- */

static void match_devices(struct ctx *c)
{
	json_t *bykey = json_object();
	size_t i;

	for (i = 0; i < c->tn.n; i++) {
		json_t *list = json_object_get(bykey, c->tn.dev[i].identity);

		if (!list) {
			list = json_array();
			json_object_set_new(bykey, c->tn.dev[i].identity, list);
		}
		json_array_append_new(list, json_integer((json_int_t)i));
	}
	/* pass 1: same identity, same BDF; pass 2: same identity and serial (one host only);
	 * pass 3: same identity, in BDF order */
	for (int pass = 1; pass <= 3; pass++) {
		for (i = 0; i < c->to.n; i++) {
			json_t *list = json_object_get(bykey, c->to.dev[i].identity), *v;
			size_t k;

			if (c->o2n[i] >= 0 || !list)
				continue;
			json_array_foreach (list, k, v) {
				int j = (int)json_integer_value(v);
				bool ok = false;

				if (c->n2o[j] >= 0)
					continue;
				if (pass == 1)
					ok = !strcmp(c->to.dev[i].bdf, c->tn.dev[j].bdf);
				else if (pass == 2) {
					const char *a = snap_json__str(c->to.dev[i].obj, "dsn");
					const char *b = snap_json__str(c->tn.dev[j].obj, "dsn");

					ok = c->same_host && a && b && !strcmp(a, b);
				} else
					ok = true;
				if (ok) {
					c->o2n[i] = j;
					c->n2o[j] = (int)i;
					break;
				}
			}
		}
	}
	json_decref(bykey);
}

/* ---- host level ---- */

static void cmp_string(struct ctx *c, const char *kind, const char *subject, const char *a,
                       const char *b)
{
	if (str_eq(a, b))
		return;
	if (a && !b) {
		add(c, SNAP_CLASS_HARMLESS, "evidence_lost", subject, json_string(a), json_null(),
		    NULL, "%s is no longer known (was '%s'): lost evidence, not a change.", subject,
		    a);
		return;
	}
	add(c, SNAP_CLASS_HARMLESS, kind, subject, snap_json__str_or_null(a),
	    snap_json__str_or_null(b), NULL, "%s changed: '%s' -> '%s'.", subject,
	    a ? a : "unknown", b ? b : "unknown");
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

static void diff_host(struct ctx *c)
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

	cmp_string(c, "kernel_release", "kernel release", snap_json__str(ko, "release"),
	           snap_json__str(kn, "release"));
	for (i = 0; i < SNAP_ARRAY_SIZE(fw); i++) {
		snprintf(subject, sizeof(subject), "firmware %s", fw[i]);
		cmp_string(c, "firmware", subject, snap_json__str(fo, fw[i]),
		           snap_json__str(fn, fw[i]));
	}
	for (i = 0; i < SNAP_ARRAY_SIZE(serials); i++) {
		const char *a = snap_json__str(fo, serials[i]), *b = snap_json__str(fn, serials[i]);

		if (a && b && strcmp(a, b))
			add(c, SNAP_CLASS_HARMLESS, "serial_number", serials[i], json_string(a),
			    json_string(b), NULL, "%s differs%s.", serials[i],
			    c->same_host ? " (board or chassis replaced?)"
			                 : " (another host: serial numbers differ by nature)");
	}
	if (!json_equal(json_object_get(fo, "secure_boot"), json_object_get(fn, "secure_boot")) &&
	    json_is_boolean(json_object_get(fn, "secure_boot")))
		add(c, SNAP_CLASS_HARMLESS, "secure_boot", "Secure Boot",
		    jdup(json_object_get(fo, "secure_boot")),
		    jdup(json_object_get(fn, "secure_boot")), NULL, "Secure Boot is now %s.",
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
					add(c, SNAP_CLASS_HARMLESS,
					    dir ? "cmdline_token_added" : "cmdline_token_removed",
					    "kernel command line",
					    dir ? json_null() : json_string(tok),
					    dir ? json_string(tok) : json_null(), NULL,
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
			add(c, SNAP_CLASS_HARMLESS, dir ? "modules_loaded" : "modules_unloaded",
			    "kernel modules", dir ? json_null() : json_incref(list),
			    dir ? json_incref(list) : json_null(), NULL, "%zu module(s) %s.",
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

static void diff_iommu(struct ctx *c)
{
	const json_t *io = json_object_get(c->o, "iommu"), *in = json_object_get(c->n, "iommu");
	const char *iro = snap_json__str(io, "irq_remapping"),
	           *irn = snap_json__str(in, "irq_remapping");
	const char *ao = snap_json__str(io, "acs_override"),
	           *an = snap_json__str(in, "acs_override");

	if (json_is_true(json_object_get(io, "enabled")) &&
	    !json_is_true(json_object_get(in, "enabled")))
		add(c, SNAP_CLASS_ISOLATION_LOSS, "iommu_disabled", "IOMMU", json_true(),
		    json_false(),
		    "enable VT-d / AMD-Vi (\"IOMMU\", \"SVM/VT-d\") in the firmware setup again "
		    "and keep "
		    "intel_iommu=on or amd_iommu=on on the command line; do not start passthrough "
		    "VMs "
		    "until 'pcisnap check' passes.",
		    "The IOMMU was on and is not: no IOMMU units and no groups, so there is no DMA "
		    "isolation and vfio-pci cannot bind any device (a firmware update or reset "
		    "often "
		    "turns VT-d/AMD-Vi off).");
	if (iro && irn && !strcmp(iro, "enabled") && !strcmp(irn, "disabled"))
		add(c, SNAP_CLASS_ISOLATION_LOSS, "irq_remapping_disabled", "interrupt remapping",
		    json_string(iro), json_string(irn),
		    "enable x2APIC and interrupt remapping in the firmware (often reset by a BIOS "
		    "update), remove intremap=off if present, and do not set "
		    "allow_unsafe_interrupts "
		    "as a workaround.",
		    "Interrupt remapping was enabled and is disabled: a guest with a "
		    "passed-through "
		    "device can forge MSIs to the host.");
	else if (iro && irn && !strcmp(iro, "enabled") && !strcmp(irn, "unknown"))
		add(c, SNAP_CLASS_HARMLESS, "evidence_lost", "interrupt remapping",
		    json_string(iro), json_string(irn),
		    "collect as root with the kernel log (--dmesg) to confirm.",
		    "Interrupt remapping can no longer be confirmed (no interrupts file or kernel "
		    "log "
		    "in the new snapshot): lost evidence, not a loss.");
	if (!json_is_true(json_object_get(io, "allow_unsafe_interrupts")) &&
	    json_is_true(json_object_get(in, "allow_unsafe_interrupts")))
		add(c, SNAP_CLASS_ISOLATION_LOSS, "unsafe_interrupts", "vfio_iommu_type1",
		    jdup(json_object_get(io, "allow_unsafe_interrupts")), json_true(),
		    "remove allow_unsafe_interrupts=1 from /etc/modprobe.d and the command line, "
		    "and "
		    "fix interrupt remapping instead.",
		    "vfio_iommu_type1.allow_unsafe_interrupts is on: vfio accepts devices on a "
		    "host "
		    "whose interrupts are not isolated.");
	if (!json_is_true(json_object_get(io, "noiommu_mode")) &&
	    json_is_true(json_object_get(in, "noiommu_mode")))
		add(c, SNAP_CLASS_ISOLATION_LOSS, "noiommu_mode", "vfio",
		    jdup(json_object_get(io, "noiommu_mode")), json_true(),
		    "turn enable_unsafe_noiommu_mode off; it is for DPDK test rigs, never for VMs.",
		    "vfio no-IOMMU mode is on: devices do DMA with no isolation at all.");
	if (an && (!ao || override_scope(an) > override_scope(ao) ||
	           (override_scope(an) == override_scope(ao) && strcmp(an, ao))))
		add(c, SNAP_CLASS_ISOLATION_LOSS, "acs_override", "pcie_acs_override",
		    snap_json__str_or_null(ao), json_string(an),
		    "remove pcie_acs_override and get real isolation: a CPU-attached slot, a board "
		    "with ACS on its root ports, or the BIOS ACS setting.",
		    "pcie_acs_override=%s %s: the kernel now claims isolation the hardware does "
		    "not "
		    "provide, so devices in 'separate' groups can still reach each other by "
		    "peer-to-peer DMA.",
		    an, ao ? "widened" : "appeared");
	else if (ao && !an)
		add(c, SNAP_CLASS_HARMLESS, "acs_override_removed", "pcie_acs_override",
		    json_string(ao), json_null(), NULL,
		    "pcie_acs_override was removed: groups now follow the hardware.");
}

/* ---- vfio ---- */

/* Is the device (of OLD or NEW) covered by that snapshot's vfio-pci ID list? */
static bool covered_by_ids(const json_t *covered, const char *bdf)
{
	return json_object_get(covered, bdf) != NULL;
}

static void diff_vfio(struct ctx *c)
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
		    json_is_false(json_object_get(mn, mods[i])))
			add(c, SNAP_CLASS_BINDING_REGRESSION, "vfio_module_missing", mods[i],
			    json_true(), json_false(),
			    "put vfio, vfio_iommu_type1 and vfio_pci in /etc/modules (or "
			    "/etc/initramfs-tools/modules), run update-initramfs -u -k all, "
			    "reboot.",
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
		add(c, SNAP_CLASS_BINDING_REGRESSION, "vfio_ids_uncovered", c->tn.dev[j].bdf,
		    json_true(), json_false(),
		    "add its vendor:device to 'options vfio-pci ids=' in /etc/modprobe.d/vfio.conf "
		    "(or vfio-pci.ids= on the command line) and update the initramfs.",
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
			if (json_is_true(json_object_get(ao, "present")) &&
			    !json_is_true(json_object_get(an, "present")))
				lost = (acs_mask(ao, "cap") | acs_mask(ao, "ctl")) & SNAP_ACS_REQ;
			else
				lost = ((acs_mask(ao, "cap") & ~acs_mask(an, "cap")) |
				        (acs_mask(ao, "ctl") & ~acs_mask(an, "ctl"))) &
				       SNAP_ACS_REQ;
			if (!lost)
				continue;
			reported[p] = true;
			snap_acs__names(flags, sizeof(flags), lost, " ");
			label_n(c, q, lbl, sizeof(lbl));
			add(c, SNAP_CLASS_ISOLATION_LOSS, "acs_lost", c->tn.dev[q].bdf, jdup(ao),
			    jdup(an),
			    "check the firmware's ACS / PCIe settings (a BIOS update can hide the "
			    "ACS "
			    "capability or clear its controls); do not compensate with "
			    "pcie_acs_override.",
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

static void diff_devices(struct ctx *c)
{
	snap_buf renum = SNAP_BUF_INIT, lost = SNAP_BUF_INIT;
	size_t nrenum = 0, nlost = 0;
	bool *reported = calloc(c->to.n + 1, sizeof(bool));
	char lo[512], ln[512];

	if (!reported)
		return;
	diff_path_acs(c, reported);
	for (size_t i = 0; i < c->to.n; i++) {
		const json_t *a = c->to.dev[i].obj, *b;
		int j = c->o2n[i];
		bool pt = is_pt(c, (int)i);

		label_o(c, (int)i, lo, sizeof(lo));
		if (j < 0) {
			if (pt)
				add(c, SNAP_CLASS_BINDING_REGRESSION, "device_removed",
				    c->to.dev[i].bdf, json_string(c->to.dev[i].bdf), json_null(),
				    "check that the card is seated and powered and enabled in the "
				    "firmware (slot bifurcation, 'Above 4G decoding'), and 'dmesg "
				    "| grep "
				    "-i pci' for link training errors.",
				    "Passthrough device %s is gone.", lo);
			else
				add(c, SNAP_CLASS_HARMLESS, "device_removed", c->to.dev[i].bdf,
				    json_string(c->to.dev[i].bdf), json_null(), NULL,
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

			if (!str_eq(da, db)) {
				bool was_vfio =
				    da && (!strcmp(da, "vfio-pci") || !strcmp(da, "pci-stub"));
				/* pci-stub -> vfio-pci still keeps the host away: an upgrade */
				bool still_vfio =
				    db && (!strcmp(db, "vfio-pci") || !strcmp(db, "pci-stub"));

				if (pt && was_vfio && !still_vfio) {
					char next[512];

					snprintf(
					    next, sizeof(next),
					    "make vfio-pci claim it before %s: 'softdep %s pre: "
					    "vfio-pci' and its id in 'options vfio-pci ids=' in "
					    "/etc/modprobe.d, vfio modules in the initramfs "
					    "(update-initramfs -u -k all), then reboot.",
					    db ? db : "any host driver", db ? db : "<driver>");
					add(c, SNAP_CLASS_BINDING_REGRESSION, "driver_changed",
					    c->tn.dev[j].bdf, json_string(da),
					    snap_json__str_or_null(db), next,
					    "Passthrough device %s is no longer bound to %s: %s.",
					    ln, da, db ? db : "no driver at all");
				} else {
					add(c, SNAP_CLASS_HARMLESS, "driver_changed",
					    c->tn.dev[j].bdf, snap_json__str_or_null(da),
					    snap_json__str_or_null(db), NULL,
					    "Driver of %s: %s -> %s.", ln, da ? da : "none",
					    db ? db : "none");
				}
			}
		}
		/* FLR */
		{
			const json_t *fa = json_object_get(a, "flr"),
			             *fb = json_object_get(b, "flr");

			if (json_is_true(fa) && json_is_false(fb))
				add(c, pt ? SNAP_CLASS_ISOLATION_LOSS : SNAP_CLASS_HARMLESS,
				    "flr_lost", c->tn.dev[j].bdf, json_true(), json_false(),
				    pt ? "check the device firmware version (a firmware update can "
				         "drop "
				         "FLR); without it, state can leak between VMs across "
				         "resets."
				       : NULL,
				    "%s no longer advertises Function Level Reset.", ln);
			else if (json_is_boolean(fa) && json_is_null(fb))
				examples_append(&lost, &nlost, c->tn.dev[j].bdf);
			else if (json_is_false(fa) && json_is_true(fb))
				add(c, SNAP_CLASS_HARMLESS, "flr_gained", c->tn.dev[j].bdf,
				    json_false(), json_true(), NULL,
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
				add(c, SNAP_CLASS_HARMLESS, "acs_changed", c->tn.dev[j].bdf,
				    jdup(aa), jdup(ab), NULL,
				    "ACS of %s changed (not on the path of a passthrough device).",
				    ln);
		}
		/* reset methods */
		{
			const json_t *ra = json_object_get(a, "reset_methods"),
			             *rb = json_object_get(b, "reset_methods");

			if (json_is_array(ra) && json_is_array(rb) && !json_equal(ra, rb))
				add(c, SNAP_CLASS_HARMLESS, "reset_methods_changed",
				    c->tn.dev[j].bdf, jdup(ra), jdup(rb), NULL,
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
				add(c, SNAP_CLASS_HARMLESS, "link_downtrained", c->tn.dev[j].bdf,
				    jdup(la), jdup(lb),
				    "reseat the card or check the slot and riser if it persists.",
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
		{
			static const char *const keys[] = {"correctable", "nonfatal", "fatal"};
			const json_t *ea = json_object_get(a, "aer"),
			             *eb = json_object_get(b, "aer");

			for (size_t k = 0; k < 3; k++) {
				const json_t *x = json_object_get(ea, keys[k]),
				             *y = json_object_get(eb, keys[k]);

				if (json_is_integer(x) && json_is_integer(y) &&
				    json_integer_value(y) > json_integer_value(x))
					add(c, SNAP_CLASS_HARMLESS, "aer_errors", c->tn.dev[j].bdf,
					    json_incref((json_t *)x), json_incref((json_t *)y),
					    NULL,
					    "%s: %s AER errors rose from %" JSON_INTEGER_FORMAT
					    " to %" JSON_INTEGER_FORMAT ".",
					    ln, keys[k], json_integer_value(x),
					    json_integer_value(y));
			}
		}
	}
	for (size_t j = 0; j < c->tn.n; j++) {
		const json_t *g = json_object_get(c->tn.dev[j].obj, "iommu_group");

		if (c->n2o[j] >= 0)
			continue;
		label_n(c, (int)j, ln, sizeof(ln));
		add(c, SNAP_CLASS_HARMLESS, "device_added", c->tn.dev[j].bdf, json_null(),
		    json_string(c->tn.dev[j].bdf), NULL, "New device %s%s.", ln,
		    json_is_integer(g) ? " (its group is compared below)" : "");
	}
	if (nrenum) {
		char *ex = snap_buf__detach(&renum);

		add(c, SNAP_CLASS_HARMLESS, "devices_renumbered", "PCI addresses", json_null(),
		    json_null(), NULL,
		    "%zu device(s) have new bus addresses but the same identity (bus numbers "
		    "shifted, e.g. by a BIOS change): %s%s.",
		    nrenum, ex ? ex : "", nrenum > MAX_EXAMPLES ? ", ..." : "");
		free(ex);
	}
	if (nlost) {
		char *ex = snap_buf__detach(&lost);

		add(c, SNAP_CLASS_HARMLESS, "evidence_lost", "config space", json_null(),
		    json_null(), "collect as root to read the full config space.",
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

/* Indices (in t) of the devices in kernel group gid: a new reference for the caller. */
static json_t *group_members(const snap_topo *t, json_int_t gid)
{
	return json_incref((json_t *)snap_topo__group_members(t, gid));
}

static bool is_bridge(const json_t *obj)
{
	const char *c = snap_json__str(obj, "class");

	return c && !strncmp(c, "0604", 4);
}

static void diff_groups(struct ctx *c)
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
		json_t *mo, *mn, *v;
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
		mo = group_members(&c->to, json_integer_value(go));
		mn = group_members(&c->tn, json_integer_value(gn));
		label_n(c, j, lp, sizeof(lp));
		json_array_foreach (mn, x, v) {
			int m = (int)json_integer_value(v), om = c->n2o[m];
			const json_t *ogm =
			    om >= 0 ? json_object_get(c->to.dev[om].obj, "iommu_group") : NULL;
			/* it was in the old group when its old self was */
			bool was = json_is_integer(ogm) &&
			           json_integer_value(ogm) == json_integer_value(go);

			if (was || done[m])
				continue;
			done[m] = true;
			label_n(c, m, lg, sizeof(lg));
			add(c, SNAP_CLASS_GROUPING_REGRESSION, "group_grew", c->tn.dev[j].bdf,
			    jdup(go), jdup(gn),
			    "move the card to a CPU-attached slot, or check the BIOS PCIe/ACS "
			    "settings "
			    "(a firmware update can disable ACS or change bifurcation) before "
			    "anyone "
			    "reaches for pcie_acs_override.",
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
		json_decref(mo);
		json_decref(mn);
	}
	/* every other group change is listed: compare membership under identity */
	json_array_foreach (json_object_get(c->o, "groups"), k, g) {
		json_int_t gid = json_integer_value(json_object_get(g, "id"));
		json_t *mo = group_members(&c->to, gid), *v;
		json_int_t ngid = -1;
		bool same = true;
		size_t x;

		json_array_foreach (mo, x, v) {
			int j = c->o2n[json_integer_value(v)];
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
		if (same && ngid >= 0) {
			json_t *mn = group_members(&c->tn, ngid);

			same = json_array_size(mn) == json_array_size(mo);
			json_decref(mn);
		}
		if (same && ngid >= 0 && ngid != gid)
			renumbered++;
		else if (!same && json_array_size(json_object_get(c->n, "groups")))
			changed++;
		json_decref(mo);
	}
	if (renumbered)
		add(c, SNAP_CLASS_HARMLESS, "groups_renumbered", "IOMMU groups", json_null(),
		    json_null(), NULL,
		    "%zu IOMMU group(s) have new numbers but the same members; group numbers carry "
		    "no meaning.",
		    renumbered);
	if (changed)
		add(c, SNAP_CLASS_HARMLESS, "groups_changed", "IOMMU groups", json_null(),
		    json_null(), NULL,
		    "%zu IOMMU group(s) changed membership (split, merged, grew or shrank); those "
		    "that matter for passthrough devices are listed above.",
		    changed);
	else if (!json_array_size(json_object_get(c->n, "groups")) &&
	         json_array_size(json_object_get(c->o, "groups")))
		add(c, SNAP_CLASS_HARMLESS, "groups_gone", "IOMMU groups", json_null(), json_null(),
		    NULL, "The new snapshot has no IOMMU groups at all.");
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

static void diff_asserted(struct ctx *c)
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
		add(c, SNAP_CLASS_ISOLATION_LOSS, "isolation_asserted", c->tn.dev[j].bdf,
		    json_null(), json_null(),
		    "treat the devices as one group: pass them to the same VM, or move the card to "
		    "a "
		    "slot whose root port has ACS; remove pcie_acs_override.",
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
static void diff_unknown(struct ctx *c)
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

static void diff_vms(struct ctx *c)
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
				add(c, SNAP_CLASS_HARMLESS, "vm_hostdev_removed", subject,
				    jdup(json_object_get(hd, "addresses")), json_null(), NULL,
				    "%s no longer passes a device.", subject);
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
					add(c, SNAP_CLASS_HARMLESS, "vm_device_added", subject,
					    jdup(od), jdup(nd), NULL,
					    "%s (a whole slot) now also passes %zu more "
					    "function(s); the "
					    "devices it passed before are still there.",
					    subject, json_array_size(nd) - json_array_size(od));
				else
					add(c, SNAP_CLASS_BINDING_REGRESSION, "vm_device_changed",
					    subject, jdup(od), jdup(nd),
					    "edit the VM configuration to the device's new address "
					    "(compare "
					    "'pcisnap show' of both snapshots), or use a Proxmox "
					    "resource "
					    "mapping so the VM follows the device, not the bus "
					    "number.",
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

/* ---- assembly ---- */

static int cmp_change(const void *a, const void *b)
{
	json_t *x = *(json_t *const *)a, *y = *(json_t *const *)b;
	int cx = 0, cy = 0, r;

	for (int i = 0; i < SNAP_CLASS_COUNT; i++) {
		if (!strcmp(snap_json__str(x, "class"), class_names[i]))
			cx = i;
		if (!strcmp(snap_json__str(y, "class"), class_names[i]))
			cy = i;
	}
	if (cx != cy)
		return cy - cx; /* worst first */
	if ((r = strcmp(snap_json__str(x, "kind"), snap_json__str(y, "kind"))))
		return r;
	if ((r = strcmp(snap_json__str(x, "subject"), snap_json__str(y, "subject"))))
		return r;
	return strcmp(snap_json__str(x, "message"), snap_json__str(y, "message"));
}

static json_t *side(const json_t *root)
{
	const json_t *h = json_object_get(root, "host");

	return json_pack("{s:o, s:o, s:o}", "hostname", jdup(json_object_get(h, "hostname")),
	                 "collected_at", jdup(json_object_get(h, "collected_at")), "kernel",
	                 jdup(json_object_get(json_object_get(root, "kernel"), "release")));
}

int snap_diff_compute(snap_diff **out, const snap_snapshot *old_snap, const snap_snapshot *new_snap,
                      snap_error *err)
{
	struct ctx c = {0};
	snap_diff *d = NULL;
	json_t **v = NULL, *classes;
	size_t n, i;
	int error = 0;

	SNAP_ASSERT_ARG(out && old_snap && new_snap);
	c.o = old_snap->root;
	c.n = new_snap->root;
	if (snap_topo__build(&c.to, c.o) < 0 || snap_topo__build(&c.tn, c.n) < 0) {
		error = snap_error__set(err, SNAP_ENOMEM, "out of memory");
		goto done;
	}
	c.o2n = malloc((c.to.n + 1) * sizeof(int));
	c.n2o = malloc((c.tn.n + 1) * sizeof(int));
	c.changes = json_array();
	c.unknown = json_array();
	c.pt = snap_passthrough__compute(c.o);
	c.cov_o = snap_passthrough__covered(c.o);
	c.cov_n = snap_passthrough__covered(c.n);
	d = calloc(1, sizeof(*d));
	if (!c.o2n || !c.n2o || !c.changes || !c.pt || !d) {
		error = snap_error__set(err, SNAP_ENOMEM, "out of memory");
		goto done;
	}
	for (i = 0; i < c.to.n; i++)
		c.o2n[i] = -1;
	for (i = 0; i < c.tn.n; i++)
		c.n2o[i] = -1;
	c.same_host = str_eq(snap_snapshot_hostname(old_snap), snap_snapshot_hostname(new_snap));
	match_devices(&c);
	diff_iommu(&c);
	diff_vfio(&c);
	diff_devices(&c);
	diff_groups(&c);
	diff_asserted(&c);
	diff_vms(&c);
	diff_host(&c);
	diff_unknown(&c);

	n = json_array_size(c.changes);
	if (n && !(v = malloc(n * sizeof(*v)))) {
		error = snap_error__set(err, SNAP_ENOMEM, "out of memory");
		goto done;
	}
	for (i = 0; i < n; i++)
		v[i] = json_incref(json_array_get(c.changes, i));
	if (n)
		qsort(v, n, sizeof(*v), cmp_change);
	json_array_clear(c.changes);
	for (i = 0; i < n; i++) {
		const char *cls = snap_json__str(v[i], "class");

		for (int k = 0; k < SNAP_CLASS_COUNT; k++)
			if (!strcmp(cls, class_names[k])) {
				d->classes |= SNAP_CLASS_BIT(k);
				d->count[k]++;
			}
		json_array_append_new(c.changes, v[i]);
	}
	free(v);
	classes = json_array();
	for (int k = SNAP_CLASS_COUNT - 1; k >= 0; k--)
		if (d->classes & SNAP_CLASS_BIT(k))
			json_array_append_new(classes, json_string(class_names[k]));
	d->conclusive = json_array_size(c.unknown) == 0;
	d->doc =
	    json_pack("{s:s, s:s, s:o, s:o, s:o, s:O, s:b, s:b, s:O}", "schema", "pcisnap.diff/1",
	              "verdict", class_names[snap_diff_verdict(d)], "classes", classes, "old",
	              side(c.o), "new", side(c.n), "changes", c.changes, "same_host", c.same_host,
	              "conclusive", d->conclusive, "unknown", c.unknown);
	if (!d->doc) {
		error = snap_error__set(err, SNAP_ENOMEM, "out of memory");
		goto done;
	}
	*out = d;
	d = NULL;
done:
	snap_diff_free(d);
	snap_topo__release(&c.to);
	snap_topo__release(&c.tn);
	free(c.o2n);
	free(c.n2o);
	json_decref(c.pt);
	json_decref(c.cov_o);
	json_decref(c.cov_n);
	json_decref(c.changes);
	json_decref(c.unknown);
	return error;
}

int snap_diff_conclusive(const snap_diff *d)
{
	return d->conclusive;
}

snap_class snap_diff_verdict(const snap_diff *d)
{
	for (int k = SNAP_CLASS_COUNT - 1; k > 0; k--)
		if (d->classes & SNAP_CLASS_BIT(k))
			return (snap_class)k;
	return SNAP_CLASS_HARMLESS;
}

unsigned snap_diff_classes(const snap_diff *d)
{
	return d->classes;
}

size_t snap_diff_count(const snap_diff *d, snap_class c)
{
	return (unsigned)c < SNAP_CLASS_COUNT ? d->count[c] : 0;
}

void snap_diff_free(snap_diff *d)
{
	if (!d)
		return;
	json_decref(d->doc);
	free(d);
}

/*
 * Text from a snapshot in one Markdown table cell: a newline would end the row (and start lines
 * of its own), '|' the cell, and HTML would render: none of them pass as they are.
 */
static void md_cell(snap_buf *b, const char *s)
{
	for (const unsigned char *p = (const unsigned char *)(s ? s : ""); *p; p++) {
		switch (*p) {
		case '|':
			snap_buf__puts(b, "\\|");
			break;
		case '<':
			snap_buf__puts(b, "&lt;");
			break;
		case '>':
			snap_buf__puts(b, "&gt;");
			break;
		case '&':
			snap_buf__puts(b, "&amp;");
			break;
		default:
			if (*p < 0x20 || *p == 0x7f)
				snap_buf__puts(b, " ");
			else
				snap_buf__put(b, (const char *)p, 1);
		}
	}
}

static void render_header(snap_buf *b, const snap_diff *d, bool md)
{
	const json_t *o = json_object_get(d->doc, "old"), *n = json_object_get(d->doc, "new");

	snap_buf__printf(b, "%spcisnap diff: %s (%s, %s) -> %s (%s, %s)\n", md ? "## " : "",
	                 snap_json__str(o, "hostname"), snap_json__str(o, "collected_at"),
	                 snap_json__str(o, "kernel") ? snap_json__str(o, "kernel") : "?",
	                 snap_json__str(n, "hostname"), snap_json__str(n, "collected_at"),
	                 snap_json__str(n, "kernel") ? snap_json__str(n, "kernel") : "?");
	snap_buf__printf(b, "%sverdict: %s%s%s  (", md ? "\n" : "", md ? "**" : "",
	                 class_names[snap_diff_verdict(d)], md ? "**" : "");
	for (int k = SNAP_CLASS_COUNT - 1; k >= 0; k--)
		snap_buf__printf(b, "%zu %s%s", d->count[k], class_names[k], k ? ", " : ")\n");
	if (!d->conclusive) {
		const json_t *unk = json_object_get(d->doc, "unknown"), *u;
		size_t i;

		snap_buf__printf(b,
		                 "%sinconclusive: NEW does not show %zu fact(s) that decide "
		                 "isolation (collect it as root, with --dmesg):",
		                 md ? "\n" : "", json_array_size(unk));
		json_array_foreach (unk, i, u) {
			if (i == MAX_EXAMPLES) {
				snap_buf__printf(b, " and %zu more",
				                 json_array_size(unk) - MAX_EXAMPLES);
				break;
			}
			snap_buf__printf(b, "%s %s", i ? "," : "", json_string_value(u));
		}
		snap_buf__puts(b, "\n");
	}
}

int snap_diff_render(char **out, const snap_diff *d, snap_diff_format format, snap_error *err)
{
	snap_buf b = SNAP_BUF_INIT;
	const char *section = "";
	size_t i;
	json_t *ch;
	char *text;

	SNAP_ASSERT_ARG(out && d);
	if (format == SNAP_DIFF_JSON)
		return snap_json__dump(out, d->doc, err);
	if (format != SNAP_DIFF_TEXT && format != SNAP_DIFF_MARKDOWN)
		return snap_error__set(err, SNAP_EINVALID, "unknown diff format %d", (int)format);
	render_header(&b, d, format == SNAP_DIFF_MARKDOWN);
	if (format == SNAP_DIFF_MARKDOWN && json_array_size(json_object_get(d->doc, "changes")))
		snap_buf__puts(&b, "\n| class | kind | subject | what changed and what to do |\n"
		                   "|---|---|---|---|\n");
	json_array_foreach (json_object_get(d->doc, "changes"), i, ch) {
		const char *cls = snap_json__str(ch, "class");

		if (format == SNAP_DIFF_MARKDOWN) {
			snap_buf__printf(&b, "| %s | %s | ", cls, snap_json__str(ch, "kind"));
			md_cell(&b, snap_json__str(ch, "subject"));
			snap_buf__puts(&b, " | ");
			md_cell(&b, snap_json__str(ch, "message"));
			snap_buf__puts(&b, " |\n");
			continue;
		}
		if (strcmp(section, cls)) {
			section = cls;
			snap_buf__printf(&b, "\n%s\n", cls);
		}
		snap_buf__printf(&b, "  [%s] %s\n", snap_json__str(ch, "kind"),
		                 snap_json__str(ch, "message"));
	}
	if (!json_array_size(json_object_get(d->doc, "changes")))
		snap_buf__puts(&b, "\nno changes\n");
	if (!(text = snap_buf__detach(&b)))
		return snap_error__set(err, SNAP_ENOMEM, "out of memory");
	*out = text;
	return 0;
}
