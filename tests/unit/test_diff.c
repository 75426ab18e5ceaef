/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * The diff rules, each on a real collected snapshot (the pve-intel golden) changed in one
 * place: every rule here is one a mutation of diff.c, passthrough.c or topo.c once broke
 * without any test noticing.
 */
#include <criterion/criterion.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "analyse/analyse.h"
#include "analyse/diff.h"
#include "snap/check.h"
#include "snap/diff.h"

#define BASE SNAP_TEST_DATA "/../golden/collect/pve-intel/expected.stdout"

static json_t *base(void)
{
	json_error_t e;
	json_t *j = json_load_file(BASE, 0, &e);

	cr_assert_not_null(j, "%s: %s", BASE, e.text);
	return j;
}

static json_t *dev(json_t *root, const char *bdf)
{
	size_t i;
	json_t *d;

	json_array_foreach (json_object_get(root, "devices"), i, d)
		if (!strcmp(snap_json__str(d, "bdf"), bdf))
			return d;
	cr_assert_fail("no device %s", bdf);
	return NULL;
}

/* Through the loader, as every reader gets a snapshot. */
static snap_snapshot *snap(const json_t *root)
{
	char *text = json_dumps(root, JSON_SORT_KEYS);
	snap_snapshot *s = NULL;
	snap_error err = {0};

	cr_assert_eq(snap_snapshot_load_buffer(&s, text, strlen(text), &err), 0, "%s", err.message);
	free(text);
	return s;
}

/* diff(old, new) as its JSON document; old and new are stolen */
static json_t *diff(json_t *old, json_t *new)
{
	snap_snapshot *a = snap(old), *b = snap(new);
	snap_diff *d = NULL;
	char *text = NULL;
	json_t *doc;

	cr_assert_eq(snap_diff_compute(&d, a, b, NULL), 0);
	cr_assert_eq(snap_diff_render(&text, d, SNAP_DIFF_JSON, NULL), 0);
	doc = json_loads(text, 0, NULL);
	free(text);
	snap_diff_free(d);
	snap_snapshot_free(a);
	snap_snapshot_free(b);
	json_decref(old);
	json_decref(new);
	return doc;
}

/* The class of the first change of this kind, or NULL. */
static const char *class_of(const json_t *doc, const char *kind)
{
	size_t i;
	json_t *c;

	json_array_foreach (json_object_get(doc, "changes"), i, c)
		if (!strcmp(snap_json__str(c, "kind"), kind))
			return snap_json__str(c, "class");
	return NULL;
}

static bool any_change_mentions(const json_t *doc, const char *text)
{
	size_t i;
	json_t *c;

	json_array_foreach (json_object_get(doc, "changes"), i, c)
		if (strstr(snap_json__str(c, "message"), text))
			return true;
	return false;
}

Test(diff, identical_snapshots_have_no_changes)
{
	json_t *doc = diff(base(), base());

	cr_assert_eq(json_array_size(json_object_get(doc, "changes")), 0);
	cr_assert_str_eq(snap_json__str(doc, "verdict"), "harmless");
	json_decref(doc);
}

Test(diff, acs_override_widened_is_isolation_loss)
{
	json_t *a = base(), *b = base(), *doc;

	json_object_set_new(json_object_get(a, "iommu"), "acs_override", json_string("downstream"));
	json_object_set_new(json_object_get(b, "iommu"), "acs_override",
	                    json_string("downstream,multifunction"));
	doc = diff(a, b);
	cr_assert_str_eq(class_of(doc, "acs_override"), "isolation_loss");
	json_decref(doc);
}

Test(diff, acs_override_changed_at_the_same_scope_is_isolation_loss)
{
	json_t *a = base(), *b = base(), *doc;

	/* one item each, but now another device is claimed isolated */
	json_object_set_new(json_object_get(a, "iommu"), "acs_override",
	                    json_string("id:8086:1901"));
	json_object_set_new(json_object_get(b, "iommu"), "acs_override",
	                    json_string("id:10de:1e87"));
	doc = diff(a, b);
	cr_assert_str_eq(class_of(doc, "acs_override"), "isolation_loss");
	json_decref(doc);
}

