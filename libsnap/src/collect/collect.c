/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * The collector: reads a (captured) root as Linux lays it out and builds the snapshot document.
 *
 * Everything is read relative to the root through fsroot.c, each file once, never written. A
 * fact that cannot be read is null ("unknown is not absent"), and the reason becomes a warning.
 */
#include <ctype.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include <pci/pci.h>

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
};

/* Text read from the root, made valid UTF-8 (escaped, recoverable) and recorded if it was not. */
static char *utf8_or_escaped(struct collector *c, char *text, const char *what)
{
	int rc = text ? snap_parse__utf8_escape(&text) : 0;

	if (rc < 0) {
		free(text);
		return NULL;
	}
	if (rc > 0 && c)
		json_array_append_new(c->escaped, json_string(what));
	return text;
}

/* An open device directory and the names in it, listed once so absent attributes cost no syscall.
 */
struct devdir {
	int fd;        /* O_DIRECTORY descriptor */
	json_t *names; /* owned: set of entry names */
};

static int devdir_open(struct devdir *dd, const snap_root *r, const char *canon)
{
	DIR *dir;
	struct dirent *de;
	int dfd;

	dd->names = json_object();
	if ((dd->fd = snap_root__opendir(r, canon)) < 0)
		return dd->fd;
	if ((dfd = dup(dd->fd)) >= 0 && (dir = fdopendir(dfd))) {
		while ((de = readdir(dir)))
			json_object_set_new(dd->names, de->d_name, json_integer(de->d_type));
		closedir(dir);
	} else if (dfd >= 0) {
		close(dfd);
	}
	return 0;
}

static void devdir_close(struct devdir *dd)
{
	if (dd->fd >= 0)
		close(dd->fd);
	json_decref(dd->names);
}

static bool has(const struct devdir *dd, const char *name)
{
	return json_object_get(dd->names, name) != NULL;
}

/* name is listed as a regular file: only those are opened (a planted device node never is) */
static bool has_file(const struct devdir *dd, const char *name)
{
	const json_t *t = json_object_get(dd->names, name);

	struct stat st;

	if (!t)
		return false;
	if (json_integer_value(t) != DT_UNKNOWN) /* a file system without d_type: ask */
		return json_integer_value(t) == DT_REG;
	return fstatat(dd->fd, name, &st, AT_SYMLINK_NOFOLLOW) == 0 && S_ISREG(st.st_mode);
}

/* Read a text file under the root, trimmed; NULL when unreadable. */
static char *read_text(struct collector *c, const char *rel, size_t max)
{
	char *data = NULL;

	if (snap_root__read(&data, NULL, &c->r, rel, max) < 0)
		return NULL;
	return utf8_or_escaped(c, data, rel);
}

static json_t *text_or_null(struct collector *c, const char *rel)
{
	char *t = read_text(c, rel, ATTR_MAX);
	json_t *v;

	if (!t)
		return json_null();
	v = json_string(snap_parse__trim(t));
	free(t);
	return v ? v : json_null();
}

/* An attribute of a device directory, trimmed; NULL when absent or unreadable. */
static char *attr(const struct devdir *dd, const char *name)
{
	char *data = NULL;

	if (!has_file(dd, name) || snap_root__read_at(&data, NULL, dd->fd, name, ATTR_MAX) < 0)
		return NULL;
	memmove(data, snap_parse__trim(data), strlen(snap_parse__trim(data)) + 1);
	return utf8_or_escaped(NULL, data, name);
}

static json_t *attr_hex(const struct devdir *dd, const char *name, int width)
{
	char *t = attr(dd, name), buf[24];
	unsigned long v;

	if (!t || snap_parse__hex_attr(&v, t) < 0) {
		free(t);
		return json_null();
	}
	free(t);
	snprintf(buf, sizeof(buf), "%0*lx", width, v);
	return json_string(buf);
}

static json_t *attr_int(const struct devdir *dd, const char *name)
{
	char *t = attr(dd, name);
	long v;
	json_t *j = json_null();

	if (t && snap_parse__int(&v, t) == 0)
		j = json_integer(v);
	free(t);
	return j;
}

/* The basename of a symlink in dirfd ("driver" -> "vfio-pci"); NULL when there is no link. */
static char *link_base(const struct devdir *dd, const char *name)
{
	char *target = NULL, *base;

	if (!has(dd, name) || snap_root__readlink_at(&target, dd->fd, name) < 0)
		return NULL;
	base = snap_parse__basename_dup(target);
	free(target);
	return utf8_or_escaped(NULL, base, name);
}

/* "TOTAL_ERR_COR 3" out of an aer_dev_* attribute. */
static json_t *aer_total(const struct devdir *dd, const char *name, const char *key)
{
	char *t = attr(dd, name), *p;
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
static bool is_bdf(const char *name, unsigned *dom, unsigned *bus, unsigned *dev, unsigned *fn)
{
	unsigned d, b, s, f;
	int n = 0;

	if (sscanf(name, "%x:%2x:%2x.%1u%n", &d, &b, &s, &f, &n) != 4 || name[n] || s > 0x1f ||
	    f > 7 || strchr(name, ' ') || strlen(name) < 12)
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

		if (comp && is_bdf(comp, NULL, NULL, NULL, NULL))
			return comp;
		free(comp);
	}
	return NULL;
}

