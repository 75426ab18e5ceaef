/* SPDX-License-Identifier: GPL-2.0-or-later */
/**
 * @file report.h
 * The `show` report of one snapshot: condensed text, the topology tree, or the JSON itself.
 */
#ifndef SNAP_REPORT_H
#define SNAP_REPORT_H

#include <stdint.h>

#include "common.h"
#include "error.h"
#include "snapshot.h"

#ifdef __cplusplus
extern "C" {
#endif

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

struct snap_check;

/**
 * Metrics of one host in Prometheus' text exposition format (for node_exporter's textfile
 * collector): pcisnap_check_status per check and subject (0 pass, 1 warn, 2 fail),
 * pcisnap_check_verdict, pcisnap_diff_verdict per class (1 for the last diff's verdict),
 * pcisnap_passthrough_devices, pcisnap_previous_boot_clean, pcisnap_snapshot_timestamp_seconds
 * and pcisnap_snapshot_age_seconds (at now).
 * @param c             the check of s (snap_check_run())
 * @param diff_verdict  the last diff's class name (snap_class_name()), or NULL when unknown
 * @param now           seconds since the epoch, for the age
 * @param[out] out      new string; free() it
 */
SNAP_EXTERN int snap_metrics_render(char **out, const snap_snapshot *s, const struct snap_check *c,
                                    const char *diff_verdict, int64_t now, snap_error *err);

#ifdef __cplusplus
}
#endif

#endif
