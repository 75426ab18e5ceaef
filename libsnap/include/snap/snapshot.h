/* SPDX-License-Identifier: GPL-2.0-or-later */
/**
 * @file snapshot.h
 * Snapshots: load one from JSON, serialise it, write it atomically.
 *
 * A snapshot is the passthrough health of one host at one time: kernel, firmware, IOMMU and
 * interrupt remapping, IOMMU groups, PCI devices with their ACS/FLR/link facts, vfio settings and
 * the VM configurations that name devices. Its JSON form is schema "pcisnap.snapshot/1"
 * (schema/snapshot.v1.schema.json, docs/format.md).
 */
#ifndef SNAP_SNAPSHOT_H
#define SNAP_SNAPSHOT_H

#include <stddef.h>
#include <stdint.h>

#include "common.h"
#include "error.h"

#ifdef __cplusplus
extern "C" {
#endif

/** Opaque snapshot. */
typedef struct snap_snapshot snap_snapshot;

#define SNAP_SNAPSHOT_SCHEMA         "pcisnap.snapshot/1"
#define SNAP_SNAPSHOT_SCHEMA_VERSION 1

/**
 * Parse and check a snapshot from JSON text.
 * @param[out] out  new snapshot; free with snap_snapshot_free(). Untouched on failure.
 * @return 0, SNAP_EINVALID (malformed or not a snapshot) or SNAP_ESCHEMA (newer major schema)
 */
SNAP_EXTERN int snap_snapshot_load_buffer(snap_snapshot **out, const char *buf, size_t len,
                                          snap_error *err);

/**
 * Read a snapshot JSON file ("-" reads standard input).
 * @param[out] out  new snapshot; free with snap_snapshot_free(). Untouched on failure.
 * @return 0, SNAP_ENOTFOUND, SNAP_EINVALID, SNAP_ESCHEMA or SNAP_ERROR
 */
SNAP_EXTERN int snap_snapshot_load_file(snap_snapshot **out, const char *path, snap_error *err);

/**
 * Serialise deterministically: sorted keys, two-space indent, trailing newline.
 * @param[out] out  new NUL-terminated string; the caller frees it with free()
 * @return 0 or SNAP_ENOMEM
 */
SNAP_EXTERN int snap_snapshot_to_json(char **out, const snap_snapshot *s, snap_error *err);

/**
 * Write the JSON to path atomically (temporary file in the same directory, fsync, rename), so a
 * reader never sees a half-written snapshot. "-" writes standard output.
 * @return 0 or SNAP_ERROR
 */
SNAP_EXTERN int snap_snapshot_write_file(const snap_snapshot *s, const char *path, snap_error *err);

/** Host name recorded in the snapshot. Borrowed; valid until s is freed. */
SNAP_EXTERN const char *snap_snapshot_hostname(const snap_snapshot *s);

/**
 * The boot the snapshot was taken in (boot.id), NULL when unknown; and the boot before it
 * (returned) with, in *clean, 1 when it recorded a clean end, 0 when it did not, -1 unknown.
 * Borrowed; valid until s is freed.
 */
SNAP_EXTERN const char *snap_snapshot_boot_id(const snap_snapshot *s);
SNAP_EXTERN const char *snap_snapshot_previous_boot(const snap_snapshot *s, int *clean);

/** Number of collection warnings (reduced coverage, unreadable files); 0 for loaded snapshots. */
SNAP_EXTERN size_t snap_snapshot_warning_count(const snap_snapshot *s);

/** Warning i, one line. Borrowed; valid until s is freed. NULL when i is out of range. */
SNAP_EXTERN const char *snap_snapshot_warning(const snap_snapshot *s, size_t i);

/** Free a snapshot. NULL is a no-op. */
SNAP_EXTERN void snap_snapshot_free(snap_snapshot *s);

/** The hardware model, "board_vendor board_name / product_name" (unknown parts "?"), into buf:
 * what the store's summaries, the fleet and the policy of accepted deviations name a model by. */
SNAP_EXTERN void snap_snapshot_model(char *buf, size_t n, const snap_snapshot *s);

/**
 * Is id a boot id as the kernel writes proc/sys/kernel/random/boot_id (a lowercase UUID,
 * 8-4-4-4-12 hex digits)? Anything else is never recorded as a boot.
 * @return 1 or 0
 */
SNAP_EXTERN int snap_boot_id_valid(const char *id);

/**
 * When the boot a snapshot was taken in began: its collection time less its uptime, in seconds
 * since the epoch; -1 when either is unknown.
 */
SNAP_EXTERN int64_t snap_snapshot_boot_started(const snap_snapshot *s);

#ifdef __cplusplus
}
#endif

#endif
