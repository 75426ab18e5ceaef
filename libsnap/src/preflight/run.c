/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * One preflight run: the inputs read (the next kernel's config, modules-load.d, the initramfs
 * image, only a regular file), the stages opened, every passthrough device predicted, the
 * verdict and its document (pcisnap.preflight/1) rendered.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>
#include <unistd.h>

#include "preflight/pf.h"
#include "render/render.h"

#define CFG_MAX (4u << 20)

static char *read_rel(const snap_root *r, const char *rel)
{
	char *data = NULL;
	size_t len = 0;

	return snap_root__read(&data, &len, r, rel, CFG_MAX) < 0 ? NULL : data;
}

char *snap_preflight__newest_release(const snap_root *r)
{
	char **names = NULL, *best = NULL;
	size_t n = 0;

	if (snap_root__list(&names, &n, r, "lib/modules") < 0)
		return NULL;
	for (size_t i = 0; i < n; i++) {
		char rel[4200], *canon = NULL;

		/* an installed kernel has its modules.dep (a leftover directory has not) */
		snprintf(rel, sizeof(rel), "lib/modules/%s/modules.dep", names[i]);
		if (snap_root__resolve(&canon, r, rel) < 0)
			continue;
		free(canon);
		if (!best || strverscmp(names[i], best) > 0)
			best = names[i];
	}
	best = best ? snap_mem__strdup(best) : NULL;
	snap_strv__free(names, n);
	return best;
}

/* boot/config-RELEASE: the few options the prediction asks about */
static json_t *kernel_config(const snap_root *r, const char *release)
{
	char rel[4200], *text, *save = NULL;
	json_t *out = json_object();

	snprintf(rel, sizeof(rel), "boot/config-%s", release);
	if (!(text = read_rel(r, rel)))
		return out;
	for (char *l = strtok_r(text, "\n", &save); l; l = strtok_r(NULL, "\n", &save)) {
		char *eq = strchr(l, '=');

		if (strncmp(l, "CONFIG_", 7) || !eq)
			continue;
		*eq = '\0';
		if (strstr(l, "IOMMU") || strstr(l, "VFIO") || strstr(l, "IRQ_REMAP") ||
		    !strncmp(l, "CONFIG_FB_", 10) || strstr(l, "SIMPLEDRM") || strstr(l, "SYSFB"))
			json_object_set_new(out, l, json_string(eq + 1));
	}
	free(text);
	return out;
}

/* module names, one per line ('#' comments; ';' too in modules-load.d), into list */
static void add_module_lines(json_t *list, const char *text)
{
	char *dup = snap_mem__strdup(text), *save = NULL;

	for (char *l = dup ? strtok_r(dup, "\n", &save) : NULL; l;
	     l = strtok_r(NULL, "\n", &save)) {
		char name[256], *t = l + strspn(l, " \t");

		if (*t == '#' || *t == ';' || !*t)
			continue;
		t[strcspn(t, " \t\r")] = '\0';
		snap_kmod__name(name, sizeof(name), t);
		json_array_append_new(list, json_string(name));
	}
	free(dup);
}

/* systemd-modules-load's directories (modules-load.d(5)), a name overriding later ones */
static json_t *modules_load(const snap_root *r)
{
	static const char *const dirs[] = {"etc/modules-load.d", "run/modules-load.d",
	                                   "usr/local/lib/modules-load.d", "usr/lib/modules-load.d",
	                                   "lib/modules-load.d"};
	json_t *out = json_array(), *seen = json_object();
	char *text = NULL;

	for (size_t d = 0; d < sizeof(dirs) / sizeof(dirs[0]); d++) {
		char **names = NULL;
		size_t n = 0;

		if (snap_root__list(&names, &n, r, dirs[d]) < 0)
			continue;
		for (size_t i = 0; i < n; i++) {
			char rel[4200];
			size_t len = strlen(names[i]);

			if (len < 6 || strcmp(names[i] + len - 5, ".conf") ||
			    json_object_get(seen, names[i]))
				continue;
			json_object_set_new(seen, names[i], json_true());
			snprintf(rel, sizeof(rel), "%s/%s", dirs[d], names[i]);
			if ((text = read_rel(r, rel)))
				add_module_lines(out, text);
			free(text);
			text = NULL;
		}
		snap_strv__free(names, n);
	}
	/* Debian's /etc/modules (read through modules-load.d/modules.conf, or by kmod's init) */
	if (!json_object_get(seen, "modules.conf") && (text = read_rel(r, "etc/modules")))
		add_module_lines(out, text);
	free(text);
	json_decref(seen);
	return out;
}
/* fd if it is a regular file, else -1 with errno EINVAL (closed): a device, a FIFO or a
 * directory is no initramfs, and reading one could block or never end */
