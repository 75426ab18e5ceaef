/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * The diff engine's parts (analyse/diff*.c, render/diff.c): the result, the state of one
 * comparison, and the rules. A rule is one row of snap_diff__rules[] (diff_rules.c): its kind,
 * its class and the next step its changes print; the code that finds its changes names the row.
 */
#ifndef SNAP_ANALYSE_DIFF_H
#define SNAP_ANALYSE_DIFF_H

#include <string.h>

#include "analyse/analyse.h"
#include "snap/diff.h"

#define MAX_EXAMPLES 6 /* devices named in one summarising change */

struct snap_diff {
	json_t *doc;      /* owned: the pcisnap.diff/1 document */
	unsigned classes; /* mask of classes present */
	bool conclusive;  /* no deciding fact became unknown */
	size_t count[SNAP_CLASS_COUNT];
};

/* State of one comparison. o2n/n2o map device indices across the two snapshots (-1: none). */
struct ctx {
	const json_t *o, *n;   /* the two snapshot roots */
	snap_topo *to, *tn;    /* their indexes (borrowed from their analyses; one if o == n) */
	int *o2n, *n2o;        /* identity matching */
	json_t *pt;            /* borrowed: passthrough devices of OLD: bdf -> reasons */
	json_t *cov_o, *cov_n; /* borrowed: bdfs the vfio-pci ID lists of OLD and NEW cover */
	json_t *changes;       /* the result */
	json_t *faults; /* faults on a passthrough device's path: not a class (docs/interface.md) */
	json_t *unknown; /* deciding facts known in OLD and unknown in NEW: [string] */
	bool same_host;  /* both snapshots are of one host (serials may break ties) */
};

/* Every kind of change diff reports; the rows of snap_diff__rules[]. */
enum snap_diff_rule {
	SNAP_RULE_EVIDENCE_LOST_FIELD,
	SNAP_RULE_KERNEL_RELEASE,
	SNAP_RULE_FIRMWARE,
	SNAP_RULE_SERIAL_NUMBER,
	SNAP_RULE_SECURE_BOOT,
	SNAP_RULE_CMDLINE_TOKEN_ADDED,
	SNAP_RULE_CMDLINE_TOKEN_REMOVED,
	SNAP_RULE_MODULES_LOADED,
	SNAP_RULE_MODULES_UNLOADED,
	SNAP_RULE_IOMMU_DISABLED,
	SNAP_RULE_IRQ_REMAPPING_DISABLED,
	SNAP_RULE_EVIDENCE_LOST_IRQ,
	SNAP_RULE_UNSAFE_INTERRUPTS,
	SNAP_RULE_NOIOMMU_MODE,
	SNAP_RULE_ACS_OVERRIDE,
	SNAP_RULE_ACS_OVERRIDE_REMOVED,
	SNAP_RULE_VFIO_MODULE_MISSING,
	SNAP_RULE_VFIO_IDS_UNCOVERED,
	SNAP_RULE_ACS_LOST,
	SNAP_RULE_PT_DEVICE_REMOVED,
	SNAP_RULE_DEVICE_REMOVED,
	SNAP_RULE_PT_DRIVER_CHANGED,
	SNAP_RULE_DRIVER_CHANGED,
	SNAP_RULE_PT_FLR_LOST,
	SNAP_RULE_FLR_LOST,
	SNAP_RULE_PT_FLR_REFUSED,
	SNAP_RULE_FLR_REFUSED,
	SNAP_RULE_FLR_GAINED,
	SNAP_RULE_ACS_CHANGED,
	SNAP_RULE_RESET_METHODS_CHANGED,
	SNAP_RULE_LINK_DOWNTRAINED,
	SNAP_RULE_AER_ERRORS,
	SNAP_RULE_DEVICE_ADDED,
	SNAP_RULE_DEVICES_RENUMBERED,
	SNAP_RULE_EVIDENCE_LOST_CONFIG,
	SNAP_RULE_GROUP_GREW,
	SNAP_RULE_GROUPS_RENUMBERED,
	SNAP_RULE_GROUPS_CHANGED,
	SNAP_RULE_GROUPS_GONE,
	SNAP_RULE_ISOLATION_ASSERTED,
	SNAP_RULE_VM_HOSTDEV_REMOVED,
	SNAP_RULE_VM_DEVICE_ADDED,
	SNAP_RULE_VM_DEVICE_CHANGED,
	SNAP_RULE_PT_RESET_LOST,
	SNAP_RULE_PT_BAR_CLAIMED,
	SNAP_RULE_POWER_CHANGED,
	SNAP_RULE_COUNT
};

struct snap_diff_rule_def {
	const char *kind; /* "kind" of its changes */
	snap_class cls;   /* their class */
	const char *next; /* next step, NULL for none; "{1}" and "{2}" take the change's words */
};
extern const struct snap_diff_rule_def snap_diff__rules[SNAP_RULE_COUNT];

/* Record one change of rule r: subject, old and new values (stolen), the message. */
void snap_diff__add(struct ctx *c, enum snap_diff_rule r, const char *subject, json_t *oldv,
                    json_t *newv, const char *fmt, ...) __attribute__((format(printf, 6, 7)));
/* The same, for a rule whose next step names words of this change ({1}, {2}). */
void snap_diff__add_next(struct ctx *c, enum snap_diff_rule r, const char *w1, const char *w2,
                         const char *subject, json_t *oldv, json_t *newv, const char *fmt, ...)
    __attribute__((format(printf, 8, 9)));

/* diff_match.c: fill o2n and n2o, devices matched by identity, never by bus number. */
void snap_diff__match(struct ctx *c);

/*
 * diff_explain.c: on the sorted changes, set each one's "cause" (the index of the change that
 * explains it) and "vms" (the VMs whose configuration names its device, also said in its
 * message); returns the kernel and firmware changes that preceded, when regression is set
 * (new array; NULL when out of memory).
 */
json_t *snap_diff__explain(const struct ctx *c, json_t *changes, bool regression);

/* diff_rules.c: the rule families, each appending its changes to c->changes. */
void snap_diff__iommu(struct ctx *c);
void snap_diff__vfio(struct ctx *c);
void snap_diff__devices(struct ctx *c);
void snap_diff__groups(struct ctx *c);
void snap_diff__asserted(struct ctx *c);
void snap_diff__vms(struct ctx *c);
void snap_diff__host(struct ctx *c);
void snap_diff__unknown(struct ctx *c);

static inline json_t *snap_diff__jdup(const json_t *v)
{
	return v ? json_deep_copy(v) : json_null();
}

static inline bool snap_diff__str_eq(const char *a, const char *b)
{
	return (!a && !b) || (a && b && !strcmp(a, b));
}

static inline bool snap_diff__is_pt(const struct ctx *c, int i)
{
	return json_object_get(c->pt, c->to->dev[i].bdf) != NULL;
}

/* diff_rules.c: a device of OLD (i) or NEW (j) named for a message */
void snap_diff__label_o(const struct ctx *c, int i, char *buf, size_t n);
void snap_diff__label_n(const struct ctx *c, int j, char *buf, size_t n);

#endif
