/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * An initramfs image as init/initramfs.c (Linux 6.1) unpacks it: unpack_to_rootfs() takes
 * stream after stream (the image itself, then each compressed stream), and in each stream
 * archive after archive, with the state machine's rules between them (NUL bytes, headers at a
 * multiple of 4, newc magic) and its stops ("broken padding", "junk within compressed
 * archive", ...), after which nothing more is unpacked. libarchive decodes every compressed
 * stream and every cpio archive; where a zstd frame ends libzstd says, as the kernel's unzstd
 * asks it. Members are placed in a model of the rootfs (names walked as the VFS walks them,
 * symlinks followed, clean_path()'s replacements, no parents created).
 *
 * Nothing is unpacked: the members are listed, and only the small files libkmod needs (the
 * modules.* indexes, modprobe.d) and the initramfs-tools module list are copied into a private
 * directory, by resolved names (no "..", no links along them), as regular files created there,
 * never through a link. docs/preflight.md states every rule with the kernel function it follows.
 */
#include <archive.h>
#include <archive_entry.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include <zstd.h>

#include "preflight/preflight.h"

#define MEMBER_COPY_MAX (64u << 20)  /* one copied file: modules.alias is ~1.5 MB */
#define UNPACKED_MAX    (4ull << 30) /* all members: larger than any real initramfs */
#define MEMBERS_MAX     1000000u     /* members in one image */
#define IMAGE_MAX       (1ull << 30) /* the image itself: Debian's are tens of MB */

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
		snap_initramfs__warn(ir, "%s: %lld bytes, not read (more than %u MB)", name,
		                     (long long)size, MEMBER_COPY_MAX >> 20);
		return 0;
	}
	if ((fd = create_below(dirfd, name)) < 0) {
		snap_initramfs__warn(ir, "%s: not copied (%s)", name, strerror(-fd));
		return 0;
	}
	while ((got = archive_read_data(a, block, sizeof(block))) > 0) {
		total += got;
		if (total > (int64_t)MEMBER_COPY_MAX || write(fd, block, (size_t)got) != got) {
			close(fd);
			snap_initramfs__warn(ir, "%s: not copied whole", name);
			return 0;
		}
	}
	close(fd);
	return got < 0 ? -1 : 0;
}

/*
 * The bytes one archive is read from: the image itself, or the output of one compressed stream
 * (a libarchive reader with its filter and the "raw" format). A window of what was taken from
 * below is kept, so that what the cpio reader read past its archive's end can be read again.
 */
#define CHUNK  65536
#define KEEP   (4 * CHUNK) /* kept behind the read position */
#define WINDOW (KEEP + 2 * CHUNK)

struct source {
	int fd;              /* the image */
	struct archive *raw; /* a compressed stream's output, or NULL: the image from base */
	off_t base;          /* the image's offset of stream offset 0 */
	off_t limit;         /* the image's bytes end here (raw == NULL) */
	char *win;           /* WINDOW bytes: stream bytes [start, start + len) */
	size_t len;
	uint64_t start, pos; /* pos: the next byte to give */
	bool eof;
	const char *error; /* the decompressor's, when it failed */
	char desc[64];     /* "the image", "the zstd stream at byte 1234" */
};

/* At least want bytes from pos in the window, or all there are; false on a decompressor error */
static bool fill(struct source *src, size_t want)
{
	while (!src->eof && src->start + src->len < src->pos + want) {
		ssize_t got;

		if (src->pos - src->start > KEEP) { /* drop what is far behind */
			size_t drop = (size_t)(src->pos - src->start) - KEEP;

			memmove(src->win, src->win + drop, src->len - drop);
			src->len -= drop;
			src->start += drop;
		}
		if (src->len + CHUNK > WINDOW)
			break;
		if (src->raw) {
			got = archive_read_data(src->raw, src->win + src->len, CHUNK);
			if (got < 0) {
				src->error = archive_error_string(src->raw);
				return false;
			}
		} else {
			off_t at = src->base + (off_t)(src->start + src->len);
			size_t max = at >= src->limit                    ? 0
			             : (size_t)(src->limit - at) < CHUNK ? (size_t)(src->limit - at)
			                                                 : CHUNK;

			do
				got = max ? pread(src->fd, src->win + src->len, max, at) : 0;
			while (got < 0 && errno == EINTR);
			if (got < 0) {
				src->error = strerror(errno);
				return false;
			}
		}
		if (got == 0)
			src->eof = true;
		src->len += (size_t)got;
	}
	return true;
}

