/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * Whether a device isolates its functions and what is below it as the kernel decides, per
 * device: pci_acs_enabled() of drivers/pci/pci.c, its device-specific quirks first
 * (drivers/pci/quirks.c, pci_dev_acs_enabled[], Debian 12's linux-source-6.1, in the kernel's
 * order), then the generic rules by port type and the ACS flags (pci_acs_flags_enabled()).
 */
#include "analyse/analyse.h"
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/*
 * Device-specific ACS: drivers/pci/quirks.c, pci_dev_acs_enabled[], as in Debian 12's kernel
 * (linux-source-6.1, 6.1.192), in the kernel's order. pci_dev_specific_acs_enabled() calls every
 * matching entry in turn and the first that does not answer -ENOTTY decides, so a row here
 * either decides (isolated or not) or passes to the next row and then to the generic rules.
 * With REQ_ACS_FLAGS asked, each quirk's pci_acs_ctrl_enabled() comes down to "isolated",
 * except where noted.
 */
enum quirk_kind {
	Q_AMD_SB,      /* pci_quirk_amd_sb_acs: multifunction on a root bus, AMD IOMMU (IVRS) */
	Q_MF_ENDPOINT, /* pci_quirk_mf_endpoint_acs: functions verified not to peer */
	Q_RCIEP,       /* pci_quirk_rciep_acs: Intel root-complex integrated endpoints */
	Q_ROOT_PORTS,  /* qcom_rp, nxp_rp, xgene, brcm, loongson: always isolated */
	Q_INTEL_PCH,   /* pci_quirk_intel_pch_acs: listed PCH root ports, once enabled */
	Q_INTEL_SPT,   /* pci_quirk_intel_spt_pch_acs: ACS control in a dword at +8 */
	Q_CAVIUM,      /* pci_quirk_cavium_acs: ThunderX root ports */
	Q_AL,          /* pci_quirk_al_acs: Annapurna Labs root ports */
	Q_ZHAOXIN,     /* pci_quirk_zhaoxin_pcie_ports_acs: listed ports isolated, others not */
	Q_WANGXUN,     /* pci_quirk_wangxun_nic_acs: listed NICs isolated, others not */
};

#define ANY 0x10000u

struct acs_quirk {
	unsigned vendor, device; /* device ANY: every device of the vendor */
	enum quirk_kind kind;
};

