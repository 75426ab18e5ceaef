/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * The kernel log's fault lines, attributed to the device they are about, as Linux 6.1 prints
 * them: AER (drivers/pci/pcie/aer.c, aer_print_port_info(): "AER: Uncorrected (Fatal) error
 * message received from 0000:01:00.0", "error received: 0000:01:00.0" in earlier 6.1 releases,
 * the source device named after the port that reported it), DPC
 * (drivers/pci/pcie/dpc.c, dpc_process_error(): "<port>: DPC: containment event"), and IOMMU
 * faults (drivers/iommu/intel/dmar.c, dmar_fault_do_one(): "Request device [01:00.0] fault";
 * drivers/iommu/amd/iommu.c: "IO_PAGE_FAULT device=0000:01:00.0"). The counters (aer_*) say
 * how many; these say which device, also where a counter is not exposed.
 */
#include <ctype.h>
#include <stdio.h>
#include <string.h>

#include "analyse/analyse.h"

/* "dddd:bb:dd.f" or "bb:dd.f" at s into bdf (the domain 0000 when absent); false if neither */
static bool bdf_at(char bdf[16], const char *s)
{
	unsigned d = 0, b, dv, f;
	int n = 0;

	if (sscanf(s, "%4x:%2x:%2x.%1u%n", &d, &b, &dv, &f, &n) == 4 && n >= 12)
		;
	else if (d = 0, n = 0, sscanf(s, "%2x:%2x.%1u%n", &b, &dv, &f, &n) == 3 && n >= 7)
		;
	else
		return false;
	if (b > 0xff || dv > 0x1f || f > 7)
		return false;
	snprintf(bdf, 16, "%04x:%02x:%02x.%u", d & 0xffff, b, dv, f);
	return true;
}

/* The device a "driver 0000:01:00.0: ..." line is about (its dev_printk prefix) */
static bool prefix_bdf(char bdf[16], const char *line)
{
	const char *sp = strchr(line, ' ');

	return sp && bdf_at(bdf, sp + 1);
}

bool snap_faultlog__parse(const char *line, char bdf[16], const char **severity)
{
	const char *p = strstr(line, "AER: "), *q;

	/* aer_print_port_info(): "error message received from" in Debian's 6.1 (since 6.1.x
	 * took mainline's rewording), "error received: " before */
	static const char *const received[] = {"error message received from ", "error received: "};

	for (size_t i = 0; p && i < SNAP_ARRAY_SIZE(received); i++) {
		if (!(q = strstr(p, received[i])))
			continue;
		*severity = strstr(line, "(Fatal)")       ? "fatal"
		            : strstr(line, "(Non-Fatal)") ? "nonfatal"
		            : strstr(line, "Corrected")   ? "correctable"
		                                          : NULL;
		return *severity && bdf_at(bdf, q + strlen(received[i]));
	}
	if (strstr(line, "DPC: containment event")) {
		*severity = "contained";
		return prefix_bdf(bdf, line);
	}
	if ((p = strstr(line, "Request device [")) && strstr(line, "fault")) {
		*severity = "iommu";
		return bdf_at(bdf, p + strlen("Request device ["));
	}
	if (strstr(line, "IO_PAGE_FAULT") && (p = strstr(line, "device="))) {
		*severity = "iommu";
		return bdf_at(bdf, p + strlen("device="));
	}
	return false;
}

json_t *snap_faultlog__count(const json_t *root)
{
	const json_t *lines = json_object_get(
	    json_object_get(json_object_get(root, "evidence"), "kernel_log"), "lines");
	json_t *out = json_object(), *l;
	size_t i;

	json_array_foreach (lines, i, l) {
		char bdf[16];
		const char *sev = NULL;
		json_t *per;

		if (!json_is_string(l) || !snap_faultlog__parse(json_string_value(l), bdf, &sev))
			continue;
		if (!(per = json_object_get(out, bdf))) {
			per = json_object();
			json_object_set_new(out, bdf, per);
		}
		json_object_set_new(
		    per, sev, json_integer(json_integer_value(json_object_get(per, sev)) + 1));
	}
	return out;
}

/* dpc_process_error()'s words for the format's DPC trigger reasons */
const char *snap_faultlog__dpc_reason(const char *reason)
{
	static const char *const words[][2] = {
	    {"unmasked_uncorrectable", "an unmasked uncorrectable error"},
	    {"err_nonfatal", "ERR_NONFATAL"},
	    {"err_fatal", "ERR_FATAL"},
	    {"rp_pio", "an RP PIO error"},
	    {"software", "a software trigger"}};

	for (size_t k = 0; reason && k < SNAP_ARRAY_SIZE(words); k++)
		if (!strcmp(reason, words[k][0]))
			return words[k][1];
	return "a reserved reason";
}

/*
 * What turns fault reporting off on this host: the command line's settings
 * (snap_cmdline__hiding()) and AER the firmware kept. acpi_pci_root_create() of Linux 6.1 clears
 * a host bridge's native_aer unless _OSC gave the OS control of AER, and portdrv then runs no
 * AER service on its ports (pcie_ports=native overrides it); negotiate_os_control()
 * (drivers/acpi/pci_root.c) logs what was granted: "_OSC: OS now controls [... AER ...]", or
 * "_OSC: platform retains control of PCIe features". The log's lines, when the snapshot has
 * them; no line, nothing said. With AER off on the command line (pci=noaer, pcie_ports=compat)
 * the OS does not ask for it (negotiate_os_control() requests AER only when
 * pci_aer_available()): its absence from the grant is the command line's, already named.
 */
json_t *snap_faultlog__hiding(const json_t *root)
{
	const json_t *opts = json_object_get(json_object_get(root, "kernel"), "cmdline_options");
	const json_t *lines = json_object_get(
	    json_object_get(json_object_get(root, "evidence"), "kernel_log"), "lines");
	json_t *out = snap_cmdline__hiding(opts), *l;
	const char *ports = snap_json__str(opts, "pcie_ports");
	const char *kept = NULL;
	size_t i;

	if (ports && strstr(ports, "native"))
		return out;
	json_array_foreach (out, i, l)
		if (!strcmp(snap_json__str(l, "option"), "pci=noaer") ||
		    !strcmp(snap_json__str(l, "option"), "pcie_ports=compat"))
			return out; /* the OS did not ask for AER */
	json_array_foreach (lines, i, l) {
		const char *t = json_string_value(l), *c;

		if (!t)
			continue;
		if (strstr(t, "_OSC: platform retains control of PCIe features"))
			kept =
			    "the firmware kept every PCIe feature (_OSC: platform retains control)";
		else if ((c = strstr(t, "_OSC: OS now controls [")) && !strstr(c, " AER") &&
		         !strstr(c, "[AER"))
			kept = "the firmware kept AER (_OSC: the OS does not control it)";
	}
	if (kept)
		json_array_append_new(out, json_pack("{s:s, s:s}", "option", "_OSC", "why", kept));
	return out;
}
