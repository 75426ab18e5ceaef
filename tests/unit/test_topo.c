/* SPDX-License-Identifier: GPL-2.0-or-later */
/* Identity matching and implied groups (pci_device_group() semantics) on small topologies. */
#include <criterion/criterion.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "analyse/analyse.h"
#include "snap/diff.h"

/* A device: bdf, ids, parent, pcie type, multifunction, ACS (NULL = unknown; "" = absent). */
static json_t *dev(const char *bdf, const char *vd, const char *parent, const char *type, int mf,
                   const char *acs_cap, const char *acs_ctl)
{
	json_t *d =
	    json_pack("{s:s, s:s#, s:s, s:s, s:o, s:o, s:o, s:i, s:n, s:n, s:n, s:n, s:n,"
	              " s:n, s:n, s:n}",
	              "bdf", bdf, "vendor", vd, 4, "device", vd + 5, "class", "020000", "parent",
	              snap_json__str_or_null(parent), "pcie_type", snap_json__str_or_null(type),
	              "multifunction", mf < 0 ? json_null() : json_boolean(mf), "config_bytes",
	              4096, "driver", "iommu_group", "subsystem_vendor", "subsystem_device", "flr",
	              "reset_methods", "physfn", "name");

	if (!acs_cap) {
		json_object_set_new(d, "acs", json_null());
	} else if (!*acs_cap) {
		json_object_set_new(d, "acs",
		                    json_pack("{s:b, s:[], s:[]}", "present", 0, "cap", "ctl"));
	} else {
		json_t *cap = json_array(), *ctl = json_array();
		char buf[64], *save = NULL, *tok;

		snprintf(buf, sizeof(buf), "%s", acs_cap);
		for (tok = strtok_r(buf, ",", &save); tok; tok = strtok_r(NULL, ",", &save))
			json_array_append_new(cap, json_string(tok));
		snprintf(buf, sizeof(buf), "%s", acs_ctl);
		for (tok = strtok_r(buf, ",", &save); tok; tok = strtok_r(NULL, ",", &save))
			json_array_append_new(ctl, json_string(tok));
		json_object_set_new(
		    d, "acs", json_pack("{s:b, s:o, s:o}", "present", 1, "cap", cap, "ctl", ctl));
	}
	return d;
}

static json_t *snapshot(json_t *devices)
{
	return json_pack("{s:s, s:{s:s}, s:{}, s:{}, s:{}, s:[], s:o}", "schema",
	                 "pcisnap.snapshot/1", "host", "hostname", "h", "kernel", "firmware",
	                 "iommu", "groups", "devices", devices);
}

/* The same with an enabled IOMMU of the given vendor: the ACS enable quirks ran. */
static json_t *snapshot_iommu(json_t *devices, const char *vendor)
{
	json_t *s = snapshot(devices);

	json_object_set_new(s, "iommu", json_pack("{s:b, s:s}", "enabled", 1, "vendor", vendor));
	return s;
}

static bool same_implied(snap_topo *t, const char *a, const char *b)
{
	return snap_topo__implied_root(t, snap_topo__find(t, a)) ==
	       snap_topo__implied_root(t, snap_topo__find(t, b));
}

Test(topo, root_port_without_acs_groups_everything_below)
{
	json_t *root = snapshot(json_pack(
	    "[o, o, o, o]", dev("0000:00:01.0", "8086:1901", NULL, "root_port", 0, "", ""),
	    dev("0000:01:00.0", "10de:1e87", "0000:00:01.0", "endpoint", 1, "", ""),
	    dev("0000:01:00.1", "10de:10f8", "0000:00:01.0", "endpoint", 1, "", ""),
	    dev("0000:00:1c.0", "8086:a338", NULL, "root_port", 0, "SV,RR,CR,UF", "SV,RR,CR,UF")));
	snap_topo t;

	cr_assert_eq(snap_topo__build(&t, root), 0);
	cr_assert(same_implied(&t, "0000:00:01.0", "0000:01:00.0"));
	cr_assert(same_implied(&t, "0000:01:00.0", "0000:01:00.1"));
	cr_assert_not(same_implied(&t, "0000:00:01.0", "0000:00:1c.0"));
	cr_assert_not_null(t.dev[snap_topo__find(&t, "0000:01:00.0")].merge_reason);
	cr_assert_not(t.dev[1].uncertain);
	snap_topo__release(&t);
	json_decref(root);
}

