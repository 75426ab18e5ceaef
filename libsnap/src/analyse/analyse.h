/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * analyse/: what a snapshot means: topology and implied groups, the passthrough set, the
 * diff rules and check. Includes util/ and model/ only.
 */
#ifndef SNAP_ANALYSE_ANALYSE_H
#define SNAP_ANALYSE_ANALYSE_H

#include "model/model.h"
#include "util/util.h"

enum snap_tristate { SNAP_NO = 0, SNAP_YES = 1, SNAP_UNKNOWN = 2 };

/*
 * intremap.c: interrupt remapping as a verdict ("enabled", "disabled" or "unknown") from the
 * collected signals, strongest first: the chips of /proc/interrupts (what the kernel set up),
 * the kernel log (what it decided at boot), intremap= on the command line (what was asked).
 * Each signal present is appended to evidence as a line.
 */
const char *snap_intremap__verdict(json_t *evidence, const json_t *interrupts, const json_t *log,
                                   const json_t *opts);

/*
 * cmdline.c: what the recorded command-line options make the kernel do (Linux 6.1's parsers:
 * items walked in order, prefix matches), and the settings that weaken passthrough.
 */
enum snap_tristate snap_cmdline__intel_iommu(const json_t *opts); /* YES on, NO off */
bool snap_cmdline__amd_iommu_off(const json_t *opts);
bool snap_cmdline__iommu_off(const json_t *opts);
enum snap_tristate snap_cmdline__intremap(const json_t *opts); /* YES on, NO off */
/* The IOMMU of this vendor ("intel", "amd", NULL = either) turned off; *why names the option. */
bool snap_cmdline__iommu_disabled(const json_t *opts, const char *vendor, const char **why);
/* [{option, why}] of the command-line settings that hide faults (they are named as hiding,
 * never as a fix: pci=noaer, pcie_ports=compat, pcie_aspm=off). */
json_t *snap_cmdline__hiding(const json_t *opts);
/* [{option, value, why}] of the options that weaken passthrough on this vendor's host. */
json_t *snap_cmdline__risky(const json_t *opts, const char *vendor);

/* passthrough.c: which devices a snapshot passes (or means to pass) to VMs, and why. */
/* Object bdf -> [reason strings]; the contract's definition, siblings in the slot included.
 * covered: snap_passthrough__covered() of root. Readers ask snap_analysis__passthrough(). */
json_t *snap_passthrough__compute(const json_t *root, const json_t *covered);
/* bdf -> [the vfio.ids entries that match it]: each device held against the ids that can
 * match it (indexed by vendor:device), so linear in devices and ids. */
json_t *snap_passthrough__covered(const json_t *root);
/* Does a vfio-pci id ("vvvv:dddd[:sv:sd...]") match this device object? */
bool snap_passthrough__id_matches(const char *id, const json_t *dev);
/* Whether the device is in D3cold: its link down by design, not by a fault. */
bool snap_passthrough__in_d3cold(const json_t *dev);
/* The link below port (a port on dev's path; below: the device under it there) is down: Link
 * Active clear and below not answering config reads; never for dev in D3cold */
bool snap_passthrough__link_down(const json_t *port, const json_t *below, const json_t *dev);
/* Whether the kernel resets a device without its bus (a per-function reset method). */
enum snap_tristate snap_passthrough__resets_alone(const json_t *dev);
/*
 * Why vfio_pci_probe() of Linux 6.1 returns an error for this device (not a type-0 header, on
 * its denylist unless disable_denylist, a PF with VFs enabled), or NULL when it binds it.
 */
const char *snap_passthrough__vfio_refuses(const json_t *dev, bool denylist_disabled);
/* Whether a VM's start binds the device to vfio-pci: YES when a VM that does names it (Proxmox,
 * libvirt managed='yes'), NO when only VMs that do not name it, UNKNOWN when no VM names it. */
