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
#include <pci/pci.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include <pci/pci.h>

#include "analyse/analyse.h"
#include "collect/collector.h"

/* Text read from the root, made valid UTF-8 (escaped, recoverable) and recorded if it was not. */
char *snap_collect__utf8(struct collector *c, char *text, const char *what)
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

/* Read a text file under the root, trimmed; NULL when unreadable. */
char *snap_collect__read_text(struct collector *c, const char *rel, size_t max)
{
	char *data = NULL;

	if (snap_root__read(&data, NULL, &c->r, rel, max) < 0)
		return NULL;
	return snap_collect__utf8(c, data, rel);
}

json_t *snap_collect__text_or_null(struct collector *c, const char *rel)
{
	char *t = snap_collect__read_text(c, rel, ATTR_MAX);
	json_t *v;

	if (!t)
		return json_null();
	v = json_string(snap_parse__trim(t));
	free(t);
	return v ? v : json_null();
}

/* Whether any device's sysfs path placed it below another device. */
static bool has_hierarchy(const json_t *devices)
{
	const json_t *d;
	size_t i;

	json_array_foreach (devices, i, d)
		if (snap_json__str(d, "parent"))
			return true;
	return false;
}

/*
 * allow_unsafe_interrupts of the container that vfio uses: vfio_iommu_type1's, or, when only
 * iommufd provides the container (CONFIG_IOMMUFD_VFIO_CONTAINER, kernels from 6.2),
 * iommufd's own parameter of the same name.
 */