/* The byte at pos, or -1 at the end of the stream, -2 on an error */
static int peek(struct source *src)
{
	if (!fill(src, 1))
		return -2;
	return src->pos < src->start + src->len ? (unsigned char)src->win[src->pos - src->start]
	                                        : -1;
}

/* libarchive's read callback: the window from pos */
static la_ssize_t src_read(struct archive *a, void *data, const void **buf)
{
	struct source *src = data;
	size_t avail;

	if (!fill(src, CHUNK)) {
		archive_set_error(a, EIO, "%s", src->error ? src->error : "read error");
		return -1;
	}
	avail = (size_t)(src->start + src->len - src->pos);
	if (avail > CHUNK)
		avail = CHUNK;
	*buf = src->win + (src->pos - src->start);
	src->pos += avail;
	return (la_ssize_t)avail;
}

/* The names of the kernel's decompress_method() (lib/decompress.c), by their magic */
static const char *compression_of(const unsigned char *b, size_t n)
{
	static const struct {
		const char *magic, *name;
		size_t len;
	} methods[] = {
	    {"\037\213", "gzip", 2},
	    {"\037\236", "gzip", 2},
	    {"BZh", "bzip2", 3},
	    {"\135\000\000", "lzma", 3},
	    {"\375\067\172\130\132\000", "xz", 6},
	    {"\211\114\132", "lzo", 3},
	    {"\002\041\114\030", "lz4", 4},
	    {"\050\265\057\375", "zstd", 4},
	};

	for (size_t i = 0; i < SNAP_ARRAY_SIZE(methods); i++)
		if (n >= methods[i].len && !memcmp(b, methods[i].magic, methods[i].len))
			return methods[i].name;
	return NULL;
}

/*
 * The kernel stopped unpacking (error() in init/initramfs.c: "Initramfs unpacking failed"):
 * what it unpacked before stays, nothing after it is read. Said, not an error of ours.
 */
static void stop(struct snap_initramfs *ir, uint64_t at, const char *in, const char *why)
{
	if (json_object_get(ir->info, "stopped"))
		return;
	json_object_set_new(
	    ir->info, "stopped",
	    json_pack("{s:I, s:s, s:s}", "offset", (json_int_t)at, "in", in, "reason", why));
	snap_initramfs__warn(
	    ir,
	    "the kernel stops unpacking at byte %llu of %s (\"%s\"; Initramfs unpacking "
	    "failed): nothing after it is in the root",
	    (unsigned long long)at, in, why);
}

/* One member of the cpio reader a into the root, and its copy when the prediction reads it;
 * hash: the hard links of its archive (find_link()) */