static const struct acs_quirk acs_quirks[] = {
    {0x1002, 0x4385, Q_AMD_SB},
    {0x1002, 0x439c, Q_AMD_SB},
    {0x1002, 0x4383, Q_AMD_SB},
    {0x1002, 0x439d, Q_AMD_SB},
    {0x1002, 0x4384, Q_AMD_SB},
    {0x1002, 0x4399, Q_AMD_SB},
    {0x1022, 0x780f, Q_AMD_SB},
    {0x1022, 0x7809, Q_AMD_SB},
    /* Solarflare */
    {0x1924, 0x0903, Q_MF_ENDPOINT},
    {0x1924, 0x0923, Q_MF_ENDPOINT},
    {0x1924, 0x0a03, Q_MF_ENDPOINT},
    /* Intel 82598/82599/X540 */
    {0x8086, 0x10c6, Q_MF_ENDPOINT},
    {0x8086, 0x10db, Q_MF_ENDPOINT},
    {0x8086, 0x10dd, Q_MF_ENDPOINT},
    {0x8086, 0x10e1, Q_MF_ENDPOINT},
    {0x8086, 0x10f1, Q_MF_ENDPOINT},
    {0x8086, 0x10f7, Q_MF_ENDPOINT},
    {0x8086, 0x10f8, Q_MF_ENDPOINT},
    {0x8086, 0x10f9, Q_MF_ENDPOINT},
    {0x8086, 0x10fa, Q_MF_ENDPOINT},
    {0x8086, 0x10fb, Q_MF_ENDPOINT},
    {0x8086, 0x10fc, Q_MF_ENDPOINT},
    {0x8086, 0x1507, Q_MF_ENDPOINT},
    {0x8086, 0x1514, Q_MF_ENDPOINT},
    {0x8086, 0x151c, Q_MF_ENDPOINT},
    {0x8086, 0x1529, Q_MF_ENDPOINT},
    {0x8086, 0x152a, Q_MF_ENDPOINT},
    {0x8086, 0x154d, Q_MF_ENDPOINT},
    {0x8086, 0x154f, Q_MF_ENDPOINT},
    {0x8086, 0x1551, Q_MF_ENDPOINT},
    {0x8086, 0x1558, Q_MF_ENDPOINT},
    /* 82580 */
    {0x8086, 0x1509, Q_MF_ENDPOINT},
    {0x8086, 0x150e, Q_MF_ENDPOINT},
    {0x8086, 0x150f, Q_MF_ENDPOINT},
    {0x8086, 0x1510, Q_MF_ENDPOINT},
    {0x8086, 0x1511, Q_MF_ENDPOINT},
    {0x8086, 0x1516, Q_MF_ENDPOINT},
    {0x8086, 0x1527, Q_MF_ENDPOINT},
    /* 82576 */
    {0x8086, 0x10c9, Q_MF_ENDPOINT},
    {0x8086, 0x10e6, Q_MF_ENDPOINT},
    {0x8086, 0x10e7, Q_MF_ENDPOINT},
    {0x8086, 0x10e8, Q_MF_ENDPOINT},
    {0x8086, 0x150a, Q_MF_ENDPOINT},
    {0x8086, 0x150d, Q_MF_ENDPOINT},
    {0x8086, 0x1518, Q_MF_ENDPOINT},
    {0x8086, 0x1526, Q_MF_ENDPOINT},
    /* 82575 */
    {0x8086, 0x10a7, Q_MF_ENDPOINT},
    {0x8086, 0x10a9, Q_MF_ENDPOINT},
    {0x8086, 0x10d6, Q_MF_ENDPOINT},
    /* I350 */
    {0x8086, 0x1521, Q_MF_ENDPOINT},
    {0x8086, 0x1522, Q_MF_ENDPOINT},
    {0x8086, 0x1523, Q_MF_ENDPOINT},
    {0x8086, 0x1524, Q_MF_ENDPOINT},
    /* 82571 (quads omitted by the kernel: non-ACS switch) */
    {0x8086, 0x105e, Q_MF_ENDPOINT},
    {0x8086, 0x105f, Q_MF_ENDPOINT},
    {0x8086, 0x1060, Q_MF_ENDPOINT},
    {0x8086, 0x10d9, Q_MF_ENDPOINT},
    /* I219 */
    {0x8086, 0x15b7, Q_MF_ENDPOINT},
    {0x8086, 0x15b8, Q_MF_ENDPOINT},
    {0x8086, ANY, Q_RCIEP},
    /* QCOM QDF2xxx, SA8775P, Hamoa, Glymur root ports; HXT SD4800 */
    {0x17cb, 0x0400, Q_ROOT_PORTS},
    {0x17cb, 0x0401, Q_ROOT_PORTS},
    {0x17cb, 0x0115, Q_ROOT_PORTS},
    {0x17cb, 0x0111, Q_ROOT_PORTS},
    {0x17cb, 0x0120, Q_ROOT_PORTS},
    {0x1dbf, 0x0401, Q_ROOT_PORTS},
    {0x8086, ANY, Q_INTEL_PCH},
    {0x8086, ANY, Q_INTEL_SPT},
    {0x19a2, 0x0710, Q_MF_ENDPOINT}, /* Emulex BE3-R */
    {0x10df, 0x0720, Q_MF_ENDPOINT}, /* Emulex Skyhawk-R */
    {0x177d, ANY, Q_CAVIUM},
    {0x177d, 0xa026, Q_MF_ENDPOINT},
    {0x177d, 0xa059, Q_MF_ENDPOINT},
    {0x177d, 0xa060, Q_MF_ENDPOINT},
    /* APM X-Gene, Ampere */
    {0x10e8, 0xe004, Q_ROOT_PORTS},
    {0x1def, 0xe005, Q_ROOT_PORTS},
    {0x1def, 0xe006, Q_ROOT_PORTS},
    {0x1def, 0xe007, Q_ROOT_PORTS},
    {0x1def, 0xe008, Q_ROOT_PORTS},
    {0x1def, 0xe009, Q_ROOT_PORTS},
    {0x1def, 0xe00a, Q_ROOT_PORTS},
    {0x1def, 0xe00b, Q_ROOT_PORTS},
    {0x1def, 0xe00c, Q_ROOT_PORTS},
    /* Broadcom multifunction devices, iProc PAXB root port */
    {0x14e4, 0x16d7, Q_MF_ENDPOINT},
    {0x14e4, 0x1750, Q_MF_ENDPOINT},
    {0x14e4, 0x1751, Q_MF_ENDPOINT},
    {0x14e4, 0x1752, Q_MF_ENDPOINT},
    {0x14e4, 0x1760, Q_MF_ENDPOINT},
    {0x14e4, 0x1761, Q_MF_ENDPOINT},
    {0x14e4, 0x1762, Q_MF_ENDPOINT},
    {0x14e4, 0x1763, Q_MF_ENDPOINT},
    {0x14e4, 0xd714, Q_ROOT_PORTS},
    /* Loongson root ports */
    {0x0014, 0x3c09, Q_ROOT_PORTS},
    {0x0014, 0x3c19, Q_ROOT_PORTS},
    {0x0014, 0x3c29, Q_ROOT_PORTS},
    {0x0014, 0x7a09, Q_ROOT_PORTS},
    {0x0014, 0x7a19, Q_ROOT_PORTS},
    {0x0014, 0x7a29, Q_ROOT_PORTS},
    {0x0014, 0x7a39, Q_ROOT_PORTS},
    {0x0014, 0x7a49, Q_ROOT_PORTS},
    {0x0014, 0x7a59, Q_ROOT_PORTS},
    {0x0014, 0x7a69, Q_ROOT_PORTS},
    {0x1c36, 0x0031, Q_AL},
    /* Zhaoxin multifunction devices */
    {0x1d17, 0x3038, Q_MF_ENDPOINT},
    {0x1d17, 0x3104, Q_MF_ENDPOINT},
    {0x1d17, 0x9083, Q_MF_ENDPOINT},
    /* NXP LX2xx0/LX2xx2 root ports */
    {0x1957, 0x8d81, Q_ROOT_PORTS},
    {0x1957, 0x8da1, Q_ROOT_PORTS},
    {0x1957, 0x8d83, Q_ROOT_PORTS},
    {0x1957, 0x8d80, Q_ROOT_PORTS},
    {0x1957, 0x8da0, Q_ROOT_PORTS},
    {0x1957, 0x8d82, Q_ROOT_PORTS},
    {0x1957, 0x8d90, Q_ROOT_PORTS},
    {0x1957, 0x8db0, Q_ROOT_PORTS},
    {0x1957, 0x8d92, Q_ROOT_PORTS},
    {0x1957, 0x8d91, Q_ROOT_PORTS},
    {0x1957, 0x8db1, Q_ROOT_PORTS},
    {0x1957, 0x8d93, Q_ROOT_PORTS},
    {0x1957, 0x8d89, Q_ROOT_PORTS},
    {0x1957, 0x8da9, Q_ROOT_PORTS},
    {0x1957, 0x8d8b, Q_ROOT_PORTS},
    {0x1957, 0x8d88, Q_ROOT_PORTS},
    {0x1957, 0x8da8, Q_ROOT_PORTS},
    {0x1957, 0x8d8a, Q_ROOT_PORTS},
    {0x1957, 0x8d98, Q_ROOT_PORTS},
    {0x1957, 0x8db8, Q_ROOT_PORTS},
    {0x1957, 0x8d9a, Q_ROOT_PORTS},
    {0x1957, 0x8d99, Q_ROOT_PORTS},
    {0x1957, 0x8db9, Q_ROOT_PORTS},
    {0x1957, 0x8d9b, Q_ROOT_PORTS},
    {0x1d17, ANY, Q_ZHAOXIN},
    {0x8088, ANY, Q_WANGXUN},
};

