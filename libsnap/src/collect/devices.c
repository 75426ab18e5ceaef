/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * PCI devices as sysfs shows them: each device directory's attributes and links, its config
 * space through libpci, physical slots, the walk of the device tree. devdir.c reads a device
 * directory; groups.c the IOMMU groups and the kernel's multifunction flag.
 */
#include <ctype.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <pci/pci.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include <pci/pci.h>

#include "collect/collector.h"

/*
 * A VF's PF: the one whose SR-IOV capability puts an enabled VF at bdf, as the kernel placed it
 * (a PF is read before its VFs: they follow it in its bus's listing), else the physfn link.
 */
static char *physfn_of(struct collector *c, const struct devdir *dd, const char *bdf)
{
	const char *pf = c->vf_pf ? json_string_value(json_object_get(c->vf_pf, bdf)) : NULL;

	if (!snap_devdir__has(dd, "physfn"))
		return NULL;
	return pf ? strdup(pf) : snap_devdir__link_base(dd, "physfn");
}

/* "TOTAL_ERR_COR 3" out of an aer_dev_* attribute. */
static json_t *aer_total(const struct devdir *dd, const char *name, const char *key)
{
	char *t = snap_devdir__attr(dd, name), *p;
	json_t *v = json_null();

	if (t && (p = strstr(t, key))) {
		long n;
		char *end;

		p += strlen(key);
		n = strtol(p, &end, 10);
		if (end != p)
			v = json_integer(n);
	}
	free(t);
	return v;
}

static json_t *driver_module(struct collector *c, const char *driver)
{
	json_t *cached = json_object_get(c->driver_modules, driver);
	char rel[512], *target = NULL;
	char *canon = NULL;
	json_t *v = json_null();

	if (cached)
		return json_incref(cached);
	snprintf(rel, sizeof(rel), "sys/bus/pci/drivers/%s", driver);
	if (snap_root__resolve(&canon, &c->r, rel) == 0) {
		int fd = snap_root__opendir(&c->r, canon);

		if (fd >= 0) {
			if (snap_root__readlink_at(&target, fd, "module") == 0) {
				char *b = snap_parse__basename_dup(target);

				json_decref(v);
				v = snap_json__str_or_null(b);
				free(b);
				free(target);
			}
			close(fd);
		}
		free(canon);
	}
	json_object_set(c->driver_modules, driver, v);
	return v;
}

/* Is name a PCI address as sysfs spells it: "dddd:bb:ss.f" (domain may be wider, e.g. VMD)? */
static unsigned hex_digits(const char *p, size_t n, bool *ok)
{
	unsigned v = 0;

	for (size_t i = 0; i < n; i++) {
		int c = (unsigned char)p[i];

		if (!isxdigit(c)) {
			*ok = false;
			return 0;
		}
		v = v << 4 | (unsigned)(isdigit(c) ? c - '0' : tolower(c) - 'a' + 10);
	}
	return v;
}

bool snap_devdir__is_bdf(const char *name, unsigned *dom, unsigned *bus, unsigned *dev,
                         unsigned *fn)
{
	size_t len = strlen(name), dl;
	unsigned d, b, s, f;
	bool ok = true;

	/* "dddd:bb:ss.f": the separators 8, 5 and 2 from the end, the domain 4 to 8 digits (most
	 * names in a device directory are attributes, refused here at once) */
	if (len < 12 || len > 16 || name[len - 2] != '.' || name[len - 5] != ':' ||
	    name[len - 8] != ':')
		return false;
	dl = len - 8;
	d = hex_digits(name, dl, &ok);
	b = hex_digits(name + dl + 1, 2, &ok);
	s = hex_digits(name + dl + 4, 2, &ok);
	f = (unsigned)(name[len - 1] - '0');
	if (!ok || s > 0x1f || name[len - 1] < '0' || f > 7)
		return false;
	if (dom) {
		*dom = d;
		*bus = b;
		*dev = s;
		*fn = f;
	}
	return true;
}

