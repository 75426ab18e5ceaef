/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * Config space through libpci.
 *
 * libpci's default error hook prints and calls exit(1); a library must not do that. Every entry
 * into libpci here runs under a guard: a setjmp() point that the replacement hook longjmp()s back
 * to, turning libpci's fatal errors into a snap_error.
 *
 * In sysfs mode the collector reads each device's `config` file itself (confined to the root,
 * once) and hands the bytes to libpci as the device's cache, padded with 0xff to 4 KiB, so that
 * libpci decodes capabilities without opening anything. How many bytes were real decides what is
 * known: 64 bytes (an unprivileged read) tell the header only, 256 the capability list, 4096
 * the extended capabilities (ACS, DSN, SR-IOV, ARI). What cannot be known is null.
 */
#include <pthread.h>
#include <setjmp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <pci/pci.h>

#include "collect/collect.h"
#include "collect/pcie_regs.h"

/* Where the replacement error hook jumps to; one per active libpci call on this thread. */
struct pci_guard {
	jmp_buf jb;    /* set by the guarded function */
	char msg[256]; /* libpci's message */
};

static _Thread_local struct pci_guard *current_guard;

static _Noreturn PCI_PRINTF(1, 2) void pci_error_hook(char *msg, ...)
{
	struct pci_guard *g = current_guard;
	va_list ap;

	va_start(ap, msg);
	vsnprintf(g->msg, sizeof(g->msg), msg, ap);
	va_end(ap);
	longjmp(g->jb, 1);
}

static PCI_PRINTF(1, 2) void pci_quiet_hook(char *msg, ...)
{
	(void)msg; /* warnings and debug output: the collector records what it could not read */
}

#define PCI_GUARD_ENTER(g)                                                                         \
	do {                                                                                       \
		(g)->msg[0] = '\0';                                                                \
		current_guard = (g);                                                               \
	} while (0)
#define PCI_GUARD_LEAVE() (current_guard = NULL)

/*
 * One libpci session. Every libpci call runs under a guard; once libpci has failed (its error
 * hook jumped out of it), the handle may be half updated, so it is abandoned: no further call
 * touches it, not even pci_cleanup() (its memory is left to the process).
 */
/*
 * The names: pci.ids loaded whole by libpci (1.4 MB of text into ~40,000 hashed entries, about
 * half of what a collect of 100 devices computes), on a thread of its own while the tree is
 * walked, into a handle of its own. A malformed pci.ids breaks that handle only: the devices
 * lose their names (one warning), not their config space.
 */
struct snap_pci_names {
	struct pci_access *pacc; /* NULL: none could be allocated, every name unknown */
	pthread_t thread;
	bool running;  /* the thread was started and not joined yet */
	bool broken;   /* loading jumped out of libpci: the handle is abandoned */
	char why[256]; /* libpci's message then */
};

struct snap_pci {
	struct pci_access *pacc;
	bool broken; /* a libpci call jumped out: the handle is not used again */
	char why[256];
	struct snap_pci_names names;
};

static int broken_error(const struct snap_pci *sp, snap_error *err)
{
	return snap_error__set(err, SNAP_EINVALID, "libpci: %s", sp->why);
}

/*
 * Abandoned handles stay referenced here for the life of the process: they are never touched
 * again (libpci may have left them half updated), and leak checkers see them as kept, not lost.
 */
static struct pci_access *abandoned[16];
static unsigned n_abandoned;

static void abandon(struct pci_access *pacc)
{
	unsigned i = __atomic_fetch_add(&n_abandoned, 1, __ATOMIC_RELAXED);

	if (i < SNAP_ARRAY_SIZE(abandoned))
		__atomic_store_n(&abandoned[i], pacc, __ATOMIC_RELAXED);
}

/* After a jump: remember why, abandon the handle. */
static int jumped(struct snap_pci *sp, const struct pci_guard *g, snap_error *err)
{
	PCI_GUARD_LEAVE();
	if (!sp->broken)
		abandon(sp->pacc);
	sp->broken = true;
	snprintf(sp->why, sizeof(sp->why), "%s", g->msg[0] ? g->msg : "error");
	return broken_error(sp, err);
}

