/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * Pure text parsers for what the collector reads: sysfs attribute values, the kernel command
 * line, /proc/interrupts, kernel log lines, modprobe.d, Proxmox and libvirt VM configurations.
 * No I/O here; each is unit-tested on real samples (tests/unit/test_parse.c).
 */
#include <ctype.h>
#include <errno.h>
#include <libxml/parser.h>
#include <libxml/tree.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "collect/collect.h"

char *snap_parse__link_speed(const char *s)
{
	char buf[32];
	const char *end;
	long v;

	while (isspace((unsigned char)*s))
		s++;
	if (!(*s >= '0' && *s <= '9'))
		return NULL;
	v = snap_parse__tenths(s, &end);
	if (v <= 0 || v > 10000)
		return NULL;
	while (*end == ' ')
		end++;
	if (strncmp(end, "GT/s", 4) != 0)
		return NULL;
	snprintf(buf, sizeof(buf), "%ld.%ld GT/s", v / 10, v % 10);
	return strdup(buf);
}

/* Compare kernel parameter names the way the kernel does: '-' and '_' are the same. */
static bool param_eq(const char *a, const char *b)
{
	for (; *a && *b; a++, b++) {
		char ca = *a == '-' ? '_' : *a, cb = *b == '-' ? '_' : *b;

		if (ca != cb)
			return false;
	}
	return *a == *b;
}

/*
 * Split a command line as the kernel's next_arg() does: blanks separate, double quotes group
 * (around the whole token or the value) and are removed.
 */
json_t *snap_parse__cmdline(const char *cmdline)
{
	json_t *tokens = json_array();
	const char *p = cmdline;

	if (!tokens)
		return NULL;
	for (;;) {
		snap_buf tok = SNAP_BUF_INIT;
		bool in_quote = false;
		char *t, *eq;
		json_t *o;

		while (*p && isspace((unsigned char)*p))
			p++;
		if (!*p)
			break;
		for (; *p && (in_quote || !isspace((unsigned char)*p)); p++) {
			if (*p == '"')
				in_quote = !in_quote;
			else
				snap_buf__put(&tok, p, 1);
		}
		if (!(t = snap_buf__detach(&tok)))
			goto oom;
		eq = strchr(t, '=');
		if (eq)
			*eq = '\0';
		o = json_pack("{s:s, s:o}", "key", t, "value",
		              eq ? json_string(eq + 1) : json_null());
		free(t);
		if (!o || json_array_append_new(tokens, o) < 0)
			goto oom;
	}
	return tokens;
oom:
	json_decref(tokens);
	return NULL;
}

/* Last value of parameter name (or "" for a bare flag); NULL if absent. */
static const char *cmdline_last(const json_t *tokens, const char *name, bool *present)
{
	const char *val = NULL;
	size_t i;
	json_t *t;

	*present = false;
	json_array_foreach (tokens, i, t) {
		const char *k = snap_json__str(t, "key");

		if (k && param_eq(k, name)) {
			const char *v = snap_json__str(t, "value");

			*present = true;
			val = v ? v : "";
		}
	}
	return val;
}

/* Split "a,b,c" into a JSON array of non-empty strings. */
static json_t *split_list(const char *s, const char *seps)
{
	json_t *arr = json_array();
	char *dup = strdup(s), *save = NULL, *tok;

	if (!arr || !dup) {
		free(dup);
		json_decref(arr);
		return NULL;
	}
	for (tok = strtok_r(dup, seps, &save); tok; tok = strtok_r(NULL, seps, &save)) {
		char *t = snap_parse__trim(tok);

		if (*t)
			json_array_append_new(arr, json_string(t));
	}
	free(dup);
	return arr;
}

/*
 * Every value of parameter name, in order, joined by commas (a bare flag adds ""; with alias,
 * a bare alias adds alias_value at its place); NULL if absent. For the options whose kernel
 * parser walks the comma-separated items of each occurrence and keeps what they set
 * (intel_iommu_setup(), parse_amd_iommu_options(), iommu_setup(), setup_irqremap()): the
 * joined list has the effect of all the occurrences.
 */
static char *cmdline_joined(const json_t *tokens, const char *name, const char *alias,
                            const char *alias_value)
{
	snap_buf b = SNAP_BUF_INIT;
	bool present = false;
	size_t i;
	json_t *t;

	json_array_foreach (tokens, i, t) {
		const char *k = snap_json__str(t, "key"), *v = snap_json__str(t, "value");

		if (k && param_eq(k, name))
			v = v ? v : "";
		else if (k && alias && param_eq(k, alias) && !v)
			v = alias_value;
		else
			continue;
		snap_buf__printf(&b, "%s%s", present ? "," : "", v);
		present = true;
	}
	if (!present)
		return NULL;
	return b.len ? snap_buf__detach(&b) : (snap_buf__release(&b), strdup(""));
}