/* Parent bridge: the path component before the device's own in its canonical sysfs path. */
static char *parent_from_path(const char *canon)
{
	const char *last = strrchr(canon, '/');
	const char *prev;

	if (!last)
		return NULL;
	for (prev = last - 1; prev > canon && *prev != '/'; prev--)
		;
	if (*prev == '/')
		prev++;
	{
		char *comp = strndup(prev, (size_t)(last - prev));

		if (comp && snap_devdir__is_bdf(comp, NULL, NULL, NULL, NULL))
			return comp;
		free(comp);
	}
	return NULL;
}

/* A link width attribute; 255 is pcie_get_width_cap()'s PCIE_LNK_WIDTH_UNKNOWN: no width. */
static json_t *attr_width(const struct devdir *dd, const char *name)
{
	json_t *w = snap_devdir__attr_int(dd, name);

	if (json_is_integer(w) && json_integer_value(w) == 255) {
		json_decref(w);
		return json_null();
	}
	return w;
}

/*
 * The link from sysfs, else from the config registers. Devices with no link (root-complex
 * integrated endpoints and event collectors, conventional PCI) still have the sysfs attributes
 * on these kernels, reading width 255 and speed "Unknown": that is "no link", recorded as null.
 */
static json_t *link_json(const struct devdir *dd, const char *pcie_type, json_t *config_link,
                         bool exact)
{
	char *ms, *cs;
	json_t *mw, *cw, *link;

	if (pcie_type &&
	    (!strcmp(pcie_type, "rc_integrated_endpoint") ||
	     !strcmp(pcie_type, "rc_event_collector") || !strcmp(pcie_type, "conventional")))
		return json_null();
	/* the whole config space read: the registers the attributes are computed from, read the
	 * way the kernel reads them (pci.c kernel_link()), four files fewer per PCIe device */
	if (exact)
		return json_incref(config_link ? config_link : json_null());
	ms = snap_devdir__attr(dd, "max_link_speed");
	cs = snap_devdir__attr(dd, "current_link_speed");
	mw = attr_width(dd, "max_link_width");
	cw = attr_width(dd, "current_link_width");
	if (json_is_null(mw) && json_is_integer(cw) && json_integer_value(cw) == 0) {
		json_decref(cw); /* no link capability: a current width of 0 says nothing either */
		cw = json_null();
	}

	if (!ms && !cs && json_is_null(mw) && json_is_null(cw)) {
		/* no sysfs link attributes (old kernel, captured tree): use the config registers */
		json_decref(mw);
		json_decref(cw);
		return json_incref(config_link ? config_link : json_null());
	}
	{
		char *nms = ms ? snap_parse__link_speed(ms) : NULL;
		char *ncs = cs ? snap_parse__link_speed(cs) : NULL;

		if (!nms && !ncs && json_is_null(mw) && json_is_null(cw)) {
			link = json_null(); /* "Unknown", 255 and 0: the device has no link */
			json_decref(mw);
			json_decref(cw);
		} else {
			link = json_pack("{s:o, s:o, s:o, s:o}", "max_speed",
			                 snap_json__str_or_null(nms), "max_width", mw, "cur_speed",
			                 snap_json__str_or_null(ncs), "cur_width", cw);
		}
		free(nms);
		free(ncs);
	}
	free(ms);
	free(cs);
	return link;
}

/*
 * vendor, device, revision and the subsystem ids: what pci_setup_device() reads from config
 * space, taken from the config already read (five attribute files fewer per device). The
 * files are read where the config cannot say: config unreadable or cut below the header, an
 * SR-IOV VF whose PF's SR-IOV capability was not read (its vendor and device registers read
 * 0xffff; the kernel takes the PF's vendor and the capability's VF Device ID),
 * and the subsystem ids of a bridge (from its SSVID capability, not the type 0 header). The
 * class is always the attribute: the kernel's early fixups may change it.
 */
