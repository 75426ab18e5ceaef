/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * preflight/: the next boot read from disk (initramfs.c, kmodview.c, bootcmd.c) and the
 * prediction made of it (predict.c, compare.c). Includes util/, model/, analyse/, collect/
 * and render/.
 */
#ifndef SNAP_PREFLIGHT_PREFLIGHT_H
#define SNAP_PREFLIGHT_PREFLIGHT_H

#include "analyse/analyse.h"
#include "collect/collect.h"
#include "snap/preflight.h"
#include "util/fsroot.h"

#define SNAP_PREFLIGHT_SCHEMA      "pcisnap.preflight/1"
#define SNAP_PREFLIGHT_HELD_SCHEMA "pcisnap.preflight-held/1"

struct snap_preflight {
	json_t *doc; /* owned: the pcisnap.preflight/1 document */
	snap_check_status verdict;
	bool conclusive;
};

/*
 * initramfs.c: an initramfs image as the kernel unpacks it: cpio archives one after another,
 * each compressed or not (an uncompressed early archive with CPU microcode, then the main one),
 * NUL padding between them. Read through libarchive, never unpacked: only the modules indexes,
 * modprobe.d and the initramfs-tools module list are copied into a private directory, for
 * libkmod. Member names with "..", links and special files are never written.
 */
struct snap_initramfs {
	json_t *info;     /* owned: {path, segments: [{offset, compression, members}], releases,
	                     modules: [names], conf_modules: [lines], warnings: [...]} */
	json_t *modules;  /* owned: module name ('_' form) -> member path */
	char tmp[4096];   /* the private directory, "" when none */
	char *error;      /* owned: why the image could not be read whole; NULL when it was */
	json_t *paths;    /* owned: every name the archives created, resolved -> "f" file, "d"
	                     directory, "l" symlink, "o" other */
	json_t *links;    /* owned: symlink name -> its target */
	json_t *children; /* owned: directory -> how many names are directly below it */
	json_t *inodes;   /* owned: regular file name -> its inode (hard links share one) */
	json_t *sizes;    /* owned: inode -> its size */
	size_t dropped;   /* members the kernel could not create (no parent directory) */
};
/* Read the image at fd (the caller keeps fd); shown is its name for messages. 0, or
 * SNAP_ENOMEM / SNAP_ERROR (no private directory). A bad image is ir->error, not a failure. */
int snap_initramfs__read(struct snap_initramfs *ir, int fd, const char *shown, snap_error *err);
void snap_initramfs__release(struct snap_initramfs *ir); /* removes the private directory */
/* rootfs.c: the reader's warnings (20 at most) and its first error */
void snap_initramfs__warn(struct snap_initramfs *ir, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));
void snap_initramfs__fail(struct snap_initramfs *ir, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));
/* rootfs.c: "lib/modules/REL/rest" or "usr/lib/modules/REL/rest": rest, REL into rel */
const char *snap_rootfs__under_modules(const char *name, char *rel, size_t n);
bool snap_rootfs__copied(const char *name); /* read by the prediction */
bool snap_rootfs__module_of(char *buf, size_t n,
                            const char *rest); /* "x/vfio-pci.ko" -> vfio_pci */
/* rootfs.c: a member of type ('f', 'd', 'l', 'o') at raw, as the kernel creates it: false when
 * it creates nothing; out gets the resolved name */
bool snap_rootfs__place(struct snap_initramfs *ir, char *out, size_t n, const char *raw, char type,
                        const char *target);
/* rootfs.c: a member of type 'f' or 'o' (body bytes of data) with its hard-link key in the
 * archive's hash ("" for none), as do_name() and maybe_link() create it; as ..._place() */
bool snap_rootfs__place_file(struct snap_initramfs *ir, json_t *hash, const char *key, char *out,
                             size_t n, const char *raw, char type, int64_t body);
