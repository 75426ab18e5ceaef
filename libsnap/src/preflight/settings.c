/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * The next boot's own settings, beside who claims each device (predict.c): the command line's
 * IOMMU and vfio options as the kernel's parsers read them, and the initramfs: read whole or
 * not, where the kernel stops unpacking it, its vfio modules and options against the root's.
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

static bool truthy(const char *v)
{
	return v && (!strcmp(v, "1") || !strcasecmp(v, "y") || !strcasecmp(v, "on") || !*v);
}

void snap_pf__check_cmdline(struct pf *p, const json_t *bootcmd)
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
			snap_pf__add_check(p, "cmdline_source", NULL, SNAP_CHECK_WARN, "%s",
			                   json_string_value(note));
		snap_pf__add_check(p, "cmdline", NULL, SNAP_CHECK_WARN,
		                   json_array_size(notes)
		                       ? "the command line of %s is unknown (above)"
		                       : "the command line of %s is unknown: no boot loader entry, "
		                         "etc/kernel/cmdline or etc/default/grub found",
		                   p->release);
		snap_pf__add_unknown(p, "the next command line");
		return;
	}
	json_array_foreach (notes, i, note)
		snap_pf__add_check(p, "cmdline_source", NULL,
		                   json_is_true(json_object_get(bootcmd, "stale"))
		                       ? SNAP_CHECK_WARN
		                       : SNAP_CHECK_PASS,
		                   "%s", json_string_value(note));
	/* each option by the kernel's own parser, every occurrence counted (analyse/cmdline.c),
	 * and only for the IOMMU this host has: intel_iommu= means nothing to an AMD host */
	if (vendor && !strcmp(vendor, "intel") && snap_cmdline__intel_iommu(cur) == SNAP_YES &&
	    snap_cmdline__intel_iommu(n) != SNAP_YES) {
		const char *def = snap_json__str(p->kconfig, "CONFIG_INTEL_IOMMU_DEFAULT_ON");

		if (def && !strcmp(def, "y") && snap_cmdline__intel_iommu(n) != SNAP_NO)
			snap_pf__add_check(
			    p, "cmdline", NULL, SNAP_CHECK_PASS,
			    "intel_iommu=on is not on the next command line (%s), and %s turns "
			    "the IOMMU on by itself (CONFIG_INTEL_IOMMU_DEFAULT_ON=y)",
			    src, p->release);
		else
			snap_pf__add_check(
			    p, "cmdline", NULL, SNAP_CHECK_FAIL,
			    "after reboot into %s the IOMMU will be off: %s on the command "
			    "line (%s); put intel_iommu=on back (last) and regenerate the "
			    "boot entries",
			    p->release,
			    snap_cmdline__intel_iommu(n) == SNAP_NO ? "intel_iommu=off is last"
			                                            : "intel_iommu=on is gone",
			    src);
	} else {
		const char *why_n = NULL, *why_c = NULL;

		if (snap_cmdline__iommu_disabled(n, vendor, &why_n) &&
		    !snap_cmdline__iommu_disabled(cur, vendor, &why_c))
			snap_pf__add_check(
			    p, "cmdline", NULL, SNAP_CHECK_FAIL,
			    "after reboot into %s the IOMMU will be off: %s on the command "
			    "line (%s)",
			    p->release, why_n, src);
	}
	if (snap_cmdline__intremap(n) == SNAP_NO && snap_cmdline__intremap(cur) != SNAP_NO)
		snap_pf__add_check(
		    p, "cmdline", NULL, SNAP_CHECK_FAIL,
		    "after reboot into %s interrupt remapping will be off: intremap=off (or "
		    "nointremap) on the command line (%s)",
		    p->release, src);
	if (OPT(n, "pcie_acs_override") &&
	    (!OPT(cur, "pcie_acs_override") ||
	     strcmp(OPT(n, "pcie_acs_override"), OPT(cur, "pcie_acs_override"))))
		snap_pf__add_check(
		    p, "cmdline", NULL, SNAP_CHECK_FAIL,
		    "after reboot into %s, pcie_acs_override=%s splits groups the hardware "
		    "does not isolate (isolation asserted, not enforced) (%s)",
		    p->release, OPT(n, "pcie_acs_override"), src);
	if (truthy(OPT(n, "vfio_iommu_type1.allow_unsafe_interrupts")) &&
	    !truthy(OPT(cur, "vfio_iommu_type1.allow_unsafe_interrupts")))
		snap_pf__add_check(
		    p, "cmdline", NULL, SNAP_CHECK_FAIL,
		    "after reboot into %s vfio allows unsafe interrupts "
		    "(vfio_iommu_type1.allow_unsafe_interrupts on the command line, %s)",
		    p->release, src);
	if (truthy(OPT(n, "vfio.enable_unsafe_noiommu_mode")) &&
	    !truthy(OPT(cur, "vfio.enable_unsafe_noiommu_mode")))
		snap_pf__add_check(p, "cmdline", NULL, SNAP_CHECK_FAIL,
		                   "after reboot into %s vfio runs without an IOMMU "
		                   "(vfio.enable_unsafe_noiommu_mode on the command line, %s)",
		                   p->release, src);
	if (OPT(cur, "pcie_acs_override") && !OPT(n, "pcie_acs_override")) {
		snap_topo *t = snap_analysis__topo(p->an);
		json_t *pt = snap_analysis__passthrough(p->an);
		const char *bdf;
		json_t *v;

		if (t && pt) {
			json_object_foreach (pt, bdf, v) {
				int k = snap_topo__find(t, bdf), other = -1;
				const char *why = NULL;
				char a[512], b[512];

				if (k < 0 ||
				    snap_topo__isolation_asserted(t, k, &other, &why) != SNAP_YES ||
				    other < 0)
					continue;
				snap_topo__label(t, k, a, sizeof(a));
				snap_topo__label(t, other, b, sizeof(b));
				snap_pf__add_check(
				    p, "cmdline", bdf, SNAP_CHECK_FAIL,
				    "after reboot into %s, pcie_acs_override is gone: %s will "
				    "share its IOMMU group with %s, as its hardware's ACS "
				    "implies%s%s",
				    p->release, a, b, why ? ": " : "", why ? why : "");
			}
		}
	}
	if (p->count[SNAP_CHECK_FAIL] == fails)
		snap_pf__add_check(
		    p, "cmdline", NULL, SNAP_CHECK_PASS,
		    "the IOMMU settings of the next command line (%s) are what they are now", src);
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

