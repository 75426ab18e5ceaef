/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * Host facts beside the devices: DMI firmware, loaded modules and their parameters, vfio and
 * modprobe.d settings, IOMMU units, and the kernel log's IOMMU, vfio and AER lines.
 */
#include <ctype.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <pci/pci.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include <pci/pci.h>

#include "collect/collector.h"

json_t *snap_collect__firmware(struct collector *c)
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
		json_object_set_new(fw, fields[i], snap_collect__text_or_null(c, rel));
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
		char *l = snap_collect__read_text(c, "sys/kernel/security/lockdown", ATTR_MAX), *a,
		     *b;

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

json_t *snap_collect__modules(struct collector *c)
{
	char *text = snap_collect__read_text(c, "proc/modules", TEXT_MAX), *save = NULL, *line;
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
			json_object_set_new(params, names[i], snap_collect__text_or_null(c, prel));
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
	char *dup = snap_mem__strdup(list), *save = NULL, *tok;

	for (tok = dup ? strtok_r(dup, ", \n", &save) : NULL; tok;
	     tok = strtok_r(NULL, ", \n", &save)) {
		for (char *p = tok; *p; p++)
			*p = (char)tolower((unsigned char)*p);
		json_array_append_new(ids, json_pack("{s:s, s:s}", "id", tok, "source", source));
	}
	free(dup);
}

json_t *snap_collect__vfio(struct collector *c, const json_t *opts, json_t *modules)
{
	/* iommufd: kernels from 6.2 with CONFIG_IOMMUFD_VFIO_CONTAINER give /dev/vfio/vfio
	 * through it, and vfio_iommu_type1 never loads */
	static const char *const mods[] = {"vfio", "vfio_pci", "vfio_pci_core", "vfio_iommu_type1",
	                                   "iommufd"};
	json_t *vfio = json_object(), *loaded = json_object(), *params = json_object();
	json_t *modprobe = snap_collect__modprobe(c);
	json_t *ids = json_array();
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
json_t *snap_collect__setting(const json_t *vfio, const json_t *opts, const char *mod,
                              const char *param, const char *cmdline_key)
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

json_t *snap_collect__iommu_units(struct collector *c, const char **vendor)
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
				json_object_set_new(u, f[j], snap_collect__text_or_null(c, rel));
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
				json_object_set_new(u, f[j], snap_collect__text_or_null(c, rel));
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
json_t *snap_collect__kernel_log(struct collector *c)
{
	char *text = NULL;
	const char *source = NULL;
	json_t *log;

	if (c->o->dmesg_path) {
		char *dir = snap_mem__strdup(c->o->dmesg_path),
		     *slash = dir ? strrchr(dir, '/') : NULL;
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
	if (!(text = snap_collect__utf8(c, text, "kernel log")))
		return json_null();
	log = snap_parse__kernel_log(text, LOG_LINES_MAX);
	free(text);
	if (log)
		json_object_set_new(log, "source", json_string(source));
	return log ? log : json_null();
}