Test(diff, acs_override_unchanged_is_not_reported)
{
	json_t *a = base(), *b = base(), *doc;

	json_object_set_new(json_object_get(a, "iommu"), "acs_override", json_string("downstream"));
	json_object_set_new(json_object_get(b, "iommu"), "acs_override", json_string("downstream"));
	doc = diff(a, b);
	cr_assert_null(class_of(doc, "acs_override"));
	json_decref(doc);
}

Test(diff, irq_remapping_enabled_to_unknown_is_lost_evidence_not_a_loss)
{
	json_t *a = base(), *b = base(), *doc;

	json_object_set_new(json_object_get(b, "iommu"), "irq_remapping", json_string("unknown"));
	doc = diff(a, b);
	cr_assert_str_neq(snap_json__str(doc, "verdict"), "isolation_loss");
	cr_assert_null(class_of(doc, "irq_remapping_disabled"));
	json_decref(doc);
}

Test(diff, irq_remapping_enabled_to_disabled_is_isolation_loss)
{
	json_t *a = base(), *b = base(), *doc;

	json_object_set_new(json_object_get(b, "iommu"), "irq_remapping", json_string("disabled"));
	doc = diff(a, b);
	cr_assert_str_eq(snap_json__str(doc, "verdict"), "isolation_loss");
	json_decref(doc);
}

Test(diff, initrd_and_boot_image_follow_the_kernel)
{
	json_t *a = base(), *b = base(), *doc,
	       *tokens = json_object_get(json_object_get(b, "kernel"), "cmdline_tokens");

	json_array_append_new(json_object_get(json_object_get(a, "kernel"), "cmdline_tokens"),
	                      json_pack("{s:s, s:s}", "key", "initrd", "value", "/initrd-1"));
	json_array_append_new(tokens,
	                      json_pack("{s:s, s:s}", "key", "initrd", "value", "/initrd-2"));
	json_object_set_new(json_array_get(tokens, 0), "value",
	                    json_string("/vmlinuz-6.8.12-5-pve"));
	doc = diff(a, b);
	cr_assert_null(class_of(doc, "cmdline_token_added"));
	cr_assert_null(class_of(doc, "cmdline_token_removed"));
	json_decref(doc);
}

Test(diff, other_tokens_are_listed_as_harmless)
{
	json_t *a = base(), *b = base(), *doc;

	json_array_append_new(json_object_get(json_object_get(b, "kernel"), "cmdline_tokens"),
	                      json_pack("{s:s, s:n}", "key", "nosmt", "value"));
	doc = diff(a, b);
	cr_assert_str_eq(class_of(doc, "cmdline_token_added"), "harmless");
	json_decref(doc);
}

Test(diff, vfio_module_state_unknown_is_not_unloaded)
{
	json_t *a = base(), *b = base(), *doc;

	json_object_set_new(json_object_get(json_object_get(b, "vfio"), "modules"), "vfio_pci",
	                    json_null());
	doc = diff(a, b);
	cr_assert_null(class_of(doc, "vfio_module_missing"));
	json_decref(doc);
}

Test(diff, vfio_module_unloaded_is_binding_regression)
{
	json_t *a = base(), *b = base(), *doc;

	json_object_set_new(json_object_get(json_object_get(b, "vfio"), "modules"), "vfio_pci",
	                    json_false());
	doc = diff(a, b);
	cr_assert_str_eq(class_of(doc, "vfio_module_missing"), "binding_regression");
	json_decref(doc);
}

/* The GPU's root port in a group of its own: isolation the hardware (no ACS) does not give. */
static void assert_split(json_t *root)
{
	json_object_set_new(dev(root, "0000:00:01.0"), "iommu_group", json_integer(99));
}

Test(diff, isolation_asserted_new_in_new_is_isolation_loss)
{
	json_t *a = base(), *b = base(), *doc;

	assert_split(b);
	doc = diff(a, b);
	cr_assert_str_eq(class_of(doc, "isolation_asserted"), "isolation_loss");
	json_decref(doc);
}

