/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * The prediction: which driver claims each passthrough device when the next kernel boots, and
 * whether the IOMMU settings of its command line are still there.
 *
 * A PCI device is claimed by the first driver that binds it, in the order of the boot:
 *   1. kernel: drivers built into the kernel bind during its initcalls (vfio-pci among them
 *      when built in, with vfio-pci.ids from the command line), before any initramfs runs;
 *   2. initramfs: initramfs-tools starts udev in init-top and waits for its coldplug to settle;
 *      udev's "kmod load" resolves each device's modalias through the image's indexes and
 *      loads every module found that is not blacklisted, each after its "softdep pre:"
 *      modules, with the options of the image's modprobe.d and of the command line. The
 *      modules of conf/modules (/etc/initramfs-tools/modules) are loaded after that, in
 *      load_modules: too late for a device whose driver udev already loaded;
 *   3. root: systemd-modules-load (modules-load.d, /etc/modules) runs early in sysinit, then
 *      udev's coldplug does the same as in 2 with the root's modules and modprobe.d.
 * vfio-pci has no modalias of its own for ordinary devices (only "vfio_pci:" for
 * driver_override): it claims a device only when it is loaded and its ids= cover it, so it
 * wins when it is built in, or loaded before the host driver (a softdep, modules-load).
 */
#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "analyse/check.h"
#include "preflight/preflight.h"
#include "render/render.h"

#define CFG_MAX (4u << 20)

enum stage { ST_KERNEL, ST_INITRAMFS, ST_ROOT, NSTAGES };
static const char *const stage_name[] = {"kernel", "initramfs", "root"};
static const char *const stage_words[] = {"built into the kernel", "from the initramfs",
                                          "after the switch to the root file system"};

struct pf {
	const json_t *snap; /* the current state */
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

static void add_check(struct pf *p, const char *id, const char *subject, snap_check_status st,
                      const char *fmt, ...) __attribute__((format(printf, 5, 6)));
static void add_check(struct pf *p, const char *id, const char *subject, snap_check_status st,
                      const char *fmt, ...)
{
	char msg[8192];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	json_array_append_new(p->checks, json_pack("{s:s, s:s, s:s, s:s}", "id", id, "subject",
	                                           subject ? subject : "", "status",
	                                           snap_check__status_name(st), "message", msg));
	p->count[st]++;
}

static void add_unknown(struct pf *p, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static void add_unknown(struct pf *p, const char *fmt, ...)
{
	char msg[1024];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	json_array_append_new(p->unknown, json_string(msg));
}

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
	best = best ? strdup(best) : NULL;
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
		if (strstr(l, "IOMMU") || strstr(l, "VFIO") || strstr(l, "IRQ_REMAP"))
			json_object_set_new(out, l, json_string(eq + 1));
	}
	free(text);
	return out;
}