enum snap_tristate snap_passthrough__vm_binds(const json_t *root, const char *bdf);
/* Whether another function of the same slot shares a passthrough device's fate, and how. */
enum snap_fate { SNAP_FATE_NONE, SNAP_FATE_GROUP, SNAP_FATE_RESET };
enum snap_fate snap_passthrough__shares_fate(const json_t *dev, const json_t *other);
/* The reason given to a function that shares only a passthrough device's reset, then its bdf. */
#define SNAP_PT_RESET_SIBLING "function reset with "
/*
 * topo.c: an index over a snapshot's devices for identity matching and implied grouping.
 * Invariant: dev[i].parent is an index into dev or -1; index order is the snapshot's (by BDF).
 */
/* The PCIe port type (pci_pcie_type()) as the format names it; NONE: not recorded. */
enum snap_pcie_type {
	SNAP_PCIE_NONE,
	SNAP_PCIE_CONVENTIONAL, /* no PCIe capability */
	SNAP_PCIE_ENDPOINT,
	SNAP_PCIE_LEGACY_ENDPOINT,
	SNAP_PCIE_ROOT_PORT,
	SNAP_PCIE_UPSTREAM_PORT,
	SNAP_PCIE_DOWNSTREAM_PORT,
	SNAP_PCIE_TO_PCI_BRIDGE,
	SNAP_PCI_TO_PCIE_BRIDGE,
	SNAP_PCIE_RC_ENDPOINT,
	SNAP_PCIE_RC_EVENT_COLLECTOR,
	SNAP_PCIE_OTHER /* "unknown": a type the kernel does not name */
};

struct snap_topo_dev {
	const json_t *obj; /* borrowed from the snapshot */
	const char *bdf;   /* borrowed */
	unsigned dom, bus, slot, fn;
	unsigned vendor, device;  /* parsed once; 0xffffffff when absent */
	enum snap_pcie_type type; /* parsed once from "pcie_type" */
	const char *type_name;    /* borrowed: "pcie_type" as recorded, NULL when absent */
	int parent;               /* index of the upstream bridge, -1 at a root bus */
	char *identity;           /* owned: ids plus the chain of upstream ports, no bus numbers */
	int implied;              /* union-find parent for implied groups */
	enum snap_tristate mf;    /* the kernel's dev->multifunction */
	int group_a, group_b;     /* on an implied root: members in two different kernel groups */
	bool uncertain;     /* an ACS fact this device's implied group depends on is unknown */
	char *merge_reason; /* owned, NULL: why this device joins others in its implied group */
};

/* Device indices (into dev), ascending: borrowed from the topology. */
struct snap_topo_span {
	const int *idx;
	size_t n;
};

/* Devices by a number (a group id, an implied root, a slot): pairs sorted by (key, index). */
struct snap_topo_index {
	int64_t *key; /* owned */
	int *idx;     /* owned */
	size_t n;
};

typedef struct {
	struct snap_topo_dev *dev;         /* owned array */
	size_t n;                          /* entries */
	int *by_bdf;                       /* owned: the indices sorted by bdf */
	struct snap_topo_index by_group;   /* by kernel group id */
	struct snap_topo_index by_implied; /* by implied root index */
	struct snap_topo_index by_slot;    /* by domain, bus and slot */
	int *path_memo;    /* owned: pci_acs_path_enabled() per device, -2 unknown yet */
	int *path_blocker; /* owned: where that path stops isolating */
	bool iommu_on;     /* the snapshot's IOMMU is enabled (ACS enable quirks ran) */
	bool amd_iommu;    /* ... and it is AMD's (an IVRS table is present) */
} snap_topo;

int snap_topo__build(snap_topo *t, const json_t *root);
void snap_topo__release(snap_topo *t);
int snap_topo__find(const snap_topo *t, const char *bdf); /* index or -1 */
/* pci_acs_enabled() for one device with REQ_ACS_FLAGS; *why names what is missing. */
enum snap_tristate snap_topo__acs_enabled(const snap_topo *t, int i, char *why, size_t n);
int snap_topo__implied_root(snap_topo *t, int i); /* representative of i's implied group */
/* A member of i's implied group in another kernel group than i's (isolation asserted, not
 * enforced), or -1. Constant time. */