static void *names_load(void *arg)
{
	struct snap_pci_names *n = arg;
	struct pci_guard g;

	PCI_GUARD_ENTER(&g);
	if (setjmp(g.jb)) {
		PCI_GUARD_LEAVE();
		abandon(n->pacc);
		n->broken = true;
		snprintf(n->why, sizeof(n->why), "%s", g.msg[0] ? g.msg : "error");
		return NULL;
	}
	/* a missing file loads nothing (and is not retried): every name is unknown */
	pci_load_name_list(n->pacc);
	PCI_GUARD_LEAVE();
	return NULL;
}

/* Start loading pci.ids (the system's, or the path given) into a handle of its own. */
static void names_start(struct snap_pci_names *n, const char *pci_ids)
{
	static char p_hwdb[] = "hwdb.disable", one[] = "1";
	struct pci_guard g;

	if (!(n->pacc = pci_alloc()))
		return;
	n->pacc->error = pci_error_hook;
	n->pacc->warning = pci_quiet_hook;
	n->pacc->debug = pci_quiet_hook;
	PCI_GUARD_ENTER(&g);
	if (setjmp(g.jb)) {
		PCI_GUARD_LEAVE();
		abandon(n->pacc);
		n->broken = true;
		snprintf(n->why, sizeof(n->why), "%s", g.msg[0] ? g.msg : "error");
		return;
	}
	/* Names come from the given pci.ids only, not from the host's udev hwdb. */
	pci_set_param(n->pacc, p_hwdb, one);
	if (pci_ids)
		pci_set_name_list_path(n->pacc, (char *)pci_ids, 0);
	PCI_GUARD_LEAVE();
	if (snap_thread_start(&n->thread, names_load, n) == 0)
		n->running = true;
	else
		names_load(n); /* no thread: load it here, in the caller's time */
}

/* Wait for the loader; true when names can be looked up. */
static bool names_ready(struct snap_pci_names *n)
{
	if (n->running) {
		pthread_join(n->thread, NULL);
		n->running = false;
	}
	return n->pacc && !n->broken;
}

static void names_free(struct snap_pci_names *n)
{
	struct pci_guard g;

	names_ready(n);
	if (!n->pacc || n->broken)
		return; /* none, or abandoned */
	PCI_GUARD_ENTER(&g);
	if (!setjmp(g.jb))
		pci_cleanup(n->pacc);
	PCI_GUARD_LEAVE();
	n->pacc = NULL;
}

struct snap_pci *snap_pci__access_new(const char *sysfs_path, const char *dump_file,
                                      const char *pci_ids, snap_error *err)
{
	struct pci_guard g;
	struct snap_pci *volatile sp = calloc(1, sizeof(*sp));

	if (!sp || !(sp->pacc = pci_alloc())) {
		free(sp);
		snap_error__set(err, SNAP_ENOMEM, "cannot allocate libpci access");
		return NULL;
	}
	sp->pacc->error = pci_error_hook;
	sp->pacc->warning = pci_quiet_hook;
	sp->pacc->debug = pci_quiet_hook;
	PCI_GUARD_ENTER(&g);
	if (setjmp(g.jb)) {
		jumped(sp, &g, err);
		free(sp); /* the handle itself is abandoned, not cleaned up */
		return NULL;
	}
	/* libpci's API takes char * for parameter names and values it does not modify. */
	static char p_dump[] = "dump.name", p_sysfs[] = "sysfs.path";

	if (dump_file) {
		sp->pacc->method = PCI_ACCESS_DUMP;
		pci_set_param(sp->pacc, p_dump, (char *)dump_file);
	} else {
		sp->pacc->method = PCI_ACCESS_SYS_BUS_PCI;
		pci_set_param(sp->pacc, p_sysfs, (char *)sysfs_path);
	}
	pci_init(sp->pacc);
	PCI_GUARD_LEAVE();
	names_start(&sp->names, pci_ids);
	return sp;
}

void snap_pci__access_free(struct snap_pci *sp)
{
	struct pci_guard g;

	if (!sp)
		return;
	names_free(&sp->names);
	if (!sp->broken) {
		PCI_GUARD_ENTER(&g);
		if (!setjmp(g.jb))
			pci_cleanup(sp->pacc);
		PCI_GUARD_LEAVE();
	}
	free(sp);
}

/* One name, "Vendor Device", as libpci formats it; NULL when unknown. */
static json_t *name_of(struct snap_pci_names *n, const char *vendor, const char *device)
{
	char buf[256];
	const char *name;

	if (!vendor || !device)
		return json_null();
	name = pci_lookup_name(n->pacc, buf, sizeof(buf),
	                       PCI_LOOKUP_VENDOR | PCI_LOOKUP_DEVICE | PCI_LOOKUP_NO_NUMBERS,
	                       (unsigned)strtoul(vendor, NULL, 16),
	                       (unsigned)strtoul(device, NULL, 16));
	return snap_json__str_or_null(name);
}

