/* SPDX-License-Identifier: GPL-2.0-or-later */
/**
 * @file report.h
 * The `show` report of one snapshot: condensed text, the topology tree, or the JSON itself.
 */
#ifndef SNAP_REPORT_H
#define SNAP_REPORT_H

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

#ifdef __cplusplus
}
#endif

#endif
