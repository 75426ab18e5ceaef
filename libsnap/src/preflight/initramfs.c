/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * An initramfs image as init/initramfs.c unpacks it: one cpio archive after another, each
 * compressed or not, NUL bytes between them (an uncompressed early archive with CPU microcode
 * comes first on x86; initramfs-tools and dracut then append the main archive compressed with
 * zstd, gzip, xz or lz4). Every archive is read by libarchive, each from its own offset: an
 * uncompressed one ends where libarchive's cpio reader consumed its TRAILER!!! record, and the
 * next starts after the padding. A compressed one is taken to be the last, as both tools write
 * it (libarchive cannot say where a compressed stream ended).
 *
 * Nothing is unpacked: the members are listed, and only the small files libkmod needs (the
 * modules.* indexes, modprobe.d) and the initramfs-tools module list are copied into a private
 * directory, by names that were checked first (no "..", no absolute names), as regular files
 * created there, never through a link. As in the kernel, a later member replaces an earlier one.
 */
#include <archive.h>
#include <archive_entry.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "preflight/preflight.h"

#define MEMBER_COPY_MAX (64u << 20)  /* one copied file: modules.alias is ~1.5 MB */
#define UNPACKED_MAX    (4ull << 30) /* all members: larger than any real initramfs */
#define MEMBERS_MAX     1000000u     /* members in one image */
#define IMAGE_MAX       (1ull << 30) /* the image itself: Debian's are tens of MB */
#define WARNINGS_MAX    20

static void warn(struct snap_initramfs *ir, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));
static void warn(struct snap_initramfs *ir, const char *fmt, ...)
{
	json_t *w = json_object_get(ir->info, "warnings");
	char buf[1024];
	va_list ap;

	if (json_array_size(w) >= WARNINGS_MAX)
		return;
	va_start(ap, fmt);
	vsnprintf(buf, sizeof(buf), fmt, ap);
	va_end(ap);
	json_array_append_new(w, json_string(buf));
}

static void fail(struct snap_initramfs *ir, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));
static void fail(struct snap_initramfs *ir, const char *fmt, ...)
{
	char buf[1024];
	va_list ap;

	if (ir->error)
		return;
	va_start(ap, fmt);
	vsnprintf(buf, sizeof(buf), fmt, ap);
	va_end(ap);
	ir->error = strdup(buf);
}

/*
 * The member name as the kernel resolves it: do_name() hands it to filp_open() from the root of
 * the rootfs, so the VFS drops empty and "." components and takes ".." one component back,
 * never above the root ("etc/modprobe.d/./vfio.conf" and "lib/../etc/modprobe.d/vfio.conf" are
 * etc/modprobe.d/vfio.conf; "../../x" is x). Symlinks along the path are not followed here.
 * 0 for a name, 1 for the root itself, -1 for a name longer than buf.
 */
static int clean_name(char *buf, size_t n, const char *name)
{
	size_t len = 0;

	buf[0] = '\0';
	for (const char *p = name; *p;) {
		size_t cl = strcspn(p, "/");

		if (cl == 2 && p[0] == '.' && p[1] == '.') {
			char *up = strrchr(buf, '/');

			len = up ? (size_t)(up - buf) : 0;
			buf[len] = '\0';
		} else if (cl && !(cl == 1 && p[0] == '.')) {
			if (len + !!len + cl + 1 > n)
				return -1;
			if (len)
				buf[len++] = '/';
			memcpy(buf + len, p, cl);
			len += cl;
			buf[len] = '\0';
		}
		p += cl;
		p += *p == '/';
	}
	return len ? 0 : 1;
}

/* lib/modules/RELEASE/ or usr/lib/modules/RELEASE/ at the start of name: the rest, and the
 * release into rel; NULL otherwise. */
static const char *under_modules(const char *name, char *rel, size_t n)
{
	const char *p = name, *slash;

	if (!strncmp(p, "usr/", 4))
		p += 4;
	if (strncmp(p, "lib/modules/", 12))
		return NULL;
	p += 12;
	if (!(slash = strchr(p, '/')) || (size_t)(slash - p) >= n || slash == p)
		return NULL;
	memcpy(rel, p, (size_t)(slash - p));
	rel[slash - p] = '\0';
	return slash + 1;
}

/* The files libkmod and the prediction read */
static bool copied(const char *name)
{
	static const char *const confdirs[] = {"etc/modprobe.d/", "run/modprobe.d/",
	                                       "usr/local/lib/modprobe.d/", "usr/lib/modprobe.d/",
	                                       "lib/modprobe.d/"};
	char rel[256];
	const char *rest = under_modules(name, rel, sizeof(rel));
	size_t len = strlen(name);

	if (rest)
		return !strncmp(rest, "modules.", 8) && !strchr(rest, '/');
	if (!strcmp(name, "conf/modules"))
		return true;
	for (size_t i = 0; i < sizeof(confdirs) / sizeof(confdirs[0]); i++) {
		size_t d = strlen(confdirs[i]);

		if (!strncmp(name, confdirs[i], d) && !strchr(name + d, '/') && len > d + 5 &&
		    !strcmp(name + len - 5, ".conf"))
			return true;
	}
	return false;
}

