/* SPDX-License-Identifier: GPL-2.0-or-later */
/**
 * @file diff.h
 * Classify every change between two snapshots (docs/interface.md "Diff classes").
 */
#ifndef SNAP_DIFF_H
#define SNAP_DIFF_H

#include <stddef.h>

#include "common.h"
#include "error.h"
#include "snapshot.h"

#ifdef __cplusplus
extern "C" {
#endif

/** Change classes, in increasing severity; the verdict is the worst one present. */
typedef enum {
	SNAP_CLASS_HARMLESS = 0,            /**< listed, nothing to do */
	SNAP_CLASS_BINDING_REGRESSION = 1,  /**< a passthrough device lost its vfio binding */
	SNAP_CLASS_GROUPING_REGRESSION = 2, /**< a passthrough device's group gained a device */
	SNAP_CLASS_ISOLATION_LOSS = 3       /**< DMA or interrupt isolation got weaker */
} snap_class;

#define SNAP_CLASS_COUNT 4
/** Bit of a class in a class mask. */
#define SNAP_CLASS_BIT(c) (1u << (unsigned)(c))
/** The default of --fail-on: every regression class. */
#define SNAP_CLASS_REGRESSIONS                                                                     \
	(SNAP_CLASS_BIT(SNAP_CLASS_BINDING_REGRESSION) |                                           \
	 SNAP_CLASS_BIT(SNAP_CLASS_GROUPING_REGRESSION) |                                          \
	 SNAP_CLASS_BIT(SNAP_CLASS_ISOLATION_LOSS))

/** Opaque result of a comparison. */
typedef struct snap_diff snap_diff;

/** Output formats of snap_diff_render(). */
typedef enum {
	SNAP_DIFF_TEXT = 0,    /**< worst class first, with next steps */
	SNAP_DIFF_JSON = 1,    /**< schema pcisnap.diff/1 */
	SNAP_DIFF_MARKDOWN = 2 /**< for a change ticket */
} snap_diff_format;

/**
 * Compare two snapshots: match devices by identity (ids and upstream ports, not bus numbers),
 * compare groups by membership, classify every change.
 * @param[out] out  new diff; free with snap_diff_free(). Untouched on failure.
 * @return 0 or SNAP_ENOMEM
 */
SNAP_EXTERN int snap_diff_compute(snap_diff **out, const snap_snapshot *old_snap,
                                  const snap_snapshot *new_snap, snap_error *err);

/** The worst class present (SNAP_CLASS_HARMLESS when nothing changed). */
SNAP_EXTERN snap_class snap_diff_verdict(const snap_diff *d);

/** Mask of the classes present (SNAP_CLASS_BIT of each). */
SNAP_EXTERN unsigned snap_diff_classes(const snap_diff *d);

/**
 * Is the comparison conclusive? Not when a fact that decides isolation or binding of a
 * passthrough device (its ACS, FLR, IOMMU group, multifunction bit, the ACS of a port on its
 * path, or the interrupt remapping verdict) was known in OLD and is unknown in NEW, for example
 * because NEW was collected without root. The facts are listed in the JSON document's "unknown".
 * @return 1 conclusive, 0 inconclusive
 */
SNAP_EXTERN int snap_diff_conclusive(const snap_diff *d);

/**
 * Number of faults in the faults section (hardware faults on a passthrough device's path and
 * settings that hide them): not a class, so no part of the verdict; --fail-on faults makes
 * them fail a gate.
 */
SNAP_EXTERN size_t snap_diff_faults(const snap_diff *d);

/** Number of changes of class c. */
SNAP_EXTERN size_t snap_diff_count(const snap_diff *d, snap_class c);

/**
 * Render the diff.
 * @param[out] out  new NUL-terminated string; the caller frees it with free()
 * @return 0, SNAP_EINVALID (unknown format) or SNAP_ENOMEM
 */
SNAP_EXTERN int snap_diff_render(char **out, const snap_diff *d, snap_diff_format format,
                                 snap_error *err);

/**
 * Are OLD and NEW the wrong way round? True when OLD was collected after NEW and runs a newer
 * kernel release: OLD looks like the updated host, NEW like the reference (in a canary
 * comparison the reference is OLD). A hint for the caller to print, never a verdict.
 * @param why  receives a sentence naming both snapshots when it returns 1 (may be NULL)
 * @return 1 suspect, 0 not
 */
SNAP_EXTERN int snap_diff_order_suspect(char *why, size_t n, const snap_snapshot *old_snap,
                                        const snap_snapshot *new_snap);

/**
 * Apply a policy of accepted deviations (policy.h) to a diff, on NEW's host and model: each
 * change of a regression class an entry accepts is marked ("accepted": the reason,
 * "accepted_class": its class), becomes harmless with its message saying so, and no longer
 * counts for the verdict or the classes. p NULL: nothing.
 * @return the number of changes accepted
 */
struct snap_policy;
SNAP_EXTERN int snap_diff_accept(snap_diff *d, const struct snap_policy *p,
                                 const snap_snapshot *new_snap);

/** Free a diff. NULL is a no-op. */
SNAP_EXTERN void snap_diff_free(snap_diff *d);

/** "harmless", "binding_regression", ... Static; NULL for an unknown class. */
SNAP_EXTERN const char *snap_class_name(snap_class c);

/**
 * Parse a comma-separated class list ("isolation_loss,grouping_regression", "all", "none").
 * @param[out] out  the class mask
 * @return 0 or SNAP_EINVALID
 */
SNAP_EXTERN int snap_class_parse_list(unsigned *out, const char *list, snap_error *err);

#ifdef __cplusplus
}
#endif

#endif
