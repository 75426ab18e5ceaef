/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * What the command-line options a snapshot records (kernel.cmdline_options, every occurrence of
 * the options the kernel accumulates joined by commas) make the kernel do, by the parsers of
 * Linux 6.1, and which of them weaken passthrough (docs/classification.md, "Command line").
 */
#include <stdlib.h>
#include <string.h>

#include "analyse/analyse.h"

/*
 * Walk the comma-separated items of v the way the kernel's option parsers do: an item matches
 * want when it begins with it (strncmp(str, want, strlen(want))). Returns the last of on/off
 * that matched, SNAP_UNKNOWN when neither did.
 */
static enum snap_tristate last_of(const char *v, const char *on, const char *off)
{
	enum snap_tristate st = SNAP_UNKNOWN;

	while (v && *v) {
		if (on && !strncmp(v, on, strlen(on)))
			st = SNAP_YES;
		else if (off && !strncmp(v, off, strlen(off)))
			st = SNAP_NO;
		v += strcspn(v, ",");
		while (*v == ',')
			v++;
	}
	return st;
}

enum snap_tristate snap_cmdline__intel_iommu(const json_t *opts)
{
	/* intel_iommu_setup(): "on" clears dmar_disabled, "off" sets it, the last one wins */
	return last_of(snap_json__str(opts, "intel_iommu"), "on", "off");
}

bool snap_cmdline__amd_iommu_off(const json_t *opts)
{
	/* parse_amd_iommu_options(): "off" sets amd_iommu_disabled, nothing clears it */
	return last_of(snap_json__str(opts, "amd_iommu"), NULL, "off") == SNAP_NO;
}

bool snap_cmdline__iommu_off(const json_t *opts)
{
	/* iommu_setup() (arch/x86/kernel/pci-dma.c): "off" sets no_iommu, nothing clears it */
	return last_of(snap_json__str(opts, "iommu"), NULL, "off") == SNAP_NO;
}

enum snap_tristate snap_cmdline__intremap(const json_t *opts)
{
	/* setup_irqremap(): "on" and "off" set disable_irq_remap, the last one wins;
	 * setup_nointremap() is recorded as "off" at its place */
	return last_of(snap_json__str(opts, "intremap"), "on", "off");
}

bool snap_cmdline__iommu_disabled(const json_t *opts, const char *vendor, const char **why)
{
	bool intel = !vendor || !strcmp(vendor, "intel"), amd = !vendor || !strcmp(vendor, "amd");

	*why = NULL;
	if (snap_cmdline__iommu_off(opts))
		*why = "iommu=off";
	else if (intel && snap_cmdline__intel_iommu(opts) == SNAP_NO)
		*why = "intel_iommu=off";
	else if (amd && snap_cmdline__amd_iommu_off(opts))
		*why = "amd_iommu=off";
	return *why != NULL;
}

json_t *snap_cmdline__hiding(const json_t *opts)
{
	json_t *out = json_array();

	/* pci_setup(): "noaer" sets pcie_aer_disable (no AER service at all) */
	if (last_of(snap_json__str(opts, "pci"), NULL, "noaer") == SNAP_NO)
		json_array_append_new(out, json_pack("{s:s, s:s}", "option", "pci=noaer", "why",
		                                     "AER is not used: uncorrectable errors are "
		                                     "not reported or counted"));
	/* pcie_port_setup(): "compat" disables the PCIe port services, AER and DPC with them */
	if (last_of(snap_json__str(opts, "pcie_ports"), NULL, "compat") == SNAP_NO)
		json_array_append_new(out,
		                      json_pack("{s:s, s:s}", "option", "pcie_ports=compat", "why",
		                                "the PCIe port services (AER, DPC) are off"));
	/* pcie_aspm_disable(): a common workaround for link errors; it removes a cause of
	 * correctable errors, not the fault that made them fatal */
	if (last_of(snap_json__str(opts, "pcie_aspm"), NULL, "off") == SNAP_NO)
		json_array_append_new(out, json_pack("{s:s, s:s}", "option", "pcie_aspm=off", "why",
		                                     "link power management off, often a "
		                                     "workaround that makes link errors rarer, not "
		                                     "fixed"));
	return out;
}

json_t *snap_cmdline__risky(const json_t *opts, const char *vendor)
{
	json_t *out = json_array();
	const char *v, *why = NULL;

#define RISK(k, val, w)                                                                            \
	json_array_append_new(out,                                                                 \
	                      json_pack("{s:s, s:s, s:s}", "option", k, "value", val, "why", w))
	v = snap_json__str(opts, "pcie_acs_override");
	if (v)
		RISK("pcie_acs_override", v, "isolation asserted by the kernel, not the hardware");
	v = snap_json__str(opts, "vfio_iommu_type1.allow_unsafe_interrupts");
	if (v && (!*v || !strcmp(v, "1") || !strcasecmp(v, "y") || !strcasecmp(v, "on")))
		RISK("vfio_iommu_type1.allow_unsafe_interrupts", v,
		     "MSI injection from guests possible");
	v = snap_json__str(opts, "vfio.enable_unsafe_noiommu_mode");
	if (v && (!*v || !strcmp(v, "1") || !strcasecmp(v, "y") || !strcasecmp(v, "on")))
		RISK("vfio.enable_unsafe_noiommu_mode", v, "no DMA isolation at all");
	if (snap_cmdline__intremap(opts) == SNAP_NO)
		RISK("intremap", snap_json__str(opts, "intremap"), "interrupt remapping disabled");
	if (snap_cmdline__iommu_disabled(opts, vendor, &why)) {
		const char *key = !strncmp(why, "intel", 5) ? "intel_iommu"
		                  : !strncmp(why, "amd", 3) ? "amd_iommu"
		                                            : "iommu";

		RISK(key, snap_json__str(opts, key), "IOMMU disabled");
	}
	v = snap_json__str(opts, "pci");
	if (v && strstr(v, "nommconf"))
		RISK("pci", v, "extended config space (ACS) unreadable");
#undef RISK
	return out;
}