int snap_topo__other_group_member(const snap_topo *t, int i);
/*
 * Isolation asserted, not enforced: i is in a kernel group narrower than the group its
 * hardware's ACS implies. SNAP_YES with *other (a member of i's implied group in another kernel
 * group) and *reason (what merges them; NULL when no device records it); SNAP_UNKNOWN when ACS
 * on the path is unknown; SNAP_NO otherwise, and for a device the kernel did not group.
 */
enum snap_tristate snap_topo__isolation_asserted(const snap_topo *t, int i, int *other,
                                                 const char **reason);
/*
 * Why the members (BDF strings) of one kernel group share it: what merges them (borrowed), or
 * NULL with *uncertain set when the ACS of a path is unknown, and NULL alone when ACS does not
 * explain it (a DMA alias quirk pcisnap does not model).
 */
const char *snap_topo__group_reason(const snap_topo *t, const json_t *members, bool *uncertain);
/* Indices in kernel group gid, or in i's implied group, ascending. */
struct snap_topo_span snap_topo__group_members(const snap_topo *t, json_int_t gid);
struct snap_topo_span snap_topo__implied_members(snap_topo *t, int i);
/* Indices of the functions in i's slot (i included; 8 at most), ascending. */
struct snap_topo_span snap_topo__slot_members(const snap_topo *t, int i);
/* Printable name of a device for messages: "0000:01:00.0 (NVIDIA ... [10de:1e87])". */
void snap_topo__label(const snap_topo *t, int i, char *buf, size_t n);

/*
 * analysis.c: what one snapshot means, built once, lazily, by its first reader, and kept with
 * the snapshot (freed by snap_snapshot_free()). Every reader of a snapshot's topology,
 * passthrough set or vfio-pci id coverage asks here, so a command builds each once. Each getter
 * returns NULL on ENOMEM (and for a NULL argument). Not for two threads on one snapshot at once:
 * a caller that analyses in parallel hands each thread its own snapshot.
 */
typedef struct snap_analysis snap_analysis;
snap_analysis *snap_analysis__get(const snap_snapshot *s);
snap_topo *snap_analysis__topo(snap_analysis *a);     /* borrowed */
bool snap_analysis__has_topo(const snap_analysis *a); /* built already */
/* borrowed, read-only (non-const for jansson's iterators): bdf -> [reasons], bdf -> [ids] */
json_t *snap_analysis__passthrough(snap_analysis *a);
json_t *snap_analysis__covered(snap_analysis *a);
unsigned long snap_analysis__topo_builds(void); /* topologies built by this process (tests) */

/*
 * 16-hex fingerprints of a snapshot: inventory (the multiset of vendor:device ids: the hardware
 * model's device inventory) and config (what passthrough depends on, without host-specific
 * values: IOMMU and vfio settings, kernel and command-line options, drivers, groups, ACS, FLR).
 */
int snap_fingerprint__compute(char inv[17], char cfg[17], const snap_snapshot *s);

/*
 * policy.c: accepted deviations. The reason p accepts the finding what (a check id or a diff
 * change kind) about subject/message on the snapshot root's host or model, or NULL.
 */
struct snap_policy;
const char *snap_policy__accepts(const struct snap_policy *p, const json_t *root, const char *what,
                                 const char *subject, const char *message);
const json_t *snap_policy__doc(const struct snap_policy *p);      /* borrowed; NULL for NULL */
void snap_policy__model(char *buf, size_t n, const json_t *root); /* the summary's model */

/*
 * faultlog.c: the kernel log's fault lines (AER, DPC, IOMMU faults) by the device they are
 * about: severity "fatal", "nonfatal", "correctable", "contained" or "iommu".
 */
bool snap_faultlog__parse(const char *line, char bdf[16], const char **severity);
json_t *snap_faultlog__count(const json_t *root);
/* dpc_process_error()'s words for a recorded DPC trigger reason ("err_fatal": "ERR_FATAL") */
const char *snap_faultlog__dpc_reason(const char *reason);
/* [{option, why}] of what turns fault reporting off: the command line's settings
 * (snap_cmdline__hiding()) and AER the firmware kept through _OSC (the kernel log's lines). */
json_t *snap_faultlog__hiding(const json_t *root); /* new {bdf: {severity: lines}} */

#endif