json_t *snap_parse__cmdline_options(const json_t *tokens)
{
	/* the last occurrence decides (module and core parameters, kstrtobool early params) */
	static const char *const last[] = {
	    "iommu.passthrough",
	    "iommu.strict",
	    "pcie_acs_override",
	    "vfio_iommu_type1.allow_unsafe_interrupts",
	    "iommufd.allow_unsafe_interrupts",
	    "vfio.enable_unsafe_noiommu_mode",
	};
	/* every occurrence counts, item by item, in order */
	static const char *const joined[] = {"intel_iommu", "amd_iommu", "iommu",     "intremap",
	                                     "pci",         "pcie_aspm", "pcie_ports"};
	json_t *o = json_object();
	bool present;
	const char *v;

	if (!o)
		return NULL;
	for (size_t i = 0; i < SNAP_ARRAY_SIZE(last); i++) {
		v = cmdline_last(tokens, last[i], &present);
		json_object_set_new(o, last[i], present ? json_string(v) : json_null());
	}
	for (size_t i = 0; i < SNAP_ARRAY_SIZE(joined); i++) {
		/* the legacy x86 "nointremap" flag is intremap=off at its place */
		bool ir = !strcmp(joined[i], "intremap");
		char *all = cmdline_joined(tokens, joined[i], ir ? "nointremap" : NULL, "off");

		json_object_set_new(o, joined[i], all ? json_string(all) : json_null());
		free(all);
	}
	/* vfio-pci.ids and module_blacklist are string parameters: the last one is kept */
	v = cmdline_last(tokens, "vfio-pci.ids", &present);
	json_object_set_new(o, "vfio-pci.ids", present ? split_list(v, ",") : json_null());
	v = cmdline_last(tokens, "module_blacklist", &present);
	json_object_set_new(o, "module_blacklist", present ? split_list(v, ",") : json_null());
	/* libkmod adds each modprobe.blacklist= item to its blacklist
	 * (kmod_config_parse_kcmdline()): all of them apply */
	{
		char *all = cmdline_joined(tokens, "modprobe.blacklist", NULL, NULL);

		json_object_set_new(o, "modprobe.blacklist",
		                    all ? split_list(all, ",") : json_null());
		free(all);
	}
	return o;
}

/* True when the chip name is an interrupt remapping domain (x86 "IR-" prefix). */
static bool chip_is_msi_or_ioapic(const char *chip)
{
	return !strncmp(chip, "PCI-MSI", 7) || !strncmp(chip, "IO-APIC", 7);
}

/*
 * /proc/interrupts: count the IO-APIC and PCI-MSI chips that go through interrupt remapping
 * ("IR-IO-APIC", "IR-PCI-MSI", per-device "IR-PCI-MSIX-0000:01:00.0") and those that do not; on
 * arm64 an "ITS-MSI" chip is the GICv3 ITS, which isolates MSIs the same way.
 */
json_t *snap_parse__interrupts(const char *text)
{
	json_t *chips = json_object(), *plain_devs = json_array(), *o = NULL;
	long remapped = 0, plain = 0, its = 0;
	char *dup = strdup(text), *save = NULL, *line;
	int ncpu = 0;
	bool first = true;

	if (!chips || !plain_devs || !dup)
		goto done;
	for (line = strtok_r(dup, "\n", &save); line; line = strtok_r(NULL, "\n", &save)) {
		char *p = line, *colon, *tok, *tsave = NULL;
		int field = 0;

		if (first) { /* "           CPU0       CPU1 ..." */
			first = false;
			for (tok = strtok_r(p, " \t", &tsave); tok;
			     tok = strtok_r(NULL, " \t", &tsave))
				if (!strncmp(tok, "CPU", 3))
					ncpu++;
			continue;
		}
		while (isspace((unsigned char)*p))
			p++;
		colon = strchr(p, ':');
		if (!colon || !isdigit((unsigned char)*p))
			continue; /* NMI:, LOC:, ERR: ... */
		p = colon + 1;
		for (tok = strtok_r(p, " \t", &tsave); tok; tok = strtok_r(NULL, " \t", &tsave)) {
			const char *chip = tok;
			bool ir = false;

			if (field++ < ncpu && isdigit((unsigned char)*tok))
				continue;
			if (!strncmp(chip, "IR-", 3)) {
				ir = true;
				chip += 3;
			}
			if (!strncmp(chip, "ITS-", 4)) {
				its++;
			} else if (chip_is_msi_or_ioapic(chip)) {
				if (ir) {
					remapped++;
				} else {
					plain++;
					/* per-device MSI domains: PCI-MSIX-0000:01:00.0 */
					const char *dash = strrchr(chip, '-');

					if (!strncmp(chip, "PCI-MSI", 7) && dash &&
					    strchr(dash, ':'))
						json_array_append_new(plain_devs,
						                      json_string(dash + 1));
				}
			} else {
				break;
			}
			json_object_set_new(chips, tok, json_true());
			break;
		}
	}
	{
		json_t *names = json_array();
		const char *k;
		json_t *v;

		json_object_foreach (chips, k, v)
			json_array_append_new(names, json_string(k));
		o = json_pack("{s:I, s:I, s:I, s:o, s:O}", "remapped", (json_int_t)remapped,
		              "not_remapped", (json_int_t)plain, "its", (json_int_t)its, "chips",
		              names, "unremapped_devices", plain_devs);
	}
done:
	free(dup);
	json_decref(chips);
	json_decref(plain_devs);
	return o;
}

