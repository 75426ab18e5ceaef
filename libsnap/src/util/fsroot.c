/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * Reading a captured (or the live) filesystem root without leaving it.
 *
 * sysfs is a web of relative symlinks (bus/pci/devices/X -> ../../../devices/pci0000:00/...). A
 * captured root may also hold absolute links, loops or links that climb out with "..". Paths are
 * resolved here one component at a time, relative to an O_PATH descriptor of the root, the way
 * chroot(2) would see them: an absolute target restarts at the root, ".." stops at the root, and
 * more than 40 links is ELOOP. Files are then opened with O_NOFOLLOW below the resolved path,
 * so nothing outside the root is ever read, and nothing is ever written.
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/statfs.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <linux/openat2.h>

#include "util/fsroot.h"

#define MAX_LINK_HOPS 40 /* as the kernel's MAXSYMLINKS */

/*
 * File systems whose readdir fills the caller's buffer until the directory ends: their
 * iterate_shared() stops only when dir_emit() refuses an entry or no entry is left (kernfs,
 * which is sysfs; dcache_readdir() of tmpfs and ramfs; ext2/3/4, xfs and btrfs). On those, a
 * getdents64() that left room for the longest entry (NAME_MAX) returned the directory's end,
 * and the call that would return 0 is not made. Not overlayfs (a directory of one layer is
 * read by that layer's readdir, whatever it is), not network or FUSE file systems.
 */
static bool fills_dirents(long type)
{
	switch (type) {
	case 0x62656572: /* SYSFS_MAGIC */
	case 0x01021994: /* TMPFS_MAGIC */
	case 0x858458f6: /* RAMFS_MAGIC */
	case 0xef53:     /* EXT2/3/4_SUPER_MAGIC */
	case 0x58465342: /* XFS_SUPER_MAGIC */
	case 0x9123683e: /* BTRFS_SUPER_MAGIC */
		return true;
	default:
		return false;
	}
}

/* the root's file system and its sys/'s (the live root's is sysfs, mounted on it) */
static bool root_fills_dirents(int rootfd)
{
	struct statfs fs;
	int sys;
	bool fills;

	if (fstatfs(rootfd, &fs) < 0 || !fills_dirents((long)fs.f_type))
		return false;
	if ((sys = openat(rootfd, "sys", O_PATH | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC)) < 0)
		return true;
	fills = fstatfs(sys, &fs) == 0 && fills_dirents((long)fs.f_type);
	close(sys);
	return fills;
}

int snap_root__open(snap_root *r, const char *path, snap_error *err)
{
	struct stat st;
	int fd;

	r->fd = -1;
	r->is_slash = false;
	if ((fd = open(path, O_PATH | O_DIRECTORY | O_CLOEXEC)) < 0)
		return snap_error__errno(err, "open root", path);
	if (fstat(fd, &st) < 0) {
		close(fd);
		return snap_error__errno(err, "stat root", path);
	}
	r->fd = fd;
	r->is_slash = (strcmp(path, "/") == 0);
	r->whole_dirents = root_fills_dirents(fd);
	r->dirs = json_object();
	return 0;
}

void snap_root__close(snap_root *r)
{
	if (r->fd >= 0)
		close(r->fd);
	r->fd = -1;
	json_decref(r->dirs);
	r->dirs = NULL;
}

/* Drop the last component of a canonical path ("a/b" -> "a", "a" -> ""). */
static void pop_component(char *path, size_t *len)
{
	char *slash = strrchr(path, '/');

	*len = slash ? (size_t)(slash - path) : 0;
	path[*len] = '\0';
}