/* module names, one per line ('#' comments; ';' too in modules-load.d), into list */
static void add_module_lines(json_t *list, const char *text)
{
	char *dup = strdup(text), *save = NULL;

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

/* pci:vVVVVVVVVdDDDDDDDDsvSSSSSSSSsdSSSSSSSSbcBBscSSiII, as the kernel's modalias attribute */
static void modalias_of(char *buf, size_t n, const json_t *dev)
{
	const char *cls = snap_json__str(dev, "class");
	unsigned long c = cls ? strtoul(cls, NULL, 16) : 0;
	const char *sv = snap_json__str(dev, "subsystem_vendor");
	const char *sd = snap_json__str(dev, "subsystem_device");

	snprintf(
	    buf, n, "pci:v%08lXd%08lXsv%08lXsd%08lXbc%02lXsc%02lXi%02lX",
	    strtoul(snap_json__str(dev, "vendor") ? snap_json__str(dev, "vendor") : "0", NULL, 16),
	    strtoul(snap_json__str(dev, "device") ? snap_json__str(dev, "device") : "0", NULL, 16),
	    sv ? strtoul(sv, NULL, 16) : 0, sd ? strtoul(sd, NULL, 16) : 0, (c >> 16) & 0xff,
	    (c >> 8) & 0xff, c & 0xff);
}

/* The vfio-pci ids a stage's vfio_pci gets: its modprobe.d options, then the command line
 * (module options from the command line come after modprobe.d's; the last ids= wins). */
static json_t *stage_ids(const struct pf *p, const struct snap_kmodview *v)
{
	const char *conf =
	    v ? snap_json__str(json_object_get(json_object_get(v->config, "options"), "vfio_pci"),
	                       "ids")
	      : NULL;
	const json_t *cmd = p->next_opts ? json_object_get(p->next_opts, "vfio-pci.ids") : NULL;
	json_t *out = json_array();

	if (json_is_array(cmd))
		json_array_extend(out, (json_t *)cmd);
	else if (conf) {
		char *dup = strdup(conf), *save = NULL;

		for (char *t = dup ? strtok_r(dup, ",", &save) : NULL; t;
		     t = strtok_r(NULL, ",", &save))
			json_array_append_new(out, json_string(t));
		free(dup);
	}
	return out;
}

/* vfio-pci's disable_denylist, in either stage's modprobe.d or on the next command line */
static bool denylist_disabled(const struct pf *p)
{
	const struct snap_kmodview *views[] = {&p->init, &p->root};
	const json_t *tok;
	size_t i;

	for (size_t k = 0; k < 2; k++) {
		const char *v = snap_json__str(
		    json_object_get(json_object_get(views[k]->config, "options"), "vfio_pci"),
		    "disable_denylist");

		if (v && (!strcmp(v, "1") || !strcasecmp(v, "y")))
			return true;
	}
	json_array_foreach (p->next_tokens, i, tok) {
		const char *k = snap_json__str(tok, "key"), *v = snap_json__str(tok, "value");

		if (k &&
		    (!strcmp(k, "vfio_pci.disable_denylist") ||
		     !strcmp(k, "vfio-pci.disable_denylist")) &&
		    (!v || !strcmp(v, "1") || !strcasecmp(v, "y")))
			return true;
	}
	return false;
}

static bool ids_cover(const json_t *ids, const json_t *dev)
{
	size_t i;
	json_t *id;

	json_array_foreach (ids, i, id)
		if (json_is_string(id) && snap_passthrough__id_matches(json_string_value(id), dev))
			return true;
	return false;
}

/* mod among the module names of a command-line list ("vfio-pci" and "vfio_pci" alike) */
static bool names_have(const json_t *list, const char *mod)
{
	size_t i;
	json_t *m;

	json_array_foreach (list, i, m) {
		char name[256];

		snap_kmod__name(name, sizeof(name), json_string_value(m));
		if (!strcmp(name, mod))
			return true;
	}
	return false;
}

/* blacklisted for udev's kmod load: the stage's modprobe.d, modprobe.blacklist= */
static bool blacklisted(const struct pf *p, const struct snap_kmodview *v, const char *mod)
{
	return (p->next_opts &&
	        names_have(json_object_get(p->next_opts, "modprobe.blacklist"), mod)) ||
	       snap_json__has_string(json_object_get(v->config, "blacklist"), mod);
}

/* module_blacklist=: the kernel refuses to load it at all */
static bool refused(const struct pf *p, const char *mod)
{
	return p->next_opts && names_have(json_object_get(p->next_opts, "module_blacklist"), mod);
}

/* vfio_pci can be loaded in this stage (its dependencies too) */
static bool vfio_loadable(const struct pf *p, const struct snap_kmodview *v)
{
	bool builtin;

	return !refused(p, "vfio_pci") && snap_kmodview__has(v, "vfio_pci", &builtin) && !builtin &&
	       !snap_kmodview__install_blocks(v, "vfio_pci");
}

/*
 * Who claims dev in a loadable-module stage: {stage, driver, how} or NULL (nobody); *why_not
 * gets why vfio-pci did not, when a host driver does.
 */
static json_t *claim_stage(struct pf *p, enum stage st, struct snap_kmodview *v, const json_t *dev,
                           const char *modalias, const json_t *cands, char *why_not, size_t wn,
                           char *fix, size_t fn)
{
	/* vfio_pci loaded from the initramfs keeps the image's options: modprobe of a loaded
	 * module is a no-op in libkmod, so the root's "options vfio-pci ids=" never apply */
	bool kept = st == ST_ROOT && p->vfio_in_init;
	json_t *ids = stage_ids(p, kept ? &p->init : v), *c, *out = NULL;
	bool cover = ids_cover(ids, dev), loadable = vfio_loadable(p, v) || kept;
	const json_t *early = st == ST_ROOT ? p->modules_load : NULL;
	size_t i;

	if (kept && !cover) {
		json_t *root_ids = stage_ids(p, v);

		if (ids_cover(root_ids, dev)) {
			snprintf(
			    why_not, wn,
			    "vfio-pci is loaded from the initramfs with the image's ids, which do "
			    "not cover it; the root's \"options vfio-pci ids=\" come too late "
			    "(the module is loaded already)");
			snprintf(fix, fn,
			         "update-initramfs -u -k %s, so the image has the root's ids",
			         p->release);
		}
		json_decref(root_ids);
	}

	if (early && snap_json__has_string(early, "vfio_pci") && loadable && cover) {
		out = json_pack(
		    "{s:s, s:s, s:s}", "stage", stage_name[st], "driver", "vfio_pci", "how",
		    "vfio_pci is loaded by systemd-modules-load, before udev's coldplug, "
		    "and its ids cover it");
		goto done;
	}
	json_array_foreach (cands, i, c) {
		const char *mod = snap_json__str(c, "name");
		bool builtin, pre_vfio;
		char *alias;

		if (json_is_true(json_object_get(c, "builtin")) || refused(p, mod) ||
		    blacklisted(p, v, mod) || !snap_kmodview__has(v, mod, &builtin) ||
		    snap_kmodview__install_blocks(v, mod))
			continue;
		if (!strcmp(mod, "vfio_pci")) {
			if (cover) {
				out = json_pack(
				    "{s:s, s:s, s:s}", "stage", stage_name[st], "driver",
				    "vfio_pci", "how",
				    "an alias names vfio_pci for it, and its ids cover it");
				goto done;
			}
			continue;
		}
		/* the modules `modprobe mod` loads before it, softdeps of its whole dependency
		 * chain included (libkmod's __kmod_module_get_probe_list()) */
		pre_vfio = snap_kmodview__loads_first(v, mod, "vfio_pci");
		if (pre_vfio && loadable && cover) {
			out = json_pack("{s:s, s:s, s:s}", "stage", stage_name[st], "driver",
			                "vfio_pci", "how", "");
			json_object_set_new(
			    out, "how",
			    json_sprintf("modprobe %s loads vfio_pci first (a softdep "
			                 "of it or of a module it depends on), and "
			                 "its ids cover it",
			                 mod));
			goto done;
		}
		/* the host driver wins: say why vfio-pci did not, and what makes it win */
		if (!loadable) {
			snprintf(why_not, wn, "vfio-pci is not %s",
			         st == ST_INITRAMFS ? "in the initramfs"
			                            : "installed for this kernel");
			snprintf(
			    fix, fn,
			    st == ST_INITRAMFS
			        ? "add vfio_pci to /etc/initramfs-tools/modules and \"softdep %s "
			          "pre: vfio-pci\" to /etc/modprobe.d, then update-initramfs -u -k "
			          "%s"
			        : "install vfio-pci for this kernel (softdep %s pre: vfio-pci) and "
			          "update-initramfs -u -k %s",
			    mod, p->release);
		} else if (!cover && kept && *why_not) {
			/* said above: the image's ids are the ones in force */
		} else if (!cover) {
			snprintf(why_not, wn, "vfio-pci's ids %s do not cover it",
			         st == ST_INITRAMFS ? "in the initramfs" : "after the switch");
			snprintf(
			    fix, fn,
			    "put \"options vfio-pci ids=%s:%s\" and \"softdep %s pre: vfio-pci\" "
			    "in /etc/modprobe.d, then update-initramfs -u -k %s",
			    snap_json__str(dev, "vendor"), snap_json__str(dev, "device"), mod,
			    p->release);
		} else if (!pre_vfio) {
			snprintf(why_not, wn, "no softdep orders vfio-pci before %s%s", mod,
			         st == ST_INITRAMFS &&
			                 snap_json__has_string(p->conf_modules, "vfio_pci")
			             ? " (conf/modules loads vfio_pci only after udev has settled)"
			             : "");
			snprintf(fix, fn,
			         "put \"softdep %s pre: vfio-pci\" in /etc/modprobe.d, then "
			         "update-initramfs -u -k %s",
			         mod, p->release);
		}
		alias = snap_kmodview__alias_of(v, modalias, mod);
		out =
		    json_pack("{s:s, s:s, s:s}", "stage", stage_name[st], "driver", mod, "how", "");
		json_object_set_new(out, "how",
		                    alias ? json_sprintf("it matches alias %s", alias)
		                          : json_sprintf("%s resolves to it", modalias));
		free(alias);
		/* vfio_pci loaded in the same stage for another device: a race nothing orders */
		if (loadable && cover && *p->vfio_by[st] && strcmp(p->vfio_by[st], mod))
			json_object_set_new(out, "race_with", json_string(p->vfio_by[st]));
		goto done;
	}
	/* no host driver: vfio_pci binds it whenever it is loaded in this stage */
	if (loadable && cover && *p->vfio_by[st]) {
		out = json_pack("{s:s, s:s, s:s}", "stage", stage_name[st], "driver", "vfio_pci",
		                "how", "");
		json_object_set_new(
		    out, "how",
		    json_sprintf("no host driver claims it, and vfio_pci, loaded by "
		                 "\"softdep %s pre: vfio-pci\", covers it",
		                 p->vfio_by[st]));
	} else if (st == ST_INITRAMFS && snap_json__has_string(p->conf_modules, "vfio_pci") &&
	           loadable && cover) {
		out = json_pack("{s:s, s:s, s:s}", "stage", stage_name[st], "driver", "vfio_pci",
		                "how", "conf/modules loads vfio_pci, and its ids cover it");
	}
done:
	json_decref(ids);
	return out;
}

/* built-in drivers: vfio-pci with command-line ids, else the first built-in match */
static json_t *claim_kernel(struct pf *p, const json_t *dev, const json_t *cands)
{
	json_t *ids = stage_ids(p, NULL), *c, *out = NULL;
	bool builtin = false;
	size_t i;

	if (snap_kmodview__has(&p->root, "vfio_pci", &builtin) && builtin && ids_cover(ids, dev))
		out = json_pack("{s:s, s:s, s:s}", "stage", "kernel", "driver", "vfio_pci", "how",
		                "vfio-pci is built in, and vfio-pci.ids on the command line covers "
		                "it");
	json_array_foreach (cands, i, c)
		if (!out && json_is_true(json_object_get(c, "builtin")) &&
		    strcmp(snap_json__str(c, "name"), "vfio_pci"))
			out = json_pack("{s:s, s:s, s:s}", "stage", "kernel", "driver",
			                snap_json__str(c, "name"), "how",
			                "its driver is built into the kernel");
	json_decref(ids);
	return out;
}

/* Which module's softdep loads vfio_pci in each stage, for any passthrough device */
static void find_vfio_loaders(struct pf *p, const json_t *pt)
{
	const char *bdf;
	json_t *v;

	json_object_foreach ((json_t *)pt, bdf, v) {
		const json_t *dev = snap_snapshot__device(p->snap, bdf);
		char modalias[128];

		if (!dev)
			continue;
		modalias_of(modalias, sizeof(modalias), dev);
		for (int st = ST_INITRAMFS; st < NSTAGES; st++) {
			struct snap_kmodview *kv = st == ST_INITRAMFS ? &p->init : &p->root;
			json_t *cands, *c;
			size_t i;

			if (*p->vfio_by[st] || !(st == ST_INITRAMFS ? p->init_ok : p->root_ok) ||
			    !vfio_loadable(p, kv) || !(cands = snap_kmodview__lookup(kv, modalias)))
				continue;
			json_array_foreach (cands, i, c) {
				const char *mod = snap_json__str(c, "name");

				if (*p->vfio_by[st] || blacklisted(p, kv, mod) ||
				    !snap_kmodview__has(kv, mod, NULL))
					continue;
				if (snap_kmodview__loads_first(kv, mod, "vfio_pci"))
					snprintf(p->vfio_by[st], sizeof(p->vfio_by[st]), "%s", mod);
			}
			json_decref(cands);
		}
	}
}

static const char *driver_of(const json_t *dev, char *buf, size_t n)
{
	const char *m = snap_json__str(dev, "driver_module"), *d = snap_json__str(dev, "driver");

	if (!m && !d)
		return NULL;
	snap_kmod__name(buf, n, m ? m : d);
	return buf;
}

static void predict_device(struct pf *p, const char *bdf, const json_t *reasons, bool covered_now)
{
	const json_t *dev = snap_snapshot__device(p->snap, bdf);
	char modalias[128], label[512], cur_buf[256], why_not[512] = "", fix[1024] = "", ids[16];
	const char *cur, *drv = snap_json__str(dev, "driver");
	json_t *cands_root, *cands_init = NULL, *claim = NULL, *rec;
	bool vfio_now = drv && (!strcmp(drv, "vfio-pci") || !strcmp(drv, "pci-stub"));
	bool unsure = false;
	const char *pred, *stage;

	if (!dev)
		return;
	modalias_of(modalias, sizeof(modalias), dev);
	snap_snapshot__device_label(label, sizeof(label), dev);
	snprintf(ids, sizeof(ids), "%s:%s", snap_json__str(dev, "vendor"),
	         snap_json__str(dev, "device"));
	cur = driver_of(dev, cur_buf, sizeof(cur_buf));
	cands_root = p->root_ok ? snap_kmodview__lookup(&p->root, modalias) : NULL;
	if (p->init_ok)
		cands_init = snap_kmodview__lookup(&p->init, modalias);

	claim = claim_kernel(p, dev, cands_root ? cands_root : cands_init);
	if (!claim && !p->init_absent) {
		if (p->init_ok)
			claim = claim_stage(p, ST_INITRAMFS, &p->init, dev, modalias, cands_init,
			                    why_not, sizeof(why_not), fix, sizeof(fix));
		else
			unsure = true;
	}
	if (!claim) {
		if (p->root_ok)
			claim = claim_stage(p, ST_ROOT, &p->root, dev, modalias, cands_root,
			                    why_not, sizeof(why_not), fix, sizeof(fix));
		else
			unsure = true;
	}
	pred = claim ? snap_json__str(claim, "driver") : NULL;
	stage = claim ? snap_json__str(claim, "stage") : NULL;
	rec = json_pack("{s:s, s:s, s:s, s:o, s:O, s:b, s:o, s:o, s:s}", "bdf", bdf, "ids", ids,
	                "modalias", modalias, "driver_now", snap_json__str_or_null(drv), "reasons",
	                reasons, "covered_now", covered_now, "predicted",
	                snap_json__str_or_null(pred), "stage", snap_json__str_or_null(stage),
	                "status", "PASS");
	if (claim)
		json_object_set(rec, "how", json_object_get(claim, "how"));
	if (claim && json_object_get(claim, "race_with"))
		json_object_set(rec, "race_with", json_object_get(claim, "race_with"));
	json_object_set_new(rec, "candidates",
	                    json_pack("{s:o, s:o}", "initramfs",
	                              cands_init ? json_incref(cands_init) : json_null(), "root",
	                              cands_root ? json_incref(cands_root) : json_null()));

	{
		snap_check_status st = SNAP_CHECK_PASS;
		char msg[8192];
		int s = !stage                        ? -1
		        : !strcmp(stage, "kernel")    ? 0
		        : !strcmp(stage, "initramfs") ? 1
		                                      : 2;

		const char *refused_by_vfio =
		    pred && !strcmp(pred, "vfio_pci")
		        ? snap_passthrough__vfio_refuses(dev, denylist_disabled(p))
		        : NULL;

		if (refused_by_vfio) {
			/* vfio_pci_probe() returns an error: the device stays unbound */
			st = SNAP_CHECK_FAIL;
			json_object_set_new(rec, "predicted", json_null());
			snprintf(msg, sizeof(msg),
			         "after reboot into %s, vfio-pci will not bind %s although it is "
			         "offered it %s: %s",
			         p->release, label, stage_words[s], refused_by_vfio);
		} else if (pred && !strcmp(pred, "vfio_pci")) {
			snprintf(msg, sizeof(msg), "%s will be bound to vfio-pci %s: %s", label,
			         stage_words[s], snap_json__str(claim, "how"));
		} else if (vfio_now && covered_now && pred && snap_json__str(claim, "race_with")) {
			st = SNAP_CHECK_WARN;
			snprintf(
			    msg, sizeof(msg),
			    "after reboot into %s, %s may be claimed by %s %s (%s) before "
			    "vfio-pci, which the softdep of %s loads in the same stage: nothing "
			    "orders the two; add \"softdep %s pre: vfio-pci\" to /etc/modprobe.d "
			    "and update-initramfs -u -k %s",
			    p->release, label, pred, stage_words[s], snap_json__str(claim, "how"),
			    snap_json__str(claim, "race_with"), pred, p->release);
		} else if (vfio_now && covered_now && pred) {
			st = SNAP_CHECK_FAIL;
			snprintf(msg, sizeof(msg),
			         "after reboot into %s, %s will be claimed by %s %s: %s%s%s%s%s",
			         p->release, label, pred, stage_words[s],
			         snap_json__str(claim, "how"), *why_not ? ", and " : "", why_not,
			         *fix ? "; " : "", fix);
		} else if (vfio_now && covered_now) {
			json_t *root_ids = stage_ids(p, &p->root);

			st = unsure ? SNAP_CHECK_WARN : SNAP_CHECK_FAIL;
			snprintf(
			    msg, sizeof(msg), "after reboot into %s, no driver will claim %s: %s",
			    p->release, label,
			    *why_not ? why_not
			    : !vfio_loadable(p, &p->root)
			        ? "vfio-pci is not installed for this kernel"
			    : !ids_cover(root_ids, dev)
			        ? "vfio-pci's ids no longer cover it (options vfio-pci ids= in "
			          "/etc/modprobe.d, or vfio-pci.ids= on the command line)"
			        : "nothing loads vfio-pci (add it to /etc/modules, or a softdep)");
			json_decref(root_ids);
		} else if (vfio_now) {
			snprintf(
			    msg, sizeof(msg),
			    "%s will be claimed by %s at boot, as no vfio-pci id covers it now "
			    "either: vfio-pci gets it when its VM starts (driver_override)",
			    label, pred ? pred : "no driver");
		} else if (pred && cur && strcmp(pred, cur)) {
			st = SNAP_CHECK_WARN;
			snprintf(msg, sizeof(msg), "%s will be claimed by %s %s instead of %s",
			         label, pred, stage_words[s], cur);
		} else {
			snprintf(msg, sizeof(msg), "%s stays with %s", label,
			         pred ? pred : "no driver");
		}
		if (unsure && st == SNAP_CHECK_PASS) {
			st = SNAP_CHECK_WARN;
			strncat(msg,
			        " (cannot tell for certain: a stage of the boot could not be read)",
			        sizeof(msg) - strlen(msg) - 1);
		}
		json_object_set_new(rec, "status", json_string(snap_check__status_name(st)));
		json_object_set_new(rec, "message", json_string(msg));
		add_check(p, "binding", bdf, st, "%s", msg);
	}
	json_array_append_new(p->devices, rec);
	json_decref(claim);
	json_decref(cands_root);
	json_decref(cands_init);
}

static bool truthy(const char *v)
{
	return v && (!strcmp(v, "1") || !strcasecmp(v, "y") || !strcasecmp(v, "on") || !*v);
}

static void check_cmdline(struct pf *p, const json_t *bootcmd)
{
	const json_t *cur = json_object_get(json_object_get(p->snap, "kernel"), "cmdline_options");
	const char *vendor = snap_json__str(json_object_get(p->snap, "iommu"), "vendor");
	const json_t *n = p->next_opts;
	const json_t *notes = json_object_get(bootcmd, "notes");
	json_t *note;
	size_t i, fails = p->count[SNAP_CHECK_FAIL];
	const char *src = p->next_source;

#define OPT(o, k) snap_json__str(o, k)
	if (!n) {
		json_array_foreach (notes, i, note)
			add_check(p, "cmdline_source", NULL, SNAP_CHECK_WARN, "%s",
			          json_string_value(note));
		add_check(p, "cmdline", NULL, SNAP_CHECK_WARN,
		          json_array_size(notes)
		              ? "the command line of %s is unknown (above)"
		              : "the command line of %s is unknown: no boot loader entry, "
		                "etc/kernel/cmdline or etc/default/grub found",
		          p->release);
		add_unknown(p, "the next command line");
		return;
	}
	json_array_foreach (notes, i, note)
		add_check(p, "cmdline_source", NULL,
		          json_is_true(json_object_get(bootcmd, "stale")) ? SNAP_CHECK_WARN
		                                                          : SNAP_CHECK_PASS,
		          "%s", json_string_value(note));
	/* each option by the kernel's own parser, every occurrence counted (analyse/cmdline.c),
	 * and only for the IOMMU this host has: intel_iommu= means nothing to an AMD host */
	if (vendor && !strcmp(vendor, "intel") && snap_cmdline__intel_iommu(cur) == SNAP_YES &&
	    snap_cmdline__intel_iommu(n) != SNAP_YES) {
		const char *def = snap_json__str(p->kconfig, "CONFIG_INTEL_IOMMU_DEFAULT_ON");

		if (def && !strcmp(def, "y") && snap_cmdline__intel_iommu(n) != SNAP_NO)
			add_check(
			    p, "cmdline", NULL, SNAP_CHECK_PASS,
			    "intel_iommu=on is not on the next command line (%s), and %s turns "
			    "the IOMMU on by itself (CONFIG_INTEL_IOMMU_DEFAULT_ON=y)",
			    src, p->release);
		else
			add_check(p, "cmdline", NULL, SNAP_CHECK_FAIL,
			          "after reboot into %s the IOMMU will be off: %s on the command "
			          "line (%s); put intel_iommu=on back (last) and regenerate the "
			          "boot entries",
			          p->release,
			          snap_cmdline__intel_iommu(n) == SNAP_NO
			              ? "intel_iommu=off is last"
			              : "intel_iommu=on is gone",
			          src);
	} else {
		const char *why_n = NULL, *why_c = NULL;

		if (snap_cmdline__iommu_disabled(n, vendor, &why_n) &&
		    !snap_cmdline__iommu_disabled(cur, vendor, &why_c))
			add_check(p, "cmdline", NULL, SNAP_CHECK_FAIL,
			          "after reboot into %s the IOMMU will be off: %s on the command "
			          "line (%s)",
			          p->release, why_n, src);
	}
	if (snap_cmdline__intremap(n) == SNAP_NO && snap_cmdline__intremap(cur) != SNAP_NO)
		add_check(p, "cmdline", NULL, SNAP_CHECK_FAIL,
		          "after reboot into %s interrupt remapping will be off: intremap=off (or "
		          "nointremap) on the command line (%s)",
		          p->release, src);
	if (OPT(n, "pcie_acs_override") &&
	    (!OPT(cur, "pcie_acs_override") ||
	     strcmp(OPT(n, "pcie_acs_override"), OPT(cur, "pcie_acs_override"))))
		add_check(p, "cmdline", NULL, SNAP_CHECK_FAIL,
		          "after reboot into %s, pcie_acs_override=%s splits groups the hardware "
		          "does not isolate (isolation asserted, not enforced) (%s)",
		          p->release, OPT(n, "pcie_acs_override"), src);
	if (truthy(OPT(n, "vfio_iommu_type1.allow_unsafe_interrupts")) &&
	    !truthy(OPT(cur, "vfio_iommu_type1.allow_unsafe_interrupts")))
		add_check(p, "cmdline", NULL, SNAP_CHECK_FAIL,
		          "after reboot into %s vfio allows unsafe interrupts "
		          "(vfio_iommu_type1.allow_unsafe_interrupts on the command line, %s)",
		          p->release, src);
	if (truthy(OPT(n, "vfio.enable_unsafe_noiommu_mode")) &&
	    !truthy(OPT(cur, "vfio.enable_unsafe_noiommu_mode")))
		add_check(p, "cmdline", NULL, SNAP_CHECK_FAIL,
		          "after reboot into %s vfio runs without an IOMMU "
		          "(vfio.enable_unsafe_noiommu_mode on the command line, %s)",
		          p->release, src);
	if (OPT(cur, "pcie_acs_override") && !OPT(n, "pcie_acs_override")) {
		snap_topo t;
		json_t *pt = snap_passthrough__compute(p->snap);
		const char *bdf;
		json_t *v;

		if (snap_topo__build(&t, p->snap) == 0) {
			json_object_foreach (pt, bdf, v) {
				int k = snap_topo__find(&t, bdf), other = -1;
				const char *why = NULL;
				char a[512], b[512];

				if (k < 0 ||
				    snap_topo__isolation_asserted(&t, k, &other, &why) !=
				        SNAP_YES ||
				    other < 0)
					continue;
				snap_topo__label(&t, k, a, sizeof(a));
				snap_topo__label(&t, other, b, sizeof(b));
				add_check(
				    p, "cmdline", bdf, SNAP_CHECK_FAIL,
				    "after reboot into %s, pcie_acs_override is gone: %s will "
				    "share its IOMMU group with %s, as its hardware's ACS "
				    "implies%s%s",
				    p->release, a, b, why ? ": " : "", why ? why : "");
			}
			snap_topo__release(&t);
		}
		json_decref(pt);
	}
	if (p->count[SNAP_CHECK_FAIL] == fails)
		add_check(p, "cmdline", NULL, SNAP_CHECK_PASS,
		          "the IOMMU settings of the next command line (%s) are what they are now",
		          src);
#undef OPT
}

/* the modprobe.d entries that bind devices to vfio-pci: its options, and the softdeps that
 * load it before a host driver (not modules.softdep's own "softdep vfio post: ..."). */
static json_t *vfio_config_lines(const json_t *config)
{
	json_t *out = json_array(), *v;
	const char *k;

	json_object_foreach (json_object_get(config, "options"), k, v) {
		const char *pk;
		json_t *pv;

		if (strncmp(k, "vfio", 4))
			continue;
		json_object_foreach (v, pk, pv)
			json_array_append_new(
			    out, json_sprintf("options %s %s=%s", k, pk, json_string_value(pv)));
	}
	json_object_foreach (json_object_get(config, "softdep"), k, v)
		if (strncmp(k, "vfio", 4) && strstr(json_string_value(v), "vfio"))
			json_array_append_new(
			    out, json_sprintf("softdep %s %s", k, json_string_value(v)));
	return out;
}

static void check_initramfs(struct pf *p, const char *shown)
{
	json_t *w;
	size_t i;

	if (p->init_absent) {
		add_check(p, "initramfs", NULL, SNAP_CHECK_WARN,
		          "no initramfs for %s (%s): update-initramfs -c -k %s", p->release, shown,
		          p->release);
		add_unknown(p, "the initramfs of %s", p->release);
		return;
	}
	if (p->ir.error) {
		add_check(p, "initramfs", NULL, SNAP_CHECK_WARN,
		          "cannot tell what the initramfs does: %s", p->ir.error);
		add_unknown(p, "the initramfs (%s)", p->ir.error);
	} else if (!p->init_ok && p->init.bad_index) {
		add_check(p, "initramfs", NULL, SNAP_CHECK_WARN,
		          "cannot tell what the initramfs does: %s's %s is not an index libkmod "
		          "reads safely (update-initramfs -u -k %s)",
		          shown, p->init.bad_index, p->release);
		add_unknown(p, "the initramfs's modules for %s (%s)", p->release,
		            p->init.bad_index);
	} else if (!p->init_ok) {
		const char *rel;
		json_t *v;
		snap_buf b = SNAP_BUF_INIT;

		json_object_foreach (json_object_get(p->ir.info, "releases"), rel, v)
			snap_buf__printf(&b, "%s%s", b.len ? ", " : "", rel);
		add_check(p, "initramfs", NULL, SNAP_CHECK_WARN,
		          "%s has no modules index for %s%s%s%s: update-initramfs -u -k %s", shown,
		          p->release, b.len ? " (it has " : "", b.len ? b.ptr : "",
		          b.len ? ")" : "", p->release);
		snap_buf__release(&b);
		add_unknown(p, "the initramfs's modules for %s", p->release);
	} else {
		json_t *segs = json_object_get(p->ir.info, "segments"), *s;
		snap_buf b = SNAP_BUF_INIT;
		size_t members = 0;

		json_array_foreach (segs, i, s) {
			snap_buf__printf(
			    &b, "%s%s at byte %lld", i ? ", " : "",
			    snap_json__str(s, "compression"),
			    (long long)json_integer_value(json_object_get(s, "offset")));
			members += (size_t)json_integer_value(json_object_get(s, "members"));
		}
		add_check(p, "initramfs", NULL, SNAP_CHECK_PASS,
		          "%s read: %zu archive%s (%s), %zu members, %zu modules", shown,
		          json_array_size(segs), json_array_size(segs) == 1 ? "" : "s", b.ptr,
		          members, json_object_size(p->ir.modules));
		snap_buf__release(&b);
	}
	json_array_foreach (json_object_get(p->ir.info, "warnings"), i, w)
		add_check(p, "initramfs", NULL, SNAP_CHECK_WARN, "%s: %s", shown,
		          json_string_value(w));
	if (!p->init_ok)
		return;
	{
		static const char *const vfio[] = {"vfio", "vfio_pci", "vfio_iommu_type1"};
		snap_buf in = SNAP_BUF_INIT, out = SNAP_BUF_INIT;
		json_t *have = json_object();

		for (size_t k = 0; k < 3; k++) {
			bool b;
			bool ok = snap_kmodview__has(&p->init, vfio[k], &b);

			json_object_set_new(have, vfio[k], json_boolean(ok));
			snap_buf__printf(ok ? &in : &out, "%s%s",
			                 (ok ? in.len : out.len) ? ", " : "", vfio[k]);
		}
		json_object_set_new(p->ir.info, "vfio", have);
		add_check(p, "initramfs_vfio", NULL, SNAP_CHECK_PASS, "%s%s%s%s%s",
		          in.len ? in.ptr : "", in.len ? " in the initramfs" : "",
		          in.len && out.len ? "; " : "", out.len ? out.ptr : "",
		          out.len ? " not in the initramfs (loaded after the switch to the root "
		                    "file system, if at all)"
		                  : "");
		snap_buf__release(&in);
		snap_buf__release(&out);
	}
	/* an initramfs built before the last change of modprobe.d */
	if (p->root_ok) {
		json_t *a = vfio_config_lines(p->init.config),
		       *b = vfio_config_lines(p->root.config);

		if (!json_equal(a, b)) {
			char *sa = json_dumps(a, JSON_COMPACT), *sb = json_dumps(b, JSON_COMPACT);

			add_check(p, "initramfs_config", NULL, SNAP_CHECK_WARN,
			          "the initramfs's modprobe.d differs from the root's for vfio "
			          "(initramfs %s, root %s): it was built before that change; "
			          "update-initramfs -u -k %s",
			          sa ? sa : "?", sb ? sb : "?", p->release);
			snap_json__free(sa);
			snap_json__free(sb);
		}
		json_decref(a);
		json_decref(b);
	}
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
	if (o->version != SNAP_PREFLIGHT_OPTIONS_VERSION)
		return snap_error__set(err, SNAP_EINVALID, "preflight options of version %u",
		                       o->version);
	memset(&p, 0, sizeof(p));
	p.snap = current->root;
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
		p.release = strdup(o->kernel);
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
	add_check(&p, "kernel", NULL, SNAP_CHECK_PASS, "the next boot is %s (%s); now %s",
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
		add_unknown(&p, "the modules indexes of %s (lib/modules/%s/%s: run depmod %s)",
		            p.release, p.release, p.root.bad_index, p.release);
	else if (!p.root_ok)
		add_unknown(&p,
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
		json_object_set(p.doc, "initramfs", p.ir.info);
		json_object_set(json_object_get(p.doc, "initramfs"), "conf_modules",
		                p.conf_modules);
	}
	if (!json_object_get(p.doc, "initramfs"))
		json_object_set_new(p.doc, "initramfs", json_null());
	check_initramfs(&p, shown);

	/* vfio for the next kernel */
	{
		bool builtin = false;
		bool has = snap_kmodview__has(&p.root, "vfio_pci", &builtin);

		pt = snap_passthrough__compute(p.snap);
		if (!p.root_ok)
			;
		else if (has)
			add_check(&p, "vfio_module", NULL, SNAP_CHECK_PASS, "vfio-pci is %s in %s",
			          builtin ? "built in" : "a module", p.release);
		else
			add_check(&p, "vfio_module", NULL,
			          json_object_size(pt) ? SNAP_CHECK_FAIL : SNAP_CHECK_WARN,
			          "%s has no vfio-pci (neither built in nor in modules.dep)",
			          p.release);
	}
	check_cmdline(&p, bootcmd);

	/* every passthrough device */
	covered = snap_passthrough__covered(p.snap);
	find_vfio_loaders(&p, pt);
	p.vfio_in_init =
	    p.init_ok && vfio_loadable(&p, &p.init) &&
	    (*p.vfio_by[ST_INITRAMFS] || snap_json__has_string(p.conf_modules, "vfio_pci"));
	json_object_foreach (pt, bdf, v)
		predict_device(&p, bdf, v, json_object_get(covered, bdf) != NULL);
	if (!json_object_size(pt))
		add_check(&p, "binding", NULL, SNAP_CHECK_PASS,
		          "no passthrough devices in the snapshot: nothing to predict");
	json_decref(pt);
	json_decref(covered);

	if (!(res = calloc(1, sizeof(*res)))) {
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