/* Remove "[    1.234567] " (dmesg) or "6,339,5140900,-;" (/dev/kmsg) prefixes. */
static const char *strip_log_prefix(const char *line)
{
	const char *p = line, *k;

	if ((k = strstr(p, "kernel: ")))
		p = k + 8; /* journalctl/syslog "host kernel: " */
	if (*p == '<') {   /* "<6>" priority */
		const char *e = strchr(p, '>');

		if (e && e - p <= 4)
			p = e + 1;
	}
	if (isdigit((unsigned char)*p)) {
		const char *semi = strchr(p, ';');

		if (semi && strspn(p, "0123456789,-c") == (size_t)(semi - p))
			p = semi + 1;
	}
	if (*p == '[') {
		const char *e = strchr(p, ']');

		if (e && strspn(p + 1, " 0123456789.") == (size_t)(e - p - 1))
			p = e + 1;
	}
	while (*p == ' ')
		p++;
	return p;
}

static bool contains_ci(const char *hay, const char *needle)
{
	return strcasestr(hay, needle) != NULL;
}

json_t *snap_parse__kernel_log(const char *text, size_t max_lines)
{
	static const char *const keep[] = {"DMAR", "AMD-Vi",    "IOMMU",  "vfio", "AER",
	                                   "DPC",  "remapping", "x2apic", "ACS",  "_OSC"};
	static const char *const ir_off[] = {
	    "interrupt remapping is being disabled", "failed to enable irq remapping",
	    "irq remapping disabled", "interrupt remapping disabled",
	    "not enabling interrupt remapping"};
	static const char *const ir_on[] = {"enabled irq remapping", "interrupt remapping enabled"};
	json_t *lines = json_array();
	const char *ir = NULL;
	char *dup = strdup(text), *save = NULL, *line;
	bool iommu_on = false;

	if (!lines || !dup) {
		free(dup);
		json_decref(lines);
		return NULL;
	}
	for (line = strtok_r(dup, "\n", &save); line; line = strtok_r(NULL, "\n", &save)) {
		const char *msg = strip_log_prefix(line);
		bool wanted = false;

		for (size_t i = 0; i < SNAP_ARRAY_SIZE(keep) && !wanted; i++)
			wanted = contains_ci(msg, keep[i]);
		if (!wanted)
			continue;
		for (size_t i = 0; i < SNAP_ARRAY_SIZE(ir_off); i++)
			if (contains_ci(msg, ir_off[i]))
				ir = "disabled";
		if (!ir || strcmp(ir, "disabled"))
			for (size_t i = 0; i < SNAP_ARRAY_SIZE(ir_on); i++)
				if (contains_ci(msg, ir_on[i]))
					ir = "enabled";
		if (contains_ci(msg, "DMAR: IOMMU enabled") ||
		    contains_ci(msg, "AMD-Vi: Found IOMMU") ||
		    contains_ci(msg, "Adding to iommu group"))
			iommu_on = true;
		if (json_array_size(lines) < max_lines)
			json_array_append_new(lines, json_string(msg));
	}
	free(dup);
	return json_pack("{s:o, s:o, s:b}", "lines", lines, "irq_remapping",
	                 ir ? json_string(ir) : json_null(), "iommu_enabled", iommu_on);
}