void snap_pf__check_initramfs(struct pf *p, const char *shown)
{
	json_t *w;
	size_t i;

	if (p->init_absent) {
		snap_pf__add_check(p, "initramfs", NULL, SNAP_CHECK_WARN,
		                   "no initramfs for %s (%s): update-initramfs -c -k %s",
		                   p->release, shown, p->release);
		snap_pf__add_unknown(p, "the initramfs of %s", p->release);
		return;
	}
	if (p->ir.error) {
		snap_pf__add_check(p, "initramfs", NULL, SNAP_CHECK_WARN,
		                   "cannot tell what the initramfs does: %s", p->ir.error);
		snap_pf__add_unknown(p, "the initramfs (%s)", p->ir.error);
	} else if (!p->init_ok && p->init.bad_index) {
		snap_pf__add_check(
		    p, "initramfs", NULL, SNAP_CHECK_WARN,
		    "cannot tell what the initramfs does: %s's %s is not an index libkmod "
		    "reads safely (update-initramfs -u -k %s)",
		    shown, p->init.bad_index, p->release);
		snap_pf__add_unknown(p, "the initramfs's modules for %s (%s)", p->release,
		                     p->init.bad_index);
	} else if (!p->init_ok) {
		const char *rel;
		json_t *v;
		snap_buf b = SNAP_BUF_INIT;

		json_object_foreach (json_object_get(p->ir.info, "releases"), rel, v)
			snap_buf__printf(&b, "%s%s", b.len ? ", " : "", rel);
		snap_pf__add_check(
		    p, "initramfs", NULL, SNAP_CHECK_WARN,
		    "%s has no modules index for %s%s%s%s: update-initramfs -u -k %s", shown,
		    p->release, b.len ? " (it has " : "", b.len ? b.ptr : "", b.len ? ")" : "",
		    p->release);
		snap_buf__release(&b);
		snap_pf__add_unknown(p, "the initramfs's modules for %s", p->release);
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
		snap_pf__add_check(p, "initramfs", NULL, SNAP_CHECK_PASS,
		                   "%s read: %zu archive%s (%s), %zu members, %zu modules", shown,
		                   json_array_size(segs), json_array_size(segs) == 1 ? "" : "s",
		                   b.ptr, members, json_object_size(p->ir.modules));
		snap_buf__release(&b);
	}
	json_array_foreach (json_object_get(p->ir.info, "warnings"), i, w)
		snap_pf__add_check(p, "initramfs", NULL, SNAP_CHECK_WARN, "%s: %s", shown,
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
		snap_pf__add_check(
		    p, "initramfs_vfio", NULL, SNAP_CHECK_PASS, "%s%s%s%s%s", in.len ? in.ptr : "",
		    in.len ? " in the initramfs" : "", in.len && out.len ? "; " : "",
		    out.len ? out.ptr : "",
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

			snap_pf__add_check(
			    p, "initramfs_config", NULL, SNAP_CHECK_WARN,
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