static int member(struct snap_initramfs *ir, struct archive *a, struct archive_entry *e, int dirfd,
                  uint64_t *unpacked, json_t *hash)
{
	const char *raw = archive_entry_pathname(e);
	char name[4096], rel[256], mod[256], key[96] = "", type;
	const char *rest;
	int64_t size = archive_entry_size_is_set(e) ? archive_entry_size(e) : 0;

	*unpacked += size > 0 ? (uint64_t)size : 0;
	if (*unpacked > UNPACKED_MAX) {
		snap_initramfs__fail(ir, "its members declare more than %llu GB",
		                     UNPACKED_MAX >> 30);
		return -1;
	}
	switch (archive_entry_filetype(e)) {
	case AE_IFREG:
		type = 'f';
		break;
	case AE_IFDIR:
		type = 'd';
		break;
	case AE_IFLNK:
		type = 'l';
		break;
	default:
		type = 'o';
	}
	if (!raw || !*raw)
		return 0;
	if (strlen(raw) >= 4096) { /* do_header(): name_len > PATH_MAX is skipped */
		snap_initramfs__warn(
		    ir,
		    "a member named \"%.200s...\": longer than a path, skipped as the kernel "
		    "skips it",
		    raw);
		return 0;
	}
	if ((type == 'd' || type == 'o') && size > 0) {
		/* do_header(): only a file's or a bodiless member's name is read; the rest skipped
		 */
		snap_initramfs__warn(ir,
		                     "%.200s: a %s with %lld bytes of data: skipped as the kernel "
		                     "skips it (do_header())",
		                     raw, type == 'd' ? "directory" : "device node",
		                     (long long)size);
		return 0;
	}
	if (type != 'd' && type != 'l' && archive_entry_nlink(e) >= 2)
		snprintf(key, sizeof(key), "%lu:%lu:%lld:%o",
		         (unsigned long)archive_entry_devmajor(e),
		         (unsigned long)archive_entry_devminor(e),
		         (long long)archive_entry_ino64(e), (unsigned)archive_entry_filetype(e));
	if (!(type == 'd' || type == 'l'
	          ? snap_rootfs__place(ir, name, sizeof(name), raw, type,
	                               type == 'l' ? archive_entry_symlink(e) : NULL)
	          : snap_rootfs__place_file(ir, hash, key, name, sizeof(name), raw, type, size)))
		return ir->error ? -1 : 0;
	if (type != 'f')
		return 0;
	if ((rest = snap_rootfs__under_modules(name, rel, sizeof(rel)))) {
		if (!json_object_get(json_object_get(ir->info, "releases"), rel))
			json_object_set_new(json_object_get(ir->info, "releases"), rel,
			                    json_true());
		/* the last writer wins (O_TRUNC); a module file still empty when the image is
		 * unpacked (its hard links' data never came) loads nothing: drop_empty() */
		if (snap_rootfs__module_of(mod, sizeof(mod), rest))
			json_object_set_new(ir->modules, mod, json_string(name));
	}
	if (snap_rootfs__copied(name) && copy_member(ir, a, dirfd, name, size) < 0) {
		snap_initramfs__fail(ir, "%s: %s", name, archive_error_string(a));
		return -1;
	}
	return 0;
}

/*
 * The archives of one stream, one after the other, as write_buffer() and do_reset() take them:
 * a member's padding is followed by NUL bytes or by the next header, which must start at a
 * multiple of 4 of the stream ("broken padding" otherwise); a header is "070701" or "070702".
 * In the image itself, anything else after the NUL bytes is where a compressed stream starts
 * (returned: its image offset); in a compressed stream it is "junk within compressed archive".
 * Returns the image offset to go on from, or -1 when the kernel stopped or we cannot tell.
 */
