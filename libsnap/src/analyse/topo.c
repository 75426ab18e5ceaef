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
 * pci_acs_enabled() (drivers/pci/pci.c) decides per device (acs_enabled.c): device-specific quirks
 * first; then conventional PCI and PCIe-to-PCI/PCI-to-PCIe bridges and RC event collectors never
 * isolate; root and downstream ports need the flags; endpoints, upstream ports and RC integrated
 * endpoints need them only when multifunction; anything else is isolated. Flags absent from the ACS
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
	d->merge_reason = snap_mem__strdup(buf);
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
			enum snap_pcie_type type = t->dev[p].type;

			if (type == SNAP_PCIE_NONE) {
				d->uncertain = true;
				continue;
			}
			if (type == SNAP_PCIE_CONVENTIONAL || type == SNAP_PCIE_TO_PCI_BRIDGE ||
			    type == SNAP_PCI_TO_PCIE_BRIDGE) {
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
				         t->dev[blocker].type_name ? t->dev[blocker].type_name
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

static unsigned hex_of(const json_t *obj, const char *key)
{
	const char *s = snap_json__str(obj, key);

	return s ? (unsigned)strtoul(s, NULL, 16) : 0xffffffffu;
}

/* The format's pcie_type names (collect/pci.c), once per device. */
static enum snap_pcie_type pcie_type_of(const char *name)
{
	static const struct {
		const char *name;
		enum snap_pcie_type type;
	} names[] = {
	    {"conventional", SNAP_PCIE_CONVENTIONAL},
	    {"endpoint", SNAP_PCIE_ENDPOINT},
	    {"legacy_endpoint", SNAP_PCIE_LEGACY_ENDPOINT},
	    {"root_port", SNAP_PCIE_ROOT_PORT},
	    {"upstream_port", SNAP_PCIE_UPSTREAM_PORT},
	    {"downstream_port", SNAP_PCIE_DOWNSTREAM_PORT},
	    {"pcie_to_pci_bridge", SNAP_PCIE_TO_PCI_BRIDGE},
	    {"pci_to_pcie_bridge", SNAP_PCI_TO_PCIE_BRIDGE},
	    {"rc_integrated_endpoint", SNAP_PCIE_RC_ENDPOINT},
	    {"rc_event_collector", SNAP_PCIE_RC_EVENT_COLLECTOR},
	};

	if (!name)
		return SNAP_PCIE_NONE;
	for (size_t k = 0; k < SNAP_ARRAY_SIZE(names); k++)
		if (!strcmp(names[k].name, name))
			return names[k].type;
	return SNAP_PCIE_OTHER;
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
		td->vendor = hex_of(d, "vendor");
		td->device = hex_of(d, "device");
		td->type_name = snap_json__str(d, "pcie_type");
		td->type = pcie_type_of(td->type_name);
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