/* pci_quirk_intel_pch_acs_ids[] */
static const uint16_t intel_pch_acs_ids[] = {
    0x3b42, 0x3b43, 0x3b44, 0x3b45, 0x3b46, 0x3b47, 0x3b48, 0x3b49, 0x3b4a, 0x3b4b, 0x3b4c, 0x3b4d,
    0x3b4e, 0x3b4f, 0x3b50, 0x3b51, 0x1c10, 0x1c11, 0x1c12, 0x1c13, 0x1c14, 0x1c15, 0x1c16, 0x1c17,
    0x1c18, 0x1c19, 0x1c1a, 0x1c1b, 0x1c1c, 0x1c1d, 0x1c1e, 0x1c1f, 0x1e10, 0x1e11, 0x1e12, 0x1e13,
    0x1e14, 0x1e15, 0x1e16, 0x1e17, 0x1e18, 0x1e19, 0x1e1a, 0x1e1b, 0x1e1c, 0x1e1d, 0x1e1e, 0x1e1f,
    0x8c10, 0x8c11, 0x8c12, 0x8c13, 0x8c14, 0x8c15, 0x8c16, 0x8c17, 0x8c18, 0x8c19, 0x8c1a, 0x8c1b,
    0x8c1c, 0x8c1d, 0x8c1e, 0x8c1f, 0x9c10, 0x9c11, 0x9c12, 0x9c13, 0x9c14, 0x9c15, 0x9c16, 0x9c17,
    0x9c18, 0x9c19, 0x9c1a, 0x9c1b, 0x9c90, 0x9c91, 0x9c92, 0x9c93, 0x9c94, 0x9c95, 0x9c96, 0x9c97,
    0x9c98, 0x9c99, 0x9c9a, 0x9c9b, 0x1d10, 0x1d12, 0x1d14, 0x1d16, 0x1d18, 0x1d1a, 0x1d1c, 0x1d1e,
    0x8d10, 0x8d11, 0x8d12, 0x8d13, 0x8d14, 0x8d15, 0x8d16, 0x8d17, 0x8d18, 0x8d19, 0x8d1a, 0x8d1b,
    0x8d1c, 0x8d1d, 0x8d1e, 0x8c90, 0x8c92, 0x8c94, 0x8c96, 0x8c98, 0x8c9a, 0x8c9c, 0x8c9e,
};