Test(diff, isolation_asserted_in_old_already_is_not_new)
{
	json_t *a = base(), *b = base(), *doc;

	assert_split(a);
	assert_split(b);
	doc = diff(a, b);
	cr_assert_null(class_of(doc, "isolation_asserted"));
	json_decref(doc);
}

/* Two identical NICs with no parent (the same identity) that moved bus; serials tell them. */
static json_t *twins(const char *host, const char *b1, const char *s1, const char *b2,
                     const char *s2)
{
	json_t *r = base(), *devs = json_object_get(r, "devices"), *n1, *n2;

	json_object_set_new(json_object_get(r, "host"), "hostname", json_string(host));
	n1 = json_deep_copy(dev(r, "0000:03:00.0"));
	n2 = json_deep_copy(n1);
	json_object_set_new(n1, "bdf", json_string(b1));
	json_object_set_new(n1, "dsn", json_string(s1));
	json_object_set_new(n2, "bdf", json_string(b2));
	json_object_set_new(n2, "dsn", json_string(s2));
	json_object_set_new(n1, "parent", json_null());
	json_object_set_new(n2, "parent", json_null());
	json_array_append_new(devs, n1);
	json_array_append_new(devs, n2);
	snap_json__sort_by_key(devs, "bdf");
	return r;
}

#define S1 "11-11-11-11-11-11-11-11"
#define S2 "22-22-22-22-22-22-22-22"

Test(diff, serial_numbers_pair_devices_on_one_host)
{
	json_t *doc = diff(twins("h", "0000:05:00.0", S1, "0000:06:00.0", S2),
	                   twins("h", "0000:07:00.0", S2, "0000:08:00.0", S1));

	cr_assert(any_change_mentions(doc, "0000:05:00.0 -> 0000:08:00.0"));
	json_decref(doc);
}

Test(diff, serial_numbers_do_not_pair_devices_of_two_hosts)
{
	json_t *doc = diff(twins("canary", "0000:05:00.0", S1, "0000:06:00.0", S2),
	                   twins("peer", "0000:07:00.0", S2, "0000:08:00.0", S1));

	cr_assert(any_change_mentions(doc, "0000:05:00.0 -> 0000:07:00.0"));
	json_decref(doc);
}

Test(diff, pci_stub_to_vfio_pci_is_no_regression)
{
	json_t *a = base(), *b = base(), *doc;

	json_object_set_new(dev(a, "0000:02:00.0"), "driver", json_string("pci-stub"));
	doc = diff(a, b);
	cr_assert_str_eq(class_of(doc, "driver_changed"), "harmless");
	cr_assert_str_eq(snap_json__str(doc, "verdict"), "harmless");
	json_decref(doc);
}

Test(passthrough, the_other_functions_of_a_passthrough_slot_count)
{
	json_t *r = base(), *pt;
	snap_snapshot *s;

	/* the GPU's audio function is bound to the host driver: it still goes with the GPU */
	json_object_set_new(dev(r, "0000:01:00.1"), "driver", json_string("snd_hda_intel"));
	json_object_set_new(json_object_get(r, "vfio"), "ids", json_array());
	json_object_set_new(r, "vms", json_array());
	s = snap_snapshot__new(r);
	pt = snap_analysis__passthrough(snap_analysis__get(s));
	cr_assert_not_null(json_object_get(pt, "0000:01:00.0"));
	cr_assert_not_null(json_object_get(pt, "0000:01:00.1"));
	cr_assert_null(json_object_get(pt, "0000:00:1f.3"));
	/* asked again: the same object, computed once */
	cr_assert_eq(snap_analysis__passthrough(snap_analysis__get(s)), pt);
	snap_snapshot_free(s);
}