void snap_pci__name_devices(struct snap_pci *sp, json_t *devices, snap_snapshot *s)
{
	struct snap_pci_names *n = &sp->names;
	struct pci_guard g;
	volatile size_t i = 0;
	json_t *d;

	if (names_ready(n)) {
		PCI_GUARD_ENTER(&g);
		if (setjmp(g.jb)) {
			PCI_GUARD_LEAVE();
			abandon(n->pacc);
			n->broken = true;
			snprintf(n->why, sizeof(n->why), "%s", g.msg[0] ? g.msg : "error");
		} else {
			for (; i < json_array_size(devices); i++) {
				d = json_array_get(devices, i);
				json_object_set_new(d, "name",
				                    name_of(n, snap_json__str(d, "vendor"),
				                            snap_json__str(d, "device")));
			}
			PCI_GUARD_LEAVE();
		}
	}
	if (n->broken)
		snap_snapshot__warn(s, "pci.ids: %s; device names are unknown",
		                    snap_parse__trim(n->why));
	/* the rest (all, without a table) unknown */
	for (; i < json_array_size(devices); i++)
		json_object_set_new(json_array_get(devices, i), "name", json_null());
	names_free(n); /* the table (2 MB) is not needed again: the document grows without it */
}

static const char *pcie_type_name(unsigned t)
{
	switch (t) {
	case PCI_EXP_TYPE_ENDPOINT:
		return "endpoint";
	case PCI_EXP_TYPE_LEG_END:
		return "legacy_endpoint";
	case PCI_EXP_TYPE_ROOT_PORT:
		return "root_port";
	case PCI_EXP_TYPE_UPSTREAM:
		return "upstream_port";
	case PCI_EXP_TYPE_DOWNSTREAM:
		return "downstream_port";
	case PCI_EXP_TYPE_PCI_BRIDGE:
		return "pcie_to_pci_bridge";
	case PCI_EXP_TYPE_PCIE_BRIDGE:
		return "pci_to_pcie_bridge";
	case PCI_EXP_TYPE_ROOT_INT_EP:
		return "rc_integrated_endpoint";
	case PCI_EXP_TYPE_ROOT_EC:
		return "rc_event_collector";
	default:
		return "unknown";
	}
}

/* PCIe link speed encoding (LnkCap/LnkSta bits 3:0). */
static json_t *link_speed(unsigned code)
{
	static const char *const s[] = {NULL,        "2.5 GT/s",  "5.0 GT/s", "8.0 GT/s",
	                                "16.0 GT/s", "32.0 GT/s", "64.0 GT/s"};

	return code < SNAP_ARRAY_SIZE(s) && s[code] ? json_string(s[code]) : json_null();
}

/*
 * The link as the kernel's max_link_speed, max_link_width, current_link_speed and
 * current_link_width attributes state it (drivers/pci/pci-sysfs.c), from the same registers:
 * pcie_get_speed_cap() takes the highest speed of Link Capabilities 2's vector when that
 * register is implemented (capability version 2 and later) and not zero, else only 2.5 or
 * 5.0 GT/s from Link Capabilities; pcie_get_width_cap() reads 255 (unknown) when Link
 * Capabilities is zero; the current speed is pcie_link_speed[] of Link Status. The link
 * registers exist for the types pcie_cap_has_lnkctl() names, else read as zero. As the
 * attributes are recorded: unknown speeds and a 255 width null, a current width of 0 null when
 * the maximum is unknown, and all of it unknown: no link (null).
 */
