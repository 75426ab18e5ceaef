/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * `pcisnap show`: the condensed on-call report and the PCIe topology tree.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "analyse/analyse.h"
#include "snap/report.h"

#define MAX_LISTED 16 /* group members listed per passthrough device */

static const char *or_unknown(const char *s)
{
	return s ? s : "unknown";
}

static const char *tri(const json_t *v, const char *yes, const char *no)
{
	return json_is_true(v) ? yes : json_is_false(v) ? no : "unknown";
}

/* Command-line tokens that weaken or disable isolation, or hide what pcisnap needs to see. */
/* The command-line options that weaken passthrough (analyse/cmdline.c decides which). */
static void risky_flags(snap_buf *b, const json_t *opts, const char *vendor)
{
	json_t *risky = snap_cmdline__risky(opts, vendor), *r;
	size_t i;

	json_array_foreach (risky, i, r)
		snap_buf__printf(b, "  ! %s=%s: %s\n", snap_json__str(r, "option"),
		                 snap_json__str(r, "value"), snap_json__str(r, "why"));
	if (!json_array_size(risky))
		snap_buf__puts(b, "  none\n");
	json_decref(risky);
}

/* Who the snapshot is of: host, kernel, command line, firmware, this boot and the last. */
static void text_host(snap_buf *b, const json_t *root)
{
	const json_t *host = json_object_get(root, "host"), *k = json_object_get(root, "kernel");
	const json_t *fw = json_object_get(root, "firmware");

	snap_buf__printf(b, "host      %s  (collected %s, pcisnap %s)\n",
	                 or_unknown(snap_json__str(host, "hostname")),
	                 or_unknown(snap_json__str(host, "collected_at")),
	                 or_unknown(snap_json__str(host, "tool_version")));
	snap_buf__printf(b, "kernel    %s\n", or_unknown(snap_json__str(k, "release")));
	snap_buf__printf(b, "cmdline   %s\n", or_unknown(snap_json__str(k, "cmdline")));
	snap_buf__printf(b, "firmware  %s %s (%s); %s %s; %s\n",
	                 or_unknown(snap_json__str(fw, "bios_vendor")),
	                 or_unknown(snap_json__str(fw, "bios_version")),
	                 or_unknown(snap_json__str(fw, "bios_date")),
	                 or_unknown(snap_json__str(fw, "board_vendor")),
	                 or_unknown(snap_json__str(fw, "board_name")),
	                 or_unknown(snap_json__str(fw, "product_name")));
	snap_buf__printf(b, "boot      %s, Secure Boot %s, lockdown %s\n",
	                 json_is_true(json_object_get(fw, "efi")) ? "EFI" : "legacy BIOS",
	                 tri(json_object_get(fw, "secure_boot"), "on", "off"),
	                 or_unknown(snap_json__str(fw, "lockdown")));
	{
		const json_t *bt = json_object_get(root, "boot"),
		             *pc = json_object_get(bt, "previous_clean");

		if (json_is_object(bt))
			snap_buf__printf(
			    b, "this boot %s, up %" JSON_INTEGER_FORMAT " s; previous boot %s%s\n",
			    or_unknown(snap_json__str(bt, "id")),
			    json_integer_value(json_object_get(bt, "uptime")),
			    or_unknown(snap_json__str(bt, "previous_id")),
			    json_is_true(pc)    ? " ended cleanly"
			    : json_is_false(pc) ? " ENDED UNCLEANLY (crash, power loss or "
			                          "hard lockup)"
			                        : "");
	}
}

/* Whether a dead boot would leave evidence: journal, pstore, crash kernel, netconsole, panic. */
static void text_evidence(snap_buf *b, const json_t *root)
{
	const json_t *f = json_object_get(root, "forensics");
	const json_t *j = json_object_get(f, "journal"), *ps = json_object_get(f, "pstore");
	const json_t *ck = json_object_get(f, "crash_kernel"),
	             *nc = json_object_get(f, "netconsole");
	const char *be = snap_json__str(ps, "backend");
	json_int_t res = json_integer_value(json_object_get(ck, "reserved_bytes"));

	if (json_is_object(f))
		snap_buf__printf(
		    b,
		    "evidence  journal %s, pstore %s, crash kernel %s, netconsole %s, "
		    "kernel.panic %s\n",
		    tri(json_object_get(j, "persistent"), "persistent", "NOT PERSISTENT"),
		    be ? (*be ? be : "no backend") : "unknown",
		    res > 0                                                  ? "reserved"
		    : json_is_integer(json_object_get(ck, "reserved_bytes")) ? "none"
		                                                             : "unknown",
		    json_integer_value(json_object_get(nc, "enabled")) > 0 ||
		            json_array_size(json_object_get(nc, "configured"))
		        ? "configured"
		        : "none",
		    json_is_integer(json_object_get(json_object_get(f, "panic"), "panic"))
		        ? (json_integer_value(json_object_get(json_object_get(f, "panic"), "panic"))
		               ? "reboots"
		               : "hangs (0)")
		        : "unknown");
}

