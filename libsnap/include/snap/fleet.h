/* SPDX-License-Identifier: GPL-2.0-or-later */
/**
 * @file fleet.h
 * Many hosts of one store: what each commit records for them (the summary) and the fleet view
 * that reads it back, every host against the majority configuration of its hardware model.
 */
#ifndef SNAP_FLEET_H
#define SNAP_FLEET_H

#include <stddef.h>
#include <stdint.h>

#include "common.h"
#include "error.h"
#include "snapshot.h"
#include "store.h"

#ifdef __cplusplus
extern "C" {
#endif

/**
 * pcisnap's commit summary, a snap_store_summary_fn for snap_store_set_summary() (payload
 * unused): kernel, bios, model, the check result, the diff verdict against the parent, and
 * the inventory and config fingerprints that the fleet view groups and compares hosts by.
 * @return 0 or SNAP_ENOMEM
 */
SNAP_EXTERN int snap_fleet_summary(snap_store_fields *f, const snap_snapshot *s,
                                   const snap_snapshot *parent, const char *parent_id,
                                   void *payload);

/** Output formats of snap_store_fleet(). */
typedef enum {
	SNAP_FLEET_TEXT = 0,    /**< one block per hardware model */
	SNAP_FLEET_JSON = 1,    /**< schema pcisnap.fleet/1 */
	SNAP_FLEET_MARKDOWN = 2 /**< a table for a report */
} snap_fleet_format;

/**
 * The fleet view: hosts grouped by hardware model (DMI board and product plus the device
 * inventory); each model's majority configuration is its baseline; per host the latest
 * snapshot's age, its check result and its diff verdict against the baseline. Reads commit
 * messages, and loads snapshots only for hosts whose configuration differs, one pair at a time.
 * @param[out] out       new string; free() it
 * @param[out] failing   number of hosts with a regression against their baseline or a failing
 *                       check (may be NULL)
 * @param now            "now" for ages, seconds since the epoch
 * @return 0 or SNAP_ERROR
 */
SNAP_EXTERN int snap_store_fleet(char **out, size_t *failing, snap_store *st,
                                 snap_fleet_format format, int64_t now, snap_error *err);

/** A canary against its references (opaque). */
typedef struct snap_canary snap_canary;

/**
 * The canary rule (docs/interface.md "Canary comparisons"): the latest snapshot of host is NEW in
 * every comparison; the references are OLD: its own snapshot from before the change (before,
 * else the newest earlier one with another kernel release, command line or firmware, else the
 * one before its latest) and each peer (the revisions named, else every other host whose latest
 * snapshot has host's hardware model and device inventory). A peer whose own check FAILs is
 * listed and skipped: a broken reference would hide the same breakage in the canary.
 * @param[out] out  new result; free with snap_canary_free()
 * @return 0, SNAP_EINVALID (host is not a host name), SNAP_ENOTFOUND, SNAP_ENOMEM or SNAP_ERROR
 */
SNAP_EXTERN int snap_canary_run(snap_canary **out, snap_store *st, const char *host,
                                const char *before, const char *const *peers, size_t npeers,
                                snap_error *err);

/** Mask of the classes any comparison found (SNAP_CLASS_BIT of each). */
SNAP_EXTERN unsigned snap_canary_classes(const snap_canary *c);

/** 1 when at least one reference was compared and every comparison was conclusive. */
SNAP_EXTERN int snap_canary_conclusive(const snap_canary *c);

/**
 * Text (the verdict, the worst comparison's diff whole, the table of references, Next:) or
 * JSON (schema pcisnap.canary/1, each comparison's diff document included).
 * @param[out] out  new string; free() it
 * @return 0 or SNAP_ENOMEM
 */
SNAP_EXTERN int snap_canary_render(char **out, const snap_canary *c, int json, snap_error *err);

/** Free a result. NULL is a no-op. */
SNAP_EXTERN void snap_canary_free(snap_canary *c);

#ifdef __cplusplus
}
#endif

#endif
