/* SPDX-License-Identifier: GPL-2.0-or-later */
/* Config-space decoding through libpci: what 64, 256 and 4096 readable bytes can tell. */
#include <criterion/criterion.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <pci/pci.h>

#include "collect/collect.h"

static struct snap_pci *pacc;

static void setup(void)
{
	snap_error err = {0};

	pacc = snap_pci__access_new("/nonexistent/sys/bus/pci", NULL, NULL, &err);
	cr_assert_not_null(pacc, "%s", err.message);
}

static void teardown(void)
{
	snap_pci__access_free(pacc);
}

TestSuite(pci, .init = setup, .fini = teardown);

static void put16(uint8_t *c, int off, unsigned v)
{
	c[off] = v & 0xff;
	c[off + 1] = (v >> 8) & 0xff;
}

static void put32(uint8_t *c, int off, unsigned v)
{
	put16(c, off, v & 0xffff);
	put16(c, off + 2, v >> 16);
}

/* A PCIe root port with FLR, ACS (cap SV RR CR UF, ctl SV RR) and a DSN. */
static void root_port(uint8_t *c)
{
	memset(c, 0, 4096);
	put16(c, 0, 0x8086);
	put16(c, 2, 0x1901);
	put16(c, 6, 0x0010);
	c[0x0b] = 0x06;
	c[0x0a] = 0x04;
	c[0x0e] = 0x81; /* bridge, multifunction */
	c[0x19] = 1;
	c[0x1a] = 1;
	c[0x34] = 0x40;
	c[0x40] = 0x10;
	put16(c, 0x42, 0x0002 | (4 << 4));
	put32(c, 0x44, 0x10000000);
	put32(c, 0x4c, 3 | (16 << 4));
	put16(c, 0x52, 2 | (8 << 4));
	put32(c, 0x6c, 0x0e); /* Link Capabilities 2: 2.5, 5.0 and 8.0 GT/s */
	put32(c, 0x100, 0x000d | (1 << 16) | (0x110 << 20));
	put16(c, 0x104, 0x1d);
	put16(c, 0x106, 0x05);
	put32(c, 0x110, 0x0003 | (1 << 16));
	put32(c, 0x114, 0x44332211);
	put32(c, 0x118, 0x88776655);
}

static json_t *decode(uint8_t *cfg, int len)
{
	json_t *obj = json_object();

	cr_assert_eq(snap_pci__decode_config(obj, pacc, 0, 0, 1, 0, cfg, (size_t)len, NULL), 0);
	return obj;
}

Test(pci, full_config_decodes_acs_flr_dsn_link)
{
	uint8_t cfg[4096];
	json_t *o, *acs;

	root_port(cfg);
	o = decode(cfg, 4096);
	cr_assert_str_eq(snap_json__str(o, "pcie_type"), "root_port");
	cr_assert(json_is_true(json_object_get(o, "flr")));
	cr_assert(json_is_true(json_object_get(o, "multifunction")));
	acs = json_object_get(o, "acs");
	cr_assert(json_is_true(json_object_get(acs, "present")));
	cr_assert_eq(json_array_size(json_object_get(acs, "cap")), 4); /* SV RR CR UF */
	cr_assert_str_eq(json_string_value(json_array_get(json_object_get(acs, "ctl"), 1)), "RR");
	cr_assert_eq(json_array_size(json_object_get(acs, "ctl")), 2);
	cr_assert_str_eq(snap_json__str(o, "dsn"), "88-77-66-55-44-33-22-11");
	cr_assert_str_eq(snap_json__str(json_object_get(o, "link_config"), "max_speed"),
	                 "8.0 GT/s");
	cr_assert_eq(
	    json_integer_value(json_object_get(json_object_get(o, "link_config"), "cur_width")), 8);
	cr_assert_eq(
	    json_integer_value(json_object_get(json_object_get(o, "bridge"), "secondary_bus")), 1);
	json_decref(o);
}