int snap_root__resolve(char **out, const snap_root *r, const char *rel)
{
	char path[PATH_MAX], rest[PATH_MAX], target[PATH_MAX], tmp[PATH_MAX];
	size_t plen = 0;
	int hops = 0;
	char *p;

	if (strlen(rel) >= sizeof(rest))
		return -ENAMETOOLONG;
	memcpy(rest, rel, strlen(rel) + 1);
	path[0] = '\0';
	p = rest;
	while (*p) {
		char *comp, *end;
		size_t clen;
		ssize_t n;

		while (*p == '/')
			p++;
		if (!*p)
			break;
		comp = p;
		end = strchr(p, '/');
		clen = end ? (size_t)(end - p) : strlen(p);
		p = end ? end : p + clen;
		if (clen == 1 && comp[0] == '.')
			continue;
		if (clen == 2 && comp[0] == '.' && comp[1] == '.') {
			pop_component(path, &plen);
			continue;
		}
		if (plen + 1 + clen + 1 > sizeof(path))
			return -ENAMETOOLONG;
		if (plen)
			path[plen++] = '/';
		memcpy(path + plen, comp, clen);
		plen += clen;
		path[plen] = '\0';

		/* a prefix already seen to be real needs no readlinkat (a memo, not a cache of
		 * contents: a captured root does not change while it is read) */
		if (*p && r->dirs && json_object_get(r->dirs, path))
			continue;
		n = readlinkat(r->fd, path, target, sizeof(target) - 1);
		if (n < 0) {
			if (errno != EINVAL)
				return -errno;
			if (*p && r->dirs) /* exists, is not a link, and something follows it */
				json_object_set_new(r->dirs, path, json_true());
			continue;
		}
		target[n] = '\0';
		if (++hops > MAX_LINK_HOPS)
			return -ELOOP;
		pop_component(path, &plen);
		if (target[0] == '/') {
			plen = 0;
			path[0] = '\0';
		}
		/* The link's target comes before what is left of the path. */
		if ((size_t)snprintf(tmp, sizeof(tmp), "%s/%s", target, p) >= sizeof(tmp))
			return -ENAMETOOLONG;
		memcpy(rest, tmp, strlen(tmp) + 1);
		p = rest;
	}
	if (!(*out = strdup(path)))
		return -ENOMEM;
	return 0;
}

/*
 * Open a canonical path (no links in it: snap_root__resolve() made it) below dirfd. Where the
 * kernel has openat2() (5.6 and later) it checks that: RESOLVE_NO_SYMLINKS refuses a link
 * anywhere in the path, so a component swapped for a link after resolving is never followed,
 * and RESOLVE_IN_ROOT keeps even ".." below dirfd. Elsewhere openat() with O_NOFOLLOW guards
 * the last component. Returns the fd or -errno.
 */
static int open_below(int dirfd, const char *path, int flags)
{
#ifdef SYS_openat2
	struct open_how how = {
	    .flags = (uint64_t)(flags | O_NOFOLLOW | O_CLOEXEC),
	    .resolve = RESOLVE_IN_ROOT | RESOLVE_NO_MAGICLINKS | RESOLVE_NO_SYMLINKS,
	};
	long fd = syscall(SYS_openat2, dirfd, path, &how, sizeof(how));

	if (fd >= 0)
		return (int)fd;
	/* ENOSYS: an older kernel; EPERM: a seccomp filter that does not know openat2 */
	if (errno != ENOSYS && errno != EPERM)
		return -errno;
#endif
	{
		int fd2 = openat(dirfd, path, flags | O_NOFOLLOW | O_CLOEXEC);

		return fd2 < 0 ? -errno : fd2;
	}
}

int snap_root__opendir(const snap_root *r, const char *canon)
{
	return open_below(r->fd, *canon ? canon : ".", O_RDONLY | O_DIRECTORY);
}

/*
 * to_eof: read until read() returns 0. procfs files (seq_file: /proc/modules, /proc/interrupts)
 * return at most a page per read(), so a short read is not their end. A sysfs attribute comes
 * whole from its first read, so for those a short read ends the file and saves a system call.
 */