static void ids_of(struct collector *c, json_t *obj, const struct devdir *fd,
                   const unsigned char *cfg, size_t len, const char *physfn)
{
	char buf[8];
	unsigned vendor = len >= 64 ? (unsigned)(cfg[0] | cfg[1] << 8) : 0xffff;
	bool header0 = len >= 64 && (cfg[0x0e] & 0x7f) == 0;
	const json_t *pf = physfn && c->vf_ids ? json_object_get(c->vf_ids, physfn) : NULL;

	/* Whether the device answered the config read just made: a read the device does not
	 * complete (its link is down, it is gone) returns all ones, as PCI_POSSIBLE_ERROR() tests;
	 * unknown for a VF (its Vendor ID reads 0xffff by definition) and unread config */
	json_object_set_new(obj, "responds",
	                    len < 64 || physfn ? json_null() : json_boolean(vendor != 0xffff));
	if (vendor == 0xffff && json_array_size(pf) == 2) {
		/* a VF: its ids as the kernel sets them, from the PF (read before it, by BDF) */
		json_object_set(obj, "vendor", json_array_get(pf, 0));
		json_object_set(obj, "device", json_array_get(pf, 1));
	} else if (vendor != 0xffff) {
		snprintf(buf, sizeof(buf), "%04x", vendor);
		json_object_set_new(obj, "vendor", json_string(buf));
		snprintf(buf, sizeof(buf), "%04x", (unsigned)(cfg[2] | cfg[3] << 8));
		json_object_set_new(obj, "device", json_string(buf));
	} else {
		json_object_set_new(obj, "vendor", snap_devdir__attr_hex(fd, "vendor", 4));
		json_object_set_new(obj, "device", snap_devdir__attr_hex(fd, "device", 4));
	}
	if (header0) {
		snprintf(buf, sizeof(buf), "%04x", (unsigned)(cfg[0x2c] | cfg[0x2d] << 8));
		json_object_set_new(obj, "subsystem_vendor", json_string(buf));
		snprintf(buf, sizeof(buf), "%04x", (unsigned)(cfg[0x2e] | cfg[0x2f] << 8));
		json_object_set_new(obj, "subsystem_device", json_string(buf));
	} else {
		json_object_set_new(obj, "subsystem_vendor",
		                    snap_devdir__attr_hex(fd, "subsystem_vendor", 4));
		json_object_set_new(obj, "subsystem_device",
		                    snap_devdir__attr_hex(fd, "subsystem_device", 4));
	}
	if (len >= 64) {
		snprintf(buf, sizeof(buf), "%02x", cfg[0x08]);
		json_object_set_new(obj, "revision", json_string(buf));
	} else {
		json_object_set_new(obj, "revision", snap_devdir__attr_hex(fd, "revision", 2));
	}
}

/* Names, grown as they come. */
struct strv {
	char **v;
	size_t n, cap;
};

static void strv_push(struct strv *sv, const char *name)
{
	char *dup;

	if (sv->n == sv->cap) {
		size_t ncap = sv->cap ? sv->cap * 2 : 8;
		char **nv = realloc(sv->v, ncap * sizeof(*nv));

		if (!nv)
			return;
		sv->v = nv;
		sv->cap = ncap;
	}
	if ((dup = strdup(name)))
		sv->v[sv->n++] = dup;
}

/* A host bridge's directory as sysfs names it: "pci" and the root bus, "pci0000:00", or the
 * bus of a domain a device opens (VMD: "pci10000:00" below the VMD endpoint's directory). */
static bool is_host_dir(const char *name)
{
	const char *p = name + 3;
	size_t digits = 0;

	if (strncmp(name, "pci", 3))
		return false;
	while (isxdigit((unsigned char)p[digits]))
		digits++;
	return digits >= 4 && digits <= 8 && p[digits] == ':' &&
	       isxdigit((unsigned char)p[digits + 1]) && isxdigit((unsigned char)p[digits + 2]) &&
	       !p[digits + 3];
}

/* name is listed as a directory (a link never is) */
static bool has_dir(const struct devdir *dd, const char *name)
{
	return snap_devdir__has_type(dd, name, DT_DIR, S_IFDIR);
}

/*
 * The device tree below a listed directory: its subdirectories named as PCI devices (a
 * bridge's secondary bus: pci_device_add() makes bus->bridge each device's parent) or as host
 * bridges, sorted, so a PF comes before its VFs (they sit beside it, higher in number).
 */