Test(check, unknown_evidence_is_never_pass)
{
	json_t *r = base();
	snap_snapshot *s;
	snap_check *c = NULL;
	char *text = NULL;

	/* ACS and FLR unknown everywhere (a capture without root), Secure Boot unknown */
	json_t *d;
	size_t i;

	json_array_foreach (json_object_get(r, "devices"), i, d) {
		json_object_set_new(d, "acs", json_null());
		json_object_set_new(d, "flr", json_null());
	}
	json_object_set_new(json_object_get(r, "firmware"), "secure_boot", json_null());
	s = snap(r);
	cr_assert_eq(snap_check_run(&c, s, NULL), 0);
	cr_assert_eq(snap_check_render(&text, c, 0, NULL), 0);
	cr_assert_null(strstr(text, "PASS  group_explained    group 1"), "%s", text);
	cr_assert_not_null(strstr(text, "WARN  isolation_enforced"), "%s", text);
	cr_assert_null(strstr(text, "PASS  secure_boot"), "%s", text);
	cr_assert_null(strstr(text, "no FLR, reset by"), "%s", text);
	free(text);
	snap_check_free(c);
	snap_snapshot_free(s);
	json_decref(r);
}

Test(topo, unknown_multifunction_bit_makes_no_claim)
{
	json_t *r = base();
	snap_topo t;
	char why[128];
	int i;

	/* function 0 with its header unreadable: the kernel's multifunction flag is unknown */
	json_object_set_new(dev(r, "0000:03:00.0"), "multifunction", json_null());
	json_object_del(dev(r, "0000:03:00.0"), "kernel_multifunction");
	json_object_set_new(dev(r, "0000:03:00.0"), "acs",
	                    json_pack("{s:b, s:[], s:[]}", "present", 0, "cap", "ctl"));
	cr_assert_eq(snap_topo__build(&t, r), 0);
	i = snap_topo__find(&t, "0000:03:00.0");
	cr_assert_eq(snap_topo__acs_enabled(&t, i, why, sizeof(why)), SNAP_UNKNOWN);
	cr_assert(t.dev[i].uncertain);
	snap_topo__release(&t);
	json_decref(r);
}

/* The rule table: every row is a whole rule, and every regression is documented for operators. */
Test(diff, every_rule_row_is_complete_and_documented)
{
	FILE *f = fopen(SNAP_TEST_DATA "/../../docs/classification.md", "r");
	static char doc[1 << 17];
	size_t n;

	cr_assert_not_null(f);
	n = fread(doc, 1, sizeof(doc) - 1, f);
	fclose(f);
	doc[n] = '\0';
	for (int r = 0; r < SNAP_RULE_COUNT; r++) {
		const struct snap_diff_rule_def *d = &snap_diff__rules[r];
		char quoted[80];

		cr_assert_not_null(d->kind, "rule %d has no kind", r);
		cr_assert_not_null(snap_class_name(d->cls), "rule %s has no class", d->kind);
		if (d->cls == SNAP_CLASS_HARMLESS)
			continue;
		cr_assert_not_null(d->next, "regression %s has no next step", d->kind);
		snprintf(quoted, sizeof(quoted), "`%s`", d->kind);
		cr_assert_not_null(strstr(doc, quoted), "regression %s is not in classification.md",
		                   d->kind);
	}
}

/* A next step that names the change's words gets them, not the placeholders. */
Test(diff, next_step_names_the_driver)
{
	struct ctx c = {0};
	const char *next;

	c.changes = json_array();
	snap_diff__add_next(&c, SNAP_RULE_PT_DRIVER_CHANGED, "amdgpu", "amdgpu", "0000:01:00.0",
	                    NULL, NULL, "m.");
	next = snap_json__str(json_array_get(c.changes, 0), "next_step");
	cr_assert_not_null(next);
	cr_assert_not_null(strstr(next, "claim it before amdgpu: 'softdep amdgpu pre: vfio-pci'"),
	                   "%s", next);
	cr_assert_null(strchr(next, '{'));
	cr_assert_str_eq(snap_json__str(json_array_get(c.changes, 0), "kind"), "driver_changed");
	cr_assert_str_eq(snap_json__str(json_array_get(c.changes, 0), "class"),
	                 "binding_regression");
	json_decref(c.changes);
}

