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
#include <strings.h>
#include <sys/stat.h>
#include <unistd.h>

#include "preflight/pf.h"
#include "render/render.h"

static const char *const stage_name[] = {"kernel", "initramfs", "root"};
static const char *const stage_words[] = {"built into the kernel", "from the initramfs",
                                          "after the switch to the root file system"};

void snap_pf__add_check(struct pf *p, const char *id, const char *subject, snap_check_status st,
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

void snap_pf__add_unknown(struct pf *p, const char *fmt, ...)
{
	char msg[1024];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	json_array_append_new(p->unknown, json_string(msg));
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
		char *dup = snap_mem__strdup(conf), *save = NULL;

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
bool snap_pf__vfio_loadable(const struct pf *p, const struct snap_kmodview *v)
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
	bool cover = ids_cover(ids, dev), loadable = snap_pf__vfio_loadable(p, v) || kept;
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
void snap_pf__find_vfio_loaders(struct pf *p, const json_t *pt)
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
			    !snap_pf__vfio_loadable(p, kv) ||
			    !(cands = snap_kmodview__lookup(kv, modalias)))
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

void snap_pf__predict_device(struct pf *p, const char *bdf, const json_t *reasons, bool covered_now)
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
			    : !snap_pf__vfio_loadable(p, &p->root)
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
		snap_pf__add_check(p, "binding", bdf, st, "%s", msg);
	}
	json_array_append_new(p->devices, rec);
	json_decref(claim);
	json_decref(cands_root);
	json_decref(cands_init);
}
