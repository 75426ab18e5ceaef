/* SPDX-License-Identifier: GPL-2.0-or-later */
/* Parsers of what the collector reads, on real samples where there are any. */
#include <criterion/criterion.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "collect/collect.h"

static char *slurp(const char *rel)
{
	char path[1024], *buf;
	FILE *f;
	long n;

	snprintf(path, sizeof(path), "%s/%s", SNAP_TEST_DATA, rel);
	f = fopen(path, "rb");
	cr_assert_not_null(f, "cannot open %s", path);
	fseek(f, 0, SEEK_END);
	n = ftell(f);
	rewind(f);
	buf = malloc((size_t)n + 1);
	cr_assert_eq(fread(buf, 1, (size_t)n, f), (size_t)n);
	buf[n] = '\0';
	fclose(f);
	return buf;
}

Test(parse, cmdline_splits_quotes_and_keeps_order)
{
	json_t *t = snap_parse__cmdline("ro  quiet intel_iommu=on \"foo=bar baz\" x=\"a b\" flag");

	cr_assert_eq(json_array_size(t), 6);
	cr_assert_str_eq(snap_json__str(json_array_get(t, 0), "key"), "ro");
	cr_assert(json_is_null(json_object_get(json_array_get(t, 0), "value")));
	cr_assert_str_eq(snap_json__str(json_array_get(t, 2), "value"), "on");
	cr_assert_str_eq(snap_json__str(json_array_get(t, 3), "value"), "bar baz");
	cr_assert_str_eq(snap_json__str(json_array_get(t, 4), "value"), "a b");
	json_decref(t);
}

Test(parse, cmdline_options_typed_dash_underscore_and_accumulated)
{
	json_t *t =
	    snap_parse__cmdline("intel_iommu=off intel_iommu=on vfio_pci.ids=10de:1e87,10de:10f8 "
	                        "pcie_acs_override=downstream,multifunction nointremap "
	                        "vfio-iommu-type1.allow-unsafe-interrupts=1");
	json_t *o = snap_parse__cmdline_options(t);

	/* every occurrence, in order: intel_iommu_setup() sees them all */
	cr_assert_str_eq(snap_json__str(o, "intel_iommu"), "off,on");
	cr_assert_eq(json_array_size(json_object_get(o, "vfio-pci.ids")), 2);
	cr_assert_str_eq(json_string_value(json_array_get(json_object_get(o, "vfio-pci.ids"), 1)),
	                 "10de:10f8");
	cr_assert_str_eq(snap_json__str(o, "pcie_acs_override"), "downstream,multifunction");
	cr_assert_str_eq(snap_json__str(o, "intremap"), "off");
	cr_assert_str_eq(snap_json__str(o, "vfio_iommu_type1.allow_unsafe_interrupts"), "1");
	cr_assert(json_is_null(json_object_get(o, "amd_iommu")));
	json_decref(o);
	json_decref(t);
}

Test(parse, cmdline_real_sample)
{
	char *text = slurp("realdata/cmdline-procfs");
	json_t *t = snap_parse__cmdline(text);

	cr_assert_eq(json_array_size(t), 6);
	cr_assert_str_eq(snap_json__str(json_array_get(t, 5), "key"), "vt.handoff");
	json_decref(t);
	free(text);
}

Test(parse, link_speed_both_sysfs_formats)
{
	const char *in[] = {"8.0 GT/s PCIe", "8 GT/s", "2.5 GT/s", "16.0 GT/s PCIe", "5 GT/s\n"};
	const char *out[] = {"8.0 GT/s", "8.0 GT/s", "2.5 GT/s", "16.0 GT/s", "5.0 GT/s"};

	for (size_t i = 0; i < 5; i++) {
		char *s = snap_parse__link_speed(in[i]);

		cr_assert_str_eq(s, out[i]);
		free(s);
	}
	cr_assert_null(snap_parse__link_speed("Unknown"));
	cr_assert_null(snap_parse__link_speed("Unknown speed"));
	cr_assert_null(snap_parse__link_speed(""));
}

Test(parse, hex_attr_rejects_garbage)
{
	unsigned long v;

	cr_assert_eq(snap_parse__hex_attr(&v, "0x10de\n"), 0);
	cr_assert_eq(v, 0x10de);
	cr_assert_eq(snap_parse__hex_attr(&v, "garbage"), -1);
	cr_assert_eq(snap_parse__hex_attr(&v, "0x10de junk"), -1);
	cr_assert_eq(snap_parse__hex_attr(&v, ""), -1);
}