static void child_dirs(struct strv *kids, const struct devdir *dd)
{
	/* the listing is sorted: so are the children */
	for (size_t i = 0; i < dd->n; i++) {
		const char *name = dd->ents[i].name;

		if ((snap_devdir__is_bdf(name, NULL, NULL, NULL, NULL) || is_host_dir(name)) &&
		    has_dir(dd, name))
			strv_push(kids, name);
	}
}

/*
 * A device directory's descriptors join the collector's batch, closed together every few
 * devices: one close_range() for all of them, their numbers following one another.
 */
static void devdir_release(struct collector *c, struct devdir *dd)
{
	if (c->fds.n + dd->fds.n > c->fds_keep)
		snap_fdset__close(&c->fds);
	for (size_t i = 0; i < dd->fds.n; i++)
		snap_fdset__add(&c->fds, dd->fds.fd[i]);
	dd->fds.n = 0;
	snap_devdir__devdir_free(dd);
}

/* Read one device directory (already resolved inside the root) into a JSON object. */
static json_t *collect_device(struct collector *c, const char *bdf, const char *canon,
                              struct strv *kids)
{
	unsigned dom, bus, dev, fn;
	json_t *obj, *v;
	char *t, *cfg = NULL;
	size_t cfg_len = 0;
	struct devdir dd;
	const struct devdir *fd = &dd; /* the attribute readers take the listed directory */
	int rc;

	snap_devdir__is_bdf(bdf, &dom, &bus, &dev, &fn);
	if ((rc = snap_devdir__devdir_open(&dd, &c->r, canon)) < 0) {
		snap_snapshot__warn(c->s, "cannot open device directory of %s: %s", bdf,
		                    strerror(-rc));
		snap_devdir__devdir_close(&dd);
		return NULL;
	}
	obj = json_pack("{s:s}", "bdf", bdf);
	/* Config space: read once, decoded by libpci from a 0xff-padded 4 KiB cache. */
	rc = snap_devdir__has_file(fd, "config")
	         ? snap_root__read_at_keep(&cfg, &cfg_len, dd.fd, "config", 4096, &dd.fds)
	         : -ENOENT;
	if (rc < 0)
		cfg_len = 0;
	t = physfn_of(c, fd, bdf);
	json_object_set_new(obj, "physfn", snap_json__str_or_null(t));
	ids_of(c, obj, fd, (const unsigned char *)cfg, cfg_len, t);
	free(t);
	if (json_is_false(json_object_get(obj, "responds"))) {
		/* all ones is no answer, not a header: the config facts are unknown, not absent */
		snap_snapshot__warn(
		    c->s,
		    "%s does not answer config reads (all ones: its link is down or "
		    "it is gone): its capabilities are unknown",
		    bdf);
		cfg_len = 0;
		rc = -EIO;
	}
	json_object_set_new(obj, "class", snap_devdir__attr_hex(fd, "class", 6));

	t = snap_devdir__link_base(fd, "driver");
	json_object_set_new(obj, "driver", snap_json__str_or_null(t));
	json_object_set_new(obj, "driver_module", t ? driver_module(c, t) : json_null());
	free(t);
	t = snap_devdir__attr(fd, "driver_override");
	json_object_set_new(obj, "driver_override",
	                    snap_json__str_or_null(t && *t && strcmp(t, "(null)") ? t : NULL));
	free(t);
	t = snap_devdir__link_base(fd, "iommu_group");
	{
		long g;

		json_object_set_new(obj, "iommu_group",
		                    t && snap_parse__int(&g, t) == 0 ? json_integer(g)
		                                                     : json_null());
	}
	free(t);
	t = parent_from_path(canon);
	json_object_set_new(obj, "parent", snap_json__str_or_null(t));
	free(t);

	t = snap_devdir__attr(fd, "reset_method");
	json_object_set_new(obj, "reset_methods", t ? snap_parse__cmdline(t) : json_null());
	if (t) { /* reuse the tokenizer, keep only the names */
		json_t *tok = json_object_get(obj, "reset_methods"), *names = json_array();
		size_t i;

		json_array_foreach (tok, i, v)
			json_array_append_new(names, json_string(snap_json__str(v, "key")));
		json_object_set_new(obj, "reset_methods", names);
	}
	free(t);

