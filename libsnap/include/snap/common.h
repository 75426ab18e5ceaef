/* SPDX-License-Identifier: GPL-2.0-or-later */
/**
 * @file common.h
 * Export macro, status codes and argument checks shared by every libsnap header.
 */
#ifndef SNAP_COMMON_H
#define SNAP_COMMON_H

#include <pthread.h>
#include <stddef.h>

#ifdef __cplusplus
extern "C" {
#endif

#if defined(__GNUC__)
#define SNAP_EXTERN __attribute__((visibility("default")))
#else
#define SNAP_EXTERN
#endif

/** Status codes: 0 is success, every failure is negative. */
typedef enum {
	SNAP_OK = 0,         /**< success */
	SNAP_ERROR = -1,     /**< generic failure (I/O, library error) */
	SNAP_ENOMEM = -2,    /**< out of memory */
	SNAP_ENOTFOUND = -3, /**< the named thing does not exist */
	SNAP_EINVALID = -4,  /**< bad argument or malformed input */
	SNAP_ESCHEMA = -5    /**< input of an unknown or newer schema */
} snap_status;

/**
 * Edit distance (Levenshtein) of two short names, for "did you mean": the number of one-byte
 * insertions, deletions and substitutions from a to b; (size_t)-1 past 64 bytes.
 */
SNAP_EXTERN size_t snap_edit_distance(const char *a, const char *b);

/**
 * Start fn(arg) on a second thread as pthread_create(t, NULL, fn, arg) does, for work meant to
 * overlap the caller's own: the thread starts on another CPU than the caller's where the process
 * may use one, then runs wherever the process may (a hint where to start, not a pin). 0, or an
 * errno value; join it with pthread_join().
 */
SNAP_EXTERN int snap_thread_start(pthread_t *t, void *(*fn)(void *), void *arg);

/** Version string of this library, e.g. "0.1.0". Borrowed, static. */
SNAP_EXTERN const char *snap_version(void);

#ifdef __cplusplus
}
#endif

#endif