Test(topo, acs_port_isolates_children_and_absent_cap_flags_count_as_hardwired)
{
	/* cap lists only SV: RR, CR, UF are hard-wired on (pci_acs_flags_enabled) */
	json_t *root = snapshot(json_pack(
	    "[o, o, o, o]", dev("0000:00:1c.0", "8086:a338", NULL, "root_port", 0, "SV", "SV"),
	    dev("0000:02:00.0", "1000:0097", "0000:00:1c.0", "endpoint", 0, "", ""),
	    dev("0000:00:1d.0", "8086:a330", NULL, "root_port", 0, "SV,RR,CR,UF", "SV,RR"),
	    dev("0000:03:00.0", "144d:a808", "0000:00:1d.0", "endpoint", 0, "", "")));
	snap_topo t;

	cr_assert_eq(snap_topo__build(&t, root), 0);
	cr_assert_not(same_implied(&t, "0000:00:1c.0", "0000:02:00.0"));
	/* CR and UF in the capability but not enabled: not isolated */
	cr_assert(same_implied(&t, "0000:00:1d.0", "0000:03:00.0"));
	cr_assert(strstr(t.dev[snap_topo__find(&t, "0000:03:00.0")].merge_reason, "CR,UF"));
	snap_topo__release(&t);
	json_decref(root);
}

Test(topo, multifunction_without_acs_merges_but_single_function_does_not)
{
	json_t *root = snapshot(json_pack(
	    "[o, o, o, o]", dev("0000:00:1f.0", "8086:0685", NULL, "conventional", 1, "", ""),
	    dev("0000:00:1f.3", "8086:06c8", NULL, "conventional", 1, "", ""),
	    dev("0000:00:14.0", "8086:06ed", NULL, "rc_integrated_endpoint", 0, "", ""),
	    dev("0000:00:17.0", "8086:06d2", NULL, "rc_integrated_endpoint", 0, "", "")));
	snap_topo t;

	cr_assert_eq(snap_topo__build(&t, root), 0);
	cr_assert(same_implied(&t, "0000:00:1f.0", "0000:00:1f.3"));
	cr_assert_not(same_implied(&t, "0000:00:14.0", "0000:00:17.0"));
	snap_topo__release(&t);
	json_decref(root);
}

Test(topo, pcie_to_pci_bridge_aliases_everything_below)
{
	json_t *root = snapshot(json_pack(
	    "[o, o, o, o]",
	    dev("0000:00:1c.0", "8086:a338", NULL, "root_port", 0, "SV,RR,CR,UF", "SV,RR,CR,UF"),
	    dev("0000:02:00.0", "104c:8240", "0000:00:1c.0", "pcie_to_pci_bridge", 0, "", ""),
	    dev("0000:03:00.0", "1102:0002", "0000:02:00.0", "conventional", 0, "", ""),
	    dev("0000:03:01.0", "1106:3044", "0000:02:00.0", "conventional", 0, "", "")));
	snap_topo t;

	cr_assert_eq(snap_topo__build(&t, root), 0);
	cr_assert(same_implied(&t, "0000:03:00.0", "0000:03:01.0"));
	cr_assert(same_implied(&t, "0000:02:00.0", "0000:03:00.0"));
	cr_assert_not(same_implied(&t, "0000:00:1c.0", "0000:03:00.0"));
	snap_topo__release(&t);
	json_decref(root);
}

Test(topo, unknown_acs_makes_no_claim)
{
	json_t *root = snapshot(
	    json_pack("[o, o]", dev("0000:00:01.0", "8086:1901", NULL, "root_port", 0, NULL, NULL),
	              dev("0000:01:00.0", "10de:1e87", "0000:00:01.0", "endpoint", 0, "", "")));
	snap_topo t;

	cr_assert_eq(snap_topo__build(&t, root), 0);
	cr_assert_not(same_implied(&t, "0000:00:01.0", "0000:01:00.0")); /* finest possible */
	cr_assert(t.dev[snap_topo__find(&t, "0000:01:00.0")].uncertain);
	snap_topo__release(&t);
	json_decref(root);
}