/* An SPT-class PCH root port (pci_quirk_intel_spt_pch_acs()): its ACS control is the dword at
 * cap + 8, recorded as ctl_intel_spt; the standard control word means nothing there. */
static void spt_port(json_t *root, const char *spt_ctl, const char *std_ctl)
{
	json_t *p = dev(root, "0000:00:1c.0");
	json_error_t e;

	json_object_set_new(p, "device", json_string("a110"));
	json_object_set_new(p, "acs",
	                    json_pack("{s:b, s:[ssss], s:o, s:o}", "present", 1, "cap", "SV", "RR",
	                              "CR", "UF", "ctl", json_loads(std_ctl, 0, &e),
	                              "ctl_intel_spt", json_loads(spt_ctl, 0, &e)));
}

Test(diff, spt_root_port_is_judged_by_its_own_control_dword)
{
	json_t *a = base(), *b = base(), *doc;

	spt_port(a, "[\"SV\", \"RR\", \"CR\", \"UF\"]", "[]");
	spt_port(b, "[\"SV\", \"RR\", \"CR\"]", "[]");
	doc = diff(a, b);
	cr_assert_str_eq(class_of(doc, "acs_lost"), "isolation_loss", "UF cleared in the dword");
	json_decref(doc);
	a = base(), b = base();
	spt_port(a, "[\"SV\", \"RR\", \"CR\", \"UF\"]", "[\"SV\", \"RR\", \"CR\", \"UF\"]");
	spt_port(b, "[\"SV\", \"RR\", \"CR\", \"UF\"]", "[]");
	doc = diff(a, b);
	cr_assert_null(class_of(doc, "acs_lost"), "the standard word is not what the port uses");
	json_decref(doc);
}

/* vfio_pci_probe()'s refusals (Linux 6.1): header type, denylist, a PF with VFs enabled. */
Test(passthrough, vfio_refuses_what_vfio_pci_probe_refuses)
{
	json_t *bridge =
	    json_pack("{s:s, s:s, s:s}", "class", "060400", "vendor", "8086", "device", "06b8");
	json_t *qat =
	    json_pack("{s:s, s:s, s:s}", "class", "0b4000", "vendor", "8086", "device", "37c9");
	json_t *pf = json_pack("{s:s, s:s, s:s, s:{s:i}}", "class", "020000", "vendor", "15b3",
	                       "device", "1017", "sriov", "num_vfs", 4);
	json_t *nic = json_pack("{s:s, s:s, s:s, s:{s:i}}", "class", "020000", "vendor", "15b3",
	                        "device", "1017", "sriov", "num_vfs", 0);

	cr_assert_not_null(snap_passthrough__vfio_refuses(bridge, false));
	cr_assert_not_null(snap_passthrough__vfio_refuses(qat, false), "a QAT C62x VF");
	cr_assert_null(snap_passthrough__vfio_refuses(qat, true), "disable_denylist");
	cr_assert_not_null(snap_passthrough__vfio_refuses(pf, false));
	cr_assert_null(snap_passthrough__vfio_refuses(nic, false), "VFs not enabled");
	json_decref(bridge);
	json_decref(qat);
	json_decref(pf);
	json_decref(nic);
}

Test(diff, unsafe_interrupts_from_unknown_to_on_is_isolation_loss)
{
	json_t *a = base(), *b = base(), *doc;

	json_object_set_new(json_object_get(a, "iommu"), "allow_unsafe_interrupts", json_null());
	json_object_set_new(json_object_get(b, "iommu"), "allow_unsafe_interrupts", json_true());
	doc = diff(a, b);
	cr_assert_str_eq(class_of(doc, "unsafe_interrupts"), "isolation_loss");
	json_decref(doc);
}

/* vfio_pci_fill_ids(): "vendor:device" at least (fewer fields are "invalid id string"), and
 * ffffffff (PCI_ANY_ID) matches any value. */