/* The IOMMU, interrupt remapping, the unsafe modes, risky flags and vfio. */
static void text_iommu(snap_buf *b, const json_t *root)
{
	const json_t *k = json_object_get(root, "kernel"), *io = json_object_get(root, "iommu");
	const json_t *vfio = json_object_get(root, "vfio"), *v;
	size_t i;

	if (json_is_true(json_object_get(io, "enabled")))
		snap_buf__printf(b, "IOMMU     enabled (%s, %zu unit(s)), %zu group(s)\n",
		                 or_unknown(snap_json__str(io, "vendor")),
		                 json_array_size(json_object_get(io, "units")),
		                 json_array_size(json_object_get(root, "groups")));
	else
		snap_buf__puts(b, "IOMMU     NOT ENABLED: no IOMMU units and no IOMMU groups; "
		                  "passthrough is impossible (enable VT-d/AMD-Vi in the firmware "
		                  "and intel_iommu=on or amd_iommu=on)\n");
	snap_buf__printf(b, "IRQ remap %s\n", or_unknown(snap_json__str(io, "irq_remapping")));
	json_array_foreach (json_object_get(io, "irq_remapping_evidence"), i, v)
		snap_buf__printf(b, "            - %s\n", json_string_value(v));
	snap_buf__printf(
	    b, "unsafe    allow_unsafe_interrupts %s, no-IOMMU mode %s, ACS override %s\n",
	    tri(json_object_get(io, "allow_unsafe_interrupts"), "ON", "off"),
	    tri(json_object_get(io, "noiommu_mode"), "ON", "off"),
	    snap_json__str(io, "acs_override") ? snap_json__str(io, "acs_override") : "none");
	snap_buf__puts(b, "risky command-line flags\n");
	risky_flags(b, json_object_get(k, "cmdline_options"), snap_json__str(io, "vendor"));
	{
		json_t *mods = json_object_get(vfio, "modules");
		const char *m;

		snap_buf__puts(b, "vfio      modules:");
		json_object_foreach (mods, m, v)
			snap_buf__printf(b, " %s%s", m, json_is_true(v) ? "+" : "-");
		snap_buf__puts(b, "; ids:");
		if (!json_array_size(json_object_get(vfio, "ids")))
			snap_buf__puts(b, " none");
		json_array_foreach (json_object_get(vfio, "ids"), i, v)
			snap_buf__printf(b, " %s (%s)", snap_json__str(v, "id"),
			                 snap_json__str(v, "source"));
		snap_buf__puts(b, "\n");
	}
}