	json_object_set_new(obj, "aer",
	                    json_pack("{s:o, s:o, s:o}", "correctable",
	                              aer_total(fd, "aer_dev_correctable", "TOTAL_ERR_COR"),
	                              "nonfatal",
	                              aer_total(fd, "aer_dev_nonfatal", "TOTAL_ERR_NONFATAL"),
	                              "fatal", aer_total(fd, "aer_dev_fatal", "TOTAL_ERR_FATAL")));
	/* a root port also counts what every device below it reported (aer.c: the
	 * aer_rootport_total_err_* attributes, root ports and event collectors only): a fatal
	 * error of a passthrough device's link shows there, not in the device's aer_dev_fatal */
	{
		static const char *const rp[][2] = {
		    {"aer_rootport_total_err_cor", "rootport_correctable"},
		    {"aer_rootport_total_err_nonfatal", "rootport_nonfatal"},
		    {"aer_rootport_total_err_fatal", "rootport_fatal"}};

		for (size_t k = 0; k < SNAP_ARRAY_SIZE(rp); k++) {
			json_t *n = snap_devdir__attr_int(fd, rp[k][0]);

			if (json_is_null(n))
				json_decref(n);
			else
				json_object_set_new(json_object_get(obj, "aer"), rp[k][1], n);
		}
	}
	if (json_is_null(json_object_get(json_object_get(obj, "aer"), "correctable")) &&
	    json_is_null(json_object_get(json_object_get(obj, "aer"), "fatal")) &&
	    !json_object_get(json_object_get(obj, "aer"), "rootport_fatal"))
		json_object_set_new(obj, "aer", json_null());
	{
		json_t *total = snap_devdir__attr_int(fd, "sriov_totalvfs"),
		       *num = snap_devdir__attr_int(fd, "sriov_numvfs");

		if (!json_is_null(total))
			json_object_set_new(
			    obj, "sriov",
			    json_pack("{s:o, s:o}", "total_vfs", total, "num_vfs", num));
		else {
			json_decref(total);
			json_decref(num);
		}
	}
	t = snap_devdir__attr(fd, "boot_vga");
	json_object_set_new(obj, "boot_vga", t ? json_boolean(!strcmp(t, "1")) : json_null());
	free(t);
	json_object_set_new(obj, "numa_node", snap_devdir__attr_int(fd, "numa_node"));
	/* runtime power (pci-sysfs.c): whether D3cold is allowed, and the state now */
	t = snap_devdir__attr(fd, "d3cold_allowed");
	json_object_set_new(obj, "d3cold_allowed",
	                    t && (!strcmp(t, "0") || !strcmp(t, "1")) ? json_boolean(*t == '1')
	                                                              : json_null());
	free(t);
	t = snap_devdir__attr(fd, "power_state");
	json_object_set_new(obj, "power_state",
	                    t && strlen(t) < 16 ? snap_json__str_or_null(t) : json_null());
	free(t);
	t = snap_devdir__attr(fd, "label");
	json_object_set_new(obj, "label", snap_json__str_or_null(t));
	free(t);
	{
		char slot[24];

		snprintf(slot, sizeof(slot), "%04x:%02x:%02x", dom, bus, dev);
		v = json_object_get(c->slots, slot);
		json_object_set_new(obj, "slot", v ? json_incref(v) : json_null());
	}

