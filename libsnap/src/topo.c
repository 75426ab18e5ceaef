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

#include "internal.h"

#define ACS_SV        0x01
#define ACS_RR        0x04
#define ACS_CR        0x08
#define ACS_UF        0x10
#define ACS_EC        0x20
#define REQ_ACS_FLAGS (ACS_SV | ACS_RR | ACS_CR | ACS_UF)

/*
 * Device-specific ACS from drivers/pci/quirks.c, pci_dev_acs_enabled[]: devices known to
 * isolate their functions (or ports) though their ACS capability says otherwise. A small table
 * of the common ones; each row names the kernel quirk function it mirrors.
 */
struct acs_quirk {
	unsigned vendor, dev_lo, dev_hi; /* device id range */
	const char *root_port_only;      /* non-NULL: applies to root ports only */
	const char *quirk;               /* the kernel function */
};

static const struct acs_quirk acs_quirks[] = {
    /* pci_quirk_intel_pch_acs_ids[]: PCH root ports isolated once the enable quirk ran */
    {0x8086, 0x3b42, 0x3b51, "rp", "pci_quirk_intel_pch_acs (Ibex Peak)"},
    {0x8086, 0x1c10, 0x1c1f, "rp", "pci_quirk_intel_pch_acs (Cougar Point)"},
    {0x8086, 0x1e10, 0x1e1f, "rp", "pci_quirk_intel_pch_acs (Panther Point)"},
    {0x8086, 0x8c10, 0x8c1f, "rp", "pci_quirk_intel_pch_acs (Lynx Point-H)"},
    {0x8086, 0x9c10, 0x9c1b, "rp", "pci_quirk_intel_pch_acs (Lynx Point-LP)"},
    {0x8086, 0x9c90, 0x9c9b, "rp", "pci_quirk_intel_pch_acs (Wildcat Point)"},
    {0x8086, 0x1d10, 0x1d1e, "rp", "pci_quirk_intel_pch_acs (Patsburg X79)"},
    {0x8086, 0x8d10, 0x8d1e, "rp", "pci_quirk_intel_pch_acs (Wellsburg X99)"},
    {0x8086, 0x8c90, 0x8c9e, "rp", "pci_quirk_intel_pch_acs (9 Series)"},
    /* pci_quirk_intel_spt_pch_acs: ACS registers at dword offsets (lspci misreads them too);
     * the kernel enables them at boot, so they count as isolated */
    {0x8086, 0xa110, 0xa11f, "rp", "pci_quirk_intel_spt_pch_acs (Sunrise Point)"},
    {0x8086, 0xa167, 0xa16a, "rp", "pci_quirk_intel_spt_pch_acs (Sunrise Point)"},
    {0x8086, 0xa290, 0xa29f, "rp", "pci_quirk_intel_spt_pch_acs (Union Point)"},
    {0x8086, 0xa2e7, 0xa2ee, "rp", "pci_quirk_intel_spt_pch_acs (Union Point)"},
    /* pci_quirk_mf_endpoint_acs: multifunction NICs with no peer-to-peer between functions */
    {0x8086, 0x10a7, 0x10a9, NULL, "pci_quirk_mf_endpoint_acs (82575)"},
    {0x8086, 0x10c9, 0x10c9, NULL, "pci_quirk_mf_endpoint_acs (82576)"},
    {0x8086, 0x10e6, 0x10e8, NULL, "pci_quirk_mf_endpoint_acs (82576)"},
    {0x8086, 0x150a, 0x150a, NULL, "pci_quirk_mf_endpoint_acs (82576)"},
    {0x8086, 0x150d, 0x150d, NULL, "pci_quirk_mf_endpoint_acs (82576)"},
    {0x8086, 0x1518, 0x1518, NULL, "pci_quirk_mf_endpoint_acs (82576)"},
    {0x8086, 0x1526, 0x1526, NULL, "pci_quirk_mf_endpoint_acs (82576)"},
    {0x8086, 0x1509, 0x1511, NULL, "pci_quirk_mf_endpoint_acs (82580)"},
    {0x8086, 0x1516, 0x1516, NULL, "pci_quirk_mf_endpoint_acs (82580)"},
    {0x8086, 0x1527, 0x1527, NULL, "pci_quirk_mf_endpoint_acs (82580)"},
    {0x8086, 0x1521, 0x1524, NULL, "pci_quirk_mf_endpoint_acs (I350)"},
    {0x8086, 0x10f7, 0x10fc, NULL, "pci_quirk_mf_endpoint_acs (82599)"},
    {0x8086, 0x1507, 0x1507, NULL, "pci_quirk_mf_endpoint_acs (82599)"},
    {0x8086, 0x1514, 0x1514, NULL, "pci_quirk_mf_endpoint_acs (82599)"},
    {0x8086, 0x151c, 0x151c, NULL, "pci_quirk_mf_endpoint_acs (82599)"},
    {0x8086, 0x1529, 0x152a, NULL, "pci_quirk_mf_endpoint_acs (82599)"},
    {0x8086, 0x154d, 0x154d, NULL, "pci_quirk_mf_endpoint_acs (82599)"},
    {0x8086, 0x154f, 0x154f, NULL, "pci_quirk_mf_endpoint_acs (82599)"},
    {0x8086, 0x1551, 0x1551, NULL, "pci_quirk_mf_endpoint_acs (82599)"},
    {0x8086, 0x1558, 0x1558, NULL, "pci_quirk_mf_endpoint_acs (82599)"},
    {0x1924, 0x0903, 0x0903, NULL, "pci_quirk_mf_endpoint_acs (Solarflare)"},
    {0x1924, 0x0923, 0x0923, NULL, "pci_quirk_mf_endpoint_acs (Solarflare)"},
    {0x1924, 0x0a03, 0x0a03, NULL, "pci_quirk_mf_endpoint_acs (Solarflare)"},
    /* pci_quirk_qcom_rp_acs, pci_quirk_xgene_acs, pci_quirk_brcm_acs: root ports */
    {0x17cb, 0x0400, 0x0401, NULL, "pci_quirk_qcom_rp_acs (QDF2400/2432)"},
    {0x1def, 0xe005, 0xe00c, NULL, "pci_quirk_xgene_acs (Ampere eMAG)"},
    {0x14e4, 0xd714, 0xd714, NULL, "pci_quirk_brcm_acs (BCM5719 RC)"},
};