/* "kernel/drivers/gpu/drm/amd/amdgpu/amdgpu.ko.zst" -> "amdgpu" */
static bool module_of(char *buf, size_t n, const char *rest)
{
	static const char *const sfx[] = {".ko", ".ko.xz", ".ko.zst", ".ko.gz"};
	const char *base = strrchr(rest, '/');
	size_t len;

	base = base ? base + 1 : rest;
	len = strlen(base);
	for (size_t i = 0; i < sizeof(sfx) / sizeof(sfx[0]); i++) {
		size_t s = strlen(sfx[i]);

		if (len > s && !strcmp(base + len - s, sfx[i]) && len - s < n) {
			memcpy(buf, base, len - s);
			buf[len - s] = '\0';
			for (char *c = buf; *c; c++)
				if (*c == '-')
					*c = '_';
			return true;
		}
	}
	return false;
}

/*
 * clean_path() of init/initramfs.c: a member of another type than what is at its name removes
 * it (a symlink, a directory or a device named like vfio-pci.ko leaves no module file behind).
 * Forget the module and the copy a regular file at name gave.
 */
static void forget(struct snap_initramfs *ir, const char *name)
{
	char rel[256], mod[256], path[8400];
	const char *rest = under_modules(name, rel, sizeof(rel));

	if (rest && module_of(mod, sizeof(mod), rest) &&
	    !strcmp(snap_json__str(ir->modules, mod) ? snap_json__str(ir->modules, mod) : "", name))
		json_object_del(ir->modules, mod);
	if (copied(name)) {
		snprintf(path, sizeof(path), "%s/%s", ir->tmp, name);
		(void)unlink(path); /* below the private directory: name has no ".." left */
	}
}