Test(passthrough, vfio_ids_need_a_device_field_and_ffffffff_is_any)
{
	json_t *d = json_pack("{s:s, s:s, s:s, s:s}", "vendor", "10de", "device", "1e87",
	                      "subsystem_vendor", "1043", "subsystem_device", "866a");

	cr_assert_not(snap_passthrough__id_matches("10de", d), "a vendor-only id is invalid");
	cr_assert(snap_passthrough__id_matches("10de:ffffffff", d), "any device of the vendor");
	cr_assert(snap_passthrough__id_matches("10de:1e87:1043:866a", d));
	cr_assert_not(snap_passthrough__id_matches("10de:1e87:1043:0001", d));
	cr_assert_not(snap_passthrough__id_matches("10de:1e88", d));
	json_decref(d);
}

/* A group member on pci-stub is kept from the host as surely as one on vfio-pci. */
Test(check, pci_stub_is_not_host_owned)
{
	json_t *r = base();
	snap_snapshot *s;
	snap_check *c = NULL;
	char *text = NULL;

	json_object_set_new(dev(r, "0000:01:00.1"), "driver", json_string("pci-stub"));
	s = snap(r);
	cr_assert_eq(snap_check_run(&c, s, NULL), 0);
	cr_assert_eq(snap_check_render(&text, c, 1, NULL), 0);
	cr_assert_null(strstr(text, "FAIL  group_viable"), "%s", text);
	free(text);
	snap_check_free(c);
	snap_snapshot_free(s);
	json_decref(r);
}

/* check of r as its text report (the caller frees it) */
static char *check_text(json_t *r)
{
	snap_snapshot *s = snap(r);
	snap_check *c = NULL;
	char *text = NULL;

	cr_assert_eq(snap_check_run(&c, s, NULL), 0);
	cr_assert_eq(snap_check_render(&text, c, 0, NULL), 0);
	snap_check_free(c);
	snap_snapshot_free(s);
	return text;
}

/* A port on a passthrough path whose link is down (Data Link Layer Link Active clear, no DPC,
 * the device below answering no config read): the device is unreachable, FAIL. A device that
 * answers is reached through the link whatever the bit says (QEMU's root ports leave it clear:
 * the real-kernel lab), and a link whose state is not reported (null) says nothing. */
Test(check, a_link_down_on_the_path_fails)
{
	json_t *r = base();
	char *text;

	json_object_set_new(dev(r, "0000:00:1c.0"), "link_state",
	                    json_pack("{s:b, s:b}", "active", 0, "training", 1));
	json_object_set_new(dev(r, "0000:02:00.0"), "responds", json_true());
	text = check_text(r);
	cr_assert_null(strstr(text, "containment"), "%s", text);
	free(text);
	json_object_set_new(dev(r, "0000:02:00.0"), "responds", json_false());
	text = check_text(r);
	cr_assert_not_null(
	    strstr(text, "the link below port 0000:00:1c.0 is down (Data Link Layer not active, "
	                 "training)"),
	    "%s", text);
	free(text);
	/* the HBA in D3cold (vfio-pci's runtime PM): its link is down by design, no FAIL */
	json_object_set_new(dev(r, "0000:02:00.0"), "power_state", json_string("D3cold"));
	text = check_text(r);
	cr_assert_null(strstr(text, "containment"), "%s", text);
	free(text);
	json_object_set_new(dev(r, "0000:02:00.0"), "power_state", json_string("D0"));
	json_object_set_new(dev(r, "0000:00:1c.0"), "link_state",
	                    json_pack("{s:n, s:b}", "active", "training", 0));
	text = check_text(r);
	cr_assert_null(strstr(text, "containment"), "%s", text);
	free(text);
	json_decref(r);
}

/* Power: a passthrough device's d3cold_allowed and vfio-pci's disable_idle_d3, listed when both
 * sides know them (harmless: the next step says what to do if the VM started failing). */