static unsigned hex_of(const json_t *obj, const char *key)
{
	const char *s = snap_json__str(obj, key);

	return s ? (unsigned)strtoul(s, NULL, 16) : 0xffffffffu;
}

static const struct acs_quirk *find_quirk(const json_t *obj)
{
	unsigned v = hex_of(obj, "vendor"), d = hex_of(obj, "device");
	const char *type = snap_json__str(obj, "pcie_type");

	for (size_t i = 0; i < SNAP_ARRAY_SIZE(acs_quirks); i++) {
		const struct acs_quirk *q = &acs_quirks[i];

		if (q->vendor != v || d < q->dev_lo || d > q->dev_hi)
			continue;
		if (q->root_port_only && (!type || strcmp(type, "root_port")))
			continue;
		return q;
	}
	return NULL;
}

unsigned snap_topo__acs_bits(const json_t *arr)
{
	static const char *const names[] = {"SV", "TB", "RR", "CR", "UF", "EC", "DT"};
	unsigned v = 0;
	size_t i;
	json_t *f;

	json_array_foreach (arr, i, f) {
		for (unsigned b = 0; b < SNAP_ARRAY_SIZE(names); b++)
			if (json_string_value(f) && !strcmp(json_string_value(f), names[b]))
				v |= 1u << b;
	}
	return v;
}

void snap_topo__acs_names(char *buf, size_t n, unsigned bits, const char *sep)
{
	static const char *const names[] = {"SV", "TB", "RR", "CR", "UF", "EC", "DT"};

	buf[0] = '\0';
	for (unsigned b = 0; b < SNAP_ARRAY_SIZE(names); b++)
		if (bits & (1u << b)) {
			size_t len = strlen(buf);

			snprintf(buf + len, n - len, "%s%s", len ? sep : "", names[b]);
		}
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
	cap = snap_topo__acs_bits(json_object_get(acs, "cap"));
	ctl = snap_topo__acs_bits(json_object_get(acs, "ctl"));
	req = REQ_ACS_FLAGS & (cap | ACS_EC);
	if ((ctl & req) == req)
		return SNAP_YES;
	snap_topo__acs_names(missing, sizeof(missing), req & ~ctl, ",");
	snprintf(why, n, "has ACS %s disabled", missing);
	return SNAP_NO;
}

enum snap_tristate snap_topo__acs_enabled(const snap_topo *t, int i, char *why, size_t n)
{
	const json_t *obj = t->dev[i].obj;
	const char *type = snap_json__str(obj, "pcie_type");
	const json_t *mf = json_object_get(obj, "multifunction");
	const struct acs_quirk *q = find_quirk(obj);

	why[0] = '\0';
	if (q)
		return SNAP_YES;
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
		if (snap_json__str(obj, "physfn"))
			return SNAP_YES; /* VFs are never multifunction */
		if (!json_is_boolean(mf)) {
			snprintf(why, n, "multifunction bit unknown");
			return SNAP_UNKNOWN;
		}
		if (!json_is_true(mf))
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

/* pci_acs_path_enabled(start, NULL, REQ_ACS_FLAGS) */
static enum snap_tristate path_enabled(const snap_topo *t, int i, int *blocker, char *why, size_t n)
{
	enum snap_tristate res = SNAP_YES;