static json_t *kernel_link(struct pci_dev *d, int exp, unsigned type)
{
	bool has_link = type == PCI_EXP_TYPE_ENDPOINT || type == PCI_EXP_TYPE_LEG_END ||
	                type == PCI_EXP_TYPE_ROOT_PORT || type == PCI_EXP_TYPE_UPSTREAM ||
	                type == PCI_EXP_TYPE_DOWNSTREAM || type == PCI_EXP_TYPE_PCI_BRIDGE ||
	                type == PCI_EXP_TYPE_PCIE_BRIDGE;
	unsigned vers = pci_read_word(d, exp + PCI_EXP_FLAGS) & PCI_EXP_FLAGS_VERS;
	unsigned cap = has_link ? pci_read_long(d, exp + PCI_EXP_LNKCAP) : 0;
	unsigned sta = has_link ? pci_read_word(d, exp + PCI_EXP_LNKSTA) : 0;
	unsigned cap2 = vers > 1 ? pci_read_long(d, exp + PCI_EXP_LNKCAP2) : 0;
	unsigned max_code = 0; /* in pcie_link_speed[]'s numbering: 1 = 2.5 GT/s ... 6 = 64 GT/s */
	json_t *ms, *cs, *mw, *cw;

	if (cap2) { /* the vector, even when it names none of the speeds: then unknown */
		for (unsigned bit = 6; bit >= 1 && !max_code; bit--)
			if (cap2 & (1u << bit))
				max_code = bit;
	} else if ((cap & PCI_EXP_LNKCAP_SPEED) == 2 || (cap & PCI_EXP_LNKCAP_SPEED) == 1) {
		max_code = cap & PCI_EXP_LNKCAP_SPEED;
	}
	ms = link_speed(max_code);
	cs = link_speed(sta & PCI_EXP_LNKSTA_SPEED);
	mw = cap ? json_integer((cap & PCI_EXP_LNKCAP_WIDTH) >> 4) : json_null();
	cw = json_is_null(mw) && !((sta & PCI_EXP_LNKSTA_WIDTH) >> 4)
	         ? json_null()
	         : json_integer((sta & PCI_EXP_LNKSTA_WIDTH) >> 4);
	if (json_is_null(ms) && json_is_null(cs) && json_is_null(mw) && json_is_null(cw))
		return json_null();
	return json_pack("{s:o, s:o, s:o, s:o}", "max_speed", ms, "max_width", mw, "cur_speed", cs,
	                 "cur_width", cw);
}

/* Set key unless the sysfs attributes already gave it. */
static void set_default(json_t *obj, const char *key, json_t *value)
{
	json_t *cur = json_object_get(obj, key);

	if (cur && !json_is_null(cur))
		json_decref(value);
	else
		json_object_set_new(obj, key, value);
}

/*
 * Does the kernel refuse this device's FLR although it advertises one? quirk_no_flr() of
 * drivers/pci/quirks.c sets PCI_DEV_FLAGS_NO_FLR_RESET, and pcie_reset_flr() and pci_af_flr()
 * then answer -ENOTTY: FLR is never used to reset it (Linux 6.1's list; quirk_no_flr_snet()
 * for the SolidRun SNET DPU of revision 1).
 */
static bool kernel_refuses_flr(const json_t *obj)
{
	static const struct {
		unsigned vendor, device;
		int revision; /* -1: any */
	} no_flr[] = {
	    {0x1022, 0x1487, -1},   /* AMD Starship/Matisse HD Audio */
	    {0x1022, 0x148c, -1},   /* AMD Starship USB 3.0 */
	    {0x1022, 0x149c, -1},   /* AMD Matisse USB 3.0 */
	    {0x1022, 0x7901, -1},   /* AMD FCH SATA */
	    {0x8086, 0x1502, -1},   /* Intel 82579LM */
	    {0x8086, 0x1503, -1},   /* Intel 82579V */
	    {0xd063, 0x1000, 0x01}, /* SolidRun SNET DPU rev 1 */
	};
	const char *v = snap_json__str(obj, "vendor"), *dv = snap_json__str(obj, "device"),
	           *rv = snap_json__str(obj, "revision");
	unsigned long vendor, device, rev;

	if (!v || !dv || snap_parse__hex_attr(&vendor, v) < 0 ||
	    snap_parse__hex_attr(&device, dv) < 0)
		return false;
	for (size_t i = 0; i < SNAP_ARRAY_SIZE(no_flr); i++)
		if (no_flr[i].vendor == vendor && no_flr[i].device == device &&
		    (no_flr[i].revision < 0 || (rv && snap_parse__hex_attr(&rev, rv) == 0 &&
		                                rev == (unsigned long)no_flr[i].revision)))
			return true;
	return false;
}

/* Does the kernel's reset_method (a known list) leave out both kinds of FLR? */
static bool lists_no_flr(const json_t *methods)
{
	const json_t *m;
	size_t i;

	json_array_foreach (methods, i, m)
		if (json_is_string(m) && (!strcmp(json_string_value(m), "flr") ||
		                          !strcmp(json_string_value(m), "af_flr")))
			return false;
	return true;
}