char *snap_parse__pci_address(const char *s, bool *whole_slot)
{
	unsigned long parts[3] = {0, 0, 0}, fn = 0;
	int nparts = 0;
	bool has_fn = false;
	const char *p = s;
	char buf[32];

	while (*p == ' ')
		p++;
	for (;;) {
		char *end;

		if (!isxdigit((unsigned char)*p) || nparts == 3)
			return NULL;
		parts[nparts++] = strtoul(p, &end, 16);
		p = end;
		if (*p == ':') {
			p++;
			continue;
		}
		break;
	}
	if (*p == '.') {
		char *end;

		if (!isdigit((unsigned char)p[1]))
			return NULL;
		fn = strtoul(p + 1, &end, 10);
		p = end;
		has_fn = true;
	}
	while (*p == ' ')
		p++;
	if (*p || nparts < 2)
		return NULL;
	if (nparts == 2) { /* bus:slot */
		parts[2] = parts[1];
		parts[1] = parts[0];
		parts[0] = 0;
	}
	if (parts[0] > 0xffff || parts[1] > 0xff || parts[2] > 0x1f || fn > 7)
		return NULL;
	if (has_fn)
		snprintf(buf, sizeof(buf), "%04lx:%02lx:%02lx.%lu", parts[0], parts[1], parts[2],
		         fn);
	else
		snprintf(buf, sizeof(buf), "%04lx:%02lx:%02lx", parts[0], parts[1], parts[2]);
	if (whole_slot)
		*whole_slot = !has_fn;
	return strdup(buf);
}

/*
 * Proxmox VE qemu-server/<vmid>.conf: "hostpciN: [host=]ADDR[;ADDR...][,opt=val...]" or
 * "hostpciN: mapping=NAME,...", in the current configuration only (before the first "[snapshot]").
 */
json_t *snap_parse__proxmox(const char *text, const char *id, const char *file)
{
	json_t *vm, *devs = json_array();
	char *dup = strdup(text), *save = NULL, *line, *name = NULL;

	if (!devs || !dup)
		goto oom;
	for (line = strtok_r(dup, "\n", &save); line; line = strtok_r(NULL, "\n", &save)) {
		char *colon, *key, *val, *osave = NULL, *opt;
		json_t *addrs, *dev;
		const char *mapping = NULL;
		snap_buf rest = SNAP_BUF_INIT;

		if (line[0] == '[')
			break; /* snapshot sections follow */
		if (line[0] == '#' || !(colon = strchr(line, ':')))
			continue;
		*colon = '\0';
		key = snap_parse__trim(line);
		val = snap_parse__trim(colon + 1);
		if (!strcmp(key, "name")) {
			free(name);
			name = strdup(val);
			continue;
		}
		if (strncmp(key, "hostpci", 7) || !isdigit((unsigned char)key[7]))
			continue;
		addrs = json_array();
		for (opt = strtok_r(val, ",", &osave); opt; opt = strtok_r(NULL, ",", &osave)) {
			char *eq = strchr(opt, '=');
			char *hosts = NULL;

			if (!eq || !strncmp(opt, "host=", 5))
				hosts = eq ? eq + 1 : opt;
			if (hosts) {
				char *hsave = NULL, *h;

				for (h = strtok_r(hosts, ";", &hsave); h;
				     h = strtok_r(NULL, ";", &hsave)) {
					char *a = snap_parse__pci_address(h, NULL);

					json_array_append_new(addrs,
					                      a ? json_string(a) : json_string(h));
					free(a);
				}
			} else if (!strncmp(opt, "mapping=", 8)) {
				mapping = opt + 8;
			} else {
				snap_buf__printf(&rest, "%s%s", rest.len ? "," : "", opt);
			}
		}
		{
			char *opts = snap_buf__detach(&rest);

			/* qemu-server binds every hostpci device to vfio-pci when the VM
			 * starts (PVE::QemuServer::PCI::prepare_pci_device()) */
			dev = json_pack("{s:s, s:o, s:o, s:o, s:b}", "key", key, "addresses", addrs,
			                "mapping", snap_json__str_or_null(mapping), "options",
			                snap_json__str_or_null(opts && *opts ? opts : NULL),
			                "managed", 1);
			free(opts);
		}
		if (dev)
			json_array_append_new(devs, dev);
	}
	free(dup);
	vm = json_pack("{s:s, s:s, s:o, s:s, s:o}", "source", "proxmox", "id", id, "name",
	               snap_json__str_or_null(name), "file", file, "hostdevs", devs);
	free(name);
	return vm;
oom:
	free(dup);
	json_decref(devs);
	return NULL;
}