Test(parse, pci_address_forms)
{
	bool whole;
	char *a = snap_parse__pci_address("01:00", &whole);

	cr_assert_str_eq(a, "0000:01:00");
	cr_assert(whole);
	free(a);
	a = snap_parse__pci_address("0000:41:00.2", &whole);
	cr_assert_str_eq(a, "0000:41:00.2");
	cr_assert_not(whole);
	free(a);
	cr_assert_null(snap_parse__pci_address("01:00.9", NULL));
	cr_assert_null(snap_parse__pci_address("zz", NULL));
	cr_assert_null(snap_parse__pci_address("0000:01:40.0", NULL));
}

Test(parse, interrupts_old_kernel_ir_format)
{
	char *text = slurp("realdata/interrupts-x86-ir");
	json_t *o = snap_parse__interrupts(text);

	cr_assert_gt(json_integer_value(json_object_get(o, "remapped")), 0);
	cr_assert_eq(json_integer_value(json_object_get(o, "not_remapped")), 0);
	json_decref(o);
	free(text);
}

Test(parse, interrupts_without_remapping)
{
	char *text = slurp("realdata/interrupts-procfs");
	json_t *o = snap_parse__interrupts(text);

	cr_assert_eq(json_integer_value(json_object_get(o, "remapped")), 0);
	cr_assert_gt(json_integer_value(json_object_get(o, "not_remapped")), 0);
	json_decref(o);
	free(text);
}

Test(parse, interrupts_arm64_its)
{
	char *text = slurp("realdata/interrupts-aarch64");
	json_t *o = snap_parse__interrupts(text);

	cr_assert_gt(json_integer_value(json_object_get(o, "its")), 0);
	json_decref(o);
	free(text);
}

Test(parse, interrupts_per_device_msix_domains)
{
	const char *text = "           CPU0       CPU1\n"
	                   " 120:  5  0  IR-PCI-MSIX-0000:01:00.0    0-edge      vfio-msix[0]\n"
	                   " 121:  5  0  PCI-MSIX-0000:02:00.0    0-edge      nvme0q0\n"
	                   " NMI:  0  0  Non-maskable interrupts\n";
	json_t *o = snap_parse__interrupts(text);

	cr_assert_eq(json_integer_value(json_object_get(o, "remapped")), 1);
	cr_assert_eq(json_integer_value(json_object_get(o, "not_remapped")), 1);
	cr_assert_str_eq(
	    json_string_value(json_array_get(json_object_get(o, "unremapped_devices"), 0)),
	    "0000:02:00.0");
	json_decref(o);
}

Test(parse, kernel_log_verdicts_and_prefixes)
{
	json_t *o =
	    snap_parse__kernel_log("[    0.012345] DMAR: IOMMU enabled\n"
	                           "6,339,5140900,-;DMAR-IR: Enabled IRQ remapping in x2apic mode\n"
	                           "[    1.000000] usb 1-1: new device\n",
	                           100);

	cr_assert_str_eq(snap_json__str(o, "irq_remapping"), "enabled");
	cr_assert_eq(json_array_size(json_object_get(o, "lines")), 2);
	cr_assert_str_eq(json_string_value(json_array_get(json_object_get(o, "lines"), 1)),
	                 "DMAR-IR: Enabled IRQ remapping in x2apic mode");
	json_decref(o);
	o = snap_parse__kernel_log(
	    "DMAR-IR: This system BIOS has enabled interrupt remapping\n on a chipset "
	    "that contains an erratum making that\n feature unstable.  To maintain system "
	    "stability\n interrupt remapping is being disabled.  Please\n",
	    100);
	cr_assert_str_eq(snap_json__str(o, "irq_remapping"), "disabled");
	json_decref(o);
	o = snap_parse__kernel_log("AMD-Vi: Interrupt remapping enabled\n", 100);
	cr_assert_str_eq(snap_json__str(o, "irq_remapping"), "enabled");
	json_decref(o);
	o = snap_parse__kernel_log("DMAR-IR: Failed to enable irq remapping.\n", 100);
	cr_assert_str_eq(snap_json__str(o, "irq_remapping"), "disabled");
	json_decref(o);
}