static json_t *hex_str(unsigned v, int width)
{
	char buf[16];

	snprintf(buf, sizeof(buf), "%0*x", width, v);
	return json_string(buf);
}

/* pci_quirk_intel_spt_pch_acs_match(): Sunrise Point, Union Point, 7th/8th gen mobile */
static bool intel_spt_root_port(struct pci_dev *d)
{
	unsigned dev = pci_read_word(d, PCI_DEVICE_ID);

	return pci_read_word(d, PCI_VENDOR_ID) == 0x8086 &&
	       ((dev >= 0xa110 && dev <= 0xa11f) || (dev >= 0xa167 && dev <= 0xa16a) ||
	        (dev >= 0xa290 && dev <= 0xa29f) || (dev >= 0xa2e7 && dev <= 0xa2ee) ||
	        (dev >= 0x9d10 && dev <= 0x9d1b));
}

/*
 * The addresses of a PF's enabled VFs, as the kernel gives them (iov.c pci_iov_virtfn_bus()
 * and pci_iov_virtfn_devfn(): the PF's routing id plus First VF Offset plus VF Stride times
 * the VF's index, carried into the bus number), under SNAP_PCI_VF_ADDRESSES for the collector.
 * VF Enable clear: the kernel added none (sriov_disable() clears it with the VFs gone).
 */
static void set_vf_addresses(json_t *obj, struct pci_dev *d, int cap)
{
	unsigned ctrl = pci_read_word(d, cap + PCI_IOV_CTRL);
	unsigned num = pci_read_word(d, cap + PCI_IOV_NUMVF);
	unsigned offset = pci_read_word(d, cap + PCI_IOV_OFFSET);
	unsigned stride = pci_read_word(d, cap + PCI_IOV_STRIDE);
	unsigned rid = (unsigned)d->dev << 3 | (unsigned)d->func;
	json_t *list;

	if (!(ctrl & PCI_IOV_CTRL_VFE) || !num || !offset || (num > 1 && !stride))
		return;
	list = json_array();
	for (unsigned i = 0; i < num; i++) {
		unsigned r = rid + offset + stride * i, bus = (unsigned)d->bus + (r >> 8);
		char bdf[24];

		if (bus > 0xff)
			break; /* past the last bus: the kernel refuses such a VF
			          (pci_iov_add_virtfn) */
		snprintf(bdf, sizeof(bdf), "%04x:%02x:%02x.%u", (unsigned)d->domain, bus,
		         (r & 0xff) >> 3, r & 7);
		json_array_append_new(list, json_string(bdf));
	}
	json_object_set_new(obj, SNAP_PCI_VF_ADDRESSES, list);
}