Test(topo, intel_pch_root_port_quirk_counts_as_isolated)
{
	/* 8086:1c10 is a Cougar Point root port in pci_quirk_intel_pch_acs_ids[]; its quirk
	 * isolates once pci_quirk_enable_intel_pch_acs() ran, which an IOMMU asks for */
	json_t *root = snapshot_iommu(
	    json_pack("[o, o]", dev("0000:00:1c.0", "8086:1c10", NULL, "root_port", 0, "", ""),
	              dev("0000:02:00.0", "8086:10d3", "0000:00:1c.0", "endpoint", 0, "", "")),
	    "intel");
	snap_topo t;

	cr_assert_eq(snap_topo__build(&t, root), 0);
	cr_assert_not(same_implied(&t, "0000:00:1c.0", "0000:02:00.0"));
	snap_topo__release(&t);
	json_decref(root);
}

Test(topo, intel_pch_quirk_needs_the_iommu_that_enables_it)
{
	/* without an IOMMU nobody asked for ACS, pci_quirk_enable_intel_pch_acs() never ran:
	 * the quirk answers "not isolated" (pci_acs_ctrl_enabled(flags, 0)) */
	json_t *root = snapshot(
	    json_pack("[o, o]", dev("0000:00:1c.0", "8086:1c10", NULL, "root_port", 0, "", ""),
	              dev("0000:02:00.0", "8086:10d3", "0000:00:1c.0", "endpoint", 0, "", "")));
	snap_topo t;
	char why[128];

	cr_assert_eq(snap_topo__build(&t, root), 0);
	cr_assert_eq(snap_topo__acs_enabled(&t, 0, why, sizeof(why)), SNAP_NO);
	cr_assert(same_implied(&t, "0000:00:1c.0", "0000:02:00.0"));
	snap_topo__release(&t);
	json_decref(root);
}

Test(topo, multifunction_functions_above_0_are_multifunction)
{
	/* QEMU's multifunction=on: the header bit on function 0 only. pci_scan_slot() marks
	 * functions above 0 multifunction, so none of the three is isolated from the others. */
	json_t *root = snapshot_iommu(
	    json_pack("[o, o, o, o]",
	              dev("0000:00:02.0", "1b36:000c", NULL, "root_port", 0, "SV,RR,CR,UF",
	                  "SV,RR,CR,UF"),
	              dev("0000:01:00.0", "8086:10d3", "0000:00:02.0", "endpoint", 1, "", ""),
	              dev("0000:01:00.1", "8086:10d3", "0000:00:02.0", "endpoint", 0, "", ""),
	              dev("0000:01:00.2", "8086:10d3", "0000:00:02.0", "endpoint", 0, "", "")),
	    "intel");
	snap_topo t;

	cr_assert_eq(snap_topo__build(&t, root), 0);
	cr_assert_eq(t.dev[snap_topo__find(&t, "0000:01:00.1")].mf, SNAP_YES);
	cr_assert(same_implied(&t, "0000:01:00.0", "0000:01:00.1"));
	cr_assert(same_implied(&t, "0000:01:00.0", "0000:01:00.2"));
	cr_assert_not(same_implied(&t, "0000:00:02.0", "0000:01:00.0"));
	snap_topo__release(&t);
	json_decref(root);
}

Test(topo, recorded_kernel_multifunction_wins_over_the_header_bit)
{
	json_t *f1 = dev("0000:01:00.1", "10de:10f0", "0000:00:02.0", "endpoint", 0, "", "");
	json_t *root;
	snap_topo t;

	json_object_set_new(f1, "kernel_multifunction", json_false());
	root = snapshot_iommu(
	    json_pack("[o, o, o]",
	              dev("0000:00:02.0", "1b36:000c", NULL, "root_port", 0, "SV,RR,CR,UF",
	                  "SV,RR,CR,UF"),
	              dev("0000:01:00.0", "10de:1e87", "0000:00:02.0", "endpoint", 1, "", ""), f1),
	    "intel");
	cr_assert_eq(snap_topo__build(&t, root), 0);
	cr_assert_eq(t.dev[snap_topo__find(&t, "0000:01:00.1")].mf, SNAP_NO);
	snap_topo__release(&t);
	json_decref(root);
}