static off_t archives(struct snap_initramfs *ir, struct source *src, int dirfd, const char *what,
                      uint64_t *unpacked, size_t *members)
{
	for (;;) {
		struct archive *a;
		struct archive_entry *e;
		json_t *hash;
		uint64_t at;
		size_t count = 0;
		int c, r;

		while ((c = peek(src)) == 0)
			src->pos++;
		if (c == -2) {
			snap_initramfs__fail(ir, "%s: %s", what,
			                     src->error ? src->error : "read error");
			return -1;
		}
		if (c == -1) /* the end, between archives: as the kernel wants it */
			return src->raw ? 0 : src->limit;
		at = src->pos;
		if (at & 3) { /* do_reset(): the next header at a multiple of 4 */
			stop(ir, at, src->desc, "broken padding");
			return -1;
		}
		if (c != '0') {
			if (src->raw) {
				stop(ir, at, src->desc, "junk within compressed archive");
				return -1;
			}
			return src->base + (off_t)at;
		}
		if (!fill(src, 6) || src->start + src->len < at + 6 ||
		    (memcmp(src->win + (at - src->start), "070701", 6) &&
		     memcmp(src->win + (at - src->start), "070702", 6))) {
			stop(ir, at, src->desc,
			     src->start + src->len >= at + 6 &&
			             !memcmp(src->win + (at - src->start), "070707", 6)
			         ? "incorrect cpio method used: use -H newc option"
			         : "no cpio magic");
			return -1;
		}
		if (!(a = archive_read_new())) {
			snap_initramfs__fail(ir, "out of memory");
			return -1;
		}
		hash = json_object(); /* find_link()'s, emptied at each TRAILER!!! (free_hash()) */
		archive_read_support_format_cpio(a);
		if (archive_read_open(a, src, NULL, src_read, NULL) != ARCHIVE_OK) {
			snap_initramfs__fail(ir, "%s: at byte %llu: %s", what,
			                     (unsigned long long)at, archive_error_string(a));
			archive_read_free(a);
			json_decref(hash);
			return -1;
		}
		while ((r = archive_read_next_header(a, &e)) == ARCHIVE_OK) {
			count++;
			if (++*members > MEMBERS_MAX) {
				snap_initramfs__fail(ir, "%s: more than %u members", what,
				                     MEMBERS_MAX);
				r = ARCHIVE_FATAL;
				break;
			}
			if (member(ir, a, e, dirfd, unpacked, hash) < 0) {
				r = ARCHIVE_FATAL;
				break;
			}
		}
		json_decref(hash);
		if (r != ARCHIVE_EOF) {
			/* libarchive resynchronises over junk between members ("skipped N bytes",
			 * ARCHIVE_WARN) where the kernel stops: not modelled, so not guessed */
			if (!ir->error)
				snap_initramfs__fail(
				    ir, "%s: at byte %llu: %s", what,
				    (unsigned long long)(src->pos + (uint64_t)src->base),
				    archive_error_string(a) ? archive_error_string(a)
				                            : "unreadable");
			archive_read_free(a);
			return -1;
		}
		json_array_append_new(
		    json_object_get(ir->info, "segments"),
		    json_pack("{s:I, s:s, s:I}", "offset",
		              (json_int_t)(src->raw ? src->base : src->base + (off_t)at),
		              "compression", what, "members", (json_int_t)count));
		if (src->raw && at)
			json_object_set_new(
			    json_array_get(json_object_get(ir->info, "segments"),
			                   json_array_size(json_object_get(ir->info, "segments")) -
			                       1),
			    "stream_offset", json_integer((json_int_t)at));
		/* the cpio reader read ahead: go back to where its archive ended */
		{
			uint64_t end = at + (uint64_t)archive_filter_bytes(a, 0);

			archive_read_free(a);
			if (end < src->start || end > src->pos) {
				snap_initramfs__fail(
				    ir, "%s: the end of the archive at byte %llu is out of reach",
				    what, (unsigned long long)at);
				return -1;
			}
			src->pos = end;
		}
	}
}

/* libarchive's read callback for a compressed stream: the image from base to limit */
struct image_range {
	int fd;
	off_t at, limit;
	char buf[CHUNK];
};

static la_ssize_t range_read(struct archive *a, void *data, const void **buf)
{
	struct image_range *r = data;
	size_t max = r->at >= r->limit                    ? 0
	             : (size_t)(r->limit - r->at) < CHUNK ? (size_t)(r->limit - r->at)
	                                                  : CHUNK;
	ssize_t got;

	do
		got = max ? pread(r->fd, r->buf, max, r->at) : 0;
	while (got < 0 && errno == EINTR);
	if (got < 0) {
		archive_set_error(a, errno, "%s", strerror(errno));
		return -1;
	}
	r->at += got;
	*buf = r->buf;
	return (la_ssize_t)got;
}

