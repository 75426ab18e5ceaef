/* SPDX-License-Identifier: GPL-2.0-or-later */
/**
 * @file collect.h
 * Collect a snapshot from a (captured) host root: sysfs, procfs and PCI config space.
 */
#ifndef SNAP_COLLECT_H
#define SNAP_COLLECT_H

#include <stdint.h>

#include "common.h"
#include "error.h"
#include "snapshot.h"

#ifdef __cplusplus
extern "C" {
#endif

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
 * The last words of the previous boot, as a pcisnap.last-words/1 JSON document: the pstore
 * records under root (sys/fs/pstore, var/lib/systemd/pstore) and, when previous_boot_id is
 * given, that boot's kernel messages about the IOMMU, AER, vfio, resets, lockups and panics,
 * read from the journal under root (the system journal when root is "/" or NULL) through
 * sd-journal. A journal that cannot be read is said in the document ("journal_error"), not an
 * error. Only reads.
 * @param[out] out  new string; free() it
 * @return 0, SNAP_ENOTFOUND (no root) or SNAP_ERROR
 */
SNAP_EXTERN int snap_collect_last_words(char **out, const char *root, const char *previous_boot_id,
                                        snap_error *err);

/** Which of a dead boot's records are its last words (snap_collect_last_words_ext()). */
typedef struct {
	unsigned version;             /**< SNAP_LAST_WORDS_OPTIONS_VERSION */
	const char *root;             /**< NULL or "": "/" */
	const char *previous_boot_id; /**< the dead boot; NULL: no journal lines */
	int64_t previous_started;     /**< when the dead boot began (epoch seconds); -1: unknown */
	const char *const *kept; /**< keys of records kept before (snap_store_last_words_kept) */
	size_t kept_count;       /**< entries in kept */
} snap_last_words_options;
#define SNAP_LAST_WORDS_OPTIONS_VERSION 1
#define SNAP_LAST_WORDS_OPTIONS_INIT                                                               \
	{                                                                                          \
		SNAP_LAST_WORDS_OPTIONS_VERSION, NULL, NULL, -1, NULL, 0                           \
	}

/**
 * The last words of a dead boot (pcisnap.last-words/1): the pstore records under the root that
 * belong to it (not older than its start, not kept before; each record's last 1 MiB, with the
 * bytes cut before it counted in "cut") and its kernel fault lines from the journal, with
 * counts of what was left out ("left_out"). Only reads.
 * @param[out] out  new string; free() it
 * @return 0, SNAP_ENOTFOUND (no root) or SNAP_ERROR
 */
SNAP_EXTERN int snap_collect_last_words_ext(char **out, const snap_last_words_options *opts,
                                            snap_error *err);

#ifdef __cplusplus
}
#endif

#endif