Test(topo, ari_functions_past_7_are_multifunction)
{
	/* below a downstream port only device 0 exists; 02:01.0 is ARI function 8 */
	json_t *root = snapshot_iommu(
	    json_pack("[o, o]",
	              dev("0000:01:00.0", "10b5:8747", NULL, "downstream_port", 0, "SV,RR,CR,UF",
	                  "SV,RR,CR,UF"),
	              dev("0000:02:01.0", "15b3:1017", "0000:01:00.0", "endpoint", 0, "", "")),
	    "intel");
	snap_topo t;

	cr_assert_eq(snap_topo__build(&t, root), 0);
	cr_assert_eq(t.dev[snap_topo__find(&t, "0000:02:01.0")].mf, SNAP_YES);
	snap_topo__release(&t);
	json_decref(root);
}

Test(topo, below_a_pci_to_pcie_bridge_only_device_0_is_scanned)
{
	/* only_one_child() of Linux 6.1: pcie_downstream_port() counts a PCI/PCI-X-to-PCIe
	 * bridge too, so 05:01.0 is function 8 of an ARI device, a multifunction one */
	json_t *root = snapshot_iommu(
	    json_pack("[o, o]",
	              dev("0000:04:00.0", "1b21:1184", NULL, "pci_to_pcie_bridge", 0, "", ""),
	              dev("0000:05:01.0", "15b3:1017", "0000:04:00.0", "endpoint", 0, "", "")),
	    "intel");
	snap_topo t;

	cr_assert_eq(snap_topo__build(&t, root), 0);
	cr_assert_eq(t.dev[snap_topo__find(&t, "0000:05:01.0")].mf, SNAP_YES);
	snap_topo__release(&t);
	json_decref(root);
}

Test(topo, intel_rciep_is_isolated_by_quirk)
{
	/* pci_quirk_rciep_acs: an Intel RC integrated endpoint, multifunction, no ACS */
	json_t *root = snapshot_iommu(
	    json_pack("[o, o]",
	              dev("0000:00:01.0", "8086:10d3", NULL, "rc_integrated_endpoint", 1, "", ""),
	              dev("0000:00:01.1", "8086:10d3", NULL, "rc_integrated_endpoint", 0, "", "")),
	    "intel");
	snap_topo t;
	char why[128];

	cr_assert_eq(snap_topo__build(&t, root), 0);
	cr_assert_eq(snap_topo__acs_enabled(&t, 0, why, sizeof(why)), SNAP_YES);
	cr_assert_not(same_implied(&t, "0000:00:01.0", "0000:00:01.1"));
	snap_topo__release(&t);
	json_decref(root);
}

Test(topo, non_intel_rciep_without_acs_shares_its_slot)
{
	json_t *root = snapshot_iommu(
	    json_pack("[o, o]",
	              dev("0000:00:01.0", "1af4:1041", NULL, "rc_integrated_endpoint", 1, "", ""),
	              dev("0000:00:01.1", "1af4:1041", NULL, "rc_integrated_endpoint", 0, "", "")),
	    "intel");
	snap_topo t;

	cr_assert_eq(snap_topo__build(&t, root), 0);
	cr_assert(same_implied(&t, "0000:00:01.0", "0000:00:01.1"));
	snap_topo__release(&t);
	json_decref(root);
}