Test(parse, proxmox_hostpci_forms_and_snapshot_sections)
{
	json_t *vm = snap_parse__proxmox("name: win11\nhostpci0: 0000:01:00,pcie=1,x-vga=1\n"
	                                 "hostpci1: host=02:00.0;02:00.1,rombar=0\n"
	                                 "hostpci2: mapping=gpu1,pcie=1\n"
	                                 "[snap1]\nhostpci3: 05:00.0\n",
	                                 "100", "etc/pve/qemu-server/100.conf");
	json_t *hd = json_object_get(vm, "hostdevs");

	cr_assert_str_eq(snap_json__str(vm, "name"), "win11");
	cr_assert_eq(json_array_size(hd), 3);
	cr_assert_str_eq(json_string_value(json_array_get(
	                     json_object_get(json_array_get(hd, 0), "addresses"), 0)),
	                 "0000:01:00");
	cr_assert_str_eq(snap_json__str(json_array_get(hd, 0), "options"), "pcie=1,x-vga=1");
	cr_assert_eq(json_array_size(json_object_get(json_array_get(hd, 1), "addresses")), 2);
	cr_assert_str_eq(json_string_value(json_array_get(
	                     json_object_get(json_array_get(hd, 1), "addresses"), 1)),
	                 "0000:02:00.1");
	cr_assert_str_eq(snap_json__str(json_array_get(hd, 2), "mapping"), "gpu1");
	json_decref(vm);
}

/* SR-IOV VFs are passed as <interface type='hostdev'>: a hostdev all the same. */
Test(parse, libvirt_interface_hostdev_counts)
{
	json_t *vm = snap_parse__libvirt(
	    "<?xml version='1.0'?>\n<domain type='kvm'>\n  <name>nfv-01</name>\n  <devices>\n"
	    "    <interface type='hostdev' managed='yes'>\n      <mac "
	    "address='52:54:00:6d:90:02'/>\n"
	    "      <source>\n        <address type='pci' domain='0x0000' bus='0x3b' slot='0x02'"
	    " function='0x1'/>\n      </source>\n    </interface>\n"
	    "    <interface type='network'><source network='default'/></interface>\n"
	    "    <hostdev mode='subsystem' type='pci' managed='yes'><source>"
	    "<address domain='0x0000' bus='0x41' slot='0x00' function='0x0'/></source></hostdev>\n"
	    "  </devices>\n</domain>\n",
	    "etc/libvirt/qemu/nfv-01.xml");
	json_t *hd = json_object_get(vm, "hostdevs");

	cr_assert_not_null(vm);
	cr_assert_str_eq(snap_json__str(vm, "name"), "nfv-01");
	cr_assert_eq(json_array_size(hd), 2);
	cr_assert_str_eq(snap_json__str(json_array_get(hd, 0), "key"), "interface0");
	cr_assert_str_eq(json_string_value(json_array_get(
	                     json_object_get(json_array_get(hd, 0), "addresses"), 0)),
	                 "0000:3b:02.1");
	cr_assert_str_eq(snap_json__str(json_array_get(hd, 1), "key"), "hostdev0");
	json_decref(vm);
}

/* Not well-formed, not a domain, or an entity that reaches out: no VM, nothing read. */
Test(parse, libvirt_refuses_what_is_not_a_domain)
{
	cr_assert_null(snap_parse__libvirt("<domain><name>x</name><devices>", "f.xml"));
	cr_assert_null(snap_parse__libvirt("<network><name>default</name></network>", "f.xml"));
	cr_assert_null(snap_parse__libvirt("", "f.xml"));
	{
		/* an external entity is not fetched or expanded: the name is not the file */
		json_t *vm = snap_parse__libvirt("<?xml version='1.0'?><!DOCTYPE domain [<!ENTITY "
		                                 "x SYSTEM 'file:///etc/passwd'>]>"
		                                 "<domain><name>&x;</name><devices/></domain>",
		                                 "f.xml");
		const char *name = vm ? snap_json__str(vm, "name") : NULL;

		cr_assert(!name || !strstr(name, "root:"), "%s", name);
		json_decref(vm);
	}
}

Test(parse, libvirt_hostdev_skips_comments_and_non_pci)
{
	json_t *vm = snap_parse__libvirt(
	    "<domain type='kvm'><name>db01</name><devices>"
	    "<!-- <hostdev type='pci'><source><address domain='0' bus='9' slot='0' "
	    "function='0'/></source></hostdev> -->"
	    "<hostdev mode='subsystem' type='usb'><source><vendor id='0x1'/></source></hostdev>"
	    "<hostdev mode=\"subsystem\" type=\"pci\" managed=\"yes\"><source>"
	    "<address domain=\"0x0000\" bus=\"0x41\" slot=\"0x00\" function=\"0x2\"/></source>"
	    "<address type='pci' domain='0x0000' bus='0x07' slot='0x00' function='0x0'/>"
	    "</hostdev></devices></domain>",
	    "etc/libvirt/qemu/db01.xml");
	json_t *hd = json_object_get(vm, "hostdevs");

	cr_assert_str_eq(snap_json__str(vm, "name"), "db01");
	cr_assert_eq(json_array_size(hd), 1);
	cr_assert_str_eq(json_string_value(json_array_get(
	                     json_object_get(json_array_get(hd, 0), "addresses"), 0)),
	                 "0000:41:00.2");
	json_decref(vm);
}