static const char *const quirk_names[] = {
    [Q_AMD_SB] = "pci_quirk_amd_sb_acs",
    [Q_MF_ENDPOINT] = "pci_quirk_mf_endpoint_acs",
    [Q_RCIEP] = "pci_quirk_rciep_acs",
    [Q_ROOT_PORTS] = "a root-port ACS quirk (qcom/nxp/xgene/brcm/loongson)",
    [Q_INTEL_PCH] = "pci_quirk_intel_pch_acs",
    [Q_INTEL_SPT] = "pci_quirk_intel_spt_pch_acs",
    [Q_CAVIUM] = "pci_quirk_cavium_acs",
    [Q_AL] = "pci_quirk_al_acs",
    [Q_ZHAOXIN] = "pci_quirk_zhaoxin_pcie_ports_acs",
    [Q_WANGXUN] = "pci_quirk_wangxun_nic_acs",
};

static bool in_ranges(unsigned d, const unsigned (*r)[2], size_t n)
{
	for (size_t i = 0; i < n; i++)
		if (d >= r[i][0] && d <= r[i][1])
			return true;
	return false;
}

/*
 * One quirk row for device i: -1 when it does not apply (-ENOTTY, -ENODEV: the next row is
 * asked), else whether it isolates.
 */
static int quirk_decides(const snap_topo *t, int i, enum quirk_kind k)
{
	static const unsigned cavium[][2] = {{0xa000, 0xa7ff}, {0xaf84, 0xaf84}, {0xb884, 0xb884}};
	static const unsigned zhaoxin[][2] = {{0x0710, 0x071e}, {0x0721, 0x0721}, {0x0723, 0x0752}};
	static const unsigned wangxun[][2] = {{0x0100, 0x010f}, {0x1001, 0x1001}, {0x2001, 0x2001},
	                                      {0x5010, 0x5010}, {0x5025, 0x5025}, {0x5040, 0x5040},
	                                      {0x5110, 0x5110}, {0x5125, 0x5125}, {0x5140, 0x5140}};
	const json_t *obj = t->dev[i].obj;
	/* pci_pcie_type() as the quirks see it: a device without a PCIe capability reads 0 */
	enum snap_pcie_type type = t->dev[i].type;
	unsigned dev = t->dev[i].device;

	switch (k) {
	case Q_AMD_SB:
		if (t->dev[i].mf != SNAP_YES || t->dev[i].parent >= 0 || !t->amd_iommu)
			return -1;
		return SNAP_YES;
	case Q_MF_ENDPOINT:
	case Q_ROOT_PORTS:
		return SNAP_YES;
	case Q_RCIEP:
		return type == SNAP_PCIE_RC_ENDPOINT ? SNAP_YES : -1;
	case Q_INTEL_PCH:
		if (type != SNAP_PCIE_ROOT_PORT)
			return -1;
		for (size_t j = 0; j < SNAP_ARRAY_SIZE(intel_pch_acs_ids); j++)
			if (intel_pch_acs_ids[j] == dev)
				/* pci_quirk_enable_intel_pch_acs() runs when an IOMMU asked for ACS
				 */
				return t->iommu_on ? SNAP_YES : SNAP_NO;
		return -1;
	case Q_INTEL_SPT: {
		static const unsigned spt[][2] = {{0xa110, 0xa11f},
		                                  {0xa167, 0xa16a},
		                                  {0xa290, 0xa29f},
		                                  {0xa2e7, 0xa2ee},
		                                  {0x9d10, 0x9d1b}};
		const json_t *acs = json_object_get(obj, "acs");
		const json_t *ctl = json_object_get(acs, "ctl_intel_spt");
		unsigned req;

		if (type != SNAP_PCIE_ROOT_PORT || !in_ranges(dev, spt, SNAP_ARRAY_SIZE(spt)))
			return -1;
		if (!json_is_object(acs))
			return SNAP_UNKNOWN;
		if (!json_is_true(json_object_get(acs, "present")))
			return -1; /* no acs_cap: -ENOTTY */
		if (!json_is_array(ctl))
			return SNAP_UNKNOWN; /* collected before the dword was recorded */
		req = SNAP_ACS_REQ & (snap_acs__bits(json_object_get(acs, "cap")) | SNAP_ACS_EC);
		return (snap_acs__bits(ctl) & req) == req ? SNAP_YES : SNAP_NO;
	}
	case Q_CAVIUM:
		return type == SNAP_PCIE_ROOT_PORT &&
		               in_ranges(dev, cavium, SNAP_ARRAY_SIZE(cavium))
		           ? SNAP_YES
		           : -1;
	case Q_AL:
		return type == SNAP_PCIE_ROOT_PORT ? SNAP_YES : -1;
	case Q_ZHAOXIN:
		if (type != SNAP_PCIE_ROOT_PORT && type != SNAP_PCIE_DOWNSTREAM_PORT)
			return -1;
		return in_ranges(dev, zhaoxin, SNAP_ARRAY_SIZE(zhaoxin)) ? SNAP_YES : SNAP_NO;
	case Q_WANGXUN:
		return in_ranges(dev, wangxun, SNAP_ARRAY_SIZE(wangxun)) ? SNAP_YES : SNAP_NO;
	}
	return -1;
}