Test(topo, quirks_that_answer_no)
{
	/* pci_quirk_wangxun_nic_acs: a Wangxun device not in its list is not isolated, even
	 * with ACS enabled; a listed one is. pci_quirk_zhaoxin_pcie_ports_acs likewise. */
	json_t *root = snapshot_iommu(
	    json_pack(
	        "[o, o, o, o]",
	        dev("0000:00:1c.0", "1d17:0700", NULL, "root_port", 0, "SV,RR,CR,UF",
	            "SV,RR,CR,UF"),
	        dev("0000:00:1d.0", "1d17:0715", NULL, "root_port", 0, "", ""),
	        dev("0000:03:00.0", "8088:1001", "0000:00:1d.0", "endpoint", 1, "", ""),
	        dev("0000:03:00.1", "8088:0200", "0000:00:1d.0", "endpoint", 0, "RR,CR", "RR,CR")),
	    "intel");
	snap_topo t;
	char why[128];

	cr_assert_eq(snap_topo__build(&t, root), 0);
	cr_assert_eq(snap_topo__acs_enabled(&t, 0, why, sizeof(why)), SNAP_NO);
	cr_assert(strstr(why, "zhaoxin"), "%s", why);
	cr_assert_eq(snap_topo__acs_enabled(&t, 1, why, sizeof(why)), SNAP_YES);
	cr_assert_eq(snap_topo__acs_enabled(&t, 2, why, sizeof(why)), SNAP_YES);
	cr_assert_eq(snap_topo__acs_enabled(&t, 3, why, sizeof(why)), SNAP_NO);
	snap_topo__release(&t);
	json_decref(root);
}

Test(topo, intel_spt_reads_the_control_dword)
{
	/* Sunrise Point root port: the word at +6 reads no controls (as lspci shows), the dword
	 * at +8 has them all: the kernel counts it isolated; with it clear, not */
	json_t *on = dev("0000:00:1c.0", "8086:a110", NULL, "root_port", 0, "SV,RR,CR,UF", "");
	json_t *off = dev("0000:00:1d.0", "8086:a111", NULL, "root_port", 0, "SV,RR,CR,UF", "");
	json_t *old = dev("0000:00:1e.0", "8086:a112", NULL, "root_port", 0, "SV,RR,CR,UF", "");
	json_t *root;
	snap_topo t;
	char why[128];

	json_object_set_new(json_object_get(on, "acs"), "ctl_intel_spt",
	                    json_pack("[s, s, s, s]", "SV", "RR", "CR", "UF"));
	json_object_set_new(json_object_get(off, "acs"), "ctl_intel_spt", json_array());
	root = snapshot_iommu(json_pack("[o, o, o]", on, off, old), "intel");
	cr_assert_eq(snap_topo__build(&t, root), 0);
	cr_assert_eq(snap_topo__acs_enabled(&t, 0, why, sizeof(why)), SNAP_YES);
	cr_assert_eq(snap_topo__acs_enabled(&t, 1, why, sizeof(why)), SNAP_NO);
	cr_assert_eq(snap_topo__acs_enabled(&t, 2, why, sizeof(why)), SNAP_UNKNOWN);
	snap_topo__release(&t);
	json_decref(root);
}

Test(topo, amd_southbridge_quirk_needs_an_amd_iommu)
{
	json_t *devs =
	    json_pack("[o, o]", dev("0000:00:14.0", "1002:4385", NULL, "conventional", 1, "", ""),
	              dev("0000:00:14.3", "1002:439d", NULL, "conventional", 0, "", ""));
	json_t *amd = snapshot_iommu(json_deep_copy(devs), "amd");
	json_t *intel = snapshot_iommu(devs, "intel");
	snap_topo t;

	cr_assert_eq(snap_topo__build(&t, amd), 0);
	cr_assert_not(same_implied(&t, "0000:00:14.0", "0000:00:14.3"));
	snap_topo__release(&t);
	cr_assert_eq(snap_topo__build(&t, intel), 0);
	cr_assert(same_implied(&t, "0000:00:14.0", "0000:00:14.3"));
	snap_topo__release(&t);
	json_decref(amd);
	json_decref(intel);
}

