/* SPDX-License-Identifier: GPL-2.0-or-later */
/**
 * @file snap.h
 * Snapshots: collect one from a (captured) host, load one from JSON, serialise it.
 *
 * A snapshot is the passthrough health of one host at one time: kernel, firmware, IOMMU and
 * interrupt remapping, IOMMU groups, PCI devices with their ACS/FLR/link facts, vfio settings and
 * the VM configurations that name devices. Its JSON form is schema "pcisnap.snapshot/1"
 * (schema/snapshot.v1.schema.json, docs/format.md).
 */
#ifndef SNAP_SNAP_H
#define SNAP_SNAP_H

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

#define SNAP_COLLECT_OPTIONS_VERSION 1

/** Options for snap_snapshot_collect(). Initialise with SNAP_COLLECT_OPTIONS_INIT. */
typedef struct {
	unsigned version;       /**< SNAP_COLLECT_OPTIONS_VERSION */
	const char *root;       /**< filesystem root to read; NULL = "/" */
	const char *dmesg_path; /**< kernel log file; NULL = live log when root is "/" */
	const char *hostname;   /**< NULL = proc/sys/kernel/hostname under root */
	const char *lspci_dump; /**< NULL, or an `lspci -xxxx` dump to take config space from */
	const char *pci_ids;    /**< pci.ids file for device names; NULL = libpci default */
	int64_t timestamp;      /**< collection time, seconds since the epoch; -1 = now */
	int live_kernel_log;    /**< nonzero: read /dev/kmsg when root is "/" and no dmesg_path */
} snap_collect_options;

#define SNAP_COLLECT_OPTIONS_INIT                                                                  \
	{                                                                                          \
		SNAP_COLLECT_OPTIONS_VERSION, NULL, NULL, NULL, NULL, NULL, -1, 1                  \
	}

/**
 * Collect a snapshot of the host under opts->root. Only reads; never writes under the root,
 * never forks, never follows a link out of the root.
 * @param[out] out  new snapshot; free with snap_snapshot_free(). Untouched on failure.
 * @param opts      NULL for defaults
 * @return 0, SNAP_ENOTFOUND (no PCI devices directory under the root), SNAP_EINVALID or SNAP_ERROR
 */
SNAP_EXTERN int snap_snapshot_collect(snap_snapshot **out, const snap_collect_options *opts,
                                      snap_error *err);

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

/** Number of collection warnings (reduced coverage, unreadable files); 0 for loaded snapshots. */
SNAP_EXTERN size_t snap_snapshot_warning_count(const snap_snapshot *s);

/** Warning i, one line. Borrowed; valid until s is freed. NULL when i is out of range. */
SNAP_EXTERN const char *snap_snapshot_warning(const snap_snapshot *s, size_t i);

/** Free a snapshot. NULL is a no-op. */
SNAP_EXTERN void snap_snapshot_free(snap_snapshot *s);

/** Report formats of snap_report_render(). */
typedef enum {
	SNAP_REPORT_TEXT = 0, /**< condensed on-call report */
	SNAP_REPORT_TREE = 1, /**< PCIe topology tree with group, driver, ACS and FLR marks */
	SNAP_REPORT_JSON = 2  /**< the snapshot itself */
} snap_report_format;

/**
 * Render the `show` report of a snapshot.
 * @param[out] out  new NUL-terminated string; the caller frees it with free()
 * @return 0, SNAP_EINVALID (unknown format) or SNAP_ENOMEM
 */
SNAP_EXTERN int snap_report_render(char **out, const snap_snapshot *s, snap_report_format format,
                                   snap_error *err);

#ifdef __cplusplus
}
#endif

#endif