/* Value of attribute name in the tag text [tag, end); malloc'd, NULL if absent. */
/* The first child element of n called name, or NULL. */
static xmlNode *child(const xmlNode *n, const char *name)
{
	for (xmlNode *c = n ? n->children : NULL; c; c = c->next)
		if (c->type == XML_ELEMENT_NODE && !xmlStrcmp(c->name, BAD_CAST name))
			return c;
	return NULL;
}

/* An attribute as a number: libvirt writes 0x-hex, and accepts decimal. */
static unsigned long attr_num(const xmlNode *n, const char *name)
{
	xmlChar *v = xmlGetProp(n, BAD_CAST name);
	unsigned long x = v ? strtoul((const char *)v, NULL, 0) : 0;

	xmlFree(v);
	return x;
}

static bool attr_is(const xmlNode *n, const char *name, const char *want)
{
	xmlChar *v = xmlGetProp(n, BAD_CAST name);
	bool is = v && !xmlStrcmp(v, BAD_CAST want);

	xmlFree(v);
	return is;
}

/* <source><address domain= bus= slot= function=/></source> of a device as a BDF, or false. */
static bool source_address(char bdf[32], const xmlNode *dev)
{
	const xmlNode *addr = child(child(dev, "source"), "address");

	if (!addr || (xmlHasProp(addr, BAD_CAST "type") && !attr_is(addr, "type", "pci")))
		return false;
	snprintf(bdf, 32, "%04lx:%02lx:%02lx.%lx", attr_num(addr, "domain") & 0xffff,
	         attr_num(addr, "bus") & 0xff, attr_num(addr, "slot") & 0x1f,
	         attr_num(addr, "function") & 7);
	return true;
}

/*
 * libvirt domain XML, parsed by libxml2 (no network, no entity expansion, no DTD, errors kept
 * to itself): the domain's <name> and each PCI device it passes, a <hostdev type='pci'> or an
 * <interface type='hostdev'> (how SR-IOV VFs are passed), by its <source><address>. NULL when
 * the text is not a well-formed <domain>.
 */
json_t *snap_parse__libvirt(const char *text, const char *file)
{
	xmlDoc *doc = xmlReadMemory(text, (int)strnlen(text, INT_MAX), file, NULL,
	                            XML_PARSE_NONET | XML_PARSE_NOERROR | XML_PARSE_NOWARNING);
	const xmlNode *root = doc ? xmlDocGetRootElement(doc) : NULL, *name, *d;
	xmlChar *vm_name = NULL;
	json_t *devs, *vm = NULL;
	int nh = 0, ni = 0;

	if (!root || xmlStrcmp(root->name, BAD_CAST "domain")) {
		xmlFreeDoc(doc);
		return NULL;
	}
	if ((name = child(root, "name")))
		vm_name = xmlNodeGetContent(name);
	devs = json_array();
	for (d = child(root, "devices") ? child(root, "devices")->children : NULL; d; d = d->next) {
		char key[32], bdf[32];
		/* libvirt detaches the device from its host driver when the domain starts only
		 * with managed='yes' (virHostdevPreparePCIDevices()); omitted means no */
		bool managed = attr_is(d, "managed", "yes");

		if (d->type != XML_ELEMENT_NODE)
			continue;
		if (!xmlStrcmp(d->name, BAD_CAST "hostdev") && attr_is(d, "type", "pci")) {
			if (!source_address(bdf, d))
				continue;
			snprintf(key, sizeof(key), "hostdev%d", nh++);
		} else if (!xmlStrcmp(d->name, BAD_CAST "interface") &&
		           attr_is(d, "type", "hostdev")) {
			if (!source_address(bdf, d))
				continue;
			snprintf(key, sizeof(key), "interface%d", ni++);
		} else {
			continue;
		}
		json_array_append_new(devs, json_pack("{s:s, s:[s], s:n, s:n, s:b}", "key", key,
		                                      "addresses", bdf, "mapping", "options",
		                                      "managed", managed));
	}
	{
		char *n = vm_name ? strdup((const char *)vm_name) : NULL;

		/* escaped like every other text the collector keeps */
		if (n && snap_parse__utf8_escape(&n) < 0) {
			free(n);
			n = NULL;
		}
		vm = json_pack("{s:s, s:o, s:o, s:s, s:o}", "source", "libvirt", "id",
		               snap_json__str_or_null(n), "name", snap_json__str_or_null(n), "file",
		               file, "hostdevs", devs);
		free(n);
	}
	xmlFree(vm_name);
	xmlFreeDoc(doc);
	return vm;
}