Test(topo, identity_ignores_bus_numbers)
{
	json_t *a = snapshot(
	    json_pack("[o, o]", dev("0000:00:01.0", "8086:1901", NULL, "root_port", 0, "", ""),
	              dev("0000:01:00.0", "10de:1e87", "0000:00:01.0", "endpoint", 0, "", "")));
	json_t *b = snapshot(
	    json_pack("[o, o]", dev("0000:00:01.0", "8086:1901", NULL, "root_port", 0, "", ""),
	              dev("0000:05:00.0", "10de:1e87", "0000:00:01.0", "endpoint", 0, "", "")));
	snap_topo ta, tb;

	cr_assert_eq(snap_topo__build(&ta, a), 0);
	cr_assert_eq(snap_topo__build(&tb, b), 0);
	cr_assert_str_eq(ta.dev[1].identity, tb.dev[1].identity);
	snap_topo__release(&ta);
	snap_topo__release(&tb);
	json_decref(a);
	json_decref(b);
}

Test(topo, identity_differs_by_upstream_port)
{
	json_t *a = snapshot(json_pack(
	    "[o, o, o, o]", dev("0000:00:01.0", "8086:1901", NULL, "root_port", 0, "", ""),
	    dev("0000:00:1c.0", "8086:a338", NULL, "root_port", 0, "", ""),
	    dev("0000:01:00.0", "10de:1e87", "0000:00:01.0", "endpoint", 0, "", ""),
	    dev("0000:02:00.0", "10de:1e87", "0000:00:1c.0", "endpoint", 0, "", "")));
	snap_topo t;

	cr_assert_eq(snap_topo__build(&t, a), 0);
	cr_assert_str_neq(t.dev[snap_topo__find(&t, "0000:01:00.0")].identity,
	                  t.dev[snap_topo__find(&t, "0000:02:00.0")].identity);
	snap_topo__release(&t);
	json_decref(a);
}

Test(diff, shifted_bus_numbers_add_and_remove_nothing)
{
	json_t *a = snapshot(
	    json_pack("[o, o, o]", dev("0000:00:01.0", "8086:1901", NULL, "root_port", 0, "", ""),
	              dev("0000:01:00.0", "10de:1e87", "0000:00:01.0", "endpoint", 1, "", ""),
	              dev("0000:01:00.1", "10de:10f8", "0000:00:01.0", "endpoint", 1, "", "")));
	json_t *b = snapshot(
	    json_pack("[o, o, o]", dev("0000:00:01.0", "8086:1901", NULL, "root_port", 0, "", ""),
	              dev("0000:02:00.0", "10de:1e87", "0000:00:01.0", "endpoint", 1, "", ""),
	              dev("0000:02:00.1", "10de:10f8", "0000:00:01.0", "endpoint", 1, "", "")));
	char *ta = json_dumps(a, 0), *tb = json_dumps(b, 0);
	snap_snapshot *sa = NULL, *sb = NULL;
	snap_diff *d = NULL;
	snap_error err = {0};
	char *json = NULL;

	cr_assert_eq(snap_snapshot_load_buffer(&sa, ta, strlen(ta), &err), 0, "%s", err.message);
	cr_assert_eq(snap_snapshot_load_buffer(&sb, tb, strlen(tb), &err), 0, "%s", err.message);
	cr_assert_eq(snap_diff_compute(&d, sa, sb, &err), 0, "%s", err.message);
	cr_assert_eq(snap_diff_verdict(d), SNAP_CLASS_HARMLESS);
	cr_assert_eq(snap_diff_render(&json, d, SNAP_DIFF_JSON, &err), 0);
	cr_assert_null(strstr(json, "device_added"));
	cr_assert_null(strstr(json, "device_removed"));
	cr_assert_not_null(strstr(json, "devices_renumbered"));
	free(json);
	snap_diff_free(d);
	snap_snapshot_free(sa);
	snap_snapshot_free(sb);
	free(ta);
	free(tb);
	json_decref(a);
	json_decref(b);
}

Test(diff, class_list_parsing)
{
	unsigned mask = 0;
	snap_error err = {0};

	cr_assert_eq(snap_class_parse_list(&mask, "isolation_loss,binding_regression", &err), 0);
	cr_assert_eq(mask, SNAP_CLASS_BIT(SNAP_CLASS_ISOLATION_LOSS) |
	                       SNAP_CLASS_BIT(SNAP_CLASS_BINDING_REGRESSION));
	cr_assert_eq(snap_class_parse_list(&mask, "none", &err), 0);
	cr_assert_eq(mask, 0);
	cr_assert_eq(snap_class_parse_list(&mask, "bogus", &err), SNAP_EINVALID);
	cr_assert_not_null(strstr(err.message, "bogus"));
}

