/* SPDX-License-Identifier: GPL-2.0-or-later */
/* The result of a check, shared by analyse/check.c (which builds it) and render/check.c. */
#ifndef SNAP_ANALYSE_CHECK_H
#define SNAP_ANALYSE_CHECK_H

#include "analyse/analyse.h"
#include "snap/check.h"

struct snap_check {
	json_t *doc;               /* owned: pcisnap.check/1 document */
	json_t *faultlog;          /* owned while it runs: the kernel log's faults by device */
	size_t count[3];           /* checks per status */
	snap_check_status verdict; /* worst status */
};

#define MAX_NAMED 16 /* devices named in one message */

/* "PASS", "WARN" or "FAIL" */
static inline const char *snap_check__status_name(snap_check_status st)
{
	static const char *const names[] = {"PASS", "WARN", "FAIL"};

	return (unsigned)st < 3 ? names[st] : "?";
}

/* The verdict of the passthrough section alone (check.c's "sections"): "PASS", "WARN", "FAIL" */
static inline const char *snap_check__passthrough(const snap_check *c)
{
	const char *v = snap_json__str(json_object_get(c->doc, "sections"), "passthrough");

	return v ? v : snap_check__status_name(c->verdict);
}

/* Every check, in playbook order: the rows of snap_check__defs[] (check_table.c). */
enum snap_check_id {
	SNAP_CHK_IOMMU_ACTIVE,
	SNAP_CHK_IRQ_REMAPPING,
	SNAP_CHK_UNSAFE_INTERRUPTS,
	SNAP_CHK_NOIOMMU_MODE,
	SNAP_CHK_ACS_OVERRIDE,
	SNAP_CHK_GROUP_EXPLAINED,
	SNAP_CHK_GROUP_VIABLE,
	SNAP_CHK_ISOLATION_ENFORCED,
	SNAP_CHK_SLOT_FUNCTIONS,
	SNAP_CHK_RESET,
	SNAP_CHK_BOOT_VGA,
	SNAP_CHK_BAR_CLAIMED,
	SNAP_CHK_AER_ERRORS,
	SNAP_CHK_FAULT_LOG,
	SNAP_CHK_CONTAINMENT,
	SNAP_CHK_AER_MASKED,
	SNAP_CHK_VFIO_BINDING,
	SNAP_CHK_FAULT_REPORTING,
	SNAP_CHK_PASSTHROUGH_DEVICES,
	SNAP_CHK_SECURE_BOOT,
	SNAP_CHK_PREVIOUS_BOOT,
	SNAP_CHK_JOURNAL_PERSISTENT,
	SNAP_CHK_PSTORE_BACKEND,
	SNAP_CHK_CRASH_KERNEL,
	SNAP_CHK_NETCONSOLE,
	SNAP_CHK_PANIC_SETTINGS,
	SNAP_CHK_COUNT
};

struct snap_check_def {
	const char *id;       /* "id" of its findings */
	const char *section;  /* "passthrough" or "forensics": which verdict it counts in */
	const char *looks_at; /* what it reads from the snapshot */
	const char *fix;      /* what its FAIL or WARN asks for; NULL: it never fails */
};
extern const struct snap_check_def snap_check__defs[SNAP_CHK_COUNT];
const struct snap_check_def *snap_check__def_named(const char *id); /* NULL: no such check */

/* check.c: one finding of check id; one that is an effect of check cause's finding */
bool snap_check__bound_at_boot(const json_t *d);
void snap_check__add(snap_check *c, json_t *checks, snap_check_status st, enum snap_check_id id,
                     const char *subject, const char *fmt, ...)
    __attribute__((format(printf, 6, 7)));
void snap_check__add_effect(snap_check *c, json_t *checks, snap_check_status st,
                            enum snap_check_id id, const char *subject, enum snap_check_id cause,
                            const char *fmt, ...) __attribute__((format(printf, 7, 8)));
/* One run of check: what its parts share. */
struct snap_check_run {
	snap_check *c;
	json_t *checks;         /* the findings, in order */
	const json_t *root;     /* the snapshot */
	snap_topo *t;           /* borrowed from the snapshot's analysis */
	json_t *pt, *covered;   /* borrowed: the passthrough set, the vfio-pci id coverage */
	json_t *owned_by_group; /* owned: group id -> who holds its members (a cache) */
};
/* check_device.c: the checks of one passthrough device */
void snap_check__device(struct snap_check_run *r, const char *bdf, const json_t *reasons);
/* check.c, check_device.c, check_groups.c, check_forensics.c: the rest of the playbook */
bool snap_check__host_owned(const json_t *d);
void snap_check__check_slot_functions(snap_check *c, json_t *checks, const snap_topo *t, int i);
bool snap_check__reset_sibling_only(const json_t *reasons);
bool snap_check__only_sibling(const json_t *reasons);
void snap_check__check_faults(snap_check *c, json_t *checks, const snap_topo *t, int i,
                              const char *lbl);
void snap_check__check_containment(snap_check *c, json_t *checks, const snap_topo *t, int i,
                                   const char *lbl);
bool snap_check__has_method(const json_t *rm, const char *name);
const json_t *snap_check__host_owned_of(json_t *cache, const snap_topo *t, json_int_t gid,
                                        const json_t *pt, const json_t *root);
bool snap_check__other_in_slot(const snap_topo *t, const json_t *list, int i);
char *snap_check__owned_list(const snap_topo *t, const json_t *list, int i, size_t *n);
void snap_check__explain_groups(snap_check *c, json_t *checks, snap_topo *t, const json_t *root);
json_t *snap_check__section_verdicts(const json_t *checks);
json_t *snap_check__implied_groups(snap_topo *t);
void snap_check__boot_and_forensics(snap_check *c, json_t *checks, const json_t *root);

#endif
