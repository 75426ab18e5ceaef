/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * The state of one prediction, shared by its files: predict.c (who claims each device, stage
 * by stage), settings.c (the command line and the initramfs's own settings) and run.c (the
 * inputs read, the run, its document).
 */
#ifndef SNAP_PREFLIGHT_PF_H
#define SNAP_PREFLIGHT_PF_H

#include "analyse/check.h"
#include "preflight/preflight.h"

enum stage { ST_KERNEL, ST_INITRAMFS, ST_ROOT, NSTAGES };

struct pf {
	const json_t *snap; /* the current state */
	snap_analysis *an;  /* what it means (borrowed from the current snapshot) */
	snap_root r;
	char *release;
	json_t *doc, *checks, *unknown, *devices;
	size_t count[3];
	struct snap_kmodview root, init;
	bool root_ok, init_ok; /* the stage's indexes could be read */
	bool init_absent;      /* there is no initramfs at all */
	struct snap_initramfs ir;
	bool have_ir;
	json_t *next_tokens, *next_opts; /* NULL when the next command line is unknown */
	const char *next_source;
	json_t *kconfig;            /* CONFIG_X -> "y" / "m" of boot/config-RELEASE */
	json_t *conf_modules;       /* the initramfs's conf/modules, '_' names */
	json_t *modules_load;       /* the root's modules-load.d and etc/modules */
	char vfio_by[NSTAGES][256]; /* a module whose softdep loads vfio_pci in the stage */
	bool vfio_in_init;          /* vfio_pci is loaded from the initramfs: its options stay */
};

/* predict.c: a check of the prediction, an unknown that makes it inconclusive */
void snap_pf__add_check(struct pf *p, const char *id, const char *subject, snap_check_status st,
                        const char *fmt, ...) __attribute__((format(printf, 5, 6)));
void snap_pf__add_unknown(struct pf *p, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
/* predict.c: who claims each device, stage by stage */
bool snap_pf__vfio_loadable(const struct pf *p, const struct snap_kmodview *v);
void snap_pf__find_vfio_loaders(struct pf *p, const json_t *pt);
void snap_pf__predict_device(struct pf *p, const char *bdf, const json_t *reasons,
                             bool covered_now);
/* settings.c: the next command line; the initramfs's own settings */
void snap_pf__check_cmdline(struct pf *p, const json_t *bootcmd);
void snap_pf__check_initramfs(struct pf *p, const char *shown);
/* console.c: the boot GPU handed to vfio-pci: the firmware framebuffer on it, the console */
void snap_pf__check_console(struct pf *p, const json_t *pt);

#endif