/* The link as the kernel's sysfs attributes compute it (pcie_get_speed_cap() and friends). */
static const char *max_speed_of(unsigned vers, unsigned lnkcap, unsigned lnkcap2)
{
	static char out[32];
	uint8_t cfg[4096];
	json_t *o, *link;

	root_port(cfg);
	put16(cfg, 0x42, vers | (4 << 4));
	put32(cfg, 0x4c, lnkcap);
	put32(cfg, 0x6c, lnkcap2);
	o = decode(cfg, 4096);
	link = json_object_get(o, "link_config");
	snprintf(out, sizeof(out), "%s",
	         !json_is_object(link) ? "no link"
	         : json_is_string(json_object_get(link, "max_speed"))
	             ? snap_json__str(link, "max_speed")
	             : "unknown");
	json_decref(o);
	return out;
}

Test(pci, link_speed_is_the_kernels)
{
	/* the vector of Link Capabilities 2 wins, whatever Link Capabilities says */
	cr_assert_str_eq(max_speed_of(2, 1 | (4 << 4), 0x1e), "16.0 GT/s");
	/* a vector naming no speed: unknown, not Link Capabilities' field */
	cr_assert_str_eq(max_speed_of(2, 2 | (4 << 4), 0x100), "unknown");
	/* no vector: Link Capabilities, which names only 2.5 and 5.0 GT/s */
	cr_assert_str_eq(max_speed_of(2, 2 | (4 << 4), 0), "5.0 GT/s");
	cr_assert_str_eq(max_speed_of(2, 3 | (4 << 4), 0), "unknown");
	/* a version 1 capability has no Link Capabilities 2: its bytes are not read */
	cr_assert_str_eq(max_speed_of(1, 1 | (4 << 4), 0x1e), "2.5 GT/s");
}

Test(pci, link_registers_all_zero_is_no_link)
{
	uint8_t cfg[4096];
	json_t *o;

	root_port(cfg); /* as a VF's reserved link registers read */
	put32(cfg, 0x4c, 0);
	put16(cfg, 0x52, 0);
	put32(cfg, 0x6c, 0);
	o = decode(cfg, 4096);
	cr_assert(json_is_null(json_object_get(o, "link_config")));
	json_decref(o);
}

Test(pci, header_only_config_is_unknown_not_absent)
{
	uint8_t cfg[4096];
	json_t *o;

	root_port(cfg);
	o = decode(cfg, 64);
	cr_assert(json_is_null(json_object_get(o, "acs")));
	cr_assert(json_is_null(json_object_get(o, "flr")));
	cr_assert(json_is_null(json_object_get(o, "pcie_type")));
	cr_assert_str_eq(snap_json__str(o, "vendor"), "8086"); /* the header is known */
	json_decref(o);
}

Test(pci, no_extended_space_leaves_acs_unknown)
{
	uint8_t cfg[4096];
	json_t *o;

	root_port(cfg);
	o = decode(cfg, 256);
	cr_assert(json_is_null(json_object_get(o, "acs")));
	cr_assert(json_is_true(json_object_get(o, "flr")));
	cr_assert_str_eq(snap_json__str(o, "pcie_type"), "root_port");
	json_decref(o);
}

Test(pci, conventional_device_has_no_acs_and_af_flr)
{
	uint8_t cfg[256];
	json_t *o;

	memset(cfg, 0, sizeof(cfg));
	put16(cfg, 0, 0x8086);
	put16(cfg, 2, 0x0d4c);
	put16(cfg, 6, 0x0010);
	cfg[0x34] = 0x80;
	cfg[0x80] = 0x13; /* Advanced Features */
	cfg[0x82] = 0x06;
	cfg[0x83] = 0x03; /* TP, FLR */
	o = decode(cfg, 256);
	cr_assert_str_eq(snap_json__str(o, "pcie_type"), "conventional");
	cr_assert(json_is_true(json_object_get(o, "flr")));
	cr_assert(json_is_false(json_object_get(json_object_get(o, "acs"), "present")));
	json_decref(o);
}

Test(pci, truncated_config_below_header_is_all_unknown)
{
	uint8_t cfg[4096];
	json_t *o;

	root_port(cfg);
	o = decode(cfg, 3);
	cr_assert(json_is_null(json_object_get(o, "acs")));
	cr_assert(json_is_null(json_object_get(o, "multifunction")));
	json_decref(o);
}

