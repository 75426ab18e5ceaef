/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * The root file system an initramfs unpacks to, as init/initramfs.c builds it: every name an
 * archive created, resolved as the VFS's path walk resolves it (symlinks along it followed,
 * ".." from where a link led), with its type; clean_path()'s replacements; no parent created.
 * Also the names the prediction cares for (modules, their releases, the copied configuration)
 * and the reader's warnings and errors. initramfs.c feeds it member by member.
 */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "preflight/preflight.h"

#define MEMBERS_MAX  1000000u /* names in one image */
#define WARNINGS_MAX 20

void snap_initramfs__warn(struct snap_initramfs *ir, const char *fmt, ...)
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

void snap_initramfs__fail(struct snap_initramfs *ir, const char *fmt, ...)
{
	char buf[1024];
	va_list ap;

	if (ir->error)
		return;
	va_start(ap, fmt);
	vsnprintf(buf, sizeof(buf), fmt, ap);
	va_end(ap);
	ir->error = snap_mem__strdup(buf);
}

/* lib/modules/RELEASE/ or usr/lib/modules/RELEASE/ at the start of name: the rest, and the
 * release into rel; NULL otherwise. */
const char *snap_rootfs__under_modules(const char *name, char *rel, size_t n)
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
bool snap_rootfs__copied(const char *name)
{
	static const char *const confdirs[] = {"etc/modprobe.d/", "run/modprobe.d/",
	                                       "usr/local/lib/modprobe.d/", "usr/lib/modprobe.d/",
	                                       "lib/modprobe.d/"};
	char rel[256];
	const char *rest = snap_rootfs__under_modules(name, rel, sizeof(rel));
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
bool snap_rootfs__module_of(char *buf, size_t n, const char *rest)
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
	const char *rest = snap_rootfs__under_modules(name, rel, sizeof(rel));

	if (rest && snap_rootfs__module_of(mod, sizeof(mod), rest) &&
	    !strcmp(snap_json__str(ir->modules, mod) ? snap_json__str(ir->modules, mod) : "", name))
		json_object_del(ir->modules, mod);
	if (snap_rootfs__copied(name)) {
		snprintf(path, sizeof(path), "%s/%s", ir->tmp, name);
		(void)unlink(path); /* below the private directory: name has no ".." left */
	}
}

/*
 * The root file system the kernel builds, as far as the prediction needs it: every name an
 * archive created (resolved: no symlink along it) with its type, and each symlink's target.
 * The kernel starts from its built-in archive (usr/default_cpio_list): /dev, /dev/console, /root.
 */
#define SYMLINK_DEPTH 40 /* the VFS's MAXSYMLINKS */

static char type_of(const struct snap_initramfs *ir, const char *path)
{
	const char *t = snap_json__str(ir->paths, path);

	return *path ? (t ? t[0] : 0) : 'd'; /* "" is the root */
}

/* dir/comp into out (n bytes); false when it does not fit */
static bool join(char *out, size_t n, const char *dir, const char *comp, size_t clen)
{
	size_t dl = strlen(dir);

	if (dl + !!dl + clen + 1 > n)
		return false;
	memmove(out, dir, dl);
	if (dl)
		out[dl++] = '/';
	memcpy(out + dl, comp, clen);
	out[dl + clen] = '\0';
	return true;
}

/*
 * Walk path from the directory dir (a resolved name, "" the root) as the VFS's path walk does:
 * empty and "." components stay, ".." goes to the parent (the root's is the root), a symlink is
 * followed (its target from the root when absolute, else from the link's directory), and each
 * component must be a directory. With last, the final component is not walked but appended as it
 * is (*last_out: it, or NULL when the path ends in a directory: "", ".", ".."). out gets the
 * resolved name. 0, or -1 when a component is missing, not a directory, or links nest too deep.
 */