Test(snapshot, newer_schema_and_garbage_are_rejected)
{
	snap_snapshot *s = NULL;
	snap_error err = {0};
	const char *newer = "{\"schema\": \"pcisnap.snapshot/2\"}";
	const char *dup = "{\"schema\": \"a\", \"schema\": \"b\"}";

	cr_assert_eq(snap_snapshot_load_buffer(&s, newer, strlen(newer), &err), SNAP_ESCHEMA);
	cr_assert_null(s);
	cr_assert_eq(snap_snapshot_load_buffer(&s, dup, strlen(dup), &err), SNAP_EINVALID);
	cr_assert_eq(snap_snapshot_load_buffer(&s, "{", 1, &err), SNAP_EINVALID);
	cr_assert_null(s);
}

/* A switch whose downstream port has no ACS: the two endpoints below the switch reach each
 * other (pci_device_group() climbs to the downstream port's group), the root port's ACS is not
 * enough. And a path deeper than one port: the root port's and upstream port's ACS do not help
 * devices below a downstream port without it. */
Test(topo, switch_downstream_port_without_acs_merges_below_it)
{
	json_t *root = snapshot(json_pack(
	    "[o, o, o, o, o, o, o]",
	    dev("0000:00:01.0", "8086:1901", NULL, "root_port", 0, "SV,RR,CR,UF", "SV,RR,CR,UF"),
	    dev("0000:01:00.0", "10b5:8747", "0000:00:01.0", "upstream_port", 0, "", ""),
	    dev("0000:02:08.0", "10b5:8747", "0000:01:00.0", "downstream_port", 0, "", ""),
	    dev("0000:02:10.0", "10b5:8747", "0000:01:00.0", "downstream_port", 0, "SV,RR,CR,UF",
	        "SV,RR,CR,UF"),
	    dev("0000:03:00.0", "10de:1e87", "0000:02:08.0", "endpoint", 0, "", ""),
	    dev("0000:04:00.0", "1000:0097", "0000:02:10.0", "endpoint", 0, "", ""),
	    dev("0000:05:00.0", "144d:a808", "0000:02:08.0", "endpoint", 0, "", "")));
	snap_topo t;

	cr_assert_eq(snap_topo__build(&t, root), 0);
	cr_assert(same_implied(&t, "0000:03:00.0", "0000:02:08.0"),
	          "below a downstream port without ACS: with the port");
	cr_assert_not(same_implied(&t, "0000:04:00.0", "0000:03:00.0"),
	              "slot 0x10 with ACS is apart from slot 0x08 without");
	cr_assert_not(same_implied(&t, "0000:04:00.0", "0000:02:10.0"));
	snap_topo__release(&t);
	json_decref(root);
}

/* A PCIe-to-PCI bridge such as the ASMedia ASM1083 (1b21:1080): its children use its
 * requester id (pci_for_each_dma_alias()), so they share one group with it. */
Test(topo, asmedia_pcie_to_pci_bridge_aliases_its_children)
{
	json_t *root = snapshot(json_pack(
	    "[o, o, o, o]",
	    dev("0000:00:1c.0", "8086:a338", NULL, "root_port", 0, "SV,RR,CR,UF", "SV,RR,CR,UF"),
	    dev("0000:05:00.0", "1b21:1080", "0000:00:1c.0", "pcie_to_pci_bridge", 0, "", ""),
	    dev("0000:06:00.0", "13f6:0111", "0000:05:00.0", "conventional", 0, "", ""),
	    dev("0000:06:01.0", "1102:0002", "0000:05:00.0", "conventional", 0, "", "")));
	snap_topo t;

	cr_assert_eq(snap_topo__build(&t, root), 0);
	cr_assert(same_implied(&t, "0000:06:00.0", "0000:06:01.0"));
	cr_assert(same_implied(&t, "0000:06:00.0", "0000:05:00.0"));
	snap_topo__release(&t);
	json_decref(root);
}