	if (rc < 0)
		c->config_unreadable++;
	json_object_set_new(obj, "config_bytes", json_integer((json_int_t)cfg_len));
	if (snap_pci__decode_config(obj, c->pacc, dom, bus, dev, fn, cfg ? cfg : "", cfg_len,
	                            NULL) < 0)
		snap_snapshot__warn(c->s, "cannot decode config of %s", bdf);
	if ((v = json_object_get(obj, SNAP_PCI_VF_DEVICE))) {
		if (!c->vf_ids)
			c->vf_ids = json_object();
		json_object_set_new(c->vf_ids, bdf,
		                    json_pack("[O, O]", json_object_get(obj, "vendor"), v));
		json_object_del(obj, SNAP_PCI_VF_DEVICE);
	}
	if ((v = json_object_get(obj, SNAP_PCI_VF_ADDRESSES))) {
		json_t *num = json_object_get(json_object_get(obj, "sriov"), "num_vfs");
		size_t k;
		json_t *a;

		/* as many as sriov_numvfs says the kernel added, or none are taken from here */
		if (!json_is_integer(num) || (size_t)json_integer_value(num) != json_array_size(v))
			json_array_clear(v);
		if (!c->vf_pf)
			c->vf_pf = json_object();
		json_array_foreach (v, k, a)
			json_object_set_new(c->vf_pf, json_string_value(a), json_string(bdf));
		json_object_del(obj, SNAP_PCI_VF_ADDRESSES);
	}
	if (cfg_len && cfg_len < 256)
		c->config_short++;
	else if (cfg_len >= 256 && cfg_len < 4096 && json_is_null(json_object_get(obj, "acs")))
		c->config_no_ext++;
	free(cfg);

	{
		json_t *cfg_link = json_object_get(obj, "link_config");
		bool exact = json_is_true(json_object_get(obj, "link_config_exact"));

		json_object_set_new(
		    obj, "link", link_json(fd, snap_json__str(obj, "pcie_type"), cfg_link, exact));
		json_object_del(obj, "link_config");
		json_object_del(obj, "link_config_exact");
	}
	if (json_is_null(json_object_get(obj, "boot_vga"))) {
		const char *cls = snap_json__str(obj, "class");

		if (cls && strncmp(cls, "03", 2))
			json_object_set_new(obj, "boot_vga", json_false());
	}
	if (!json_object_get(obj, "sriov"))
		json_object_set_new(obj, "sriov", json_null());
	if (kids)
		child_dirs(kids, &dd);
	devdir_release(c, &dd);
	return obj;
}

/* sys/bus/pci/slots/NAME/address -> "dddd:bb:ss" */
static void collect_slots(struct collector *c)
{
	char **names = NULL;
	size_t n = 0;

	c->slots = json_object();
	if (snap_root__list(&names, &n, &c->r, "sys/bus/pci/slots") < 0)
		return;
	for (size_t i = 0; i < n; i++) {
		char rel[512], *a;

		snprintf(rel, sizeof(rel), "sys/bus/pci/slots/%s/address", names[i]);
		if ((a = snap_collect__read_text(c, rel, ATTR_MAX))) {
			json_object_set_new(c->slots, snap_parse__trim(a), json_string(names[i]));
			free(a);
		}
	}
	snap_strv__free(names, n);
}

/* A device read is kept when it names its vendor and device. */
static void add_device(struct collector *c, json_t *devices, const char *bdf, json_t *obj)
{
	if (obj && (!snap_json__str(obj, "vendor") || !snap_json__str(obj, "device"))) {
		snap_snapshot__warn(c->s, "device %s has no readable vendor/device id", bdf);
		json_decref(obj);
		obj = NULL;
	}
	if (obj)
		json_array_append_new(devices, obj);
}

#define WALK_DEPTH_MAX 256 /* bridges below bridges: at most one per bus number */

struct walk {
	struct collector *c;
	json_t *devices;
	json_t *pending; /* owned: bdf -> true, in sys/bus/pci/devices and not read yet */
};

static void walk_below(struct walk *w, const char *canon, const struct strv *kids, int depth);

static void strv_free(struct strv *sv)
{
	snap_strv__free(sv->v, sv->n);
	sv->v = NULL;
	sv->n = sv->cap = 0;
}

static void walk_device(struct walk *w, const char *canon, const char *bdf, int depth)
{
	struct strv kids = {NULL, 0, 0};

	/* only what the bus lists is a PCI device, and each is read once */
	if (!json_object_get(w->pending, bdf))
		return;
	json_object_del(w->pending, bdf);
	add_device(w->c, w->devices, bdf, collect_device(w->c, bdf, canon, &kids));
	walk_below(w, canon, &kids, depth + 1);
	strv_free(&kids);
}