static int regular_only(int fd)
{
	struct stat st;

	if (fd < 0)
		return fd;
	if (fstat(fd, &st) < 0) {
		int e = errno;

		close(fd);
		errno = e;
		return -1;
	}
	if (!S_ISREG(st.st_mode)) {
		close(fd);
		errno = EINVAL;
		return -1;
	}
	return fd;
}

static int open_image(struct pf *p, const char *given, char *shown, size_t n)
{
	static const char *const prefix[] = {"boot/initrd.img-", "boot/initramfs-"};
	static const char *const suffix[] = {"", ".img"};
	int fd = -1;

	if (given) {
		snprintf(shown, n, "%s", given);
		/* O_NONBLOCK: a FIFO named here must not block before fstat() refuses it */
		return regular_only(open(given, O_RDONLY | O_CLOEXEC | O_NONBLOCK));
	}
	for (size_t i = 0; i < 2 && fd < 0; i++) {
		char rel[4200], *canon = NULL;

		snprintf(rel, sizeof(rel), "%s%s%s", prefix[i], p->release, suffix[i]);
		if (i == 0)
			snprintf(shown, n, "%s", rel);
		if (snap_root__resolve(&canon, &p->r, rel) < 0)
			continue;
		fd = regular_only(openat(p->r.fd, *canon ? canon : ".",
		                         O_RDONLY | O_CLOEXEC | O_NOFOLLOW | O_NONBLOCK));
		if (fd >= 0)
			snprintf(shown, n, "%s", rel);
		free(canon);
	}
	return fd;
}

static void pf_release(struct pf *p)
{
	snap_kmodview__release(&p->root);
	snap_kmodview__release(&p->init);
	if (p->have_ir)
		snap_initramfs__release(&p->ir);
	snap_root__close(&p->r);
	free(p->release);
	json_decref(p->doc);
	json_decref(p->next_tokens);
	json_decref(p->next_opts);
	json_decref(p->kconfig);
	json_decref(p->conf_modules);
	json_decref(p->modules_load);
}