/* pci_dev_specific_acs_enabled(): -1 when no quirk decides; *name: the deciding quirk */
static int quirk_acs(const snap_topo *t, int i, const char **name)
{
	unsigned v = t->dev[i].vendor, d = t->dev[i].device;

	for (size_t j = 0; j < SNAP_ARRAY_SIZE(acs_quirks); j++) {
		const struct acs_quirk *q = &acs_quirks[j];
		int r;

		if (q->vendor != v || (q->device != ANY && q->device != d))
			continue;
		if ((r = quirk_decides(t, i, q->kind)) >= 0) {
			*name = quirk_names[q->kind];
			return r;
		}
	}
	return -1;
}

/* pci_acs_flags_enabled(): required flags, less those absent from the capability, all on. */
static enum snap_tristate flags_enabled(const json_t *obj, char *why, size_t n)
{
	const json_t *acs = json_object_get(obj, "acs");
	unsigned cap, ctl, req;
	char missing[64];

	if (!json_is_object(acs)) {
		snprintf(why, n, "ACS unknown (config space not readable)");
		return SNAP_UNKNOWN;
	}
	if (!json_is_true(json_object_get(acs, "present"))) {
		snprintf(why, n, "has no ACS capability");
		return SNAP_NO;
	}
	cap = snap_acs__bits(json_object_get(acs, "cap"));
	ctl = snap_acs__bits(json_object_get(acs, "ctl"));
	req = SNAP_ACS_REQ & (cap | SNAP_ACS_EC);
	if ((ctl & req) == req)
		return SNAP_YES;
	snap_acs__names(missing, sizeof(missing), req & ~ctl, ",");
	snprintf(why, n, "has ACS %s disabled", missing);
	return SNAP_NO;
}