static void walk_dir(struct walk *w, const char *canon, int depth)
{
	struct devdir dd;
	struct strv kids = {NULL, 0, 0};

	if (snap_devdir__devdir_open(&dd, &w->c->r, canon) == 0)
		child_dirs(&kids, &dd);
	snap_devdir__devdir_close(&dd);
	walk_below(w, canon, &kids, depth + 1);
	strv_free(&kids);
}

static void walk_below(struct walk *w, const char *canon, const struct strv *kids, int depth)
{
	if (depth > WALK_DEPTH_MAX)
		return; /* what lies deeper is read through its bus link */
	for (size_t i = 0; i < kids->n; i++) {
		char path[PATH_MAX];

		if ((size_t)snprintf(path, sizeof(path), "%s/%s", canon, kids->v[i]) >=
		    sizeof(path))
			continue;
		if (snap_devdir__is_bdf(kids->v[i], NULL, NULL, NULL, NULL))
			walk_device(w, path, kids->v[i], depth);
		else
			walk_dir(w, path, depth);
	}
}

/*
 * The devices sys/bus/pci/devices lists, read where the device tree has them: walking down
 * from each host bridge in sys/devices finds every device directory in its parent's listing,
 * already read, so no device costs a readlink of its bus link. A listed device the walk does
 * not reach (a host bridge elsewhere, as Hyper-V's below its VMBus device; a captured root laid
 * out otherwise) is read through its link, resolved inside the root.
 */
int snap_collect__devices(struct collector *c, json_t *devices, snap_error *err)
{
	struct walk w = {c, devices, NULL};
	char **names = NULL, *top = NULL;
	size_t n = 0;
	struct rlimit nofile;
	int rc;

	rc = snap_root__list(&names, &n, &c->r, "sys/bus/pci/devices");
	if (rc < 0)
		return snap_error__set(err, rc == -ENOENT ? SNAP_ENOTFOUND : SNAP_ERROR,
		                       "cannot read '%s/sys/bus/pci/devices': %s",
		                       c->o->root ? c->o->root : "", strerror(-rc));
	/* descriptors held open between batches: a small share of what the process may hold */
	c->fds_keep = SNAP_FDSET_MAX;
	if (getrlimit(RLIMIT_NOFILE, &nofile) == 0 && nofile.rlim_cur / 16 < c->fds_keep)
		c->fds_keep = (size_t)(nofile.rlim_cur / 16);
	collect_slots(c);
	w.pending = json_object();
	for (size_t i = 0; i < n; i++)
		if (snap_devdir__is_bdf(names[i], NULL, NULL, NULL, NULL))
			json_object_set_new(w.pending, names[i], json_true());
	/* sys/devices is walked as a host bridge's directory is: its pci* children */
	if (json_object_size(w.pending) && snap_root__resolve(&top, &c->r, "sys/devices") == 0)
		walk_dir(&w, top, 0);
	free(top);
	for (size_t i = 0; i < n; i++) {
		char rel[512], *canon = NULL;

		if (!snap_devdir__is_bdf(names[i], NULL, NULL, NULL, NULL)) {
			snap_snapshot__warn(c->s, "ignoring '%s' in sys/bus/pci/devices", names[i]);
			continue;
		}
		if (!json_object_get(w.pending, names[i]))
			continue; /* read by the walk */
		snprintf(rel, sizeof(rel), "sys/bus/pci/devices/%s", names[i]);
		if ((rc = snap_root__resolve(&canon, &c->r, rel)) < 0) {
			snap_snapshot__warn(c->s, "cannot resolve device %s: %s", names[i],
			                    strerror(-rc));
			continue;
		}
		{
			const char *base = strrchr(canon, '/');

			if (strcmp(base ? base + 1 : canon, names[i])) {
				snap_snapshot__warn(
				    c->s,
				    "ignoring device %s: its link leads to '%s', not "
				    "to a directory of that name",
				    names[i], canon);
				free(canon);
				continue;
			}
		}
		add_device(c, devices, names[i], collect_device(c, names[i], canon, NULL));
		free(canon);
	}
	snap_fdset__close(&c->fds);
	json_decref(w.pending);
	snap_strv__free(names, n);
	return 0;
}