	for (int p = i; p >= 0; p = t->dev[p].parent) {
		enum snap_tristate e = snap_topo__acs_enabled(t, p, why, n);

		if (e == SNAP_NO) {
			*blocker = p;
			return SNAP_NO;
		}
		if (e == SNAP_UNKNOWN)
			res = SNAP_UNKNOWN;
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
			const json_t *mf = json_object_get(t->dev[pdev].obj, "multifunction");

			if (self == SNAP_UNKNOWN)
				d->uncertain = true;
			if (self != SNAP_NO || !json_is_true(mf))
				continue;
			for (size_t o = 0; o < t->n; o++) {
				struct snap_topo_dev *od = &t->dev[o];
				char owhy[128];

				if ((int)o == pdev || od->dom != t->dev[pdev].dom ||
				    od->bus != t->dev[pdev].bus || od->slot != t->dev[pdev].slot)
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

static void index_add(json_t *index, json_int_t key, size_t i)
{
	char k[32];
	json_t *list;

	snprintf(k, sizeof(k), "%" JSON_INTEGER_FORMAT, key);
	if (!(list = json_object_get(index, k))) {
		list = json_array();
		json_object_set_new(index, k, list);
	}
	json_array_append_new(list, json_integer((json_int_t)i));
}

static const json_t *index_get(const json_t *index, json_int_t key)
{
	static json_t *empty;
	char k[32];
	const json_t *v;

	snprintf(k, sizeof(k), "%" JSON_INTEGER_FORMAT, key);
	v = json_object_get(index, k);
	if (v)
		return v;
	if (!empty)
		empty = json_array(); /* never modified: shared, immutable */
	return empty;
}

int snap_topo__find(const snap_topo *t, const char *bdf)
{
	json_t *v = bdf ? json_object_get(t->by_bdf, bdf) : NULL;

	return v ? (int)json_integer_value(v) : -1;
}

int snap_topo__build(snap_topo *t, const json_t *root)
{
	const json_t *devices = json_object_get(root, "devices");
	size_t i;
	json_t *d;

	memset(t, 0, sizeof(*t));
	t->n = json_array_size(devices);
	t->by_bdf = json_object();
	if (!t->by_bdf || (t->n && !(t->dev = calloc(t->n, sizeof(*t->dev))))) {
		json_decref(t->by_bdf);
		return SNAP_ENOMEM;
	}
	json_array_foreach (devices, i, d) {
		struct snap_topo_dev *td = &t->dev[i];

		td->obj = d;
		td->bdf = snap_json__str(d, "bdf");
		sscanf(td->bdf, "%x:%x:%x.%u", &td->dom, &td->bus, &td->slot, &td->fn);
		json_object_set_new(t->by_bdf, td->bdf, json_integer((json_int_t)i));
	}
	for (i = 0; i < t->n; i++)
		t->dev[i].parent = snap_topo__find(t, snap_json__str(t->dev[i].obj, "parent"));
	/* a parent chain that loops (corrupt input) is cut */
	for (i = 0; i < t->n; i++) {
		size_t steps = 0;

		for (int p = t->dev[i].parent; p >= 0; p = t->dev[p].parent)
			if (++steps > t->n) {
				t->dev[i].parent = -1;
				break;
			}
	}
	for (i = 0; i < t->n; i++)
		if (!(t->dev[i].identity = make_identity(t, (int)i)))
			return SNAP_ENOMEM;
	compute_implied(t);
	t->by_group = json_object();
	t->by_implied = json_object();
	for (i = 0; i < t->n; i++) {
		const json_t *g = json_object_get(t->dev[i].obj, "iommu_group");

		if (json_is_integer(g))
			index_add(t->by_group, json_integer_value(g), i);
		index_add(t->by_implied, snap_topo__implied_root(t, (int)i), i);
	}
	return 0;
}

const json_t *snap_topo__group_members(const snap_topo *t, json_int_t gid)
{
	return index_get(t->by_group, gid);
}

const json_t *snap_topo__implied_members(snap_topo *t, int i)
{
	return index_get(t->by_implied, snap_topo__implied_root(t, i));
}

void snap_topo__release(snap_topo *t)
{
	for (size_t i = 0; i < t->n; i++) {
		free(t->dev[i].identity);
		free(t->dev[i].merge_reason);
	}
	free(t->dev);
	json_decref(t->by_bdf);
	json_decref(t->by_group);
	json_decref(t->by_implied);
	memset(t, 0, sizeof(*t));
}