/* Create the directories of name below dirfd, then the file; its fd or -errno. */
static int create_below(int dirfd, const char *name)
{
	char path[4096], *slash;
	int fd = dup(dirfd), sub;

	if (fd < 0)
		return -errno;
	snprintf(path, sizeof(path), "%s", name);
	for (char *comp = path; (slash = strchr(comp, '/')); comp = slash + 1) {
		*slash = '\0';
		if (mkdirat(fd, comp, 0700) < 0 && errno != EEXIST) {
			int e = -errno;

			close(fd);
			return e;
		}
		sub = openat(fd, comp, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
		close(fd);
		if (sub < 0)
			return -errno;
		fd = sub;
	}
	sub = openat(fd, strrchr(name, '/') ? strrchr(name, '/') + 1 : name,
	             O_WRONLY | O_CREAT | O_TRUNC | O_NOFOLLOW | O_CLOEXEC, 0600);
	close(fd);
	return sub < 0 ? -errno : sub;
}

static int copy_member(struct snap_initramfs *ir, struct archive *a, int dirfd, const char *name,
                       int64_t size)
{
	char block[65536];
	int fd;
	la_ssize_t got;
	int64_t total = 0;

	if (size > (int64_t)MEMBER_COPY_MAX) {
		warn(ir, "%s: %lld bytes, not read (more than %u MB)", name, (long long)size,
		     MEMBER_COPY_MAX >> 20);
		return 0;
	}
	if ((fd = create_below(dirfd, name)) < 0) {
		warn(ir, "%s: not copied (%s)", name, strerror(-fd));
		return 0;
	}
	while ((got = archive_read_data(a, block, sizeof(block))) > 0) {
		total += got;
		if (total > (int64_t)MEMBER_COPY_MAX || write(fd, block, (size_t)got) != got) {
			close(fd);
			warn(ir, "%s: not copied whole", name);
			return 0;
		}
	}
	close(fd);
	return got < 0 ? -1 : 0;
}

/* The first offset at or after off that is not a NUL byte; -1 at end of file. */
static off_t skip_padding(int fd, off_t off)
{
	unsigned char buf[4096];

	for (;;) {
		ssize_t n = pread(fd, buf, sizeof(buf), off);

		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			return -1;
		for (ssize_t i = 0; i < n; i++)
			if (buf[i])
				return off + i;
		off += n;
	}
}

/* One archive from off; its members into info and the copies. The offset after it, or -1
 * when it was compressed (the last) or could not be read. */
static off_t read_segment(struct snap_initramfs *ir, int fd, int dirfd, off_t off,
                          const char *shown, uint64_t *unpacked, size_t *members)
{
	struct archive *a = archive_read_new();
	struct archive_entry *e;
	json_t *seg, *mods = ir->modules, *releases = json_object_get(ir->info, "releases");
	size_t count = 0;
	off_t next = -1;
	int r;

	if (!a || lseek(fd, off, SEEK_SET) < 0) {
		archive_read_free(a);
		fail(ir, "%s: cannot read at byte %lld", shown, (long long)off);
		return -1;
	}
	archive_read_support_filter_all(a);
	archive_read_support_format_cpio(a);
	if (archive_read_open_fd(a, fd, 65536) != ARCHIVE_OK) {
		fail(ir, "%s: at byte %lld: %s", shown, (long long)off, archive_error_string(a));
		archive_read_free(a);
		return -1;
	}
	while ((r = archive_read_next_header(a, &e)) == ARCHIVE_OK || r == ARCHIVE_WARN) {
		const char *raw = archive_entry_pathname(e);
		char name[4096], rel[256], mod[256];
		const char *rest;
		int64_t size = archive_entry_size_is_set(e) ? archive_entry_size(e) : 0;
		int bad = -1;

		if (++*members > MEMBERS_MAX) {
			fail(ir, "%s: more than %u members", shown, MEMBERS_MAX);
			goto out;
		}
		count++;
		*unpacked += size > 0 ? (uint64_t)size : 0;
		if (*unpacked > UNPACKED_MAX) {
			fail(ir, "%s: its members declare more than %llu GB", shown,
			     UNPACKED_MAX >> 30);
			goto out;
		}
		if (!raw || (bad = clean_name(name, sizeof(name), raw)) != 0) {
			if (bad > 0)
				continue;
			warn(ir, "a member named \"%.200s\": longer than a path, ignored",
			     raw ? raw : "");
			continue;
		}
		if (archive_entry_filetype(e) != AE_IFREG) {
			forget(ir, name);
			continue;
		}
		if ((rest = under_modules(name, rel, sizeof(rel)))) {
			if (!json_object_get(releases, rel))
				json_object_set_new(releases, rel, json_true());
			/* the last writer wins (O_TRUNC); an empty module file loads nothing,
			 * unless it is a hard link whose data comes with another name */
			if (module_of(mod, sizeof(mod), rest)) {
				if (size > 0 || archive_entry_nlink(e) > 1)
					json_object_set_new(mods, mod, json_string(name));
				else
					json_object_del(mods, mod);
			}
		}
		if (copied(name) && copy_member(ir, a, dirfd, name, size) < 0) {
			fail(ir, "%s: %s: %s", shown, name, archive_error_string(a));
			goto out;
		}
	}
	if (r != ARCHIVE_EOF) {
		fail(ir, "%s: at byte %lld: %s", shown, (long long)off,
		     archive_error_string(a) ? archive_error_string(a) : "unreadable");
		goto out;
	}
	seg = json_pack("{s:I, s:s, s:I}", "offset", (json_int_t)off, "compression",
	                archive_filter_count(a) > 1 ? archive_filter_name(a, 0) : "none", "members",
	                (json_int_t)count);
	json_array_append_new(json_object_get(ir->info, "segments"), seg);
	if (archive_filter_count(a) == 1 && count) /* uncompressed: it ended where cpio did */
		next = off + (off_t)archive_filter_bytes(a, 0);
out:
	archive_read_free(a);
	return next;
}

int snap_initramfs__read(struct snap_initramfs *ir, int fd, const char *shown, snap_error *err)
{
	uint64_t unpacked = 0;
	size_t members = 0;
	off_t off = 0;
	int dirfd, e;

	memset(ir, 0, sizeof(*ir));
	ir->info =
	    json_pack("{s:s, s:[], s:{}, s:[]}", "path", shown, "segments", "releases", "warnings");
	ir->modules = json_object();
	if (!ir->info || !ir->modules) {
		snap_initramfs__release(ir);
		return snap_error__set(err, SNAP_ENOMEM, "out of memory");
	}
	if ((e = snap_kmod__mkdtemp(ir->tmp, sizeof(ir->tmp), "initramfs")) < 0) {
		snap_initramfs__release(ir);
		return snap_error__set(err, SNAP_ERROR, "no private temporary directory: %s",
		                       strerror(-e));
	}
	if ((dirfd = open(ir->tmp, O_RDONLY | O_DIRECTORY | O_CLOEXEC)) < 0) {
		e = errno;
		snap_initramfs__release(ir);
		return snap_error__set(err, SNAP_ERROR, "%s: %s", ir->tmp, strerror(e));
	}
	{
		struct stat st;

		if (fstat(fd, &st) < 0 || !S_ISREG(st.st_mode))
			fail(ir, "%s: not a regular file", shown);
		else if ((uint64_t)st.st_size > IMAGE_MAX)
			fail(ir, "%s: %lld bytes, larger than any initramfs (%llu MB at most)",
			     shown, (long long)st.st_size, IMAGE_MAX >> 20);
		if (ir->error) {
			close(dirfd);
			return 0;
		}
	}
	while ((off = skip_padding(fd, off)) >= 0)
		if ((off = read_segment(ir, fd, dirfd, off, shown, &unpacked, &members)) < 0)
			break;
	close(dirfd);
	if (!ir->error && !json_array_size(json_object_get(ir->info, "segments")))
		fail(ir, "%s: empty", shown);
	return 0;
}

void snap_initramfs__release(struct snap_initramfs *ir)
{
	snap_kmod__rmtree(ir->tmp);
	json_decref(ir->info);
	json_decref(ir->modules);
	free(ir->error);
	memset(ir, 0, sizeof(*ir));
}
