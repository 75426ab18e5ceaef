/* SPDX-License-Identifier: GPL-2.0-or-later */
/**
 * @file preflight.h
 * Before the reboot: what the kernel that boots next, its initramfs and its command line will
 * do to the passthrough devices of a snapshot, from the files already on disk.
 */
#ifndef SNAP_PREFLIGHT_H
#define SNAP_PREFLIGHT_H

#include "check.h"
#include "common.h"
#include "error.h"
#include "snapshot.h"

#ifdef __cplusplus
extern "C" {
#endif

#define SNAP_PREFLIGHT_OPTIONS_VERSION 2 /* 1: without list_files */

/** Options for snap_preflight_run(). Initialise with SNAP_PREFLIGHT_OPTIONS_INIT. */
typedef struct {
	unsigned version;      /**< SNAP_PREFLIGHT_OPTIONS_VERSION */
	const char *root;      /**< root whose /boot, /lib/modules and /etc are read; NULL = "/" */
	const char *kernel;    /**< release that boots next; NULL = the newest installed */
	const char *initramfs; /**< its image (a path of the caller's, not under root); NULL =
	                            boot/initrd.img-RELEASE (or boot/initramfs-RELEASE.img) */
	const char *cmdline;   /**< the next command line as given; NULL = from the boot loader */
	int list_files; /**< (version 2) the result's initramfs gains files: every name the kernel's
	                     unpacking leaves, resolved, with its type, a file's size, a link's
	                   target */
} snap_preflight_options;

#define SNAP_PREFLIGHT_OPTIONS_INIT                                                                \
	{                                                                                          \
		SNAP_PREFLIGHT_OPTIONS_VERSION, NULL, NULL, NULL, NULL, 0                          \
	}

/** Opaque result of snap_preflight_run(). */
typedef struct snap_preflight snap_preflight;

/**
 * Predict the next boot for the passthrough devices of current (the state now). Reads only.
 * An input that cannot be read (an initramfs libarchive cannot read whole, no modules for the
 * release) is not an error: the result says so and is inconclusive.
 * @param[out] out  new result; free with snap_preflight_free(). Untouched on failure.
 * @return 0, SNAP_ENOTFOUND (no kernel installed under the root, or --kernel not installed),
 *         SNAP_EINVALID or SNAP_ENOMEM
 */
SNAP_EXTERN int snap_preflight_run(snap_preflight **out, const snap_snapshot *current,
                                   const snap_preflight_options *opts, snap_error *err);

/** The worst status of all the predictions (FAIL: a predicted regression). */
SNAP_EXTERN snap_check_status snap_preflight_verdict(const snap_preflight *p);

/** Nonzero when every input the prediction depends on could be read. */
SNAP_EXTERN int snap_preflight_conclusive(const snap_preflight *p);

/**
 * Render as text (json = 0) or as JSON of schema pcisnap.preflight/1 (json != 0).
 * @param[out] out  new NUL-terminated string; the caller frees it with free()
 */
SNAP_EXTERN int snap_preflight_render(char **out, const snap_preflight *p, int json,
                                      snap_error *err);

/**
 * Whether a stored prediction held, added to a diff's report: prediction is a
 * pcisnap.preflight/1 document (as rendered with json), after the snapshot taken after the
 * reboot (the diff's NEW). format is the report's: 0 text and 2 Markdown get a section
 * appended, 1 JSON a member "preflight" ({kernel, predicted, booted, held, devices: [{bdf,
 * predicted, bound, held}]}). *report is replaced; *held is 1 when every prediction held.
 * @return 0, SNAP_EINVALID (not a prediction, or a report that is not JSON) or SNAP_ENOMEM
 */
SNAP_EXTERN int snap_preflight_annotate(char **report, int format, int *held,
                                        const char *prediction, const snap_snapshot *after,
                                        snap_error *err);

/** Free a result. NULL is a no-op. */
SNAP_EXTERN void snap_preflight_free(snap_preflight *p);

#ifdef __cplusplus
}
#endif

#endif