static int read_fd(char **out, size_t *len, int dirfd, const char *name, size_t max, bool to_eof,
                   bool regular_only, int *keep)
{
	struct stat before, after;
	size_t used = 0, cap;
	char *data;
	int fd, error = 0;

	/*
	 * regular_only: look before opening. Opening is itself an act for a device node planted in
	 * a captured root (a watchdog starts counting, /dev/kmsg hands out the collecting
	 * machine's log): anything but a regular file is an unreadable fact, never opened.
	 */
	if (regular_only) {
		if (fstatat(dirfd, name, &before, AT_SYMLINK_NOFOLLOW) < 0)
			return -errno;
		if (!S_ISREG(before.st_mode))
			return S_ISDIR(before.st_mode) ? -EISDIR : -EINVAL;
	}

	/*
	 * O_NOFOLLOW: a final link is not followed. O_NONBLOCK: a FIFO planted in a captured root
	 * reads as empty instead of hanging. Directories fail the read with EISDIR. No fstat: on
	 * 1,000 devices every saved syscall counts.
	 */
	if ((fd = open_below(dirfd, name, O_RDONLY | O_NONBLOCK)) < 0)
		return fd;
	if (regular_only && (fstat(fd, &after) < 0 || after.st_ino != before.st_ino ||
	                     after.st_dev != before.st_dev)) {
		close(fd); /* swapped between the look and the open */
		return -EAGAIN;
	}
	cap = max < 4096 ? max : 4096;
	if (!(data = malloc(cap + 1))) {
		error = -ENOMEM;
		goto done_fd;
	}
	while (used < max) {
		ssize_t n;

		if (used == cap) {
			size_t ncap = cap * 2 > max ? max : cap * 2;
			char *nd = realloc(data, ncap + 1);

			if (!nd) {
				free(data);
				error = -ENOMEM;
				goto done_fd;
			}
			data = nd;
			cap = ncap;
		}
		n = read(fd, data + used, cap - used);
		if (n < 0) {
			if (errno == EINTR)
				continue;
			error = errno == EAGAIN ? 0 : -errno;
			if (error) {
				free(data);
				goto done_fd;
			}
			break;
		}
		used += (size_t)n;
		if (n == 0 || (!to_eof && (size_t)n < cap - (used - (size_t)n)))
			break;
	}
	data[used] = '\0';
	*out = data;
	if (len)
		*len = used;
done_fd:
	if (keep)
		*keep = fd;
	else
		close(fd);
	return error;
}

int snap_root__read_at(char **out, size_t *len, int dirfd, const char *name, size_t max)
{
	return read_fd(out, len, dirfd, name, max, false, false, NULL);
}

int snap_root__read_at_keep(char **out, size_t *len, int dirfd, const char *name, size_t max,
                            struct snap_fdset *fds)
{
	int fd = -1, error = read_fd(out, len, dirfd, name, max, false, false, &fd);

	if (fd >= 0)
		snap_fdset__add(fds, fd);
	return error;
}

void snap_fdset__add(struct snap_fdset *fds, int fd)
{
	if (fds->n < SNAP_FDSET_MAX)
		fds->fd[fds->n++] = fd;
	else
		close(fd);
}

void snap_fdset__close(struct snap_fdset *fds)
{
	/* each run of consecutive numbers (all ours: every one was opened here) in one call */
	for (size_t i = 1; i < fds->n; i++) { /* in order: a batch's runs join up */
		int fd = fds->fd[i];
		size_t j = i;

		for (; j > 0 && fds->fd[j - 1] > fd; j--)
			fds->fd[j] = fds->fd[j - 1];
		fds->fd[j] = fd;
	}
	for (size_t i = 0; i < fds->n;) {
		size_t j = i + 1;

		while (j < fds->n && fds->fd[j] == fds->fd[j - 1] + 1)
			j++;
		if (j - i == 1 || syscall(SYS_close_range, (unsigned)fds->fd[i],
		                          (unsigned)fds->fd[j - 1], 0u) < 0)
			for (size_t k = i; k < j; k++)
				close(fds->fd[k]);
		i = j;
	}
	fds->n = 0;
}

int snap_root__getdents(const snap_root *r, int dirfd,
                        void (*fn)(const char *name, unsigned char type, void *p), void *payload)
{
	/* getdents64 itself: readdir() would dup, fstat and fcntl the descriptor first */
	char buf[32768] __attribute__((aligned(8)));
	/* the longest record: its 19-byte header, NAME_MAX bytes and the NUL, 8-aligned */
	const long longest = (19 + 255 + 1 + 7) & ~7;

	for (;;) {
		long n = syscall(SYS_getdents64, dirfd, buf, sizeof(buf));

		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0)
			return -errno;
		if (n == 0)
			return 0;
		for (long off = 0; off < n;) {
			struct {
				uint64_t ino;
				int64_t off;
				unsigned short reclen;
				unsigned char type;
				char name[];
			} *de = (void *)(buf + off);

			if (strcmp(de->name, ".") && strcmp(de->name, ".."))
				fn(de->name, de->type, payload);
			off += de->reclen;
		}
		if (r && r->whole_dirents && n + longest <= (long)sizeof(buf))
			return 0;
	}
}