enum snap_tristate snap_topo__acs_enabled(const snap_topo *t, int i, char *why, size_t n)
{
	const json_t *obj = t->dev[i].obj;
	const char *quirk = NULL;
	int q = quirk_acs(t, i, &quirk);

	why[0] = '\0';
	if (q >= 0) {
		if (q != SNAP_YES)
			snprintf(why, n, "is not isolated by the kernel's %s", quirk);
		return (enum snap_tristate)q;
	}
	switch (t->dev[i].type) {
	case SNAP_PCIE_NONE:
		snprintf(why, n, "PCIe port type unknown (config space not readable)");
		return SNAP_UNKNOWN;
	case SNAP_PCIE_CONVENTIONAL:
		snprintf(why, n, "is conventional PCI (a shared bus never isolates)");
		return SNAP_NO;
	case SNAP_PCIE_TO_PCI_BRIDGE:
	case SNAP_PCI_TO_PCIE_BRIDGE:
	case SNAP_PCIE_RC_EVENT_COLLECTOR:
		snprintf(why, n, "is a %s (ACS never applies)", t->dev[i].type_name);
		return SNAP_NO;
	case SNAP_PCIE_ROOT_PORT:
	case SNAP_PCIE_DOWNSTREAM_PORT:
		return flags_enabled(obj, why, n);
	case SNAP_PCIE_ENDPOINT:
	case SNAP_PCIE_UPSTREAM_PORT:
	case SNAP_PCIE_LEGACY_ENDPOINT:
	case SNAP_PCIE_RC_ENDPOINT:
		if (t->dev[i].mf == SNAP_UNKNOWN) {
			snprintf(why, n, "multifunction bit unknown");
			return SNAP_UNKNOWN;
		}
		if (t->dev[i].mf == SNAP_NO)
			return SNAP_YES;
		return flags_enabled(obj, why, n);
	case SNAP_PCIE_OTHER:
		break;
	}
	return SNAP_YES;
}
