/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * Topology: device identity across snapshots, and the IOMMU groups the hardware's isolation
 * implies, computed as Linux's pci_device_group() (drivers/iommu/iommu.c) would:
 *
 *  1. DMA aliases: a device below a conventional PCI bridge or a PCIe-to-PCI bridge is seen by
 *     the IOMMU with the bridge's requester ID, so it joins the topmost such bridge
 *     (pci_for_each_dma_alias()).
 *  2. From there, climb the bridges while the path to the root is not fully isolated by ACS
 *     (pci_acs_path_enabled() with REQ_ACS_FLAGS = SV|RR|CR|UF): the device joins the highest
 *     bridge below the first isolated one.
 *  3. A multifunction device without ACS joins the other functions of its slot that also lack
 *     it (get_pci_function_alias_group()).
 *
 * pci_acs_enabled() (drivers/pci/pci.c) decides per device: device-specific quirks first; then
 * conventional PCI and PCIe-to-PCI/PCI-to-PCIe bridges and RC event collectors never isolate;
 * root and downstream ports need the flags; endpoints, upstream ports and RC integrated endpoints
 * need them only when multifunction; anything else is isolated. Flags absent from the ACS
 * capability register count as hard-wired on (pci_acs_flags_enabled()). SR-IOV VFs are never
 * multifunction (pci_iov_add_virtfn() clears it).
 *
 * Where an ACS fact is unknown (config space not readable), the device is assumed isolated, so
 * the implied groups are the finest possible, and the group is marked uncertain: no claim is
 * made from it.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "analyse/analyse.h"

#define MAX_PATH 512 /* the loader refuses chains deeper than 256 bridges */

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

static unsigned hex_of(const json_t *obj, const char *key)
{
	const char *s = snap_json__str(obj, key);

	return s ? (unsigned)strtoul(s, NULL, 16) : 0xffffffffu;
}

static bool in_ranges(unsigned d, const unsigned (*r)[2], size_t n)
{
	for (size_t i = 0; i < n; i++)
		if (d >= r[i][0] && d <= r[i][1])
			return true;
	return false;
}