Test(parse, utf8_escape_keeps_valid_text_and_escapes_the_rest)
{
	static const struct {
		const char *in, *out;
		int rc;
	} cases[] = {
	    {"plain ascii", "plain ascii", 0},
	    {"caf\xc3\xa9 a\\b", "caf\xc3\xa9 a\\b", 0},          /* valid: backslash kept */
	    {"caf\xe9 a\\b", "caf\\xe9 a\\x5cb", 1},              /* Latin-1: all escaped */
	    {"\xc0\xaf", "\\xc0\\xaf", 1},                        /* overlong '/' */
	    {"\xed\xa0\x80", "\\xed\\xa0\\x80", 1},               /* surrogate */
	    {"\xf4\x90\x80\x80", "\\xf4\\x90\\x80\\x80", 1},      /* above U+10FFFF */
	    {"ok \xe2\x82\xac \xff", "ok \xe2\x82\xac \\xff", 1}, /* valid kept beside invalid */
	    {"cut \xe2\x82", "cut \\xe2\\x82", 1},                /* truncated sequence */
	};

	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		char *t = strdup(cases[i].in);

		cr_assert_eq(snap_parse__utf8_escape(&t), cases[i].rc, "case %zu", i);
		cr_assert_str_eq(t, cases[i].out, "case %zu", i);
		free(t);
	}
}

/* proc/iomem as r_show() prints it: the firmware framebuffer's outermost region inside a BAR
 * (named by its device), nested requests of the same memory not again, other owners not at
 * all; every address 0 (read without CAP_SYS_ADMIN) is unknown, not "none". */
Test(parse, iomem_framebuffer_inside_a_bar)
{
	const char *text = "80000000-dfffffff : PCI Bus 0000:00\n"
	                   "  c0000000-d1ffffff : PCI Bus 0000:01\n"
	                   "    c0000000-cfffffff : 0000:01:00.0\n"
	                   "      c0000000-c07e8fff : BOOTFB\n"
	                   "        c0000000-c07e8fff : simpledrm\n"
	                   "    d0000000-d1ffffff : 0000:01:00.0\n"
	                   "  df100000-df1fffff : PCI Bus 0000:02\n"
	                   "    df100000-df10ffff : 0000:02:00.0\n"
	                   "      df100000-df10ffff : mpt3sas\n"
	                   "fd000000-fdffffff : BOOTFB\n";
	json_t *c = snap_iomem__claims(text);

	cr_assert_eq(json_array_size(c), 1, "%s", json_dumps(c, 0));
	cr_assert_str_eq(json_string_value(json_object_get(json_array_get(c, 0), "device")),
	                 "0000:01:00.0");
	cr_assert_str_eq(json_string_value(json_object_get(json_array_get(c, 0), "owner")),
	                 "BOOTFB");
	cr_assert_str_eq(json_string_value(json_object_get(json_array_get(c, 0), "start")),
	                 "c0000000");
	json_decref(c);
	c = snap_iomem__claims("00000000-00000000 : PCI Bus 0000:00\n"
	                       "  00000000-00000000 : 0000:01:00.0\n"
	                       "    00000000-00000000 : BOOTFB\n");
	cr_assert(json_is_null(c));
	json_decref(c);
	c = snap_iomem__claims("c0000000-cfffffff : 0000:01:00.0\n");
	cr_assert(json_is_array(c) && json_array_size(c) == 0);
	json_decref(c);
}

/* negotiate_os_control()'s _OSC lines are kept (what the firmware granted decides whether AER
 * is native), also when they do not name AER */
Test(parse, kernel_log_keeps_osc_lines)
{
	json_t *log = snap_parse__kernel_log(
	    "[    0.5] acpi PNP0A08:00: _OSC: OS now controls [PCIeHotplug SHPCHotplug PME "
	    "PCIeCapability LTR]\n[    0.6] usb 1-1: new high-speed USB device\n",
	    400);
	const json_t *lines = json_object_get(log, "lines");

	cr_assert_eq(json_array_size(lines), 1, "%s", json_dumps(log, 0));
	cr_assert_not_null(strstr(json_string_value(json_array_get(lines, 0)), "_OSC: OS now"));
	json_decref(log);
}