static int walk(const struct snap_initramfs *ir, char *out, size_t n, const char *dir,
                const char *path, bool last, const char **last_out, int depth)
{
	char cur[4096];

	if (strlen(dir) >= sizeof(cur) || depth > SYMLINK_DEPTH)
		return -1;
	strcpy(cur, *path == '/' ? "" : dir);
	if (last_out)
		*last_out = NULL;
	for (const char *p = path; *p;) {
		size_t cl;

		while (*p == '/')
			p++;
		cl = strcspn(p, "/");
		if (!cl)
			break;
		if (last && !p[cl + strspn(p + cl, "/")]) { /* the final component */
			if ((cl == 1 && p[0] == '.') || (cl == 2 && !strncmp(p, "..", 2))) {
				if (cl == 2) {
					char *up = strrchr(cur, '/');

					*(up ? up : cur) = '\0';
				}
				break;
			}
			if (!join(out, n, cur, p, cl))
				return -1;
			if (last_out)
				*last_out = p;
			return 0;
		}
		if (cl == 1 && p[0] == '.') {
		} else if (cl == 2 && !strncmp(p, "..", 2)) {
			char *up = strrchr(cur, '/');

			*(up ? up : cur) = '\0';
		} else {
			char next[4096];
			char t;

			if (!join(next, sizeof(next), cur, p, cl))
				return -1;
			t = type_of(ir, next);
			if (t == 'l') {
				char parent[4096];
				const char *target = snap_json__str(ir->links, next);

				strcpy(parent, cur);
				if (walk(ir, cur, sizeof(cur), parent, target ? target : "", false,
				         NULL, depth + 1) < 0)
					return -1;
			} else if (t == 'd') {
				strcpy(cur, next);
			} else {
				return -1; /* missing, or not a directory */
			}
		}
		p += cl;
	}
	if (strlen(cur) >= n)
		return -1;
	strcpy(out, cur);
	return 0;
}

/* The names directly below the directory dir (rmdir of one that is not empty fails): counted
 * as names come and go, in ir->children (dir -> count) */
static void count_child(struct snap_initramfs *ir, const char *name, int delta)
{
	const char *slash = strrchr(name, '/');
	char dir[4096];
	json_int_t n;

	if (!slash)
		return; /* the root's */
	snprintf(dir, sizeof(dir), "%.*s", (int)(slash - name), name);
	n = json_integer_value(json_object_get(ir->children, dir)) + delta;
	if (n > 0)
		json_object_set_new(ir->children, dir, json_integer(n));
	else
		json_object_del(ir->children, dir);
}

static bool has_children(const struct snap_initramfs *ir, const char *dir)
{
	return json_object_get(ir->children, dir) != NULL;
}

/* Remove name: its type, its link target, its module and its copy. */
static void remove_name(struct snap_initramfs *ir, const char *name)
{
	forget(ir, name);
	if (json_object_get(ir->paths, name))
		count_child(ir, name, -1);
	json_object_del(ir->paths, name);
	json_object_del(ir->links, name);
	json_object_del(ir->inodes, name);
}

/* The inode of the regular file at name, -1 when there is none */
static json_int_t inode_of(const struct snap_initramfs *ir, const char *name)
{
	const json_t *v = json_object_get(ir->inodes, name);

	return v ? json_integer_value(v) : -1;
}

/*
 * One member, as do_name() and do_symlink() create it at its resolved name: clean_path() first
 * removes what is there when its type differs (a directory only when it is empty; fmode 0, as
 * for a symlink, differs from every type), then the member is created, which needs its parent
 * directory (filp_open() and mkdir create no parents) and, for a file, no directory in its
 * place. Returns the resolved name in out, or false when the kernel creates nothing.
 */
bool snap_rootfs__place(struct snap_initramfs *ir, char *out, size_t n, const char *raw, char type,
                        const char *target)
{
	const char *lastc = NULL;
	char have;

	if (walk(ir, out, n, "", raw, true, &lastc, 0) < 0) {
		if (ir->dropped++ < 3)
			snap_initramfs__warn(
			    ir,
			    "%.200s: its directory does not exist when the kernel reaches it "
			    "(an archive lists directories before their files): not created",
			    raw);
		return false;
	}
	if (!lastc) /* the name is a directory that exists: a no-op, or a failed open */
		return false;
	have = type_of(ir, out);
	if (have && (type == 'l' || have != type)) { /* clean_path() */
		if (have == 'd' && has_children(ir, out))
			return type == 'd';
		remove_name(ir, out);
		have = 0;
	}
	if (!json_object_get(ir->paths, out) && json_object_size(ir->paths) >= MEMBERS_MAX) {
		snap_initramfs__fail(ir, "more than %u names", MEMBERS_MAX);
		return false;
	}
	if (!have)
		count_child(ir, out, +1);
	json_object_set_new(ir->paths, out, json_stringn(&type, 1));
	if (type == 'l')
		json_object_set_new(ir->links, out, json_string(target ? target : ""));
	return true;
}

