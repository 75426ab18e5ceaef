/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * A device directory of sysfs, listed once (an absent attribute costs no system call), and
 * its attributes read as text, hex ids, integers and link targets, each relative to the root.
 */
#include "collect/collector.h"
#include <ctype.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <pci/pci.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

static void add_entry(const char *name, unsigned char type, void *p)
{
	struct devdir *dd = p;

	if (dd->n == dd->cap) {
		size_t ncap = dd->cap ? dd->cap * 2 : 32;
		struct dent *ne = realloc(dd->ents, ncap * sizeof(*ne));

		if (!ne) {
			dd->arena.oom = true; /* the listing is incomplete: taken as none */
			return;
		}
		dd->ents = ne;
		dd->cap = ncap;
	}
	/* the offset now, the pointer once the arena stops moving */
	dd->ents[dd->n].name = (const char *)(uintptr_t)dd->arena.len;
	dd->ents[dd->n++].type = type;
	snap_buf__put(&dd->arena, name, strlen(name) + 1);
}

static int cmp_dent(const void *a, const void *b)
{
	return strcmp(((const struct dent *)a)->name, ((const struct dent *)b)->name);
}

int snap_devdir__devdir_open(struct devdir *dd, const snap_root *r, const char *canon)
{
	memset(dd, 0, sizeof(*dd));
	if ((dd->fd = snap_root__opendir(r, canon)) < 0)
		return dd->fd;
	snap_fdset__add(&dd->fds, dd->fd);
	(void)snap_root__getdents(r, dd->fd, add_entry, dd);
	if (dd->arena.oom) {
		dd->n = 0; /* out of memory: every attribute reads as absent */
		return 0;
	}
	for (size_t i = 0; i < dd->n; i++)
		dd->ents[i].name = dd->arena.ptr + (uintptr_t)dd->ents[i].name;
	if (dd->n)
		qsort(dd->ents, dd->n, sizeof(*dd->ents), cmp_dent);
	return 0;
}

void snap_devdir__devdir_free(struct devdir *dd)
{
	free(dd->ents);
	dd->ents = NULL;
	dd->n = dd->cap = 0;
	snap_buf__release(&dd->arena);
}

void snap_devdir__devdir_close(struct devdir *dd)
{
	snap_fdset__close((struct snap_fdset *)&dd->fds);
	snap_devdir__devdir_free(dd);
}

/* the listed entry called name, or NULL */
static const struct dent *lookup(const struct devdir *dd, const char *name)
{
	struct dent key = {name, 0};

	return dd->n ? bsearch(&key, dd->ents, dd->n, sizeof(*dd->ents), cmp_dent) : NULL;
}

bool snap_devdir__has(const struct devdir *dd, const char *name)
{
	return lookup(dd, name) != NULL;
}

/* name is listed as a regular file: only those are opened (a planted device node never is) */
bool snap_devdir__has_type(const struct devdir *dd, const char *name, unsigned char type,
                           mode_t fmt)
{
	const struct dent *t = lookup(dd, name);
	struct stat st;

	if (!t)
		return false;
	if (t->type != DT_UNKNOWN) /* a file system without d_type: ask */
		return t->type == type;
	return fstatat(dd->fd, name, &st, AT_SYMLINK_NOFOLLOW) == 0 && (st.st_mode & S_IFMT) == fmt;
}

bool snap_devdir__has_file(const struct devdir *dd, const char *name)
{
	return snap_devdir__has_type(dd, name, DT_REG, S_IFREG);
}

/* An attribute of a device directory, trimmed; NULL when absent or unreadable. */
char *snap_devdir__attr(const struct devdir *dd, const char *name)
{
	char *data = NULL;

	if (!snap_devdir__has_file(dd, name) ||
	    snap_root__read_at_keep(&data, NULL, dd->fd, name, ATTR_MAX,
	                            (struct snap_fdset *)&dd->fds) < 0)
		return NULL;
	memmove(data, snap_parse__trim(data), strlen(snap_parse__trim(data)) + 1);
	return snap_collect__utf8(NULL, data, name);
}

json_t *snap_devdir__attr_hex(const struct devdir *dd, const char *name, int width)
{
	char *t = snap_devdir__attr(dd, name), buf[24];
	unsigned long v;

	if (!t || snap_parse__hex_attr(&v, t) < 0) {
		free(t);
		return json_null();
	}
	free(t);
	snprintf(buf, sizeof(buf), "%0*lx", width, v);
	return json_string(buf);
}

json_t *snap_devdir__attr_int(const struct devdir *dd, const char *name)
{
	char *t = snap_devdir__attr(dd, name);
	long v;
	json_t *j = json_null();

	if (t && snap_parse__int(&v, t) == 0)
		j = json_integer(v);
	free(t);
	return j;
}

/* The basename of a symlink in dirfd ("driver" -> "vfio-pci"); NULL when there is no link. */
char *snap_devdir__link_base(const struct devdir *dd, const char *name)
{
	char *target = NULL, *base;

	if (!snap_devdir__has(dd, name) || snap_root__readlink_at(&target, dd->fd, name) < 0)
		return NULL;
	base = snap_parse__basename_dup(target);
	free(target);
	return snap_collect__utf8(NULL, base, name);
}
