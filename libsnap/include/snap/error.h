/* SPDX-License-Identifier: GPL-2.0-or-later */
/**
 * @file error.h
 * Caller-owned error records. Recording an error never allocates.
 */
#ifndef SNAP_ERROR_H
#define SNAP_ERROR_H

#include "common.h"

#ifdef __cplusplus
extern "C" {
#endif

#define SNAP_ERROR_MESSAGE_MAX 512

/**
 * The last parameter of every fallible function. Caller-owned and may be NULL; written only on
 * failure. The message is one lowercase line with no full stop, e.g. "cannot read 'x': ...".
 */
typedef struct {
	int code;                             /**< the snap_status returned */
	char message[SNAP_ERROR_MESSAGE_MAX]; /**< NUL-terminated, possibly truncated */
} snap_error;

#ifdef __cplusplus
}
#endif

#endif