/*
 * Where the zstd frame at off ends: the kernel's unzstd decompresses exactly one frame
 * (zstd_find_frame_compressed_size()), and so does this, through libzstd's own function.
 * -1 when the frame is not whole.
 */
static off_t zstd_frame_end(int fd, off_t off, off_t size)
{
	size_t len = (size_t)(size - off), n;
	long page = sysconf(_SC_PAGESIZE);
	off_t at = off - off % (page > 0 ? page : 4096);
	void *map = mmap(NULL, len + (size_t)(off - at), PROT_READ, MAP_PRIVATE, fd, at);

	if (map == MAP_FAILED)
		return -1;
	n = ZSTD_findFrameCompressedSize((const char *)map + (off - at), len);
	munmap(map, len + (size_t)(off - at));
	return ZSTD_isError(n) ? -1 : off + (off_t)n;
}

/*
 * One compressed stream at off, as unpack_to_rootfs() takes it: decompressed by the method its
 * magic names, its archives unpacked, and the stream must end between members ("junk at the end
 * of compressed archive" otherwise). gzip: libarchive tells where the stream ended; zstd: one
 * frame, found by libzstd; the others must run to the end of the image (where they end inside
 * it is not modelled: cannot tell). The image offset after the stream, or -1.
 */
static off_t compressed(struct snap_initramfs *ir, int fd, int dirfd, off_t off, off_t size,
                        const char *method, uint64_t *unpacked, size_t *members)
{
	struct image_range *range = malloc(sizeof(*range));
	struct source src = {.fd = fd, .base = off, .win = malloc(WINDOW)};
	off_t end = size, next = -1;

	snprintf(src.desc, sizeof(src.desc), "the %s stream at byte %lld", method, (long long)off);
	if (!range || !src.win || !(src.raw = archive_read_new())) {
		snap_initramfs__fail(ir, "out of memory");
		goto out;
	}
	if (!strcmp(method, "zstd") && (end = zstd_frame_end(fd, off, size)) < 0) {
		snap_initramfs__fail(ir, "the zstd stream at byte %lld is not whole",
		                     (long long)off);
		goto out;
	}
	range->fd = fd;
	range->at = off;
	range->limit = end;
	archive_read_support_filter_all(src.raw);
	archive_read_support_format_raw(src.raw);
	{
		struct archive_entry *e;

		if (archive_read_open(src.raw, range, NULL, range_read, NULL) != ARCHIVE_OK ||
		    archive_read_next_header(src.raw, &e) != ARCHIVE_OK) {
			snap_initramfs__fail(
			    ir, "the %s stream at byte %lld: %s", method, (long long)off,
			    archive_error_string(src.raw) ? archive_error_string(src.raw)
			                                  : "unreadable");
			goto out;
		}
	}
	if (archives(ir, &src, dirfd, method, unpacked, members) < 0)
		goto out;
	if (strcmp(method, "gzip") && strcmp(method, "zstd") && end == size) {
		/* ran to the end of the image: nothing after it */
		next = size;
	} else if (!strcmp(method, "gzip")) {
		next =
		    off + (off_t)archive_filter_bytes(src.raw, archive_filter_count(src.raw) - 1);
	} else {
		next = end;
	}
out:
	archive_read_free(src.raw);
	free(src.win);
	free(range);
	return next;
}

/*
 * unpack_to_rootfs(): NUL bytes are skipped; a '0' at a multiple of 4 starts uncompressed
 * archives (read until something else follows them); anything else must be a compressed
 * stream's magic ("invalid magic at start of compressed archive" stops the kernel).
 */