static void decode_inner(json_t *obj, struct pci_dev *d, int len)
{
	struct pci_cap *exp, *af, *acs, *dsn, *sriov, *ari;
	unsigned hdr, type = 0;
	bool trad_known, ext_known;
	json_t *link;

	if (len < 64) {
		/* Not even the header: every config-space fact is unknown. */
		set_default(obj, "multifunction", json_null());
		set_default(obj, "pcie_type", json_null());
		json_object_set_new(obj, "acs", json_null());
		json_object_set_new(obj, "flr", json_null());
		json_object_set_new(obj, "ari", json_null());
		set_default(obj, "dsn", json_null());
		set_default(obj, "bridge", json_null());
		set_default(obj, "link_config", json_null());
		return;
	}
	hdr = pci_read_byte(d, PCI_HEADER_TYPE);
	set_default(obj, "vendor", hex_str(pci_read_word(d, PCI_VENDOR_ID), 4));
	set_default(obj, "device", hex_str(pci_read_word(d, PCI_DEVICE_ID), 4));
	set_default(obj, "class", hex_str(pci_read_long(d, PCI_CLASS_REVISION) >> 8, 6));
	set_default(obj, "revision", hex_str(pci_read_byte(d, PCI_REVISION_ID), 2));
	json_object_set_new(obj, "multifunction", json_boolean(hdr & 0x80));
	if ((hdr & 0x7f) == PCI_HEADER_TYPE_NORMAL) {
		set_default(obj, "subsystem_vendor",
		            hex_str(pci_read_word(d, PCI_SUBSYSTEM_VENDOR_ID), 4));
		set_default(obj, "subsystem_device",
		            hex_str(pci_read_word(d, PCI_SUBSYSTEM_ID), 4));
	} else {
		/* bridges carry subsystem ids in an SSVID capability, not at 0x2c */
		set_default(obj, "subsystem_vendor", json_null());
		set_default(obj, "subsystem_device", json_null());
	}
	if ((hdr & 0x7f) == PCI_HEADER_TYPE_BRIDGE)
		/* serr: Bridge Control's SERR# Enable, which pci_configure_serr() sets on every
		 * bridge so that it forwards ERR_ messages from below (_HPX or setpci may clear it)
		 */
		set_default(
		    obj, "bridge",
		    json_pack("{s:i, s:i, s:b}", "secondary_bus",
		              pci_read_byte(d, PCI_SECONDARY_BUS), "subordinate_bus",
		              pci_read_byte(d, PCI_SUBORDINATE_BUS), "serr",
		              (pci_read_word(d, PCI_BRIDGE_CONTROL) & PCI_BRIDGE_CTL_SERR) != 0));
	else
		set_default(obj, "bridge", json_null());

	/*
	 * The contract: a cut config space (64 bytes without root) makes ACS and FLR unknown, even
	 * when the header's capability-list bit is clear; the full read is what proves absence.
	 */
	trad_known = len >= 256;
	pci_fill_info(d, PCI_FILL_CAPS | PCI_FILL_EXT_CAPS);
	exp = trad_known ? pci_find_cap(d, PCI_CAP_ID_EXP, PCI_CAP_NORMAL) : NULL;
	af = trad_known ? pci_find_cap(d, PCI_CAP_ID_AF, PCI_CAP_NORMAL) : NULL;
	ext_known = trad_known && (!exp || len >= 4096);

	if (!trad_known) {
		set_default(obj, "pcie_type", json_null());
		json_object_set_new(obj, "flr", json_null());
		set_default(obj, "link_config", json_null());
		json_object_set_new(obj, "link_state", json_null());
		json_object_set_new(obj, "dpc", json_null());
		json_object_set_new(obj, "aer_regs", json_null());
	} else {
		bool flr = false;

		if (exp) {
			type =
			    (pci_read_word(d, exp->addr + PCI_EXP_FLAGS) & PCI_EXP_FLAGS_TYPE) >> 4;
			flr = pci_read_long(d, exp->addr + PCI_EXP_DEVCAP) & PCI_EXP_DEVCAP_FLRESET;
		}
		if (af) {
			/* pci_af_flr(): Transactions Pending and FLR both */
			unsigned cap = pci_read_byte(d, af->addr + PCI_AF_CAP);

			flr = flr || ((cap & PCI_AF_CAP_TP) && (cap & PCI_AF_CAP_FLR));
		}
		if (flr) {
			/* what pci_reset_function() will try: the kernel's reset_method when it
			 * says (it leaves out an FLR a quirk refused, and what the operator took
			 * out); else Linux 6.1's quirk_no_flr() list */
			const json_t *rm = json_object_get(obj, "reset_methods");
			bool quirk = kernel_refuses_flr(obj);

			if (json_is_array(rm) ? lists_no_flr(rm) : quirk) {
				flr = false;
				json_object_set_new(
				    obj, "flr_refused",
				    json_string(quirk ? "quirk_no_flr" : "reset_method"));
			}
		}
		json_object_set_new(obj, "pcie_type",
		                    json_string(exp ? pcie_type_name(type) : "conventional"));
		json_object_set_new(obj, "flr", json_boolean(flr));
		link = json_null();
		if (exp && type != PCI_EXP_TYPE_ROOT_INT_EP && type != PCI_EXP_TYPE_ROOT_EC)
			link = kernel_link(d, exp->addr, type);
		json_object_set_new(obj, "link_config", link);
		/* what the kernel's link attributes would say: devices.c need not read them */
		json_object_set_new(obj, "link_config_exact", json_true());
		snap_pcie_regs__decode(obj, d, exp ? exp->addr : 0, type, ext_known);
	}

	if (!ext_known) {
		json_object_set_new(obj, "acs", json_null());
		json_object_set_new(obj, "ari", json_null());
		set_default(obj, "dsn", json_null());
		return;
	}
	acs = exp ? pci_find_cap(d, PCI_EXT_CAP_ID_ACS, PCI_CAP_EXTENDED) : NULL;
	dsn = exp ? pci_find_cap(d, PCI_EXT_CAP_ID_DSN, PCI_CAP_EXTENDED) : NULL;
	sriov = exp ? pci_find_cap(d, PCI_EXT_CAP_ID_SRIOV, PCI_CAP_EXTENDED) : NULL;
	ari = exp ? pci_find_cap(d, PCI_EXT_CAP_ID_ARI, PCI_CAP_EXTENDED) : NULL;
	if (acs) {
		json_t *a =
		    json_pack("{s:b, s:o, s:o}", "present", 1, "cap",
		              snap_acs__flags(pci_read_word(d, acs->addr + PCI_ACS_CAP)), "ctl",
		              snap_acs__flags(pci_read_word(d, acs->addr + PCI_ACS_CTRL)));

		/* pci_quirk_intel_spt_pch_acs(): these root ports hold the control register in
		 * the dword at +8, not the word at +6 (lspci reads the word, and so misreads) */
		if (type == PCI_EXP_TYPE_ROOT_PORT && intel_spt_root_port(d))
			json_object_set_new(a, "ctl_intel_spt",
			                    snap_acs__flags(pci_read_word(d, acs->addr + 8)));
		json_object_set_new(obj, "acs", a);
	} else
		json_object_set_new(obj, "acs",
		                    json_pack("{s:b, s:[], s:[]}", "present", 0, "cap", "ctl"));
	json_object_set_new(obj, "ari", json_boolean(ari != NULL));
	if (dsn) {
		unsigned lo = pci_read_long(d, dsn->addr + 4), hi = pci_read_long(d, dsn->addr + 8);
		char buf[32];

		snprintf(buf, sizeof(buf), "%02x-%02x-%02x-%02x-%02x-%02x-%02x-%02x", hi >> 24,
		         (hi >> 16) & 0xff, (hi >> 8) & 0xff, hi & 0xff, lo >> 24,
		         (lo >> 16) & 0xff, (lo >> 8) & 0xff, lo & 0xff);
		set_default(obj, "dsn", json_string(buf));
	} else {
		set_default(obj, "dsn", json_null());
	}
	if (sriov) {
		char vf[8];

		set_default(obj, "sriov",
		            json_pack("{s:i, s:i}", "total_vfs",
		                      pci_read_word(d, sriov->addr + PCI_IOV_TOTALVF), "num_vfs",
		                      pci_read_word(d, sriov->addr + PCI_IOV_NUMVF)));
		/* the device id of its VFs (pci_iov_add_virtfn(): virtfn->device = iov->vf_device);
		 * taken out by the collector before the snapshot is written */
		snprintf(vf, sizeof(vf), "%04x", pci_read_word(d, sriov->addr + PCI_IOV_DID));
		json_object_set_new(obj, SNAP_PCI_VF_DEVICE, json_string(vf));
		set_vf_addresses(obj, d, sriov->addr);
	}
}

