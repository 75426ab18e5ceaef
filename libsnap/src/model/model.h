/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * model/: the snapshot document and what every reader of it shares (device lookup, the
 * kernel's multifunction flag, labels). Includes util/ only.
 */
#ifndef SNAP_MODEL_MODEL_H
#define SNAP_MODEL_MODEL_H

#include "snap/snapshot.h"
#include "util/util.h"

/*
 * A snapshot is its JSON document: the collector builds it, the loader checks it, and diff,
 * check and show read it. Invariant: root is an object whose "schema" is SNAP_SNAPSHOT_SCHEMA and
 * whose skeleton (host, kernel, firmware, iommu, groups, devices) has the documented types.
 * Once anything has been analysed, root is no longer changed (the analysis borrows from it).
 */
struct snap_snapshot {
	json_t *root;     /* owned */
	char **warnings;  /* owned array of owned strings: collection warnings */
	size_t nwarnings; /* entries in warnings */
	/* What the snapshot means (analyse/analysis.c), built once by its first reader and freed
	 * with the snapshot: opaque here, so that model/ needs nothing of analyse/. */
	void *analysis;
	void (*analysis_free)(void *analysis);
};

int snap_snapshot__warn(snap_snapshot *s, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));
snap_snapshot *snap_snapshot__new(json_t *root); /* steals root; NULL on ENOMEM */
/* The loader's structural checks (every reader's): 0, or SNAP_EINVALID naming what is wrong. */
int snap_snapshot__validate(const json_t *root, snap_error *err);
/* "board_vendor board_name / product_name" of root, unknown parts "?" (summaries, fleet, policy) */
void snap_snapshot__model(char *buf, size_t n, const json_t *root);
/* The largest snapshot document any reader takes: far above any real host; bounds a hostile
 * input (a pull checks a blob's size against it before inflating it). */
#define MAX_SNAPSHOT_BYTES (64u << 20)

/*
 * acs.c: the ACS flag names of the format ("SV" ... "DT") <-> capability/control register bits,
 * and REQ_ACS_FLAGS of drivers/iommu/iommu.c, the flags the kernel's grouping asks for.
 */
#define SNAP_ACS_SV  0x01u
#define SNAP_ACS_TB  0x02u
#define SNAP_ACS_RR  0x04u
#define SNAP_ACS_CR  0x08u
#define SNAP_ACS_UF  0x10u
#define SNAP_ACS_EC  0x20u
#define SNAP_ACS_DT  0x40u
#define SNAP_ACS_REQ (SNAP_ACS_SV | SNAP_ACS_RR | SNAP_ACS_CR | SNAP_ACS_UF)
unsigned snap_acs__bits(const json_t *flags);
json_t *snap_acs__flags(unsigned bits); /* new array of names */
void snap_acs__names(char *buf, size_t n, unsigned bits, const char *sep);

/* Device object with this bdf, or NULL. Linear; callers with many lookups build an index. */
const json_t *snap_snapshot__device(const json_t *root, const char *bdf);
/*
 * The kernel's dev->multifunction for a device object (parent: its upstream bridge's object, or
 * NULL): the header-type bit of pci_setup_device(), set for every function above 0 by
 * pci_scan_slot() (functions 8+ of an ARI device included) and cleared for SR-IOV VFs.
 * New reference: true, false, or null when the header could not be read.
 */
json_t *snap_snapshot__kernel_multifunction(const json_t *dev, const json_t *parent);
/* "0000:01:00.0 NVIDIA Corporation TU102 [10de:1e87]" into buf. */
void snap_snapshot__device_label(char *buf, size_t n, const json_t *dev);

/* validate.c: the skeleton and the field types alone (what load checks before it keeps a document)
 */
int snap_snapshot__check_skeleton(const json_t *root, snap_error *err);

#endif