static void unpack(struct snap_initramfs *ir, int fd, int dirfd, off_t size)
{
	uint64_t unpacked = 0;
	size_t members = 0;
	off_t off = 0;

	while (off < size && !ir->error && !json_object_get(ir->info, "stopped")) {
		unsigned char head[8];
		ssize_t got;

		do
			got = pread(fd, head, sizeof(head), off);
		while (got < 0 && errno == EINTR);
		if (got <= 0) {
			snap_initramfs__fail(ir, "cannot read at byte %lld", (long long)off);
			return;
		}
		if (!head[0]) { /* NUL bytes between archives, skipped a block at a time */
			char block[4096];
			ssize_t n, i = 0;

			do
				n = pread(fd, block, sizeof(block), off);
			while (n < 0 && errno == EINTR);
			while (i < n && !block[i])
				i++;
			off += i > 0 ? i : 1;
			continue;
		}
		if (head[0] == '0' && !(off & 3)) {
			struct source src = {.fd = fd,
			                     .base = 0,
			                     .limit = size,
			                     .win = malloc(WINDOW),
			                     .desc = "the image"};

			if (!src.win) {
				snap_initramfs__fail(ir, "out of memory");
				return;
			}
			src.pos = src.start = (uint64_t)off;
			off = archives(ir, &src, dirfd, "none", &unpacked, &members);
			free(src.win);
			if (off < 0)
				return;
			continue;
		}
		{
			const char *method = compression_of(head, (size_t)got);

			if (!method) {
				stop(ir, (uint64_t)off, "the image",
				     "invalid magic at start of compressed archive");
				return;
			}
			if ((off = compressed(ir, fd, dirfd, off, size, method, &unpacked,
			                      &members)) < 0)
				return;
		}
	}
}

/* A module whose file is empty once the image is unpacked loads nothing */
static void drop_empty(struct snap_initramfs *ir)
{
	const char *mod;
	json_t *path;
	void *tmp;

	json_object_foreach_safe (ir->modules, tmp, mod, path)
		if (snap_rootfs__size(ir, json_string_value(path)) <= 0)
			json_object_del(ir->modules, mod);
}

int snap_initramfs__read(struct snap_initramfs *ir, int fd, const char *shown, snap_error *err)
{
	struct stat st;
	int dirfd, e;

	memset(ir, 0, sizeof(*ir));
	ir->info =
	    json_pack("{s:s, s:[], s:{}, s:[]}", "path", shown, "segments", "releases", "warnings");
	ir->modules = json_object();
	/* the kernel's built-in archive (usr/default_cpio_list) is unpacked first */
	ir->paths = json_pack("{s:s, s:s, s:s}", "dev", "d", "dev/console", "o", "root", "d");
	ir->children = json_pack("{s:i}", "dev", 1);
	ir->links = json_object();
	ir->inodes = json_object();
	ir->sizes = json_array();
	if (!ir->info || !ir->modules || !ir->paths || !ir->links || !ir->children || !ir->inodes ||
	    !ir->sizes) {
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
	if (fstat(fd, &st) < 0 || !S_ISREG(st.st_mode))
		snap_initramfs__fail(ir, "not a regular file");
	else if ((uint64_t)st.st_size > IMAGE_MAX)
		snap_initramfs__fail(ir, "%lld bytes, larger than any initramfs (%llu MB at most)",
		                     (long long)st.st_size, IMAGE_MAX >> 20);
	else
		unpack(ir, fd, dirfd, st.st_size);
	close(dirfd);
	drop_empty(ir);
	if (ir->error) { /* "IMAGE: why" */
		char *msg = NULL;

		if (asprintf(&msg, "%s: %s", shown, ir->error) >= 0) {
			free(ir->error);
			ir->error = msg;
		}
	} else if (!json_array_size(json_object_get(ir->info, "segments")) &&
	           !json_object_get(ir->info, "stopped")) {
		snap_initramfs__fail(ir, "%s: empty", shown);
	}
	return 0;
}

void snap_initramfs__release(struct snap_initramfs *ir)
{
	snap_kmod__rmtree(ir->tmp);
	json_decref(ir->info);
	json_decref(ir->modules);
	json_decref(ir->paths);
	json_decref(ir->links);
	json_decref(ir->children);
	json_decref(ir->inodes);
	json_decref(ir->sizes);
	free(ir->error);
	memset(ir, 0, sizeof(*ir));
}