Test(diff, d3cold_and_disable_idle_d3_are_listed)
{
	json_t *o = base(), *n = base(), *doc;

	json_object_set_new(dev(n, "0000:01:00.0"), "d3cold_allowed", json_false());
	json_object_set_new(
	    json_object_get(json_object_get(json_object_get(o, "vfio"), "parameters"), "vfio_pci"),
	    "disable_idle_d3", json_string("N"));
	json_object_set_new(
	    json_object_get(json_object_get(json_object_get(n, "vfio"), "parameters"), "vfio_pci"),
	    "disable_idle_d3", json_string("Y"));
	doc = diff(o, n);
	cr_assert_str_eq(class_of(doc, "power_changed"), "harmless");
	cr_assert(any_change_mentions(doc, "D3cold of passthrough device 0000:01:00.0"));
	cr_assert(any_change_mentions(doc,
	                              "disable_idle_d3: N -> Y (idle passthrough devices are no "
	                              "longer put in D3)"));
	json_decref(doc);
	/* unknown on one side: nothing said */
	o = base();
	n = base();
	json_object_set_new(dev(o, "0000:01:00.0"), "d3cold_allowed", json_null());
	json_object_set_new(dev(n, "0000:01:00.0"), "d3cold_allowed", json_false());
	doc = diff(o, n);
	cr_assert_null(class_of(doc, "power_changed"));
	json_decref(doc);
}

/* How many faults of kind the diff document lists */
static size_t faults_of(const json_t *doc, const char *kind)
{
	size_t i, n = 0;
	json_t *f;

	json_array_foreach (json_object_get(doc, "faults"), i, f)
		n += !strcmp(snap_json__str(f, "kind"), kind);
	return n;
}

/* A link gone down on a passthrough path is a fault only when the device below stopped
 * answering config reads: a port with Link Active clear over a device that answers (QEMU's
 * root ports, seen in the real-kernel lab) is not, nor a link that was down in OLD already. */
Test(diff, a_link_down_needs_the_device_below_to_stop_answering)
{
	json_t *o = base(), *n = base(), *doc;
	json_t *down = json_pack("{s:b, s:b}", "active", 0, "training", 0);

	json_object_set(dev(n, "0000:00:1c.0"), "link_state", down);
	json_object_set_new(dev(n, "0000:02:00.0"), "responds", json_false());
	doc = diff(o, n);
	cr_assert_eq(faults_of(doc, "link"), 1, "%s", json_dumps(doc, 0));
	json_decref(doc);
	o = base();
	n = base();
	json_object_set(dev(n, "0000:00:1c.0"), "link_state", down);
	json_object_set_new(dev(n, "0000:02:00.0"), "responds", json_true());
	doc = diff(o, n);
	cr_assert_eq(faults_of(doc, "link"), 0);
	json_decref(doc);
	o = base();
	n = base();
	json_object_set(dev(o, "0000:00:1c.0"), "link_state", down);
	json_object_set_new(dev(o, "0000:02:00.0"), "responds", json_false());
	json_object_set(dev(n, "0000:00:1c.0"), "link_state", down);
	json_object_set_new(dev(n, "0000:02:00.0"), "responds", json_false());
	doc = diff(o, n);
	cr_assert_eq(faults_of(doc, "link"), 0);
	json_decref(doc);
	json_decref(down);
}

/* The faults of the passthrough paths going silent in the same change that turns reporting off
 * (pci=noaer): the hidden fault says the silence is not a fix; without faults before, not. */
Test(diff, faults_silenced_by_noaer_are_named)
{
	json_t *o = base(), *n = base(), *doc, *f;
	size_t i;
	bool said = false;

	json_object_set_new(
	    dev(o, "0000:02:00.0"), "aer",
	    json_pack("{s:i, s:i, s:i}", "correctable", 0, "nonfatal", 2, "fatal", 0));
	json_object_set_new(json_object_get(json_object_get(n, "kernel"), "cmdline_options"), "pci",
	                    json_string("noaer"));
	doc = diff(o, n);
	json_array_foreach (json_object_get(doc, "faults"), i, f)
		said |= !strcmp(snap_json__str(f, "subject"), "pci=noaer") &&
		        strstr(snap_json__str(f, "message"),
		               "OLD showed 2 uncorrectable fault(s) on those paths and NEW none") !=
		            NULL;
	cr_assert(said, "%s", json_dumps(json_object_get(doc, "faults"), 0));
	json_decref(doc);
	o = base();
	n = base();
	json_object_set_new(json_object_get(json_object_get(n, "kernel"), "cmdline_options"), "pci",
	                    json_string("noaer"));
	doc = diff(o, n);
	cr_assert_eq(faults_of(doc, "hidden"), 1);
	json_array_foreach (json_object_get(doc, "faults"), i, f)
		cr_assert_null(strstr(snap_json__str(f, "message"), "OLD showed"));
	json_decref(doc);
}