/* pci_pcie_type() as the quirks see it: a device without a PCIe capability reads type 0 */
static bool type_is(const char *type, const char *want)
{
	return type && !strcmp(type, want);
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
	const char *type = snap_json__str(obj, "pcie_type");
	unsigned dev = hex_of(obj, "device");

	switch (k) {
	case Q_AMD_SB:
		if (t->dev[i].mf != SNAP_YES || t->dev[i].parent >= 0 || !t->amd_iommu)
			return -1;
		return SNAP_YES;
	case Q_MF_ENDPOINT:
	case Q_ROOT_PORTS:
		return SNAP_YES;
	case Q_RCIEP:
		return type_is(type, "rc_integrated_endpoint") ? SNAP_YES : -1;
	case Q_INTEL_PCH:
		if (!type_is(type, "root_port"))
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

		if (!type_is(type, "root_port") || !in_ranges(dev, spt, SNAP_ARRAY_SIZE(spt)))
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
		return type_is(type, "root_port") && in_ranges(dev, cavium, SNAP_ARRAY_SIZE(cavium))
		           ? SNAP_YES
		           : -1;
	case Q_AL:
		return type_is(type, "root_port") ? SNAP_YES : -1;
	case Q_ZHAOXIN:
		if (!type_is(type, "root_port") && !type_is(type, "downstream_port"))
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
	unsigned v = hex_of(t->dev[i].obj, "vendor"), d = hex_of(t->dev[i].obj, "device");

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
	const char *type = snap_json__str(obj, "pcie_type"), *quirk = NULL;
	int q = quirk_acs(t, i, &quirk);

	why[0] = '\0';
	if (q >= 0) {
		if (q != SNAP_YES)
			snprintf(why, n, "is not isolated by the kernel's %s", quirk);
		return (enum snap_tristate)q;
	}
	if (!type) {
		snprintf(why, n, "PCIe port type unknown (config space not readable)");
		return SNAP_UNKNOWN;
	}
	if (!strcmp(type, "conventional")) {
		snprintf(why, n, "is conventional PCI (a shared bus never isolates)");
		return SNAP_NO;
	}
	if (!strcmp(type, "pcie_to_pci_bridge") || !strcmp(type, "pci_to_pcie_bridge") ||
	    !strcmp(type, "rc_event_collector")) {
		snprintf(why, n, "is a %s (ACS never applies)", type);
		return SNAP_NO;
	}
	if (!strcmp(type, "root_port") || !strcmp(type, "downstream_port"))
		return flags_enabled(obj, why, n);
	if (!strcmp(type, "endpoint") || !strcmp(type, "upstream_port") ||
	    !strcmp(type, "legacy_endpoint") || !strcmp(type, "rc_integrated_endpoint")) {
		if (t->dev[i].mf == SNAP_UNKNOWN) {
			snprintf(why, n, "multifunction bit unknown");
			return SNAP_UNKNOWN;
		}
		if (t->dev[i].mf == SNAP_NO)
			return SNAP_YES;
		return flags_enabled(obj, why, n);
	}
	return SNAP_YES;
}

static int find_root(snap_topo *t, int i)
{
	while (t->dev[i].implied != i) {
		t->dev[i].implied = t->dev[t->dev[i].implied].implied;
		i = t->dev[i].implied;
	}
	return i;
}

static void unite(snap_topo *t, int a, int b)
{
	int ra = find_root(t, a), rb = find_root(t, b);

	if (ra == rb)
		return;
	if (ra < rb) /* lowest index represents: deterministic */
		t->dev[rb].implied = ra;
	else
		t->dev[ra].implied = rb;
}

int snap_topo__implied_root(snap_topo *t, int i)
{
	return find_root(t, i);
}

void snap_topo__label(const snap_topo *t, int i, char *buf, size_t n)
{
	snap_snapshot__device_label(buf, n, t->dev[i].obj);
}

static bool is_bridge_class(const json_t *obj)
{
	const char *c = snap_json__str(obj, "class");

	return c && !strncmp(c, "0604", 4);
}

/*
 * pci_acs_path_enabled(start, NULL, REQ_ACS_FLAGS), memoised per device: every device below a
 * bridge asks the same question of it, and chains can be 256 deep. memo[i]: -2 not yet known,
 * else the answer (blocker[i]: the first port that does not isolate, when SNAP_NO).
 */
static enum snap_tristate path_enabled(const snap_topo *t, int i, int *blocker, char *why, size_t n)
{
	int *memo = t->path_memo, *blk = t->path_blocker;
	int stack[MAX_PATH], depth = 0;
	enum snap_tristate res;
	char w[128];

	/* climb to the first device whose answer is known (or past the root) */
	for (int p = i; p >= 0 && memo[p] == -2 && depth < MAX_PATH; p = t->dev[p].parent)
		stack[depth++] = p;
	while (depth--) {
		int p = stack[depth], up = t->dev[p].parent;
		enum snap_tristate e = snap_topo__acs_enabled(t, p, w, sizeof(w));
		enum snap_tristate above = up >= 0 ? (enum snap_tristate)memo[up] : SNAP_YES;

		if (e == SNAP_NO) {
			memo[p] = SNAP_NO;
			blk[p] = p;
		} else if (up >= 0 && above == SNAP_NO) {
			memo[p] = SNAP_NO;
			blk[p] = blk[up];
		} else {
			memo[p] =
			    e == SNAP_UNKNOWN || above == SNAP_UNKNOWN ? SNAP_UNKNOWN : SNAP_YES;
		}
	}
	res = memo[i] == -2 ? SNAP_UNKNOWN : (enum snap_tristate)memo[i];
	if (res == SNAP_NO) {
		*blocker = blk[i];
		snap_topo__acs_enabled(t, blk[i], why, n); /* the blocker's own reason */
	}
	return res;
}

/* Record the first reason a device is merged: "<who> <why>". */
static void set_reason(struct snap_topo_dev *d, const char *who, const char *why)
{
	char buf[512];

	if (d->merge_reason)
		return;
	snprintf(buf, sizeof(buf), "%s %s", who, why);
	d->merge_reason = strdup(buf);
}

/* "dddd:bb:ss" of device i, the key of the slot index */
static int64_t slot_key(const struct snap_topo_dev *d)
{
	return (int64_t)d->dom << 16 | (int64_t)(d->bus & 0xff) << 8 | (d->slot & 0x1f);
}

static void compute_implied(snap_topo *t)
{
	char why[128];

	for (size_t k = 0; k < t->n; k++)
		t->dev[k].implied = (int)k;
	for (size_t k = 0; k < t->n; k++) {
		struct snap_topo_dev *d = &t->dev[k];
		int pdev = (int)k;

		/* 1. DMA alias through conventional or PCIe-to-PCI bridges */
		for (int p = d->parent; p >= 0; p = t->dev[p].parent) {
			const char *type = snap_json__str(t->dev[p].obj, "pcie_type");

			if (!type) {
				d->uncertain = true;
				continue;
			}
			if (!strcmp(type, "conventional") || !strcmp(type, "pcie_to_pci_bridge") ||
			    !strcmp(type, "pci_to_pcie_bridge")) {
				pdev = p;
				set_reason(
				    d, t->dev[p].bdf,
				    "is a PCI bridge: it takes over the requester IDs of every "
				    "device below it");
			}
		}
		/* 2. climb while the path above is not isolated */
		for (int b = t->dev[pdev].parent; b >= 0; b = t->dev[b].parent) {
			int blocker = -1;
			enum snap_tristate e = path_enabled(t, b, &blocker, why, sizeof(why));

			if (e == SNAP_UNKNOWN)
				d->uncertain = true;
			if (e != SNAP_NO)
				break;
			{
				char who[160];

				snprintf(who, sizeof(who), "%s %s",
				         snap_json__str(t->dev[blocker].obj, "pcie_type")
				             ? snap_json__str(t->dev[blocker].obj, "pcie_type")
				             : "bridge",
				         t->dev[blocker].bdf);
				set_reason(d, who, why);
			}
			pdev = b;
		}
		unite(t, (int)k, pdev);
		/* 3. functions of a multifunction slot without ACS */
		{
			enum snap_tristate self = snap_topo__acs_enabled(t, pdev, why, sizeof(why));

			if (self == SNAP_UNKNOWN)
				d->uncertain = true;
			if (self != SNAP_NO || t->dev[pdev].mf != SNAP_YES)
				continue;
			/* the other functions of the slot: 8 at most, BDFs being unique */
			struct snap_topo_span fns = snap_topo__slot_members(t, pdev);

			for (size_t fi = 0; fi < fns.n; fi++) {
				size_t o = (size_t)fns.idx[fi];
				struct snap_topo_dev *od = &t->dev[o];
				char owhy[128];

				if ((int)o == pdev)
					continue;
				if (snap_topo__acs_enabled(t, (int)o, owhy, sizeof(owhy)) !=
				    SNAP_NO)
					continue;
				{
					char who[64];

					snprintf(who, sizeof(who),
					         "multifunction slot %04x:%02x:%02x", od->dom,
					         od->bus, od->slot);
					set_reason(
					    d, who,
					    "has functions without ACS that can reach each other");
				}
				unite(t, (int)k, (int)o);
			}
		}
	}
	/* uncertainty spreads to the whole implied group */
	for (size_t k = 0; k < t->n; k++)
		if (t->dev[k].uncertain)
			t->dev[find_root(t, (int)k)].uncertain = true;
	for (size_t k = 0; k < t->n; k++)
		if (t->dev[find_root(t, (int)k)].uncertain)
			t->dev[k].uncertain = true;
	(void)is_bridge_class;
}

/* ids and the chain of upstream ports by their own ids and device.function, no bus numbers */
static char *make_identity(const snap_topo *t, int i)
{
	snap_buf b = SNAP_BUF_INIT;
	const json_t *o = t->dev[i].obj;

	snap_buf__printf(&b, "%s:%s", snap_json__str(o, "vendor"), snap_json__str(o, "device"));
	for (int p = i; p >= 0; p = t->dev[p].parent) {
		const json_t *po = t->dev[p].obj;

		snap_buf__printf(&b, "%s%02x.%x", p == i ? "@" : "<", t->dev[p].slot, t->dev[p].fn);
		if (p != i)
			snap_buf__printf(&b, "[%s:%s]", snap_json__str(po, "vendor"),
			                 snap_json__str(po, "device"));
	}
	return snap_buf__detach(&b);
}

struct keyed_index {
	int64_t key;
	int idx;
};

static int cmp_keyed_index(const void *a, const void *b)
{
	const struct keyed_index *x = a, *y = b;

	if (x->key != y->key)
		return x->key < y->key ? -1 : 1;
	return (x->idx > y->idx) - (x->idx < y->idx);
}

/* ix from n (key, index) pairs (consumed, sorted here); false when out of memory. */
static bool index_build(struct snap_topo_index *ix, struct keyed_index *pairs, size_t n)
{
	qsort(pairs, n, sizeof(*pairs), cmp_keyed_index);
	ix->key = malloc((n + 1) * sizeof(*ix->key));
	ix->idx = malloc((n + 1) * sizeof(*ix->idx));
	if (!ix->key || !ix->idx)
		return false;
	for (size_t k = 0; k < n; k++) {
		ix->key[k] = pairs[k].key;
		ix->idx[k] = pairs[k].idx;
	}
	ix->n = n;
	return true;
}

static struct snap_topo_span index_get(const struct snap_topo_index *ix, int64_t key)
{
	size_t lo = 0, hi = ix->n, end;

	while (lo < hi) { /* the first entry not below key */
		size_t mid = lo + (hi - lo) / 2;

		if (ix->key[mid] < key)
			lo = mid + 1;
		else
			hi = mid;
	}
	for (end = lo; end < ix->n && ix->key[end] == key; end++)
		;
	return (struct snap_topo_span){ix->idx ? ix->idx + lo : NULL, end - lo};
}

static void index_release(struct snap_topo_index *ix)
{
	free(ix->key);
	free(ix->idx);
	memset(ix, 0, sizeof(*ix));
}

struct named_index {
	const char *bdf; /* borrowed, "" for none */
	int idx;
};

static int cmp_named_index(const void *a, const void *b)
{
	const struct named_index *x = a, *y = b;
	int c = strcmp(x->bdf, y->bdf);

	return c ? c : (x->idx > y->idx) - (x->idx < y->idx);
}

int snap_topo__find(const snap_topo *t, const char *bdf)
{
	size_t lo = 0, hi = t->n;

	if (!bdf || !t->by_bdf)
		return -1;
	while (lo < hi) { /* the last device of that bdf (the loader refuses two) */
		size_t mid = lo + (hi - lo) / 2;
		const char *m = t->dev[t->by_bdf[mid]].bdf;

		if (strcmp(m ? m : "", bdf) <= 0)
			lo = mid + 1;
		else
			hi = mid;
	}
	if (lo && t->dev[t->by_bdf[lo - 1]].bdf && !strcmp(t->dev[t->by_bdf[lo - 1]].bdf, bdf))
		return t->by_bdf[lo - 1];
	return -1;
}

int snap_topo__build(snap_topo *t, const json_t *root)
{
	const json_t *devices = json_object_get(root, "devices");
	size_t i;
	json_t *d;

	struct keyed_index *pairs;
	struct named_index *named;
	size_t grouped;

	memset(t, 0, sizeof(*t));
	t->n = json_array_size(devices);
	t->dev = calloc(t->n + 1, sizeof(*t->dev));
	t->by_bdf = malloc((t->n + 1) * sizeof(*t->by_bdf));
	pairs = malloc((t->n + 1) * sizeof(*pairs));
	named = malloc((t->n + 1) * sizeof(*named));
	if (!t->dev || !t->by_bdf || !pairs || !named) {
		free(pairs);
		free(named);
		snap_topo__release(t);
		return SNAP_ENOMEM;
	}
	json_array_foreach (devices, i, d) {
		struct snap_topo_dev *td = &t->dev[i];

		td->obj = d;
		td->bdf = snap_json__str(d, "bdf");
		if (td->bdf)
			sscanf(td->bdf, "%x:%x:%x.%u", &td->dom, &td->bus, &td->slot, &td->fn);
		named[i] = (struct named_index){td->bdf ? td->bdf : "", (int)i};
	}
	qsort(named, t->n, sizeof(*named), cmp_named_index);
	for (i = 0; i < t->n; i++)
		t->by_bdf[i] = named[i].idx;
	free(named);
	for (i = 0; i < t->n; i++)
		t->dev[i].parent = snap_topo__find(t, snap_json__str(t->dev[i].obj, "parent"));
	{
		const json_t *iommu = json_object_get(root, "iommu");

		t->iommu_on = json_is_true(json_object_get(iommu, "enabled"));
		t->amd_iommu = t->iommu_on && json_is_string(json_object_get(iommu, "vendor")) &&
		               !strcmp(snap_json__str(iommu, "vendor"), "amd");
	}
	/* a parent chain that loops (corrupt input) is cut */
	for (i = 0; i < t->n; i++) {
		size_t steps = 0;

		for (int p = t->dev[i].parent; p >= 0; p = t->dev[p].parent)
			if (++steps > t->n) {
				t->dev[i].parent = -1;
				break;
			}
	}
	for (i = 0; i < t->n; i++) {
		const json_t *obj = t->dev[i].obj,
		             *kmf = json_object_get(obj, "kernel_multifunction");
		json_t *mf = NULL;
		int p = t->dev[i].parent;

		/* the kernel's view: recorded by the collector, derived for older snapshots */
		if (!kmf)
			kmf = mf =
			    snap_snapshot__kernel_multifunction(obj, p >= 0 ? t->dev[p].obj : NULL);
		t->dev[i].mf = json_is_true(kmf)    ? SNAP_YES
		               : json_is_false(kmf) ? SNAP_NO
		                                    : SNAP_UNKNOWN;
		json_decref(mf);
	}
	for (i = 0; i < t->n; i++)
		if (!(t->dev[i].identity = make_identity(t, (int)i))) {
			free(pairs);
			snap_topo__release(t); /* a failed build leaves nothing to free */
			return SNAP_ENOMEM;
		}
	for (i = 0; i < t->n; i++)
		pairs[i] = (struct keyed_index){slot_key(&t->dev[i]), (int)i};
	t->path_memo = malloc((t->n + 1) * sizeof(int));
	t->path_blocker = malloc((t->n + 1) * sizeof(int));
	if (!index_build(&t->by_slot, pairs, t->n) || !t->path_memo || !t->path_blocker) {
		free(pairs);
		snap_topo__release(t);
		return SNAP_ENOMEM;
	}
	for (i = 0; i < t->n; i++)
		t->path_memo[i] = -2;
	compute_implied(t);
	for (i = 0; i < t->n; i++)
		t->dev[i].group_a = t->dev[i].group_b = -1;
	for (i = 0; i < t->n; i++)
		pairs[i] = (struct keyed_index){snap_topo__implied_root(t, (int)i), (int)i};
	if (!index_build(&t->by_implied, pairs, t->n)) {
		free(pairs);
		snap_topo__release(t);
		return SNAP_ENOMEM;
	}
	grouped = 0;
	for (i = 0; i < t->n; i++) {
		const json_t *g = json_object_get(t->dev[i].obj, "iommu_group");
		struct snap_topo_dev *r = &t->dev[snap_topo__implied_root(t, (int)i)];

		if (json_is_integer(g)) {
			pairs[grouped++] = (struct keyed_index){json_integer_value(g), (int)i};
			if (r->group_a < 0)
				r->group_a = (int)i;
			else if (r->group_b < 0 && json_integer_value(json_object_get(
			                               t->dev[r->group_a].obj, "iommu_group")) !=
			                               json_integer_value(g))
				r->group_b = (int)i;
		}
	}
	if (!index_build(&t->by_group, pairs, grouped)) {
		free(pairs);
		snap_topo__release(t);
		return SNAP_ENOMEM;
	}
	free(pairs);
	return 0;
}

int snap_topo__other_group_member(const snap_topo *t, int i)
{
	const json_t *g = json_object_get(t->dev[i].obj, "iommu_group"), *ga;
	int r = find_root((snap_topo *)t, i), a = t->dev[r].group_a, b = t->dev[r].group_b;

	if (!json_is_integer(g) || a < 0)
		return -1;
	ga = json_object_get(t->dev[a].obj, "iommu_group");
	/* a: the first member with a kernel group; b: the first whose group differs from a's */
	return json_integer_value(ga) != json_integer_value(g) ? a : b;
}

enum snap_tristate snap_topo__isolation_asserted(const snap_topo *t, int i, int *other,
                                                 const char **reason)
{
	int k;

	if (!json_is_integer(json_object_get(t->dev[i].obj, "iommu_group")))
		return SNAP_NO;
	if (t->dev[i].uncertain)
		return SNAP_UNKNOWN;
	if ((k = snap_topo__other_group_member(t, i)) < 0)
		return SNAP_NO;
	*other = k;
	*reason = t->dev[k].merge_reason ? t->dev[k].merge_reason : t->dev[i].merge_reason;
	return SNAP_YES;
}

const char *snap_topo__group_reason(const snap_topo *t, const json_t *members, bool *uncertain)
{
	const char *reason = NULL;
	const json_t *m;
	size_t k;

	*uncertain = false;
	json_array_foreach (members, k, m) {
		int x = snap_topo__find(t, json_string_value(m));

		if (x >= 0 && !reason)
			reason = t->dev[x].merge_reason;
		if (x >= 0 && t->dev[x].uncertain)
			*uncertain = true;
	}
	return reason;
}

struct snap_topo_span snap_topo__slot_members(const snap_topo *t, int i)
{
	return index_get(&t->by_slot, slot_key(&t->dev[i]));
}

struct snap_topo_span snap_topo__group_members(const snap_topo *t, json_int_t gid)
{
	return index_get(&t->by_group, gid);
}

struct snap_topo_span snap_topo__implied_members(snap_topo *t, int i)
{
	return index_get(&t->by_implied, snap_topo__implied_root(t, i));
}

void snap_topo__release(snap_topo *t)
{
	for (size_t i = 0; t->dev && i < t->n; i++) {
		free(t->dev[i].identity);
		free(t->dev[i].merge_reason);
	}
	free(t->dev);
	free(t->by_bdf);
	index_release(&t->by_group);
	index_release(&t->by_implied);
	index_release(&t->by_slot);
	free(t->path_memo);
	free(t->path_blocker);
	memset(t, 0, sizeof(*t));
}