int64_t snap_rootfs__size(const struct snap_initramfs *ir, const char *name); /* -1: no file */
json_t *snap_rootfs__files(const struct snap_initramfs *ir); /* new {name: {type, size, target}} */

/*
 * kmodview.c: the modules of one release as one boot stage sees them, through libkmod: the
 * indexes of lib/modules/RELEASE and the modprobe.d of that stage.
 */
struct snap_kmodview {
	struct kmod_ctx *ctx; /* NULL when the release's indexes are missing */
	json_t *config;       /* owned: {options, blacklist, softdep, install, files} */
	json_t *builtin;      /* owned: module name -> true, from modules.builtin */
	json_t *available;    /* borrowed, or NULL: the modules this stage can load (an initramfs);
	                         NULL means every module in modules.dep */
	char tmp[4096];       /* a private copy of a captured root's files, "" when none */
	char *modules_dir;    /* owned: the directory given to libkmod */
	char *alias_text;     /* owned, read on first use: modules.alias, for the evidence */
	json_t *dep_paths; /* owned, private copies only: module -> [its path, its deps' paths] */
	json_t *placed;    /* owned: the modules whose files were given a placeholder */
	char *bad_index;   /* owned, or NULL: the index libkmod was not given, and why */
};
/* A stage over a directory tree (an initramfs's private copy, or the live "/"). */
int snap_kmodview__open_dir(struct snap_kmodview *v, const char *top, const char *release,
                            bool private_copy);
/* The root stage of a root (copied to a private directory unless the root is "/"). */
int snap_kmodview__open_root(struct snap_kmodview *v, const snap_root *r, const char *release);
void snap_kmodview__release(struct snap_kmodview *v);
/* The modules a modalias resolves to, in libkmod's order, as [{name, builtin, path|null}];
 * NULL without indexes. */
json_t *snap_kmodview__lookup(struct snap_kmodview *v, const char *modalias);
/* Whether a module exists in this stage: builtin, or loadable (and available). */
/*
 * The modules `modprobe MODULE` loads, in order, [{name, install}], as libkmod computes it
 * (kmod_module_probe_insert_module() dry run: __kmod_module_get_probe_list() fills the softdeps
 * of every module of the dependency chain, so "softdep drm pre: vfio-pci" loads vfio-pci before
 * amdgpu). install is true where an "install" command runs instead of the module.
 */
json_t *snap_kmodview__probe_list(struct snap_kmodview *v, const char *module);
/* Whether `modprobe MODULE` loads FIRST (itself, not an install command) before MODULE. */
bool snap_kmodview__loads_first(struct snap_kmodview *v, const char *module, const char *first);
/*
 * Whether an "install MODULE /bin/false" (or true) in modprobe.d keeps MODULE from loading:
 * libkmod runs the install command instead of inserting it (kmod_module_probe_insert_module()).
 */
bool snap_kmodview__install_blocks(const struct snap_kmodview *v, const char *module);
bool snap_kmodview__has(const struct snap_kmodview *v, const char *module, bool *builtin);
/* The modules.alias pattern of module that modalias matches, for the evidence; NULL if none. */
char *snap_kmodview__alias_of(struct snap_kmodview *v, const char *modalias, const char *module);
/* "vfio-pci" -> "vfio_pci" into buf */
void snap_kmod__name(char *buf, size_t n, const char *module);

/*
 * bootcmd.c: the command line the boot loader will give release: a systemd-boot / BLS entry,
 * /etc/kernel/cmdline (Proxmox's proxmox-boot-tool, kernel-install), GRUB's generated entry,
 * or /etc/default/grub (+ grub.d) when grub.cfg has none for the release.
 * {cmdline|null, source, notes: [str], stale: bool}.
 */
json_t *snap_bootcmd__next(const snap_root *r, const char *release);

/* predict.c: the newest installed release under the root (strverscmp order), or NULL. */
char *snap_preflight__newest_release(const snap_root *r);

#endif