/* Each passthrough device: driver, group, reset, why it is one, its group's members. */
static void text_passthrough(snap_buf *b, const json_t *root, snap_topo *t, json_t *pt)
{
	json_t *groups_by_id = json_object(); /* id -> group object: one lookup per device */
	bool have_topo = t != NULL;
	const char *bdf;
	json_t *v;
	size_t i;

	{
		json_t *g;
		char key[32];

		json_array_foreach (json_object_get(root, "groups"), i, g) {
			snprintf(key, sizeof(key), "%" JSON_INTEGER_FORMAT,
			         json_integer_value(json_object_get(g, "id")));
			json_object_set(groups_by_id, key, g);
		}
	}
	snap_buf__printf(b, "passthrough devices (%zu)\n", json_object_size(pt));
	if (!json_object_size(pt))
		snap_buf__puts(
		    b, "  none (nothing bound to vfio-pci, named by a VM or by vfio-pci.ids)\n");
	json_object_foreach (pt, bdf, v) {
		int di = have_topo ? snap_topo__find(t, bdf) : -1;
		const json_t *d = di >= 0 ? t->dev[di].obj : NULL;
		const json_t *g = NULL;
		char label[512], key[32];
		json_t *r, *gid;
		size_t j;

		if (!d)
			continue;
		snap_snapshot__device_label(label, sizeof(label), d);
		gid = json_object_get(d, "iommu_group");
		snap_buf__printf(b, "  %s\n    driver %s, group %s", label,
		                 snap_json__str(d, "driver") ? snap_json__str(d, "driver") : "none",
		                 json_is_integer(gid) ? "" : "unknown");
		if (json_is_integer(gid))
			snap_buf__printf(b, "%" JSON_INTEGER_FORMAT, json_integer_value(gid));
		snap_buf__printf(b, ", FLR %s, reset", tri(json_object_get(d, "flr"), "yes", "no"));
		if (json_is_array(json_object_get(d, "reset_methods"))) {
			if (!json_array_size(json_object_get(d, "reset_methods")))
				snap_buf__puts(b, " none");
			json_array_foreach (json_object_get(d, "reset_methods"), j, r)
				snap_buf__printf(b, " %s", json_string_value(r));
		} else {
			snap_buf__puts(b, " unknown");
		}
		snap_buf__puts(b, "\n    why:");
		json_array_foreach (v, j, r)
			snap_buf__printf(b, "%s %s", j ? ";" : "", json_string_value(r));
		snap_buf__puts(b, "\n");
		if (json_is_integer(gid)) {
			snprintf(key, sizeof(key), "%" JSON_INTEGER_FORMAT,
			         json_integer_value(gid));
			g = json_object_get(groups_by_id, key);
		}
		if (g) {
			const json_t *members = json_object_get(g, "devices");
			json_t *m;

			json_array_foreach (members, j, m) {
				int mi = snap_topo__find(t, json_string_value(m));
				const char *drv =
				    mi >= 0 ? snap_json__str(t->dev[mi].obj, "driver") : NULL;

				if (j == MAX_LISTED) { /* a report stays readable, and linear */
					snap_buf__printf(b, "    ... and %zu more group members\n",
					                 json_array_size(members) - MAX_LISTED);
					break;
				}
				snap_buf__printf(b, "    group member %s (%s)\n",
				                 json_string_value(m), drv ? drv : "no driver");
			}
		}
	}
	json_decref(groups_by_id);
}

/* The groups of more than one device and what merges them. */
static void text_shared_groups(snap_buf *b, const json_t *root, snap_topo *t)
{
	size_t n = 0, i;
	json_t *g;

	snap_buf__puts(b, "shared IOMMU groups (what merges them)\n");
	json_array_foreach (json_object_get(root, "groups"), i, g) {
		const json_t *members = json_object_get(g, "devices"), *m;
		const char *reason;
		bool uncertain;
		size_t mi;

		if (json_array_size(members) < 2)
			continue;
		n++;
		snap_buf__printf(b, "  group %" JSON_INTEGER_FORMAT " =",
		                 json_integer_value(json_object_get(g, "id")));
		json_array_foreach (members, mi, m)
			snap_buf__printf(b, "%s %s", mi ? "," : "", json_string_value(m));
		reason = snap_topo__group_reason(t, members, &uncertain);
		snap_buf__printf(b, "\n    because %s\n",
		                 reason      ? reason
		                 : uncertain ? "ACS is unknown (collect as root)"
		                             : "of a DMA alias quirk pcisnap does not model");
	}
	if (!json_array_size(json_object_get(root, "groups")))
		snap_buf__puts(b, "  none: there are no IOMMU groups\n");
	else if (!n)
		snap_buf__puts(b, "  none: every group holds one device\n");
}

static void render_text(snap_buf *b, const json_t *root, snap_analysis *an)
{
	const json_t *cov = json_object_get(root, "coverage");
	snap_topo *t = snap_analysis__topo(an);

	text_host(b, root);
	text_evidence(b, root);
	text_iommu(b, root);
	text_passthrough(b, root, t, snap_analysis__passthrough(an));
	if (t)
		text_shared_groups(b, root, t);
	snap_buf__printf(b, "coverage  config space %s, kernel log %s, interrupts %s\n",
	                 or_unknown(snap_json__str(cov, "config_space")),
	                 json_is_true(json_object_get(cov, "kernel_log")) ? "read" : "not read",
	                 json_is_true(json_object_get(cov, "interrupts")) ? "read" : "not read");
}

static const char *acs_mark(const json_t *d, char *buf, size_t n)
{
	const json_t *acs = json_object_get(d, "acs");
	size_t i;
	json_t *f;

	if (!json_is_object(acs))
		return "ACS?";
	if (!json_is_true(json_object_get(acs, "present")))
		return "ACS-";
	snprintf(buf, n, "ACS[");
	json_array_foreach (json_object_get(acs, "ctl"), i, f) {
		size_t len = strlen(buf);

		snprintf(buf + len, n - len, "%s%s", i ? "," : "", json_string_value(f));
	}
	strncat(buf, "]", n - strlen(buf) - 1);
	return buf;
}