Test(pci, missing_dump_file_is_an_error_not_an_exit)
{
	snap_error err = {0};
	struct snap_pci *p = snap_pci__access_new(NULL, "/nonexistent/dump", NULL, &err);
	json_t *devices = json_array();

	/* libpci reports the missing dump through its error hook: we must get control back */
	if (p) {
		uint8_t cfg[64] = {0x86, 0x80};
		json_t *obj = json_object();
		snap_error again = {0};

		cr_assert_lt(snap_pci__collect_dump(devices, p, NULL, &err), 0);
		/* the handle is abandoned: later calls answer the error, never touch it */
		cr_assert_lt(snap_pci__decode_config(obj, p, 0, 0, 0, 0, cfg, 64, &again), 0);
		cr_assert_str_eq(again.message, err.message);
		cr_assert_lt(snap_pci__collect_dump(devices, p, NULL, &again), 0);
		snap_pci__access_free(p);
		json_decref(obj);
	}
	cr_assert_neq(err.message[0], '\0');
	json_decref(devices);
}

/* An endpoint PF at 0000:bus:dev.fn with an SR-IOV capability at 0x100. */
static void sriov_pf(uint8_t *c, unsigned ctrl, unsigned num, unsigned offset, unsigned stride)
{
	memset(c, 0, 4096);
	put16(c, 0, 0x15b3);
	put16(c, 2, 0x101d);
	put16(c, 6, 0x0010);
	c[0x0b] = 0x02;
	c[0x34] = 0x40;
	c[0x40] = 0x10;
	put16(c, 0x42, 0x0002); /* PCIe endpoint */
	put32(c, 0x100, 0x0010 | (1 << 16));
	put16(c, 0x108, ctrl);
	put16(c, 0x10e, 8);
	put16(c, 0x110, num);
	put16(c, 0x114, offset);
	put16(c, 0x116, stride);
	put16(c, 0x11a, 0x101e);
}

static json_t *vf_addresses(unsigned bus, unsigned dev, unsigned fn, const uint8_t *cfg)
{
	json_t *obj = json_object();

	cr_assert_eq(snap_pci__decode_config(obj, pacc, 0, bus, dev, fn, cfg, 4096, NULL), 0);
	return obj;
}

Test(pci, vf_addresses_are_the_kernels_virtfn_bus_and_devfn)
{
	uint8_t cfg[4096];
	json_t *obj, *a;

	/* offset 0x80, stride 2: 03:10.0, 03:10.2, 03:10.4 (pci_iov_virtfn_devfn) */
	sriov_pf(cfg, 0x0009, 3, 0x80, 2);
	obj = vf_addresses(3, 0, 0, cfg);
	a = json_object_get(obj, SNAP_PCI_VF_ADDRESSES);
	cr_assert_eq(json_array_size(a), 3);
	cr_assert_str_eq(json_string_value(json_array_get(a, 0)), "0000:03:10.0");
	cr_assert_str_eq(json_string_value(json_array_get(a, 2)), "0000:03:10.4");
	json_decref(obj);

	/* a PF at function 1: its routing id counts, and the devfn carries into the bus */
	sriov_pf(cfg, 0x0001, 2, 0xfe, 1);
	obj = vf_addresses(5, 0, 1, cfg);
	a = json_object_get(obj, SNAP_PCI_VF_ADDRESSES);
	cr_assert_eq(json_array_size(a), 2);
	cr_assert_str_eq(json_string_value(json_array_get(a, 0)), "0000:05:1f.7");
	cr_assert_str_eq(json_string_value(json_array_get(a, 1)), "0000:06:00.0");
	json_decref(obj);
}

Test(pci, vf_enable_clear_places_no_vfs)
{
	uint8_t cfg[4096];
	json_t *obj;

	/* NumVFs written but VF Enable clear: the kernel added no VF */
	sriov_pf(cfg, 0x0000, 4, 1, 1);
	obj = vf_addresses(3, 0, 0, cfg);
	cr_assert_null(json_object_get(obj, SNAP_PCI_VF_ADDRESSES));
	cr_assert_not_null(json_object_get(obj, "sriov"));
	json_decref(obj);
}

/* A pci.ids of the given text in a temporary file; its path in path (freed by the caller). */
static char *ids_file(const char *text)
{
	char *path = strdup("/tmp/pcisnap-ids-XXXXXX");
	int fd = mkstemp(path);
	size_t len = strlen(text);

	cr_assert_geq(fd, 0);
	cr_assert_eq(write(fd, text, len), (ssize_t)len);
	close(fd);
	return path;
}