static json_t *unsafe_interrupts(const json_t *vfio, const json_t *opts)
{
	const json_t *mods = json_object_get(vfio, "modules");
	json_t *t1 =
	    snap_collect__setting(vfio, opts, "vfio_iommu_type1", "allow_unsafe_interrupts",
	                          "vfio_iommu_type1.allow_unsafe_interrupts");

	if (json_is_true(json_object_get(mods, "iommufd")) &&
	    !json_is_true(json_object_get(mods, "vfio_iommu_type1"))) {
		json_t *fd = snap_collect__setting(vfio, opts, "iommufd", "allow_unsafe_interrupts",
		                                   "iommufd.allow_unsafe_interrupts");

		if (!json_is_null(fd) || json_is_null(t1)) {
			json_decref(t1);
			return fd;
		}
		json_decref(fd);
	}
	return t1;
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
		char *hn = c->o->hostname
		               ? strdup(c->o->hostname)
		               : snap_collect__read_text(c, "proc/sys/kernel/hostname", ATTR_MAX);

		snap_time__format(when, sizeof(when), ts, false);
		json_object_set_new(root, "host",
		                    json_pack("{s:s, s:s, s:s}", "hostname",
		                              hn ? snap_parse__trim(hn) : "unknown", "collected_at",
		                              when, "tool_version", SNAP_VERSION));
		free(hn);
	}
	t = snap_collect__read_text(c, "proc/cmdline", TEXT_MAX);
	tokens = snap_parse__cmdline(t ? t : "");
	opts = snap_parse__cmdline_options(tokens);
	modules = snap_collect__modules(c);
	if (!json_is_array(modules)) { /* proc/modules unreadable: unknown, kept as empty */
		json_decref(modules);
		modules = json_array();
	}
	kernel = json_pack("{s:o, s:o, s:O, s:O, s:O}", "release",
	                   snap_collect__text_or_null(c, "proc/sys/kernel/osrelease"), "cmdline",
	                   t ? json_string(snap_parse__trim(t)) : json_null(), "cmdline_tokens",
	                   tokens, "cmdline_options", opts, "modules", modules);
	free(t);
	json_object_set_new(root, "kernel", kernel);
	json_object_set_new(root, "firmware", snap_collect__firmware(c));

	if (c->o->lspci_dump)
		error = snap_pci__collect_dump(devices, c->pacc, c->s, err);
	else
		error = snap_collect__devices(c, devices, err);
	if (error < 0)
		goto done;
	snap_json__sort_by_key(devices, "bdf");
	/* a capture that copied device directories instead of sysfs's links has no hierarchy in
	 * its paths: take the parents the bridges' bus numbers give. Only then: where the paths
	 * place devices below others, a device they place on a root bus has no parent, whatever
	 * a bridge's (perhaps unconfigured) bus numbers say */
	if (!c->o->lspci_dump && !has_hierarchy(devices))
		snap_pci__parents_from_bridges(devices, true);
	groups = c->o->lspci_dump ? json_array() : snap_collect__groups(c, devices);
	snap_collect__kernel_multifunction(devices);

	units = snap_collect__iommu_units(c, &ivendor);
	vfio = snap_collect__vfio(c, opts, modules);
	t = snap_collect__read_text(c, "proc/interrupts", TEXT_MAX);
	if (t) {
		json_decref(interrupts);
		interrupts = snap_parse__interrupts(t);
		free(t);
	}
	log = snap_collect__kernel_log(c);
	evidence = json_array();
	{
		const char *ir = snap_intremap__verdict(evidence, interrupts, log, opts);
		bool enabled = json_array_size(units) > 0 || json_array_size(groups) > 0;

		iommu = json_pack(
		    "{s:b, s:o, s:s, s:o, s:o, s:o, s:o, s:o, s:o}", "enabled", enabled, "vendor",
		    snap_json__str_or_null(ivendor), "irq_remapping", ir, "irq_remapping_evidence",
		    evidence, "allow_unsafe_interrupts", unsafe_interrupts(vfio, opts),
		    "noiommu_mode",
		    snap_collect__setting(vfio, opts, "vfio", "enable_unsafe_noiommu_mode",
		                          "vfio.enable_unsafe_noiommu_mode"),
		    "acs_override", json_incref(json_object_get(opts, "pcie_acs_override")),
		    "units", units, "kernel_log_iommu",
		    json_boolean(json_is_object(log) &&
		                 json_is_true(json_object_get(log, "iommu_enabled"))));
	}
	json_object_set_new(root, "iommu", iommu);
	json_object_set_new(root, "vfio", vfio);
	json_object_set_new(root, "bar_claims",
	                    c->o->lspci_dump ? json_null() : snap_collect__bar_claims(c));
	json_object_set_new(root, "vms", snap_collect__vms(c, devices));
	json_object_set_new(root, "groups", groups);
	json_object_set_new(root, "devices", devices);
	devices = NULL;
	if (!c->o->lspci_dump) {
		json_object_set_new(root, "boot", snap_collect__boot(c));
		json_object_set_new(root, "forensics", snap_collect__forensics(c, opts, vfio));
	}
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
	/* last: pci.ids has been loading on a thread of its own since the session began */
	snap_pci__name_devices(c->pacc, json_object_get(root, "devices"), c->s);
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
	unsigned long oom = snap_mem__failures(); /* util.h: lost to memory is an error */
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
	/* the document's values die together, when the snapshot is freed: cut from chunks
	 * (util/jarena.c), as a parsed document is */
	snap_json__arena_begin();
	error = build(&c, err);
	snap_json__arena_end();
	if (error < 0)
		goto done;
	if (snap_mem__failures() != oom) { /* a fact lost to memory would read as absent */
		error = snap_error__set(err, SNAP_ENOMEM, "out of memory");
		goto done;
	}
	/* the postcondition: what collect writes, the loader reads */
	{
		snap_error why = {0};

		if ((error = snap_snapshot__validate(c.s->root, &why)) < 0) {
			error = snap_error__set(err, SNAP_EINVALID,
			                        "collected a snapshot no reader would accept (%s): "
			                        "refusing to write it",
			                        why.message);
			goto done;
		}
	}
	*out = c.s;
	c.s = NULL;
done:
	snap_pci__access_free(c.pacc);
	json_decref(c.driver_modules);
	json_decref(c.escaped);
	json_decref(c.vf_ids);
	json_decref(c.vf_pf);
	json_decref(c.slots);
	snap_snapshot_free(c.s);
	snap_root__close(&c.r);
	free(sysfs);
	return error;
}
