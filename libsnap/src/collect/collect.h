/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * collect/: reading a (captured) host root into a snapshot: facts only. Includes util/, model/
 * and, to derive the verdicts a snapshot records, analyse/.
 */
#ifndef SNAP_COLLECT_COLLECT_H
#define SNAP_COLLECT_COLLECT_H

#include <stdarg.h>

#include "model/model.h"
#include "util/fsroot.h"
#include "util/util.h"

/* parse.c: pure text parsers for what the collector reads, unit-tested on their own. */
char *snap_parse__link_speed(const char *s); /* "8.0 GT/s PCIe" -> "8.0 GT/s"; NULL if unknown */
json_t *snap_parse__cmdline(const char *cmdline); /* [{key, value|null}] in order */
/* Typed IOMMU-relevant options of a token array from snap_parse__cmdline. */
json_t *snap_parse__cmdline_options(const json_t *tokens);
/* /proc/interrupts: chip names, IR-remapped vs plain, per-device MSI-X lines. */
json_t *snap_parse__interrupts(const char *text);
/* iomem.c: proc/iomem's text -> [{device, owner, start, end}] of the firmware framebuffer's
 * regions inside BARs; null when every address reads 0 (read without CAP_SYS_ADMIN). */
json_t *snap_iomem__claims(const char *text);
/* Kernel log: IOMMU/DMAR/AMD-Vi/vfio/AER lines, timestamps stripped. */
json_t *snap_parse__kernel_log(const char *text, size_t max_lines);
/* Proxmox qemu-server config: {source, id, name, file, hostdevs: [...]}; NULL if no VM data. */
json_t *snap_parse__proxmox(const char *text, const char *id, const char *file);
/* libvirt domain XML: {source, id, name, file, hostdevs: [...]}. */
json_t *snap_parse__libvirt(const char *text, const char *file);
/* Normalise a PCI address "01:00", "0000:01:00.1", "1:0.1" to "dddd:bb:ss[.f]"; NULL if bad. */
char *snap_parse__pci_address(const char *s, bool *whole_slot);

/*
 * pci.c: config-space decoding through libpci, in one guarded session: libpci's
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
/* The key under which decode_config leaves a PF's VF device id for the collector */
#define SNAP_PCI_VF_DEVICE "_vf_device"
/* ... and the addresses of its enabled VFs, computed as the kernel computes them */
#define SNAP_PCI_VF_ADDRESSES "_vf_addresses"
/*
 * Each device's "name" (vendor and device through libpci's pci.ids lookup; null when unknown),
 * once the table loading since snap_pci__access_new() is there; the table is freed after. A
 * pci.ids libpci cannot parse leaves every name null, with a warning in s.
 */
void snap_pci__name_devices(struct snap_pci *sp, json_t *devices, snap_snapshot *s);
/* Set each device's parent from the bridges' secondary bus numbers (all, or only missing ones). */
void snap_pci__parents_from_bridges(json_t *devices, bool only_missing);
/* Collect devices from an `lspci -xxxx` dump into the devices array. */
int snap_pci__collect_dump(json_t *devices, struct snap_pci *sp, snap_snapshot *s, snap_error *err);

/*
 * modprobe.c, shared with preflight/: modprobe.d(5) and libkmod over a root that is not the
 * live one. libkmod opens paths on the host, so a captured root's files are copied, read below
 * the root, into a private temporary directory first.
 */
struct kmod_ctx;
/* The *.conf files of the root's modprobe.d directories into tmp/0 ... tmp/4 (tmp NULL: only
 * list them); the files that count, root-relative, appended to files. 0 or -errno. */
int snap_kmod__copy_configs(const snap_root *r, const char *tmp, json_t *files);
/* {options, blacklist, softdep, install} of a context's files into acc, without what libkmod
 * took from this machine's own /proc/cmdline. */
void snap_kmod__config(json_t *acc, struct kmod_ctx *ctx);
/* A private directory $TMPDIR/pcisnap-TAG.XXXXXX into buf; 0 or -errno (buf ""). */
int snap_kmod__mkdtemp(char *buf, size_t n, const char *tag);
void snap_kmod__rmtree(const char *dir); /* "" or NULL: nothing */
/* Write a new file (O_EXCL, no links followed), 0 or -errno. */
int snap_kmod__write_file(const char *path, const char *data, size_t len);
/* libkmod's log, silenced (it would print to stderr). */
void snap_kmod__quiet(void *data, int priority, const char *file, int line, const char *fn,
                      const char *format, va_list args);

#endif