int snap_pci__decode_config(json_t *obj, struct snap_pci *sp, unsigned dom, unsigned bus,
                            unsigned dev, unsigned fn, const void *config, size_t config_len,
                            snap_error *err)
{
	struct pci_guard g;
	struct pci_dev *volatile pd = NULL;
	uint8_t *volatile cache = NULL;

	if (sp->broken)
		return broken_error(sp, err);
	if (!(cache = malloc(4096)))
		return snap_error__set(err, SNAP_ENOMEM, "out of memory");
	/* the config space read once, handed to libpci as a 0xff-padded cache */
	memset(cache, 0xff, 4096);
	memcpy(cache, config, config_len < 4096 ? config_len : 4096);
	PCI_GUARD_ENTER(&g);
	if (setjmp(g.jb)) {
		free(cache); /* pd belongs to the abandoned handle */
		return jumped(sp, &g, err);
	}
	pd = pci_get_dev(sp->pacc, (int)dom, (int)bus, (int)dev, (int)fn);
	if (pd) {
		pci_setup_cache(pd, cache, 4096);
		decode_inner(obj, pd, (int)(config_len < 4096 ? config_len : 4096));
		pci_free_dev(pd);
	}
	PCI_GUARD_LEAVE();
	free(cache);
	return pd ? 0 : snap_error__set(err, SNAP_ENOMEM, "libpci: cannot allocate a device");
}

