/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * The collector's own state and the parts of a collection, one file each: devices.c (device
 * directories, config space, IOMMU groups), host.c (firmware, modules, vfio, IOMMU units, the
 * kernel log), vms.c (VM configurations); collect.c assembles the document.
 */
#ifndef SNAP_COLLECT_COLLECTOR_H
#define SNAP_COLLECT_COLLECTOR_H

#include "collect/collect.h"
#include "snap/collect.h"

#define ATTR_MAX        4096       /* a sysfs attribute is at most a page */
#define TEXT_MAX        (1u << 20) /* proc/interrupts, configs */
#define KERNEL_LOG_MAX  (16u << 20)
#define LOG_LINES_MAX   400
#define SECURE_BOOT_VAR "sys/firmware/efi/efivars/SecureBoot-8be4df61-93ca-11d2-aa0d-e098032b8c4c"

/* State of one collection. Invariant: s->root is the document being built. */
struct collector {
	snap_root r;                   /* the root everything is read from */
	const snap_collect_options *o; /* caller's options, never NULL */
	snap_snapshot *s;              /* result under construction */
	struct snap_pci *pacc;         /* libpci session, for decoding and names */
	json_t *driver_modules;        /* cache: driver name -> module name or null */
	json_t *slots;                 /* "dddd:bb:ss" -> physical slot name */
	size_t config_short;           /* devices whose config space was cut below 256 bytes */
	size_t config_no_ext;          /* PCIe devices with no extended config space */
	size_t config_unreadable;      /* devices whose config could not be read at all */
	json_t *escaped;               /* owned: inputs that were not UTF-8, kept escaped */
	json_t *vf_ids;                /* owned: PF bdf -> [vendor, VF device id] */
	json_t *vf_pf;                 /* owned: VF bdf -> PF bdf, from the PFs' SR-IOV caps */
	struct snap_fdset fds;         /* descriptors of devices read, closed in batches */
	size_t fds_keep;               /* how many of them a batch holds */
};

/* Text read from the root, made valid UTF-8 (escaped, recoverable) and recorded if it was not. */
char *snap_collect__utf8(struct collector *c, char *text, const char *what);
/* Read a text file under the root, trimmed; NULL when unreadable. */
char *snap_collect__read_text(struct collector *c, const char *rel, size_t max);
json_t *snap_collect__text_or_null(struct collector *c, const char *rel);
int snap_collect__devices(struct collector *c, json_t *devices, snap_error *err);
/* sys/kernel/iommu_groups/N/{devices/<bdf>,type}; fills device iommu_group where the link lacked.
 */
json_t *snap_collect__groups(struct collector *c, json_t *devices);
/* Each device's multifunction flag as the kernel sets it, beside the raw header bit. */
void snap_collect__kernel_multifunction(json_t *devices);
json_t *snap_collect__firmware(struct collector *c);
json_t *snap_collect__modules(struct collector *c);
/* modprobe.c: modprobe.d(5) through libkmod: {options, blacklist, softdep, install, files}. */
json_t *snap_collect__modprobe(struct collector *c);
json_t *snap_collect__vfio(struct collector *c, const json_t *opts, json_t *modules);
/* A boolean module setting: the live parameter, else the configured one, else unknown. */
json_t *snap_collect__setting(const json_t *vfio, const json_t *opts, const char *mod,
                              const char *param, const char *cmdline_key);
json_t *snap_collect__iommu_units(struct collector *c, const char **vendor);
/* iomem.c: [{device, owner, start, end}] of the firmware framebuffer regions inside a device's
 * BARs (proc/iomem), [] when none, null when not known (unreadable, or read without root) */
json_t *snap_collect__bar_claims(struct collector *c);
/* The kernel log: --dmesg FILE (outside the root, the operator's file) or the live /dev/kmsg. */
json_t *snap_collect__kernel_log(struct collector *c);
/* forensics.c: the boot {id, uptime, previous_id, previous_clean} (previous_*: null until
 * the store fills them), and the facts that decide whether a dying host leaves evidence. */
json_t *snap_collect__boot(struct collector *c);
json_t *snap_collect__forensics(struct collector *c, const json_t *opts, const json_t *vfio);
/* Proxmox and libvirt VM configurations, with their addresses resolved to present devices. */
json_t *snap_collect__vms(struct collector *c, const json_t *devices);

/* devdir.c: a device directory of sysfs, listed once */
/* One entry of a directory listing. */
struct dent {
	const char *name; /* in the listing's arena */
	unsigned char type;
};

/* An open device directory and the names in it, listed once so absent attributes cost no syscall.
 */
struct devdir {
	int fd;                /* O_DIRECTORY descriptor */
	struct dent *ents;     /* owned: sorted by name */
	size_t n, cap;         /* entries used, allocated */
	snap_buf arena;        /* the names, NUL-separated */
	struct snap_fdset fds; /* the directory and its attributes, closed together */
};

/* shared by the files split from devices.c */
int snap_devdir__devdir_open(struct devdir *dd, const snap_root *r, const char *canon);
void snap_devdir__devdir_free(struct devdir *dd);
void snap_devdir__devdir_close(struct devdir *dd);
bool snap_devdir__has(const struct devdir *dd, const char *name);
bool snap_devdir__has_type(const struct devdir *dd, const char *name, unsigned char type,
                           mode_t fmt);
bool snap_devdir__has_file(const struct devdir *dd, const char *name);
char *snap_devdir__attr(const struct devdir *dd, const char *name);
json_t *snap_devdir__attr_hex(const struct devdir *dd, const char *name, int width);
json_t *snap_devdir__attr_int(const struct devdir *dd, const char *name);
char *snap_devdir__link_base(const struct devdir *dd, const char *name);
bool snap_devdir__is_bdf(const char *name, unsigned *dom, unsigned *bus, unsigned *dev,
                         unsigned *fn);

#endif