int snap_preflight_run(snap_preflight **out, const snap_snapshot *current,
                       const snap_preflight_options *o, snap_error *err)
{
	unsigned long oom = snap_mem__failures(); /* util.h: lost to memory is an error */
	snap_preflight_options defaults = SNAP_PREFLIGHT_OPTIONS_INIT;
	struct pf p;
	json_t *bootcmd = NULL, *pt = NULL, *covered = NULL, *v;
	const char *chosen, *bdf;
	char shown[4200], rel[4200];
	snap_preflight *res;
	int fd, e;

	SNAP_ASSERT_ARG(out && current);
	if (!o)
		o = &defaults;
	if (o->version < 1 || o->version > SNAP_PREFLIGHT_OPTIONS_VERSION)
		return snap_error__set(err, SNAP_EINVALID, "preflight options of version %u",
		                       o->version);
	memset(&p, 0, sizeof(p));
	p.snap = current->root;
	if (!(p.an = snap_analysis__get(current)) || !snap_analysis__passthrough(p.an))
		return snap_error__set(err, SNAP_ENOMEM, "out of memory");
	if ((e = snap_root__open(&p.r, o->root ? o->root : "/", err)) < 0)
		return e;
	if (o->kernel) {
		char *canon = NULL;

		snprintf(rel, sizeof(rel), "lib/modules/%s", o->kernel);
		if (strchr(o->kernel, '/') || snap_root__resolve(&canon, &p.r, rel) < 0) {
			snap_root__close(&p.r);
			return snap_error__set(err, SNAP_ENOTFOUND,
			                       "kernel %s is not installed (no lib/modules/%s)",
			                       o->kernel, o->kernel);
		}
		free(canon);
		p.release = snap_mem__strdup(o->kernel);
		chosen = "--kernel";
	} else {
		p.release = snap_preflight__newest_release(&p.r);
		chosen = "the newest installed";
		if (!p.release) {
			snap_root__close(&p.r);
			return snap_error__set(
			    err, SNAP_ENOTFOUND,
			    "no kernel installed (lib/modules has no modules.dep)");
		}
	}
	p.doc = json_pack(
	    "{s:s, s:o, s:o, s:{s:s, s:s}}", "schema", SNAP_PREFLIGHT_SCHEMA, "host",
	    snap_json__str_or_null(snap_json__str(json_object_get(p.snap, "host"), "hostname")),
	    "current_kernel",
	    snap_json__str_or_null(snap_json__str(json_object_get(p.snap, "kernel"), "release")),
	    "kernel", "release", p.release, "chosen_by", chosen);
	p.checks = json_array();
	p.unknown = json_array();
	p.devices = json_array();
	p.conf_modules = json_array();
	p.kconfig = kernel_config(&p.r, p.release);
	p.modules_load = modules_load(&p.r);
	if (!p.doc || !p.checks || !p.unknown || !p.devices) {
		json_decref(p.checks);
		json_decref(p.unknown);
		json_decref(p.devices);
		pf_release(&p);
		return snap_error__set(err, SNAP_ENOMEM, "out of memory");
	}
	json_object_set_new(p.doc, "checks", p.checks);
	json_object_set_new(p.doc, "unknown", p.unknown);
	json_object_set_new(p.doc, "devices", p.devices);
	snap_pf__add_check(&p, "kernel", NULL, SNAP_CHECK_PASS, "the next boot is %s (%s); now %s",
	                   p.release, chosen,
	                   snap_json__str(json_object_get(p.snap, "kernel"), "release")
	                       ? snap_json__str(json_object_get(p.snap, "kernel"), "release")
	                       : "unknown");

	/* the command line */
	if (o->cmdline) {
		bootcmd = json_pack("{s:s, s:s, s:[], s:b}", "cmdline", o->cmdline, "source",
		                    "--cmdline", "notes", "stale", 0);
	} else {
		bootcmd = snap_bootcmd__next(&p.r, p.release);
	}
	if (snap_json__str(bootcmd, "cmdline")) {
		p.next_tokens = snap_parse__cmdline(snap_json__str(bootcmd, "cmdline"));
		p.next_opts = snap_parse__cmdline_options(p.next_tokens);
		p.next_source = snap_json__str(bootcmd, "source");
	}
	json_object_set_new(p.doc, "cmdline", bootcmd);

	/* the root's modules */
	if ((e = snap_kmodview__open_root(&p.root, &p.r, p.release)) < 0) {
		pf_release(&p);
		return snap_error__set(err, e, "cannot read the modules of %s", p.release);
	}
	p.root_ok = p.root.ctx != NULL;
	if (!p.root_ok && p.root.bad_index)
		snap_pf__add_unknown(&p,
		                     "the modules indexes of %s (lib/modules/%s/%s: run depmod %s)",
		                     p.release, p.release, p.root.bad_index, p.release);
	else if (!p.root_ok)
		snap_pf__add_unknown(
		    &p,
		    "the modules indexes of %s (lib/modules/%s/modules.dep.bin: depmod "
		    "%s)",
		    p.release, p.release, p.release);

	/* the initramfs */
	if ((fd = open_image(&p, o->initramfs, shown, sizeof(shown))) < 0) {
		if (o->initramfs) {
			e = errno;
			pf_release(&p);
			return e == EINVAL
			           ? snap_error__set(err, SNAP_EINVALID,
			                             "%s: not a regular file (an initramfs is one)",
			                             o->initramfs)
			           : snap_error__set(err, SNAP_ENOTFOUND, "%s: %s", o->initramfs,
			                             strerror(e));
		}
		p.init_absent = true;
	} else {
		e = snap_initramfs__read(&p.ir, fd, shown, err);
		close(fd);
		if (e < 0) {
			pf_release(&p);
			return e;
		}
		p.have_ir = true;
		if (!p.ir.error &&
		    json_object_get(json_object_get(p.ir.info, "releases"), p.release)) {
			char *cm, path[8400];

			if ((e = snap_kmodview__open_dir(&p.init, p.ir.tmp, p.release, true)) < 0) {
				pf_release(&p);
				return snap_error__set(err, e, "out of memory");
			}
			p.init.available = p.ir.modules;
			p.init_ok = p.init.ctx != NULL;
			snprintf(path, sizeof(path), "%s/conf/modules", p.ir.tmp);
			{
				FILE *f = fopen(path, "re");
				snap_buf b = SNAP_BUF_INIT;
				char chunk[4096];
				size_t n;

				while (f && (n = fread(chunk, 1, sizeof(chunk), f)) > 0)
					snap_buf__put(&b, chunk, n);
				if (f)
					fclose(f);
				if ((cm = snap_buf__detach(&b)))
					add_module_lines(p.conf_modules, cm);
				free(cm);
			}
		}
		if (o->version >= 2 && o->list_files)
			json_object_set_new(p.ir.info, "files", snap_rootfs__files(&p.ir));
		json_object_set(p.doc, "initramfs", p.ir.info);
		json_object_set(json_object_get(p.doc, "initramfs"), "conf_modules",
		                p.conf_modules);
	}
	if (!json_object_get(p.doc, "initramfs"))
		json_object_set_new(p.doc, "initramfs", json_null());
	snap_pf__check_initramfs(&p, shown);

	/* vfio for the next kernel */
	{
		bool builtin = false;
		bool has = snap_kmodview__has(&p.root, "vfio_pci", &builtin);

		pt = snap_analysis__passthrough(p.an);
		if (!p.root_ok)
			;
		else if (has)
			snap_pf__add_check(&p, "vfio_module", NULL, SNAP_CHECK_PASS,
			                   "vfio-pci is %s in %s",
			                   builtin ? "built in" : "a module", p.release);
		else
			snap_pf__add_check(
			    &p, "vfio_module", NULL,
			    json_object_size(pt) ? SNAP_CHECK_FAIL : SNAP_CHECK_WARN,
			    "%s has no vfio-pci (neither built in nor in modules.dep)", p.release);
	}
	snap_pf__check_cmdline(&p, bootcmd);
	if (p.root_ok)
		snap_pf__check_console(&p, pt);

	/* every passthrough device */
	covered = snap_analysis__covered(p.an);
	snap_pf__find_vfio_loaders(&p, pt);
	p.vfio_in_init =
	    p.init_ok && snap_pf__vfio_loadable(&p, &p.init) &&
	    (*p.vfio_by[ST_INITRAMFS] || snap_json__has_string(p.conf_modules, "vfio_pci"));
	json_object_foreach (pt, bdf, v)
		snap_pf__predict_device(&p, bdf, v, json_object_get(covered, bdf) != NULL);
	if (!json_object_size(pt))
		snap_pf__add_check(&p, "binding", NULL, SNAP_CHECK_PASS,
		                   "no passthrough devices in the snapshot: nothing to predict");

	if (snap_mem__failures() != oom || !(res = calloc(1, sizeof(*res)))) {
		pf_release(&p);
		return snap_error__set(err, SNAP_ENOMEM, "out of memory");
	}
	res->verdict = p.count[SNAP_CHECK_FAIL]   ? SNAP_CHECK_FAIL
	               : p.count[SNAP_CHECK_WARN] ? SNAP_CHECK_WARN
	                                          : SNAP_CHECK_PASS;
	res->conclusive = json_array_size(p.unknown) == 0;
	json_object_set_new(p.doc, "verdict", json_string(snap_check__status_name(res->verdict)));
	json_object_set_new(p.doc, "conclusive", json_boolean(res->conclusive));
	json_object_set_new(p.doc, "counts",
	                    json_pack("{s:I, s:I, s:I}", "fail", (json_int_t)p.count[2], "warn",
	                              (json_int_t)p.count[1], "pass", (json_int_t)p.count[0]));
	res->doc = p.doc;
	p.doc = NULL;
	pf_release(&p);
	*out = res;
	return 0;
}