/* AER the firmware kept through _OSC (negotiate_os_control()'s line): WARN, hidden; granted, or
 * pcie_ports=native, nothing. */
Test(check, aer_kept_by_the_firmware_is_named_as_hiding)
{
	json_t *r = base(), *lines;
	char *text;

	lines =
	    json_object_get(json_object_get(json_object_get(r, "evidence"), "kernel_log"), "lines");
	cr_assert(json_is_array(lines));
	json_array_append_new(lines,
	                      json_string("acpi PNP0A08:00: _OSC: OS now controls "
	                                  "[PCIeHotplug SHPCHotplug PME PCIeCapability LTR]"));
	text = check_text(r);
	cr_assert_not_null(strstr(text,
	                          "WARN  fault_reporting  _OSC (the kernel log): the firmware "
	                          "kept AER"),
	                   "%s", text);
	free(text);
	json_object_set_new(json_object_get(json_object_get(r, "kernel"), "cmdline_options"),
	                    "pcie_ports", json_string("native"));
	text = check_text(r);
	cr_assert_null(strstr(text, "_OSC"), "%s", text);
	free(text);
	/* pci=noaer: the OS did not ask for AER (the real-kernel lab's grant lacks it); the
	 * command line is named, not the firmware */
	json_object_set_new(json_object_get(json_object_get(r, "kernel"), "cmdline_options"),
	                    "pcie_ports", json_null());
	json_object_set_new(json_object_get(json_object_get(r, "kernel"), "cmdline_options"), "pci",
	                    json_string("noaer"));
	text = check_text(r);
	cr_assert_null(strstr(text, "_OSC"), "%s", text);
	cr_assert_not_null(strstr(text, "pci=noaer"), "%s", text);
	free(text);
	json_object_set_new(json_object_get(json_object_get(r, "kernel"), "cmdline_options"), "pci",
	                    json_null());
	json_object_del(json_object_get(json_object_get(r, "kernel"), "cmdline_options"),
	                "pcie_ports");
	json_array_clear(lines);
	json_array_append_new(lines, json_string("acpi PNP0A08:00: _OSC: OS now controls "
	                                         "[PCIeHotplug SHPCHotplug PME AER PCIeCapability "
	                                         "LTR DPC]"));
	text = check_text(r);
	cr_assert_null(strstr(text, "_OSC"), "%s", text);
	free(text);
	json_decref(r);
}

/* Errors logged under the AER mask on the path: WARN, named as aer.c names them; an
 * Unsupported Request alone (masked by firmware because probing answers with one) says nothing. */
Test(check, masked_errors_warn_but_not_unsupported_request_alone)
{
	json_t *r = base();
	char *text;

	json_object_set_new(dev(r, "0000:00:1c.0"), "aer_regs",
	                    json_pack("{s:s, s:s, s:s, s:s, s:s}", "uncor_status", "00100000",
	                              "uncor_mask", "00100000", "uncor_severity", "00462030",
	                              "cor_status", "00000000", "cor_mask", "00002000"));
	text = check_text(r);
	cr_assert_null(strstr(text, "aer_masked"), "%s", text);
	free(text);
	json_object_set_new(dev(r, "0000:00:1c.0"), "aer_regs",
	                    json_pack("{s:s, s:s, s:s, s:s, s:s}", "uncor_status", "00104000",
	                              "uncor_mask", "00104000", "uncor_severity", "00462030",
	                              "cor_status", "00000000", "cor_mask", "00002000"));
	text = check_text(r);
	cr_assert_not_null(strstr(text, "port 0000:00:1c.0 (CmpltTO)"), "%s", text);
	free(text);
	json_decref(r);
}
