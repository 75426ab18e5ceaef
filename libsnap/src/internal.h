/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * Cross-file internals of libsnap. Nothing here is installed; names are snap_<noun>__<verb>().
 */
#ifndef SNAP_INTERNAL_H
#define SNAP_INTERNAL_H

#include <assert.h>
#include <jansson.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "snap/common.h"
#include "snap/error.h"
#include "snap/snap.h"

#ifdef NDEBUG
#define SNAP_ASSERT_ARG(expr)                                                                      \
	do {                                                                                       \
		if (!(expr))                                                                       \
			return snap_error__set(err, SNAP_EINVALID, "invalid argument: %s", #expr); \
	} while (0)
#else
#define SNAP_ASSERT_ARG(expr) assert(expr)
#endif

#define SNAP_ARRAY_SIZE(a) (sizeof(a) / sizeof((a)[0]))

/*
 * A snapshot is its JSON document: the collector builds it, the loader checks it, and diff,
 * check and show read it. Invariant: root is an object whose "schema" is SNAP_SNAPSHOT_SCHEMA and
 * whose skeleton (host, kernel, firmware, iommu, groups, devices) has the documented types.
 */
struct snap_snapshot {
	json_t *root;     /* owned */
	char **warnings;  /* owned array of owned strings: collection warnings */
	size_t nwarnings; /* entries in warnings */
};

/* error.c */
int snap_error__set(snap_error *err, int code, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
int snap_error__errno(snap_error *err, const char *what, const char *path);
int snap_snapshot__warn(snap_snapshot *s, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));
snap_snapshot *snap_snapshot__new(json_t *root); /* steals root; NULL on ENOMEM */

/* buf.c: a growable string. After an allocation failure oom is set and appends are ignored. */
typedef struct {
	char *ptr;  /* NUL-terminated when len > 0 or after snap_buf__detach() */
	size_t len; /* bytes used, without the NUL */
	size_t cap; /* bytes allocated */
	bool oom;   /* an append failed */
} snap_buf;
#define SNAP_BUF_INIT                                                                              \
	{                                                                                          \
		NULL, 0, 0, false                                                                  \
	}
void snap_buf__put(snap_buf *b, const char *s, size_t n);
void snap_buf__puts(snap_buf *b, const char *s);
void snap_buf__printf(snap_buf *b, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
char *snap_buf__detach(snap_buf *b); /* caller frees; NULL after oom */
void snap_buf__release(snap_buf *b);

/* fsroot.c: reading a (captured) filesystem root without ever leaving it. */
typedef struct {
	int fd;        /* O_PATH descriptor of the root directory */
	bool is_slash; /* the root is the live "/" */
	json_t *dirs;  /* owned: canonical paths already known to be real (not links) */
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
/* readlink of name relative to dirfd; *out malloc'd. Returns 0 or -errno (-EINVAL: not a link). */
int snap_root__readlink_at(char **out, int dirfd, const char *name);
/* Sorted names of a directory below the root (no "." or ".."); 0 or -errno. */
int snap_root__list(char ***out, size_t *n, const snap_root *r, const char *rel);
void snap_strv__free(char **v, size_t n);

/* parse.c: pure text parsers, unit-tested on their own. */
char *snap_parse__trim(char *s);                             /* in place; returns s past blanks */
int snap_parse__hex_attr(unsigned long *out, const char *s); /* "0x10de\n" -> 0x10de; 0 or -1 */
int snap_parse__int(long *out, const char *s);               /* decimal, whole string; 0 or -1 */
char *snap_parse__link_speed(const char *s); /* "8.0 GT/s PCIe" -> "8.0 GT/s"; NULL if unknown */
/* "2.5" -> 25: a decimal number in tenths, whatever the locale; *end past it; -1 if huge */
long snap_parse__tenths(const char *s, const char **end);
char *snap_parse__basename_dup(const char *path);
json_t *snap_parse__cmdline(const char *cmdline); /* [{key, value|null}] in order */
/* Typed IOMMU-relevant options of a token array from snap_parse__cmdline. */
json_t *snap_parse__cmdline_options(const json_t *tokens);
/* /proc/interrupts: chip names, IR-remapped vs plain, per-device MSI-X lines. */
json_t *snap_parse__interrupts(const char *text);
/* Kernel log: IOMMU/DMAR/AMD-Vi/vfio/AER lines, timestamps stripped. */
json_t *snap_parse__kernel_log(const char *text, size_t max_lines);
/* modprobe.d: merge one file's settings into acc ({vfio_pci_ids, blacklist, options, ...}). */
void snap_parse__modprobe(json_t *acc, const char *text, const char *file);
/* Proxmox qemu-server config: {source, id, name, file, hostdevs: [...]}; NULL if no VM data. */
json_t *snap_parse__proxmox(const char *text, const char *id, const char *file);
/* libvirt domain XML: {source, id, name, file, hostdevs: [...]}. */
json_t *snap_parse__libvirt(const char *text, const char *file);
/*
 * Make *text (malloc'd, NUL-terminated) valid UTF-8 for JSON. Valid text is left as it is (0).
 * Otherwise (1) every byte that is not part of a valid sequence, and every backslash, becomes
 * "\xNN", so the raw bytes stay recoverable from the escaped text. -1 when out of memory.
 */
int snap_parse__utf8_escape(char **text);
/* Normalise a PCI address "01:00", "0000:01:00.1", "1:0.1" to "dddd:bb:ss[.f]"; NULL if bad. */
char *snap_parse__pci_address(const char *s, bool *whole_slot);

/*
 * collect_pci.c: config-space decoding through libpci, in one guarded session: libpci's
 * exiting error hook is replaced, and after a libpci failure the handle is abandoned (every
 * later call answers the same error, nothing touches the handle again).
 */
struct snap_pci;
struct snap_pci *snap_pci__access_new(const char *sysfs_path, const char *dump_file,
                                      const char *pci_ids, snap_error *err);
void snap_pci__access_free(struct snap_pci *sp);
/*
 * Decode a device's config space (config_len bytes of it read) into obj: the header, PCIe
 * port type, ACS, FLR, DSN, SR-IOV, ARI and the link registers. Facts the readable bytes
 * cannot tell are null.
 */
int snap_pci__decode_config(json_t *obj, struct snap_pci *sp, unsigned dom, unsigned bus,
                            unsigned dev, unsigned fn, const void *config, size_t config_len,
                            snap_error *err);
/* Vendor/device name through libpci's pci.ids lookup; NULL when unknown. */
char *snap_pci__name(struct snap_pci *sp, unsigned vendor, unsigned device);
/* Set each device's parent from the bridges' secondary bus numbers (all, or only missing ones). */
void snap_pci__parents_from_bridges(json_t *devices, bool only_missing);
/* Collect devices from an `lspci -xxxx` dump into the devices array. */
int snap_pci__collect_dump(json_t *devices, struct snap_pci *sp, snap_snapshot *s, snap_error *err);

/* json helpers (snapshot.c) */
const char *snap_json__str(const json_t *obj, const char *key); /* NULL unless a string */
json_t *snap_json__str_or_null(const char *s);                  /* new ref */
int snap_json__sort_by_key(json_t *array, const char *key);     /* stable, by string key */
int snap_json__dump(char **out, const json_t *root, snap_error *err);

/* passthrough.c: which devices a snapshot passes (or means to pass) to VMs, and why. */
/* Object bdf -> [reason strings]; the contract's definition, siblings in the slot included. */
json_t *snap_passthrough__compute(const json_t *root);
/* bdf -> [the vfio.ids entries that match it]: each device held against the ids that can
 * match it (indexed by vendor:device), so linear in devices and ids. */
json_t *snap_passthrough__covered(const json_t *root);
/* Does a vfio-pci id ("vvvv:dddd[:sv:sd...]") match this device object? */
bool snap_passthrough__id_matches(const char *id, const json_t *dev);
/* Device object with this bdf, or NULL. Linear; callers with many lookups build an index. */
const json_t *snap_snapshot__device(const json_t *root, const char *bdf);
/*
 * The kernel's dev->multifunction for a device object (parent: its upstream bridge's object, or
 * NULL): the header-type bit of pci_setup_device(), set for every function above 0 by
 * pci_scan_slot() (functions 8+ of an ARI device included) and cleared for SR-IOV VFs.
 * New reference: true, false, or null when the header could not be read.
 */
json_t *snap_snapshot__kernel_multifunction(const json_t *dev, const json_t *parent);
/* "0000:01:00.0 NVIDIA Corporation TU102 [10de:1e87]" into buf. */
void snap_snapshot__device_label(char *buf, size_t n, const json_t *dev);

/*
 * topo.c: an index over a snapshot's devices for identity matching and implied grouping.
 * Invariant: dev[i].parent is an index into dev or -1; index order is the snapshot's (by BDF).
 */
enum snap_tristate { SNAP_NO = 0, SNAP_YES = 1, SNAP_UNKNOWN = 2 };

struct snap_topo_dev {
	const json_t *obj; /* borrowed from the snapshot */
	const char *bdf;   /* borrowed */
	unsigned dom, bus, slot, fn;
	int parent;            /* index of the upstream bridge, -1 at a root bus */
	char *identity;        /* owned: ids plus the chain of upstream ports, no bus numbers */
	int implied;           /* union-find parent for implied groups */
	enum snap_tristate mf; /* the kernel's dev->multifunction */
	int group_a, group_b;  /* on an implied root: members in two different kernel groups */
	bool uncertain;        /* an ACS fact this device's implied group depends on is unknown */
	char *merge_reason;    /* owned, NULL: why this device joins others in its implied group */
};

typedef struct {
	struct snap_topo_dev *dev; /* owned array */
	size_t n;                  /* entries */
	json_t *by_bdf;            /* owned: bdf -> index */
	json_t *by_group;          /* owned: kernel group id (decimal string) -> [index...] */
	json_t *by_implied;        /* owned: implied root index (decimal string) -> [index...] */
	json_t *by_slot;           /* owned: "dom:bus:slot" (hex) -> [index...] */
	json_t *empty;             /* owned: the empty list index lookups return */
	int *path_memo;            /* owned: pci_acs_path_enabled() per device, -2 unknown yet */
	int *path_blocker;         /* owned: where that path stops isolating */
	bool iommu_on;             /* the snapshot's IOMMU is enabled (ACS enable quirks ran) */
	bool amd_iommu;            /* ... and it is AMD's (an IVRS table is present) */
} snap_topo;

int snap_topo__build(snap_topo *t, const json_t *root);
void snap_topo__release(snap_topo *t);
int snap_topo__find(const snap_topo *t, const char *bdf); /* index or -1 */
/* pci_acs_enabled() for one device with REQ_ACS_FLAGS; *why names what is missing. */
enum snap_tristate snap_topo__acs_enabled(const snap_topo *t, int i, char *why, size_t n);
int snap_topo__implied_root(snap_topo *t, int i); /* representative of i's implied group */
/* A member of i's implied group in another kernel group than i's (isolation asserted, not
 * enforced), or -1. Constant time. */
int snap_topo__other_group_member(const snap_topo *t, int i);
/* Indices in kernel group gid, or in i's implied group: borrowed arrays of integers. */
const json_t *snap_topo__group_members(const snap_topo *t, json_int_t gid);
const json_t *snap_topo__implied_members(snap_topo *t, int i);
/* Indices of the functions in i's slot (i included; 8 at most): a borrowed array. */
const json_t *snap_topo__slot_members(const snap_topo *t, int i);
/* ACS flag names ("SV" ... "DT") <-> capability/control register bits. */
unsigned snap_topo__acs_bits(const json_t *flags);
void snap_topo__acs_names(char *buf, size_t n, unsigned bits, const char *sep);
/* Printable name of a device for messages: "0000:01:00.0 (NVIDIA ... [10de:1e87])". */
void snap_topo__label(const snap_topo *t, int i, char *buf, size_t n);

/* store.c / fleet.c */
struct git_repository;
struct git_oid;
struct snap_store {
	struct git_repository *repo; /* owned */
	char *path;                  /* owned: as given */
};
int snap_store__load_commit(snap_snapshot **out, struct snap_store *st, const struct git_oid *id,
                            snap_error *err);
void snap_store__msg_field(char *buf, size_t n, const char *msg, const char *key);
/* Host branch names, sorted, as [{"k": name}]; an unreadable branch is an error, never skipped. */
int snap_store__host_names(json_t **out, struct snap_store *st, snap_error *err);
/*
 * 16-hex fingerprints of a snapshot: inventory (the multiset of vendor:device ids: the hardware
 * model's device inventory) and config (what passthrough depends on, without host-specific
 * values: IOMMU and vfio settings, kernel and command-line options, drivers, groups, ACS, FLR).
 */
int snap_store__fingerprints(char inv[17], char cfg[17], const snap_snapshot *s);

#endif