/*
 * maybe_link()'s link: clean_path(name, 0) removes whatever is at name (a directory only when
 * empty), then init_link(old, name) makes name another name of what old names now, found as the
 * VFS finds it, its last component not followed. No link when old is gone or a directory
 * (init_link() fails, nothing is created). The type it linked, or 0.
 */
static char link_to(struct snap_initramfs *ir, char *out, size_t n, const char *raw,
                    const char *old)
{
	const char *lastc;
	char src[4096], have, t;

	if (walk(ir, out, n, "", raw, true, &lastc, 0) < 0 || !lastc)
		return 0;
	have = type_of(ir, out);
	if (have == 'd' && has_children(ir, out))
		return 0;
	if (have)
		remove_name(ir, out);
	if (walk(ir, src, sizeof(src), "", old, true, &lastc, 0) < 0 || !lastc ||
	    !(t = type_of(ir, src)) || t == 'd')
		return 0;
	count_child(ir, out, +1);
	json_object_set_new(ir->paths, out, json_stringn(&t, 1));
	if (t == 'l')
		json_object_set(ir->links, out, json_object_get(ir->links, src));
	if (t == 'f')
		json_object_set(ir->inodes, out, json_object_get(ir->inodes, src));
	return t;
}

/*
 * A member that is not a directory or a symlink as do_name() creates it, with maybe_link():
 * one whose (major, minor, ino, type) an earlier member of the same archive had (find_link();
 * key, "" when nlink < 2; hash holds the archive's keys, emptied at its TRAILER!!! by
 * free_hash()) becomes a hard link to that member's name and a file is then opened without
 * O_TRUNC; otherwise a file is opened with O_TRUNC, an existing file's inode kept. A file's
 * size becomes its body's when it has one (vfs_truncate(), then the body written); a link with
 * no body keeps its inode's size. A hard link to a symlink or a device, which the kernel then
 * opens to write through, is not modelled: the image's reading fails.
 */
bool snap_rootfs__place_file(struct snap_initramfs *ir, json_t *hash, const char *key, char *out,
                             size_t n, const char *raw, char type, int64_t body)
{
	const char *old = *key ? snap_json__str(hash, key) : NULL;
	json_int_t id;
	char t;

	if (old) {
		if (!(t = link_to(ir, out, n, raw, old)))
			return false;
		if (type == 'f' && t != 'f') {
			snap_initramfs__fail(
			    ir,
			    "%.200s: a hard link to %s, which the kernel then opens to "
			    "write through: not modelled",
			    raw, t == 'l' ? "a symlink" : "a device node");
			return false;
		}
		if (type == 'f' && body > 0)
			json_array_set_new(ir->sizes, (size_t)inode_of(ir, out),
			                   json_integer(body));
		return true;
	}
	if (*key)
		json_object_set_new(hash, key, json_string(raw));
	if (!snap_rootfs__place(ir, out, n, raw, type, NULL))
		return false;
	if (type != 'f')
		return true;
	if ((id = inode_of(ir, out)) < 0) {
		id = (json_int_t)json_array_size(ir->sizes);
		json_array_append_new(ir->sizes, json_integer(0));
		json_object_set_new(ir->inodes, out, json_integer(id));
	}
	json_array_set_new(ir->sizes, (size_t)id, json_integer(body > 0 ? body : 0));
	return true;
}

/* The size of the regular file at name once the image is unpacked, -1 when it is not one */
int64_t snap_rootfs__size(const struct snap_initramfs *ir, const char *name)
{
	json_int_t id = inode_of(ir, name);

	return id < 0 ? -1 : (int64_t)json_integer_value(json_array_get(ir->sizes, (size_t)id));
}

/* Every name the image leaves: {name: {type, size (a file), target (a symlink)}} */
json_t *snap_rootfs__files(const struct snap_initramfs *ir)
{
	json_t *out = json_object(), *v;
	const char *name;

	json_object_foreach ((json_t *)ir->paths, name, v) {
		json_t *e = json_pack("{s:O}", "type", v);

		if (!e)
			continue;
		if (!strcmp(json_string_value(v), "f"))
			json_object_set_new(e, "size", json_integer(snap_rootfs__size(ir, name)));
		if (!strcmp(json_string_value(v), "l"))
			json_object_set(e, "target", json_object_get(ir->links, name));
		json_object_set_new(out, name, e);
	}
	return out;
}