/* Children of every device (and of the top level, -1) as index lists, from the topology. */
struct tree {
	const snap_topo *t;
	size_t *first, *next; /* first[i + 1]: first child of i; next[c]: c's next sibling */
	size_t none;          /* end of a list */
};

static void render_subtree(snap_buf *b, const struct tree *tr, const json_t *pt, int parent,
                           snap_buf *prefix)
{
	const snap_topo *t = tr->t;

	for (size_t i = tr->first[parent + 1]; i != tr->none; i = tr->next[i]) {
		const json_t *d = t->dev[i].obj;
		const char *bdf = t->dev[i].bdf;
		json_t *gid = json_object_get(d, "iommu_group");
		bool last = tr->next[i] == tr->none;
		char acs[64], name[512];
		size_t keep = prefix->len;

		snap_snapshot__device_label(name, sizeof(name), d);
		snap_buf__printf(b, "%s%s%s", prefix->ptr ? prefix->ptr : "",
		                 parent >= 0 ? (last ? "`-- " : "|-- ") : "", name);
		if (json_is_integer(gid))
			snap_buf__printf(b, "  grp %" JSON_INTEGER_FORMAT, json_integer_value(gid));
		else
			snap_buf__puts(b, "  grp ?");
		snap_buf__printf(b, "  %s  %s  %s  %s%s\n",
		                 snap_json__str(d, "driver") ? snap_json__str(d, "driver") : "-",
		                 snap_json__str(d, "pcie_type") ? snap_json__str(d, "pcie_type")
		                                                : "?",
		                 acs_mark(d, acs, sizeof(acs)),
		                 json_is_true(json_object_get(d, "flr"))    ? "FLR+"
		                 : json_is_false(json_object_get(d, "flr")) ? "FLR-"
		                                                            : "FLR?",
		                 json_object_get(pt, bdf) ? "  [passthrough]" : "");
		if (parent >= 0)
			snap_buf__puts(prefix, last ? "    " : "|   ");
		/* the loader bounds the depth (256 bridges), so does this recursion */
		render_subtree(b, tr, pt, (int)i, prefix);
		prefix->len = keep;
		if (prefix->ptr)
			prefix->ptr[keep] = '\0';
	}
}

static void render_tree(snap_buf *b, snap_analysis *an)
{
	struct tree tr = {0};
	snap_buf prefix = SNAP_BUF_INIT;
	size_t *tail = NULL;
	snap_topo *t = snap_analysis__topo(an);
	const json_t *pt = snap_analysis__passthrough(an);

	if (!t || !pt)
		return;
	tr.t = t;
	tr.none = (size_t)-1;
	tr.first = malloc((t->n + 1) * sizeof(*tr.first));
	tr.next = malloc((t->n + 1) * sizeof(*tr.next));
	tail = malloc((t->n + 1) * sizeof(*tail));
	if (tr.first && tr.next && tail) {
		for (size_t i = 0; i <= t->n; i++)
			tr.first[i] = tail[i] = tr.next[i] = tr.none;
		for (size_t i = 0; i < t->n; i++) { /* in snapshot (BDF) order under each parent */
			size_t p = (size_t)(t->dev[i].parent + 1);

			if (tail[p] == tr.none)
				tr.first[p] = i;
			else
				tr.next[tail[p]] = i;
			tail[p] = i;
		}
		render_subtree(b, &tr, pt, -1, &prefix);
	}
	snap_buf__release(&prefix);
	free(tr.first);
	free(tr.next);
	free(tail);
}

int snap_report_render(char **out, const snap_snapshot *s, snap_report_format format,
                       snap_error *err)
{
	snap_buf b = SNAP_BUF_INIT;
	char *text;

	SNAP_ASSERT_ARG(out && s);
	switch (format) {
	case SNAP_REPORT_JSON:
		return snap_snapshot_to_json(out, s, err);
	case SNAP_REPORT_TEXT:
		render_text(&b, s->root, snap_analysis__get(s));
		break;
	case SNAP_REPORT_TREE: {
		snap_buf__puts(&b, "PCIe topology (grp = IOMMU group, ACS[...] = enabled controls, "
		                   "ACS- none, ? unknown)\n");
		render_tree(&b, snap_analysis__get(s));
		break;
	}
	default:
		return snap_error__set(err, SNAP_EINVALID, "unknown report format %d", (int)format);
	}
	if (!(text = snap_buf__detach(&b)))
		return snap_error__set(err, SNAP_ENOMEM, "out of memory");
	*out = text;
	return 0;
}