int snap_root__read(char **out, size_t *len, const snap_root *r, const char *rel, size_t max)
{
	char *canon = NULL;
	int error;

	if ((error = snap_root__resolve(&canon, r, rel)) < 0)
		return error;
	error = read_fd(out, len, r->fd, *canon ? canon : ".", max, true, true, NULL);
	free(canon);
	return error;
}

int snap_root__read_tail(char **out, size_t *len, struct stat *sb, const snap_root *r,
                         const char *rel, size_t max)
{
	char *canon = NULL, *buf = NULL;
	size_t got = 0;
	off_t from;
	int fd, error = 0;

	if ((error = snap_root__resolve(&canon, r, rel)) < 0)
		return error;
	fd = openat(r->fd, *canon ? canon : ".", O_RDONLY | O_CLOEXEC | O_NOFOLLOW | O_NONBLOCK);
	free(canon);
	if (fd < 0)
		return -errno;
	if (fstat(fd, sb) < 0 || !S_ISREG(sb->st_mode)) {
		error = S_ISREG(sb->st_mode) ? -errno : -EINVAL;
		goto done;
	}
	from = sb->st_size > (off_t)max ? sb->st_size - (off_t)max : 0;
	if (!(buf = malloc(max + 1))) {
		error = -ENOMEM;
		goto done;
	}
	while (got < max) {
		ssize_t n = pread(fd, buf + got, max - got, from + (off_t)got);

		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0) {
			error = -errno;
			goto done;
		}
		if (n == 0)
			break;
		got += (size_t)n;
	}
	buf[got] = '\0';
	*out = buf;
	*len = got;
	buf = NULL;
done:
	free(buf);
	close(fd);
	return error;
}

int snap_root__readlink_at(char **out, int dirfd, const char *name)
{
	char target[PATH_MAX];
	ssize_t n = readlinkat(dirfd, name, target, sizeof(target) - 1);

	if (n < 0)
		return -errno;
	target[n] = '\0';
	if (!(*out = strdup(target)))
		return -ENOMEM;
	return 0;
}

static int cmp_str(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

struct names {
	char **v;
	size_t len, cap;
	bool oom;
};

static void add_name(const char *name, unsigned char type, void *p)
{
	struct names *ns = p;

	(void)type;
	if (ns->oom)
		return;
	if (ns->len == ns->cap) {
		size_t ncap = ns->cap ? ns->cap * 2 : 32;
		char **nv = realloc(ns->v, ncap * sizeof(*nv));

		if (!nv) {
			ns->oom = true;
			return;
		}
		ns->v = nv;
		ns->cap = ncap;
	}
	if (!(ns->v[ns->len] = strdup(name)))
		ns->oom = true;
	else
		ns->len++;
}

int snap_root__list(char ***out, size_t *n, const snap_root *r, const char *rel)
{
	struct names ns = {NULL, 0, 0, false};
	char *canon = NULL;
	int fd, error;

	if ((error = snap_root__resolve(&canon, r, rel)) < 0)
		return error;
	fd = snap_root__opendir(r, canon);
	free(canon);
	if (fd < 0)
		return fd;
	error = snap_root__getdents(r, fd, add_name, &ns);
	close(fd);
	if (error < 0 || ns.oom) {
		snap_strv__free(ns.v, ns.len);
		return error < 0 ? error : -ENOMEM;
	}
	if (ns.len)
		qsort(ns.v, ns.len, sizeof(*ns.v), cmp_str);
	*out = ns.v;
	*n = ns.len;
	return 0;
}

void snap_strv__free(char **v, size_t n)
{
	for (size_t i = 0; i < n; i++)
		free(v[i]);
	free(v);
}
