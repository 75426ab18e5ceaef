/* SPDX-License-Identifier: GPL-2.0-or-later */
/**
 * @file check.h
 * The passthrough health of one snapshot: the on-call playbook as code.
 */
#ifndef SNAP_CHECK_H
#define SNAP_CHECK_H

#include <stddef.h>

#include "common.h"
#include "error.h"
#include "snapshot.h"

#ifdef __cplusplus
extern "C" {
#endif

/** Opaque result of snap_check_run(). */
typedef struct snap_check snap_check;

/** Status of one check, in increasing severity. */
typedef enum {
	SNAP_CHECK_PASS = 0, /**< fine */
	SNAP_CHECK_WARN = 1, /**< works, but look at it (or the evidence is unknown) */
	SNAP_CHECK_FAIL = 2  /**< passthrough is broken or unsafe */
} snap_check_status;

/**
 * Run every check on a snapshot.
 * @param[out] out  new result; free with snap_check_free(). Untouched on failure.
 * @return 0 or SNAP_ENOMEM
 */
SNAP_EXTERN int snap_check_run(snap_check **out, const snap_snapshot *s, snap_error *err);

/** The worst status of all checks. */
SNAP_EXTERN snap_check_status snap_check_verdict(const snap_check *c);

/** Number of checks with status st. */
SNAP_EXTERN size_t snap_check_count(const snap_check *c, snap_check_status st);

/**
 * Render as text (json = 0) or as JSON of schema pcisnap.check/1 (json != 0). The text leads
 * with the problems: FAILs, then WARNs, one line per check with the devices it concerns, then
 * a count of the passes (snap_check_render_text() with verbose lists them).
 * @param[out] out  new NUL-terminated string; the caller frees it with free()
 * @return 0 or SNAP_ENOMEM
 */
SNAP_EXTERN int snap_check_render(char **out, const snap_check *c, int json, snap_error *err);

/**
 * The text form; verbose: the passing checks too, after the problems.
 * @param[out] out  new NUL-terminated string; the caller frees it with free()
 * @return 0 or SNAP_ENOMEM
 */
SNAP_EXTERN int snap_check_render_text(char **out, const snap_check *c, int verbose,
                                       snap_error *err);

/**
 * Apply a policy of accepted deviations (policy.h) to a check of snapshot s: each WARN or FAIL
 * an entry accepts is marked ("accepted": its reason), still shown, and no longer counts for
 * the verdict, the counts or the sections. p NULL: nothing.
 * @return the number of findings accepted
 */
struct snap_policy;
SNAP_EXTERN int snap_check_accept(snap_check *c, const struct snap_policy *p,
                                  const snap_snapshot *s);

/** Free a check result. NULL is a no-op. */
SNAP_EXTERN void snap_check_free(snap_check *c);

#ifdef __cplusplus
}
#endif

#endif