/* Fill the fields that only sysfs knows as unknown, so dump snapshots keep the full skeleton. */
static void dump_unknowns(json_t *obj)
{
	static const char *const keys[] = {
	    "driver",   "driver_module",  "driver_override", "iommu_group", "reset_methods",
	    "boot_vga", "numa_node",      "physfn",          "slot",        "aer",
	    "link",     "d3cold_allowed", "power_state"};

	for (size_t i = 0; i < SNAP_ARRAY_SIZE(keys); i++)
		set_default(obj, keys[i], json_null());
}

/*
 * How much config space a dump holds for d: libpci's dump method fails reads past the end of
 * what the dump listed (64, 256 or 4096 bytes), and pci_read_block() passes that failure on.
 * Called under the caller's guard.
 */
static int dump_config_len(struct pci_dev *d)
{
	static const int sizes[] = {4096, 256, 64};
	u8 buf[4];

	for (size_t i = 0; i < SNAP_ARRAY_SIZE(sizes); i++)
		if (pci_read_block(d, sizes[i] - 4, buf, 4))
			return sizes[i];
	return 0;
}

int snap_pci__collect_dump(json_t *devices, struct snap_pci *sp, snap_snapshot *s, snap_error *err)
{
	struct pci_guard g;
	struct pci_dev *d;
	json_t *volatile obj = NULL;

	(void)s;
	if (sp->broken)
		return broken_error(sp, err);
	/* the whole session under one guard: a failure anywhere abandons the handle */
	PCI_GUARD_ENTER(&g);
	if (setjmp(g.jb)) {
		json_decref(obj);
		return jumped(sp, &g, err);
	}
	pci_scan_bus(sp->pacc);
	for (d = sp->pacc->devices; d; d = d->next) {
		char bdf[32];
		int len;

		snprintf(bdf, sizeof(bdf), "%04x:%02x:%02x.%d", d->domain, d->bus, d->dev, d->func);
		len = dump_config_len(d);
		if (!(obj = json_pack("{s:s, s:i}", "bdf", bdf, "config_bytes", len))) {
			PCI_GUARD_LEAVE();
			return snap_error__set(err, SNAP_ENOMEM, "out of memory");
		}
		decode_inner(obj, d, len);
		json_object_set(obj, "link", json_object_get(obj, "link_config"));
		json_object_del(obj, "link_config");
		json_object_del(obj, "link_config_exact");
		dump_unknowns(obj);
		json_array_append_new(devices, obj);
		obj = NULL;
	}
	PCI_GUARD_LEAVE();
	snap_pci__parents_from_bridges(devices, false);
	return 0;
}

/*
 * Parents from the bridges' bus numbers: a device's parent is the bridge (same domain, other bus)
 * whose secondary bus it sits on. O(devices + bridges) through an index of secondary buses.
 */
void snap_pci__parents_from_bridges(json_t *devices, bool only_missing)
{
	json_t *by_bus = json_object(); /* "domain:bus" -> bridge bdf */
	size_t i;
	json_t *dev;

	json_array_foreach (devices, i, dev) {
		const json_t *b = json_object_get(dev, "bridge");
		unsigned dom, bus, sl, fn;
		char key[32];

		if (!json_is_object(b) ||
		    sscanf(snap_json__str(dev, "bdf"), "%x:%x:%x.%u", &dom, &bus, &sl, &fn) != 4)
			continue;
		snprintf(key, sizeof(key), "%x:%" JSON_INTEGER_FORMAT, dom,
		         json_integer_value(json_object_get(b, "secondary_bus")));
		/* an unconfigured bridge (secondary bus 0, or not above its own bus) leads nowhere:
		 * pci_scan_bridge_extend() numbers secondary buses above the bridge's own */
		if (json_integer_value(json_object_get(b, "secondary_bus")) > (json_int_t)bus)
			json_object_set_new(by_bus, key, json_string(snap_json__str(dev, "bdf")));
	}
	json_array_foreach (devices, i, dev) {
		unsigned dom, bus, sl, fn;
		char key[32];

		if (only_missing && snap_json__str(dev, "parent"))
			continue;
		if (sscanf(snap_json__str(dev, "bdf"), "%x:%x:%x.%u", &dom, &bus, &sl, &fn) != 4)
			continue;
		snprintf(key, sizeof(key), "%x:%u", dom, bus);
		json_object_set_new(dev, "parent",
		                    snap_json__str_or_null(snap_json__str(by_bus, key)));
	}
	json_decref(by_bus);
}