snap_check_status snap_preflight_verdict(const snap_preflight *p)
{
	return p ? p->verdict : SNAP_CHECK_FAIL;
}

int snap_preflight_conclusive(const snap_preflight *p)
{
	return p && p->conclusive;
}

int snap_preflight_render(char **out, const snap_preflight *p, int json, snap_error *err)
{
	snap_buf b = SNAP_BUF_INIT;
	const json_t *u;
	size_t count[4], i;
	char *text;

	SNAP_ASSERT_ARG(out && p);
	if (json)
		return snap_json__dump(out, p->doc, err);
	{
		snap_buf rows = SNAP_BUF_INIT;
		char *body;

		/* the header counts the lines shown below it */
		snap_render__check_rows(&rows, json_object_get(p->doc, "checks"), count, 0);
		snap_buf__printf(
		    &b, "pcisnap preflight: %s: next boot %s: %s (%zu fail, %zu warn, %zu pass)\n",
		    snap_json__str(p->doc, "host") ? snap_json__str(p->doc, "host") : "?",
		    snap_json__str(json_object_get(p->doc, "kernel"), "release"),
		    snap_check__status_name(p->verdict), count[0], count[1], count[2]);
		if ((body = snap_buf__detach(&rows))) {
			snap_buf__puts(&b, body);
			free(body);
		}
	}
	json_array_foreach (json_object_get(p->doc, "unknown"), i, u)
		snap_buf__printf(&b, "cannot tell: %s\n", json_string_value(u));
	{ /* --list-files: the root the image unpacks to, a line per name */
		const json_t *files =
		    json_object_get(json_object_get(p->doc, "initramfs"), "files");
		json_t *rows = json_array(), *f;
		const char *name;

		json_object_foreach ((json_t *)files, name, f)
			json_array_append_new(rows, json_pack("{s:s, s:O}", "name", name, "f", f));
		if (files)
			snap_buf__puts(
			    &b, "\ninitramfs as the kernel unpacks it (type, size, name):\n");
		if (snap_json__sort_by_key(rows, "name") < 0) {
			json_decref(rows);
			snap_buf__release(&b);
			return snap_error__set(err, SNAP_ENOMEM, "out of memory");
		}
		json_array_foreach (rows, i, f) {
			const json_t *e = json_object_get(f, "f");

			if (json_object_get(e, "size"))
				snap_buf__printf(
				    &b, "%s %10lld %s", snap_json__str(e, "type"),
				    (long long)json_integer_value(json_object_get(e, "size")),
				    snap_json__str(f, "name"));
			else
				snap_buf__printf(&b, "%s %10s %s", snap_json__str(e, "type"), "-",
				                 snap_json__str(f, "name"));
			if (snap_json__str(e, "target"))
				snap_buf__printf(&b, " -> %s", snap_json__str(e, "target"));
			snap_buf__puts(&b, "\n");
		}
		json_decref(rows);
	}
	if (!(text = snap_buf__detach(&b)))
		return snap_error__set(err, SNAP_ENOMEM, "out of memory");
	*out = text;
	return 0;
}

void snap_preflight_free(snap_preflight *p)
{
	if (!p)
		return;
	json_decref(p->doc);
	free(p);
}