static json_t *two_devices(void)
{
	return json_pack("[{s:s, s:s}, {s:s, s:s}, {s:s}]", "vendor", "8086", "device", "1901",
	                 "vendor", "1af4", "device", "1041", "vendor", "8086");
}

Test(pci, names_come_from_the_given_pci_ids)
{
	char *ids = ids_file("# comment\n8086  Intel Corporation\n\t1901  Xeon E3 PCIe Root Port\n"
	                     "1af4  Red Hat, Inc.\n");
	struct snap_pci *p = snap_pci__access_new("/nonexistent/sys/bus/pci", NULL, ids, NULL);
	snap_snapshot *s = snap_snapshot__new(json_object());
	json_t *devices = two_devices();

	cr_assert_not_null(p);
	snap_pci__name_devices(p, devices, s);
	cr_assert_str_eq(snap_json__str(json_array_get(devices, 0), "name"),
	                 "Intel Corporation Xeon E3 PCIe Root Port");
	/* a known vendor, an unknown device: no name (PCI_LOOKUP_NO_NUMBERS) */
	cr_assert(json_is_null(json_object_get(json_array_get(devices, 1), "name")));
	/* no device id: no name, and the key is there */
	cr_assert(json_is_null(json_object_get(json_array_get(devices, 2), "name")));
	cr_assert_eq(s->nwarnings, 0);
	snap_pci__access_free(p);
	snap_snapshot_free(s);
	json_decref(devices);
	unlink(ids);
	free(ids);
}

/* libpci's parser calls the error hook on a malformed pci.ids, on the loader's thread. */
Test(pci, malformed_pci_ids_loses_the_names_not_the_config)
{
	char *ids = ids_file("8086  Intel Corporation\n\t1901  Xeon\nzzzz not an id\n");
	snap_error err = {0};
	struct snap_pci *p = snap_pci__access_new("/nonexistent/sys/bus/pci", NULL, ids, &err);
	snap_snapshot *s = snap_snapshot__new(json_object());
	json_t *devices = two_devices(), *obj = json_object();
	uint8_t cfg[64] = {0x86, 0x80, 0x01, 0x19};

	cr_assert_not_null(p, "%s", err.message);
	snap_pci__name_devices(p, devices, s);
	for (size_t i = 0; i < json_array_size(devices); i++)
		cr_assert(json_is_null(json_object_get(json_array_get(devices, i), "name")));
	cr_assert_eq(s->nwarnings, 1);
	cr_assert_not_null(strstr(s->warnings[0], "pci.ids: "), "%s", s->warnings[0]);
	cr_assert_not_null(strstr(s->warnings[0], "line 3"), "%s", s->warnings[0]);
	/* the config handle is untouched by it */
	cr_assert_eq(snap_pci__decode_config(obj, p, 0, 0, 1, 0, cfg, sizeof(cfg), &err), 0, "%s",
	             err.message);
	cr_assert_str_eq(snap_json__str(obj, "vendor"), "8086");
	cr_assert_str_eq(snap_json__str(obj, "device"), "1901");
	snap_pci__access_free(p);
	snap_snapshot_free(s);
	json_decref(devices);
	json_decref(obj);
	unlink(ids);
	free(ids);
}

Test(pci, missing_pci_ids_leaves_names_unknown)
{
	struct snap_pci *p =
	    snap_pci__access_new("/nonexistent/sys/bus/pci", NULL, "/nonexistent/pci.ids", NULL);
	snap_snapshot *s = snap_snapshot__new(json_object());
	json_t *devices = two_devices();

	cr_assert_not_null(p);
	snap_pci__name_devices(p, devices, s);
	for (size_t i = 0; i < json_array_size(devices); i++)
		cr_assert(json_is_null(json_object_get(json_array_get(devices, i), "name")));
	cr_assert_eq(s->nwarnings, 0);
	snap_pci__access_free(p);
	snap_snapshot_free(s);
	json_decref(devices);
}

/* A handle freed while its names are still loading joins the loader first. */
Test(pci, freed_while_loading)
{
	for (int i = 0; i < 4; i++)
		snap_pci__access_free(
		    snap_pci__access_new("/nonexistent/sys/bus/pci", NULL, NULL, NULL));
}