/* A link width attribute; 255 is pcie_get_width_cap()'s PCIE_LNK_WIDTH_UNKNOWN: no width. */
static json_t *attr_width(const struct devdir *dd, const char *name)
{
	json_t *w = attr_int(dd, name);

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
static json_t *link_json(const struct devdir *dd, const char *pcie_type, json_t *config_link)
{
	char *ms, *cs;
	json_t *mw, *cw, *link;

	if (pcie_type &&
	    (!strcmp(pcie_type, "rc_integrated_endpoint") ||
	     !strcmp(pcie_type, "rc_event_collector") || !strcmp(pcie_type, "conventional")))
		return json_null();
	ms = attr(dd, "max_link_speed");
	cs = attr(dd, "current_link_speed");
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

/* Read one device directory (already resolved inside the root) into a JSON object. */
static json_t *collect_device(struct collector *c, const char *bdf, const char *canon)
{
	unsigned dom, bus, dev, fn;
	json_t *obj, *v;
	char *t, *cfg = NULL;
	size_t cfg_len = 0;
	struct devdir dd;
	const struct devdir *fd = &dd; /* the attribute readers take the listed directory */
	int rc;

	is_bdf(bdf, &dom, &bus, &dev, &fn);
	if ((rc = devdir_open(&dd, &c->r, canon)) < 0) {
		snap_snapshot__warn(c->s, "cannot open device directory of %s: %s", bdf,
		                    strerror(-rc));
		devdir_close(&dd);
		return NULL;
	}
	obj = json_pack("{s:s}", "bdf", bdf);
	json_object_set_new(obj, "vendor", attr_hex(fd, "vendor", 4));
	json_object_set_new(obj, "device", attr_hex(fd, "device", 4));
	json_object_set_new(obj, "subsystem_vendor", attr_hex(fd, "subsystem_vendor", 4));
	json_object_set_new(obj, "subsystem_device", attr_hex(fd, "subsystem_device", 4));
	json_object_set_new(obj, "class", attr_hex(fd, "class", 6));
	json_object_set_new(obj, "revision", attr_hex(fd, "revision", 2));

	t = link_base(fd, "driver");
	json_object_set_new(obj, "driver", snap_json__str_or_null(t));
	json_object_set_new(obj, "driver_module", t ? driver_module(c, t) : json_null());
	free(t);
	t = attr(fd, "driver_override");
	json_object_set_new(obj, "driver_override",
	                    snap_json__str_or_null(t && *t && strcmp(t, "(null)") ? t : NULL));
	free(t);
	t = link_base(fd, "iommu_group");
	{
		long g;

		json_object_set_new(obj, "iommu_group",
		                    t && snap_parse__int(&g, t) == 0 ? json_integer(g)
		                                                     : json_null());
	}
	free(t);
	t = link_base(fd, "physfn");
	json_object_set_new(obj, "physfn", snap_json__str_or_null(t));
	free(t);
	t = parent_from_path(canon);
	json_object_set_new(obj, "parent", snap_json__str_or_null(t));
	free(t);

	t = attr(fd, "reset_method");
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
	if (json_is_null(json_object_get(json_object_get(obj, "aer"), "correctable")) &&
	    json_is_null(json_object_get(json_object_get(obj, "aer"), "fatal")))
		json_object_set_new(obj, "aer", json_null());
	{
		json_t *total = attr_int(fd, "sriov_totalvfs"), *num = attr_int(fd, "sriov_numvfs");

		if (!json_is_null(total))
			json_object_set_new(
			    obj, "sriov",
			    json_pack("{s:o, s:o}", "total_vfs", total, "num_vfs", num));
		else {
			json_decref(total);
			json_decref(num);
		}
	}
	t = attr(fd, "boot_vga");
	json_object_set_new(obj, "boot_vga", t ? json_boolean(!strcmp(t, "1")) : json_null());
	free(t);
	json_object_set_new(obj, "numa_node", attr_int(fd, "numa_node"));
	t = attr(fd, "label");
	json_object_set_new(obj, "label", snap_json__str_or_null(t));
	free(t);
	{
		char slot[24];

		snprintf(slot, sizeof(slot), "%04x:%02x:%02x", dom, bus, dev);
		v = json_object_get(c->slots, slot);
		json_object_set_new(obj, "slot", v ? json_incref(v) : json_null());
	}

	/* Config space: read once, decoded by libpci from a 0xff-padded 4 KiB cache. */
	rc = has_file(fd, "config") ? snap_root__read_at(&cfg, &cfg_len, dd.fd, "config", 4096)
	                            : -ENOENT;
	if (rc < 0) {
		cfg_len = 0;
		c->config_unreadable++;
	}
	json_object_set_new(obj, "config_bytes", json_integer((json_int_t)cfg_len));
	if (snap_pci__decode_config(obj, c->pacc, dom, bus, dev, fn, cfg ? cfg : "", cfg_len,
	                            NULL) < 0)
		snap_snapshot__warn(c->s, "cannot decode config of %s", bdf);
	if (cfg_len && cfg_len < 256)
		c->config_short++;
	else if (cfg_len >= 256 && cfg_len < 4096 && json_is_null(json_object_get(obj, "acs")))
		c->config_no_ext++;
	free(cfg);

	{
		json_t *cfg_link = json_object_get(obj, "link_config");

		json_object_set_new(obj, "link",
		                    link_json(fd, snap_json__str(obj, "pcie_type"), cfg_link));
		json_object_del(obj, "link_config");
	}
	if (json_is_null(json_object_get(obj, "boot_vga"))) {
		const char *cls = snap_json__str(obj, "class");

		if (cls && strncmp(cls, "03", 2))
			json_object_set_new(obj, "boot_vga", json_false());
	}
	if (!json_object_get(obj, "sriov"))
		json_object_set_new(obj, "sriov", json_null());
	{
		const char *vend = snap_json__str(obj, "vendor"),
		           *devid = snap_json__str(obj, "device");
		char *name = NULL;

		if (vend && devid)
			name = snap_pci__name(c->pacc, (unsigned)strtoul(vend, NULL, 16),
			                      (unsigned)strtoul(devid, NULL, 16));
		json_object_set_new(obj, "name", snap_json__str_or_null(name));
		free(name);
	}
	devdir_close(&dd);
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
		if ((a = read_text(c, rel, ATTR_MAX))) {
			json_object_set_new(c->slots, snap_parse__trim(a), json_string(names[i]));
			free(a);
		}
	}
	snap_strv__free(names, n);
}

static int collect_devices(struct collector *c, json_t *devices, snap_error *err)
{
	char **names = NULL;
	size_t n = 0;
	int rc;

	rc = snap_root__list(&names, &n, &c->r, "sys/bus/pci/devices");
	if (rc < 0)
		return snap_error__set(err, rc == -ENOENT ? SNAP_ENOTFOUND : SNAP_ERROR,
		                       "cannot read '%s/sys/bus/pci/devices': %s",
		                       c->o->root ? c->o->root : "", strerror(-rc));
	collect_slots(c);
	for (size_t i = 0; i < n; i++) {
		char rel[512], *canon = NULL;
		json_t *obj;

		if (!is_bdf(names[i], NULL, NULL, NULL, NULL)) {
			snap_snapshot__warn(c->s, "ignoring '%s' in sys/bus/pci/devices", names[i]);
			continue;
		}
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
		obj = collect_device(c, names[i], canon);
		free(canon);
		if (obj && (!snap_json__str(obj, "vendor") || !snap_json__str(obj, "device"))) {
			snap_snapshot__warn(c->s, "device %s has no readable vendor/device id",
			                    names[i]);
			json_decref(obj);
			obj = NULL;
		}
		if (obj)
			json_array_append_new(devices, obj);
	}
	snap_strv__free(names, n);
	return 0;
}

static int cmp_group_id(const void *a, const void *b)
{
	json_int_t x = json_integer_value(json_object_get(*(json_t *const *)a, "id"));
	json_int_t y = json_integer_value(json_object_get(*(json_t *const *)b, "id"));

	return (x > y) - (x < y);
}

/* sys/kernel/iommu_groups/N/{devices/<bdf>,type}; fills device iommu_group where the link lacked.
 */
static json_t *collect_groups(struct collector *c, json_t *devices)
{
	json_t *groups = json_array(), *byid = json_object();
	char **names = NULL;
	size_t n = 0, i;
	json_t *dev;

	if (snap_root__list(&names, &n, &c->r, "sys/kernel/iommu_groups") == 0) {
		for (i = 0; i < n; i++) {
			char rel[512], **members = NULL;
			size_t m = 0;
			long id;
			json_t *list = json_array(), *g;

			if (snap_parse__int(&id, names[i]) < 0 || id < 0)
				continue;
			snprintf(rel, sizeof(rel), "sys/kernel/iommu_groups/%s/devices", names[i]);
			if (snap_root__list(&members, &m, &c->r, rel) == 0) {
				for (size_t j = 0; j < m; j++)
					if (is_bdf(members[j], NULL, NULL, NULL, NULL))
						json_array_append_new(list,
						                      json_string(members[j]));
				snap_strv__free(members, m);
			}
			snprintf(rel, sizeof(rel), "sys/kernel/iommu_groups/%s/type", names[i]);
			g = json_pack("{s:I, s:o, s:o}", "id", (json_int_t)id, "type",
			              text_or_null(c, rel), "devices", list);
			json_array_append_new(groups, g);
			json_object_set_new(byid, names[i], json_incref(g));
		}
		snap_strv__free(names, n);
	}
	/* Devices whose iommu_group link names a group the groups directory did not list. */
	json_array_foreach (devices, i, dev) {
		json_t *gid = json_object_get(dev, "iommu_group");
		const char *bdf = snap_json__str(dev, "bdf");
		size_t k;
		json_t *g;

		if (json_is_integer(gid)) {
			char key[32];

			snprintf(key, sizeof(key), "%" JSON_INTEGER_FORMAT,
			         json_integer_value(gid));
			if (!(g = json_object_get(byid, key))) {
				g = json_pack("{s:O, s:n, s:[]}", "id", gid, "type", "devices");
				json_array_append_new(groups, g);
				json_object_set_new(byid, key, json_incref(g));
			}
			{
				json_t *list = json_object_get(g, "devices"), *m;
				size_t j;
				bool seen = false;

				json_array_foreach (list, j, m)
					seen |= !strcmp(json_string_value(m), bdf);
				if (!seen)
					json_array_append_new(list, json_string(bdf));
			}
			continue;
		}
		/* no link on the device side: take membership from the group directory */
		json_array_foreach (groups, k, g) {
			json_t *list = json_object_get(g, "devices"), *m;
			size_t j;

			json_array_foreach (list, j, m)
				if (!strcmp(json_string_value(m), bdf))
					json_object_set(dev, "iommu_group",
					                json_object_get(g, "id"));
		}
	}
	json_decref(byid);
	{
		json_t *g;

		json_array_foreach (groups, i, g) {
			json_t *list = json_object_get(g, "devices");
			json_t *sorted = json_array();
			size_t j;
			json_t *m;

			/* sort member strings through the keyed sort */
			json_array_foreach (list, j, m)
				json_array_append_new(sorted, json_pack("{s:O}", "k", m));
			snap_json__sort_by_key(sorted, "k");
			json_array_clear(list);
			json_array_foreach (sorted, j, m)
				json_array_append(list, json_object_get(m, "k"));
			json_decref(sorted);
		}
	}
	/* sort groups by numeric id */
	{
		size_t ng = json_array_size(groups);
		json_t **v = ng ? calloc(ng, sizeof(*v)) : NULL;

		if (v) {
			json_array_foreach (groups, i, dev)
				v[i] = json_incref(dev);
			qsort(v, ng, sizeof(*v), cmp_group_id);
			json_array_clear(groups);
			for (i = 0; i < ng; i++)
				json_array_append_new(groups, v[i]);
			free(v);
		}
	}
	return groups;
}

static json_t *collect_firmware(struct collector *c)
{
	static const char *const fields[] = {
	    "bios_vendor",  "bios_version",    "bios_date",      "bios_release",
	    "board_vendor", "board_name",      "board_version",  "board_serial",
	    "product_name", "product_version", "product_family", "product_serial",
	    "product_sku",  "product_uuid",    "sys_vendor",     "chassis_serial",
	};
	json_t *fw = json_object();
	char *canon = NULL;
	bool efi;

	for (size_t i = 0; i < SNAP_ARRAY_SIZE(fields); i++) {
		char rel[128];

		snprintf(rel, sizeof(rel), "sys/class/dmi/id/%s", fields[i]);
		json_object_set_new(fw, fields[i], text_or_null(c, rel));
	}
	efi = snap_root__resolve(&canon, &c->r, "sys/firmware/efi") == 0;
	free(canon);
	json_object_set_new(fw, "efi", json_boolean(efi));
	{
		char *sb = NULL;
		size_t len = 0;

		if (!efi)
			json_object_set_new(fw, "secure_boot", json_false());
		else if (snap_root__read(&sb, &len, &c->r, SECURE_BOOT_VAR, 64) == 0 && len >= 5)
			json_object_set_new(fw, "secure_boot", json_boolean(sb[4] == 1));
		else
			json_object_set_new(fw, "secure_boot", json_null());
		free(sb);
	}
	{
		char *l = read_text(c, "sys/kernel/security/lockdown", ATTR_MAX), *a, *b;

		if (l && (a = strchr(l, '[')) && (b = strchr(a, ']'))) {
			*b = '\0';
			json_object_set_new(fw, "lockdown", json_string(a + 1));
		} else {
			json_object_set_new(fw, "lockdown", json_null());
		}
		free(l);
	}
	return fw;
}

static json_t *collect_modules(struct collector *c)
{
	char *text = read_text(c, "proc/modules", TEXT_MAX), *save = NULL, *line;
	json_t *mods;

	if (!text)
		return json_null();
	mods = json_array();
	for (line = strtok_r(text, "\n", &save); line; line = strtok_r(NULL, "\n", &save)) {
		char *sp = strchr(line, ' ');

		if (sp)
			*sp = '\0';
		if (*line)
			json_array_append_new(mods, json_pack("{s:s}", "k", line));
	}
	free(text);
	snap_json__sort_by_key(mods, "k");
	{
		json_t *flat = json_array(), *m;
		size_t i;

		json_array_foreach (mods, i, m)
			json_array_append(flat, json_object_get(m, "k"));
		json_decref(mods);
		return flat;
	}
}

/* Parameters of a module from sys/module/NAME/parameters/<name>; null when the module is absent. */
static json_t *module_params(struct collector *c, const char *module, bool *present)
{
	char rel[256], **names = NULL;
	size_t n = 0;
	char *canon = NULL;
	json_t *params;

	snprintf(rel, sizeof(rel), "sys/module/%s", module);
	*present = snap_root__resolve(&canon, &c->r, rel) == 0;
	free(canon);
	if (!*present)
		return json_null();
	params = json_object();
	snprintf(rel, sizeof(rel), "sys/module/%s/parameters", module);
	if (snap_root__list(&names, &n, &c->r, rel) == 0) {
		for (size_t i = 0; i < n; i++) {
			char prel[512];

			snprintf(prel, sizeof(prel), "%s/%s", rel, names[i]);
			json_object_set_new(params, names[i], text_or_null(c, prel));
		}
		snap_strv__free(names, n);
	}
	return params;
}

static bool truthy(const char *v)
{
	return v && (!strcmp(v, "1") || !strcasecmp(v, "Y") || !strcasecmp(v, "yes") ||
	             !strcasecmp(v, "on") || !strcasecmp(v, "true"));
}

static void add_ids(json_t *ids, const char *list, const char *source)
{
	char *dup = strdup(list), *save = NULL, *tok;

	for (tok = dup ? strtok_r(dup, ", \n", &save) : NULL; tok;
	     tok = strtok_r(NULL, ", \n", &save)) {
		for (char *p = tok; *p; p++)
			*p = (char)tolower((unsigned char)*p);
		json_array_append_new(ids, json_pack("{s:s, s:s}", "id", tok, "source", source));
	}
	free(dup);
}

static json_t *collect_vfio(struct collector *c, const json_t *opts, json_t *modules)
{
	static const char *const mods[] = {"vfio", "vfio_pci", "vfio_pci_core", "vfio_iommu_type1"};
	json_t *vfio = json_object(), *loaded = json_object(), *params = json_object();
	json_t *modprobe = json_pack("{s:{}, s:[], s:{}, s:{}, s:[]}", "options", "blacklist",
	                             "softdep", "install", "files");
	json_t *ids = json_array();
	char **files = NULL;
	size_t n = 0, i;
	json_t *m;

	for (i = 0; i < SNAP_ARRAY_SIZE(mods); i++) {
		bool present, in_proc = false;
		json_t *p = module_params(c, mods[i], &present);

		json_array_foreach (modules, n, m)
			in_proc |= !strcmp(json_string_value(m), mods[i]);
		json_object_set_new(loaded, mods[i], json_boolean(present || in_proc));
		json_object_set_new(params, mods[i], p);
	}
	n = 0;
	if (snap_root__list(&files, &n, &c->r, "etc/modprobe.d") == 0) {
		for (i = 0; i < n; i++) {
			char rel[512], *text;
			size_t len = strlen(files[i]);

			if (len < 6 || strcmp(files[i] + len - 5, ".conf"))
				continue;
			snprintf(rel, sizeof(rel), "etc/modprobe.d/%s", files[i]);
			if ((text = read_text(c, rel, TEXT_MAX))) {
				snap_parse__modprobe(modprobe, text, rel);
				free(text);
			}
		}
		snap_strv__free(files, n);
	}
	{
		const json_t *cl = json_object_get(opts, "vfio-pci.ids");
		const char *mp = snap_json__str(
		    json_object_get(json_object_get(modprobe, "options"), "vfio_pci"), "ids");
		const char *live = snap_json__str(json_object_get(params, "vfio_pci"), "ids");
		json_t *v;

		json_array_foreach (cl, i, v)
			add_ids(ids, json_string_value(v), "cmdline");
		if (mp)
			add_ids(ids, mp, "modprobe.d");
		if (live)
			add_ids(ids, live, "module");
	}
	json_object_set_new(vfio, "modules", loaded);
	json_object_set_new(vfio, "parameters", params);
	json_object_set_new(vfio, "modprobe", modprobe);
	json_object_set_new(vfio, "ids", ids);
	return vfio;
}

/* A boolean module setting: the live parameter, else the configured one, else unknown. */
static json_t *setting(const json_t *vfio, const json_t *opts, const char *mod, const char *param,
                       const char *cmdline_key)
{
	const json_t *live = json_object_get(json_object_get(vfio, "parameters"), mod);
	const char *v = snap_json__str(live, param);

	if (v)
		return json_boolean(truthy(v));
	v = snap_json__str(opts, cmdline_key);
	if (v)
		return json_boolean(truthy(v));
	v = snap_json__str(
	    json_object_get(json_object_get(json_object_get(vfio, "modprobe"), "options"), mod),
	    param);
	if (v)
		return json_boolean(truthy(v));
	return json_is_object(live) ? json_false() : json_null();
}

static json_t *collect_iommu_units(struct collector *c, const char **vendor)
{
	json_t *units = json_array();
	char **names = NULL;
	size_t n = 0;

	*vendor = NULL;
	if (snap_root__list(&names, &n, &c->r, "sys/class/iommu") < 0)
		return units;
	for (size_t i = 0; i < n; i++) {
		const char *kind = !strncmp(names[i], "dmar", 4)   ? "intel"
		                   : !strncmp(names[i], "ivhd", 4) ? "amd"
		                                                   : "other";
		json_t *u = json_pack("{s:s, s:s}", "name", names[i], "vendor", kind);
		char rel[512];

		if (!strcmp(kind, "intel")) {
			static const char *const f[] = {"cap", "ecap", "version", "address"};

			for (size_t j = 0; j < SNAP_ARRAY_SIZE(f); j++) {
				snprintf(rel, sizeof(rel), "sys/class/iommu/%s/intel-iommu/%s",
				         names[i], f[j]);
				json_object_set_new(u, f[j], text_or_null(c, rel));
			}
			{ /* ECAP bit 3: interrupt remapping supported by this unit */
				const char *e = snap_json__str(u, "ecap");
				unsigned long ev;

				json_object_set_new(u, "ir_supported",
				                    e && snap_parse__hex_attr(&ev, e) == 0
				                        ? json_boolean(ev & 0x8)
				                        : json_null());
			}
		} else if (!strcmp(kind, "amd")) {
			static const char *const f[] = {"cap", "features"};

			for (size_t j = 0; j < SNAP_ARRAY_SIZE(f); j++) {
				snprintf(rel, sizeof(rel), "sys/class/iommu/%s/amd-iommu/%s",
				         names[i], f[j]);
				json_object_set_new(u, f[j], text_or_null(c, rel));
			}
		}
		if (!*vendor)
			*vendor = kind;
		else if (strcmp(*vendor, kind))
			*vendor = "other";
		json_array_append_new(units, u);
	}
	snap_strv__free(names, n);
	return units;
}

/* The kernel log: --dmesg FILE (outside the root, the operator's file) or the live /dev/kmsg. */
static json_t *collect_kernel_log(struct collector *c)
{
	char *text = NULL;
	const char *source = NULL;
	json_t *log;

	if (c->o->dmesg_path) {
		char *dir = strdup(c->o->dmesg_path), *slash = dir ? strrchr(dir, '/') : NULL;
		const char *base = slash ? slash + 1 : c->o->dmesg_path;
		int dfd;

		if (slash)
			*slash = '\0';
		dfd = open(slash ? (*dir ? dir : "/") : ".", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
		if (dfd >= 0) {
			if (snap_root__read_at(&text, NULL, dfd, base, KERNEL_LOG_MAX) < 0)
				text = NULL;
			close(dfd);
		}
		free(dir);
		if (!text) {
			snap_snapshot__warn(c->s, "cannot read kernel log '%s'", c->o->dmesg_path);
			return json_null();
		}
		source = "file";
	} else if (c->r.is_slash && c->o->live_kernel_log) {
		snap_buf b = SNAP_BUF_INIT;
		int fd = open("/dev/kmsg", O_RDONLY | O_NONBLOCK | O_CLOEXEC);
		char rec[8192];

		if (fd < 0)
			return json_null();
		for (;;) {
			ssize_t n = read(fd, rec, sizeof(rec));

			if (n < 0 && errno == EPIPE)
				continue; /* record overwritten while reading */
			if (n <= 0 || b.len > KERNEL_LOG_MAX)
				break;
			snap_buf__put(&b, rec, (size_t)n);
		}
		close(fd);
		if (!(text = snap_buf__detach(&b)))
			return json_null();
		source = "kmsg";
	} else {
		return json_null();
	}
	if (!(text = utf8_or_escaped(c, text, "kernel log")))
		return json_null();
	log = snap_parse__kernel_log(text, LOG_LINES_MAX);
	free(text);
	if (log)
		json_object_set_new(log, "source", json_string(source));
	return log ? log : json_null();
}

/*
 * Interrupt remapping as a verdict from several signals, strongest first: the chips in
 * /proc/interrupts show what the kernel actually set up; the kernel log says what it decided at
 * boot; intremap=off on the command line says what was asked. Evidence lists all of them.
 */
static const char *irq_remapping_verdict(json_t *evidence, const json_t *interrupts,
                                         const json_t *log, const json_t *opts)
{
	const char *verdict = NULL, *logv = snap_json__str(log, "irq_remapping");
	const char *intremap = snap_json__str(opts, "intremap");
	char line[256];

	if (json_is_object(interrupts)) {
		json_int_t r = json_integer_value(json_object_get(interrupts, "remapped"));
		json_int_t p = json_integer_value(json_object_get(interrupts, "not_remapped"));
		json_int_t its = json_integer_value(json_object_get(interrupts, "its"));

		snprintf(line, sizeof(line),
		         "proc/interrupts: %" JSON_INTEGER_FORMAT
		         " remapped (IR-) IO-APIC/MSI interrupts, %" JSON_INTEGER_FORMAT
		         " not remapped, %" JSON_INTEGER_FORMAT " through a GIC ITS",
		         r, p, its);
		json_array_append_new(evidence, json_string(line));
		if (r > 0 || its > 0)
			verdict = "enabled";
		else if (p > 0)
			verdict = "disabled";
	}
	if (logv) {
		snprintf(line, sizeof(line), "kernel log: interrupt remapping %s", logv);
		json_array_append_new(evidence, json_string(line));
		if (!verdict)
			verdict = logv;
	}
	if (intremap) {
		snprintf(line, sizeof(line), "cmdline: intremap=%s", intremap);
		json_array_append_new(evidence, json_string(line));
		if (!verdict && !strcmp(intremap, "off"))
			verdict = "disabled";
	}
	return verdict ? verdict : "unknown";
}

/* Proxmox and libvirt VM configurations, with their addresses resolved to present devices. */
static json_t *collect_vms(struct collector *c, const json_t *devices)
{
	json_t *vms = json_array();
	char **names = NULL;
	size_t n = 0, i;
	json_t *vm;

	if (snap_root__list(&names, &n, &c->r, "etc/pve/qemu-server") == 0) {
		for (i = 0; i < n; i++) {
			size_t len = strlen(names[i]);
			char rel[512], *text, *id;

			if (len < 6 || strcmp(names[i] + len - 5, ".conf"))
				continue;
			snprintf(rel, sizeof(rel), "etc/pve/qemu-server/%s", names[i]);
			if (!(text = read_text(c, rel, TEXT_MAX)))
				continue;
			id = strndup(names[i], len - 5);
			vm = snap_parse__proxmox(text, id, rel);
			if (vm && json_array_size(json_object_get(vm, "hostdevs")))
				json_array_append_new(vms, vm);
			else
				json_decref(vm);
			free(id);
			free(text);
		}
		snap_strv__free(names, n);
	}
	n = 0;
	if (snap_root__list(&names, &n, &c->r, "etc/libvirt/qemu") == 0) {
		for (i = 0; i < n; i++) {
			size_t len = strlen(names[i]);
			char rel[512], *text;

			if (len < 5 || strcmp(names[i] + len - 4, ".xml"))
				continue;
			snprintf(rel, sizeof(rel), "etc/libvirt/qemu/%s", names[i]);
			if (!(text = read_text(c, rel, TEXT_MAX)))
				continue;
			vm = snap_parse__libvirt(text, rel);
			if (vm && json_array_size(json_object_get(vm, "hostdevs")))
				json_array_append_new(vms, vm);
			else
				json_decref(vm);
			free(text);
		}
		snap_strv__free(names, n);
	}
	/* resolve "0000:01:00" (whole slot) and "0000:01:00.0" to the devices present */
	json_array_foreach (vms, i, vm) {
		json_t *hd;
		size_t j;

		json_array_foreach (json_object_get(vm, "hostdevs"), j, hd) {
			json_t *resolved = json_array(), *a, *d;
			size_t k, l;

			json_array_foreach (json_object_get(hd, "addresses"), k, a) {
				const char *addr = json_string_value(a);
				size_t alen = strlen(addr);

				json_array_foreach (devices, l, d) {
					const char *bdf = snap_json__str(d, "bdf");

					if (!strcmp(bdf, addr) ||
					    (alen == 10 && !strncmp(bdf, addr, alen) &&
					     bdf[alen] == '.'))
						json_array_append_new(resolved, json_string(bdf));
				}
			}
			json_object_set_new(hd, "devices", resolved);
		}
	}
	return vms;
}

/* Each device's multifunction flag as the kernel sets it, beside the raw header bit. */
static void kernel_multifunction(json_t *devices)
{
	json_t *by_bdf = json_object(), *d;
	size_t i;

	json_array_foreach (devices, i, d)
		json_object_set(by_bdf, snap_json__str(d, "bdf"), d);
	json_array_foreach (devices, i, d) {
		const char *p = snap_json__str(d, "parent");

		json_object_set_new(
		    d, "kernel_multifunction",
		    snap_snapshot__kernel_multifunction(d, p ? json_object_get(by_bdf, p) : NULL));
	}
	json_decref(by_bdf);
}

static int build(struct collector *c, snap_error *err)
{
	json_t *root = c->s->root, *devices = json_array(), *kernel, *tokens = NULL, *opts = NULL,
	       *iommu;
	json_t *interrupts = json_null(), *log, *evidence, *vfio, *modules, *units, *groups;
	const char *ivendor;
	char when[32], *t;
	int error;

	{
		int64_t ts = c->o->timestamp >= 0 ? c->o->timestamp : (int64_t)time(NULL);
		char *hn = c->o->hostname ? strdup(c->o->hostname)
		                          : read_text(c, "proc/sys/kernel/hostname", ATTR_MAX);

		snap_time__format(when, sizeof(when), ts, false);
		json_object_set_new(root, "host",
		                    json_pack("{s:s, s:s, s:s}", "hostname",
		                              hn ? snap_parse__trim(hn) : "unknown", "collected_at",
		                              when, "tool_version", SNAP_VERSION));
		free(hn);
	}
	t = read_text(c, "proc/cmdline", TEXT_MAX);
	tokens = snap_parse__cmdline(t ? t : "");
	opts = snap_parse__cmdline_options(tokens);
	modules = collect_modules(c);
	if (!json_is_array(modules)) { /* proc/modules unreadable: unknown, kept as empty */
		json_decref(modules);
		modules = json_array();
	}
	kernel = json_pack("{s:o, s:o, s:O, s:O, s:O}", "release",
	                   text_or_null(c, "proc/sys/kernel/osrelease"), "cmdline",
	                   t ? json_string(snap_parse__trim(t)) : json_null(), "cmdline_tokens",
	                   tokens, "cmdline_options", opts, "modules", modules);
	free(t);
	json_object_set_new(root, "kernel", kernel);
	json_object_set_new(root, "firmware", collect_firmware(c));

	if (c->o->lspci_dump)
		error = snap_pci__collect_dump(devices, c->pacc, c->s, err);
	else
		error = collect_devices(c, devices, err);
	if (error < 0)
		goto done;
	snap_json__sort_by_key(devices, "bdf");
	/* a capture that copied device directories instead of sysfs's links has no hierarchy in
	 * its paths: take the parents the bridges' bus numbers give */
	if (!c->o->lspci_dump)
		snap_pci__parents_from_bridges(devices, true);
	groups = c->o->lspci_dump ? json_array() : collect_groups(c, devices);
	kernel_multifunction(devices);

	units = collect_iommu_units(c, &ivendor);
	vfio = collect_vfio(c, opts, modules);
	t = read_text(c, "proc/interrupts", TEXT_MAX);
	if (t) {
		json_decref(interrupts);
		interrupts = snap_parse__interrupts(t);
		free(t);
	}
	log = collect_kernel_log(c);
	evidence = json_array();
	{
		const char *ir = irq_remapping_verdict(evidence, interrupts, log, opts);
		bool enabled = json_array_size(units) > 0 || json_array_size(groups) > 0;

		iommu = json_pack(
		    "{s:b, s:o, s:s, s:o, s:o, s:o, s:o, s:o, s:o}", "enabled", enabled, "vendor",
		    snap_json__str_or_null(ivendor), "irq_remapping", ir, "irq_remapping_evidence",
		    evidence, "allow_unsafe_interrupts",
		    setting(vfio, opts, "vfio_iommu_type1", "allow_unsafe_interrupts",
		            "vfio_iommu_type1.allow_unsafe_interrupts"),
		    "noiommu_mode",
		    setting(vfio, opts, "vfio", "enable_unsafe_noiommu_mode",
		            "vfio.enable_unsafe_noiommu_mode"),
		    "acs_override", json_incref(json_object_get(opts, "pcie_acs_override")),
		    "units", units, "kernel_log_iommu",
		    json_boolean(json_is_object(log) &&
		                 json_is_true(json_object_get(log, "iommu_enabled"))));
	}
	json_object_set_new(root, "iommu", iommu);
	json_object_set_new(root, "vfio", vfio);
	json_object_set_new(root, "vms", collect_vms(c, devices));
	json_object_set_new(root, "groups", groups);
	json_object_set_new(root, "devices", devices);
	devices = NULL;
	json_object_set_new(root, "evidence",
	                    json_pack("{s:o, s:o}", "interrupts", interrupts, "kernel_log", log));
	interrupts = NULL;
	json_object_set_new(root, "schema", json_string(SNAP_SNAPSHOT_SCHEMA));
	json_object_set_new(root, "schema_version", json_integer(SNAP_SNAPSHOT_SCHEMA_VERSION));
	{
		const char *cov = c->o->lspci_dump       ? "lspci_dump"
		                  : c->config_short      ? "partial"
		                  : c->config_unreadable ? "partial"
		                  : c->config_no_ext     ? "no_extended"
		                                         : "full";

		json_object_set_new(
		    root, "coverage",
		    json_pack("{s:s, s:b, s:b, s:I, s:I}", "config_space", cov, "kernel_log",
		              !json_is_null(log), "interrupts",
		              json_is_object(
		                  json_object_get(json_object_get(root, "evidence"), "interrupts")),
		              "devices_config_short", (json_int_t)c->config_short,
		              "devices_config_unreadable", (json_int_t)c->config_unreadable));
	}
	if (json_array_size(c->escaped)) {
		/* where the text was not UTF-8: "\xNN" in those values are the raw bytes */
		json_object_set_new(root, "escaped_inputs", json_incref(c->escaped));
		snap_snapshot__warn(c->s,
		                    "%zu input(s) were not UTF-8 (first: %s): kept with their "
		                    "bytes escaped as \\xNN",
		                    json_array_size(c->escaped),
		                    json_string_value(json_array_get(c->escaped, 0)));
	}
	if (c->config_short)
		snap_snapshot__warn(
		    c->s,
		    "reduced coverage: config space of %zu device(s) was readable only "
		    "in part (64 bytes without root); their ACS and FLR are unknown: "
		    "collect as root",
		    c->config_short);
	if (c->config_unreadable)
		snap_snapshot__warn(
		    c->s, "reduced coverage: config space of %zu device(s) was unreadable",
		    c->config_unreadable);
done:
	json_decref(devices);
	json_decref(interrupts);
	json_decref(modules);
	json_decref(tokens);
	json_decref(opts);
	return error;
}

int snap_snapshot_collect(snap_snapshot **out, const snap_collect_options *opts, snap_error *err)
{
	static const snap_collect_options defaults = SNAP_COLLECT_OPTIONS_INIT;
	struct collector c = {0};
	char *sysfs = NULL;
	int error;

	SNAP_ASSERT_ARG(out);
	c.o = opts ? opts : &defaults;
	if (c.o->version != SNAP_COLLECT_OPTIONS_VERSION)
		return snap_error__set(err, SNAP_EINVALID, "unsupported collect options version %u",
		                       c.o->version);
	if ((error = snap_root__open(&c.r, c.o->root ? c.o->root : "/", err)) < 0)
		return error;
	if (!(c.s = snap_snapshot__new(json_object())) || !c.s->root) {
		error = snap_error__set(err, SNAP_ENOMEM, "out of memory");
		goto done;
	}
	c.driver_modules = json_object();
	c.escaped = json_array();
	if (asprintf(&sysfs, "%s/sys/bus/pci", c.o->root ? c.o->root : "") < 0) {
		sysfs = NULL;
		error = snap_error__set(err, SNAP_ENOMEM, "out of memory");
		goto done;
	}
	if (!(c.pacc = snap_pci__access_new(sysfs, c.o->lspci_dump, c.o->pci_ids, err))) {
		error = err ? err->code : SNAP_ERROR;
		goto done;
	}
	if ((error = build(&c, err)) < 0)
		goto done;
	*out = c.s;
	c.s = NULL;
done:
	snap_pci__access_free(c.pacc);
	json_decref(c.driver_modules);
	json_decref(c.escaped);
	json_decref(c.slots);
	snap_snapshot_free(c.s);
	snap_root__close(&c.r);
	free(sysfs);
	return error;
}
