/* SPDX-License-Identifier: GPL-2.0-or-later */
/**
 * @file bundle.h
 * Change-ticket bundles: a reproducible, checksummed tar archive of a snapshot, its reports
 * and (optionally) the diff against an older snapshot; optionally redacted.
 */
#ifndef SNAP_BUNDLE_H
#define SNAP_BUNDLE_H

#include <stddef.h>

#include "common.h"
#include "error.h"
#include "snapshot.h"

#ifdef __cplusplus
extern "C" {
#endif

#define SNAP_EXPORT_OPTIONS_VERSION                                                                \
	3 /* 2 added auth_key, 3 compression; older structs are read                               \
	   */

/** Options of snap_bundle_export(). Initialise with SNAP_EXPORT_OPTIONS_INIT. */
typedef struct {
	unsigned version;                /**< SNAP_EXPORT_OPTIONS_VERSION */
	const snap_snapshot *against;    /**< NULL, or the older snapshot to diff against */
	int redact;                      /**< replace identifying values by keyed pseudonyms */
	const unsigned char *redact_key; /**< key of the pseudonyms (required with redact) */
	size_t redact_key_len;           /**< at least 16 bytes */
	/**
	 * NULL, or a key (16 bytes or more) that authenticates the bundle: MANIFEST.sha256.hmac
	 * holds the HMAC-SHA-256 of MANIFEST.sha256, so whoever edits a member and recomputes the
	 * checksums still cannot make it verify. Without it a bundle detects corruption only.
	 */
	const unsigned char *auth_key;
	size_t auth_key_len; /**< bytes of auth_key */
	/**
	 * NULL: the compression follows the path's suffix; else "none", "gzip", "xz" or "zstd",
	 * whatever the path is (required when path is "-", standard output).
	 */
	const char *compression;
} snap_export_options;

#define SNAP_EXPORT_OPTIONS_INIT                                                                   \
	{                                                                                          \
		SNAP_EXPORT_OPTIONS_VERSION, NULL, 0, NULL, 0, NULL, 0, NULL                       \
	}

/**
 * Write a bundle to path, atomically; the compression follows the suffix: .tar, .tar.gz (.tgz),
 * .tar.xz, .tar.zst, or opts->compression. "-" writes standard output, the whole bundle once
 * it is complete (nothing on a failure). The same inputs give the same bytes.
 * @return 0, SNAP_EINVALID (unknown suffix, bad options) or SNAP_ERROR
 */
SNAP_EXTERN int snap_bundle_export(const snap_snapshot *s, const snap_export_options *opts,
                                   const char *path, snap_error *err);

/**
 * Read a bundle and verify it completely before anything is used: one top directory, no
 * absolute paths, `..`, links or special files, bounded sizes and member count, and every
 * member's SHA-256 as MANIFEST.sha256 lists it, with nothing missing or extra.
 * @param[out] out      the bundle's snapshot; free with snap_snapshot_free()
 * @param[out] old_out  NULL, or receives the snapshot it was diffed against (NULL if none)
 * Checksums detect corruption, not forgery; snap_bundle_read_keyed() authenticates.
 * @return 0, SNAP_ENOTFOUND, SNAP_EINVALID (hostile, corrupt or malformed) or SNAP_ERROR
 */
SNAP_EXTERN int snap_bundle_read(snap_snapshot **out, snap_snapshot **old_out, const char *path,
                                 snap_error *err);

/** How a bundle read by snap_bundle_read_keyed() was verified. */
typedef enum {
	SNAP_BUNDLE_CHECKSUMS = 0,    /**< checksums only: corruption is detected, forgery is not */
	SNAP_BUNDLE_AUTHENTICATED = 1 /**< the manifest's HMAC verified with the key given */
} snap_bundle_verified;

/**
 * snap_bundle_read(), and with a key, authentication: a bundle whose MANIFEST.sha256.hmac does
 * not verify with key, or that has none, is refused. Without a key (NULL) the checksums are
 * verified and *verified says SNAP_BUNDLE_CHECKSUMS, whether the bundle carries an HMAC or not.
 * @param[out] verified  may be NULL
 * @return as snap_bundle_read(); SNAP_EINVALID when authentication fails
 */
SNAP_EXTERN int snap_bundle_read_keyed(snap_snapshot **out, snap_snapshot **old_out,
                                       const char *path, const unsigned char *key, size_t key_len,
                                       snap_bundle_verified *verified, snap_error *err);

/** Does path name a bundle (by its suffix)? */
SNAP_EXTERN int snap_bundle_is_bundle_path(const char *path);

#ifdef __cplusplus
}
#endif

#endif
