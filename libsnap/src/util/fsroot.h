/* SPDX-License-Identifier: GPL-2.0-or-later */
#ifndef SNAP_UTIL_FSROOT_H
#define SNAP_UTIL_FSROOT_H

#include "util/util.h"

/* fsroot.c: reading a (captured) filesystem root without ever leaving it. */
typedef struct {
	int fd;             /* O_PATH descriptor of the root directory */
	bool is_slash;      /* the root is the live "/" */
	bool whole_dirents; /* its file systems fill a getdents64 buffer to the directory's end */
	json_t *dirs;       /* owned: canonical paths already known to be real (not links) */
} snap_root;
int snap_root__open(snap_root *r, const char *path, snap_error *err);
void snap_root__close(snap_root *r);
/*
 * Resolve rel (relative to the root) to a canonical path with no symlinks, following links as
 * a chroot would: absolute targets start at the root and ".." stops at it. Returns 0, -ENOENT,
 * -ELOOP (more than 40 links) or another -errno. *out is malloc'd, "" for the root itself.
 */
int snap_root__resolve(char **out, const snap_root *r, const char *rel);
/* Open a canonical directory (from snap_root__resolve) below the root; -errno on failure. */
int snap_root__opendir(const snap_root *r, const char *canon);
/*
 * Read a sysfs attribute name relative to dirfd, at most max bytes, not following a final link;
 * the first short read ends it (sysfs hands out an attribute whole). The caller has made sure
 * name is a regular file (from the directory listing's d_type).
 * *out is NUL-terminated and malloc'd; *len excludes the NUL. Returns 0 or -errno.
 */
int snap_root__read_at(char **out, size_t *len, int dirfd, const char *name, size_t max);
/*
 * Like snap_root__read_at, for a path relative to the root, resolved with snap_root__resolve,
 * and read to end of file: procfs's seq_files return one page per read(). Only a regular file
 * is opened (-EINVAL otherwise): a device node in a captured root is never opened.
 */
int snap_root__read(char **out, size_t *len, const snap_root *r, const char *rel, size_t max);
/*
 * Descriptors kept open until one call closes them all (close_range when their numbers are
 * contiguous, as the descriptors opened one after another for one device directory are).
 */
#define SNAP_FDSET_MAX 64
struct snap_fdset {
	int fd[SNAP_FDSET_MAX];
	size_t n;
};
void snap_fdset__add(struct snap_fdset *fds, int fd);
void snap_fdset__close(struct snap_fdset *fds);
/* snap_root__read_at, the descriptor left open in fds (closed there later) */
int snap_root__read_at_keep(char **out, size_t *len, int dirfd, const char *name, size_t max,
                            struct snap_fdset *fds);
/*
 * Each entry of an open directory but "." and "..", with its d_type, by getdents64; 0 or -errno.
 * r (may be NULL) says whether a short buffer is the directory's end (fsroot.c fills_dirents).
 */
int snap_root__getdents(const snap_root *r, int dirfd,
                        void (*fn)(const char *name, unsigned char type, void *p), void *payload);
/*
 * The last max bytes of a regular file below the root (a long record's end is what matters:
 * a panic is written last), with its stat in *sb (st_size says how much was before the tail).
 * Never opens anything but a regular file, never blocks on one. 0 or -errno.
 */
struct stat;
int snap_root__read_tail(char **out, size_t *len, struct stat *sb, const snap_root *r,
                         const char *rel, size_t max);
/* readlink of name relative to dirfd; *out malloc'd. Returns 0 or -errno (-EINVAL: not a link). */
int snap_root__readlink_at(char **out, int dirfd, const char *name);
/* Sorted names of a directory below the root (no "." or ".."); 0 or -errno. */
int snap_root__list(char ***out, size_t *n, const snap_root *r, const char *rel);

#endif
