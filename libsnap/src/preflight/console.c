/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * The boot GPU handed to vfio-pci: the firmware framebuffer on it and the host's console.
 *
 * The firmware leaves a framebuffer in the boot GPU's BAR. A driver built into the next kernel
 * claims it at boot: efifb (CONFIG_FB_EFI), vesafb (CONFIG_FB_VESA), simplefb or simpledrm
 * (CONFIG_FB_SIMPLE, CONFIG_DRM_SIMPLEDRM with CONFIG_SYSFB_SIMPLEFB), each on the platform
 * device sysfb_init() registers (drivers/firmware/sysfb.c). Held, the region makes the VM fail
 * ("vfio-pci ...: BAR 0: can't reserve"), unless the command line keeps them off
 * (video=efifb:off, video=vesafb:off, video=simplefb:off, initcall_blacklist=sysfb_init), or
 * vfio-pci removes them itself when it binds a VGA device: vfio_pci_vga_init() calls
 * aperture_remove_conflicting_pci_devices() (drivers/vfio/pci/vfio_pci_core.c, Linux 6.0 on).
 * Whether the next kernel's vfio-pci does is read from its module, which names the function it
 * calls. Either way the host has no local console on that GPU afterwards.
 */
#include <archive.h>
#include <archive_entry.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "preflight/pf.h"

#define KO_MAX (64u << 20) /* a module, decompressed */

/* Does the next kernel's vfio-pci (core) module call name? 1 yes, 0 no, -1 cannot tell. */
static int module_calls(const struct pf *p, const char *name)
{
	static const char *const files[] = {"kernel/drivers/vfio/pci/vfio-pci-core.ko",
	                                    "kernel/drivers/vfio/pci/vfio-pci.ko"};
	static const char *const sfx[] = {"", ".xz", ".zst", ".gz"};

	for (size_t f = 0; f < SNAP_ARRAY_SIZE(files); f++)
		for (size_t s = 0; s < SNAP_ARRAY_SIZE(sfx); s++) {
			char rel[512], *data = NULL, *plain = NULL;
			size_t len = 0, plen = 0;
			struct archive *a;
			struct archive_entry *e;
			int found = -1;

			snprintf(rel, sizeof(rel), "lib/modules/%s/%s%s", p->release, files[f],
			         sfx[s]);
			if (snap_root__read(&data, &len, &p->r, rel, KO_MAX) < 0)
				continue;
			if (!*sfx[s]) {
				found = memmem(data, len, name, strlen(name)) != NULL;
				free(data);
				return found;
			}
			/* a compressed module, decompressed by libarchive (bounded) */
			if ((a = archive_read_new())) {
				archive_read_support_filter_all(a);
				archive_read_support_format_raw(a);
				if (archive_read_open_memory(a, data, len) == ARCHIVE_OK &&
				    archive_read_next_header(a, &e) == ARCHIVE_OK &&
				    (plain = malloc(KO_MAX))) {
					la_ssize_t got;

					while (plen < KO_MAX &&
					       (got = archive_read_data(a, plain + plen,
					                                KO_MAX - plen)) > 0)
						plen += (size_t)got;
					found = memmem(plain, plen, name, strlen(name)) != NULL;
				}
				archive_read_free(a);
			}
			free(plain);
			free(data);
			return found;
		}
	return -1;
}

/* Does the next command line have key=value, or value among key's comma-separated list
 * (initcall_blacklist=a,b as init/main.c's initcall_blacklist() splits it)? */
static bool token(const struct pf *p, const char *key, const char *value)
{
	const json_t *v;
	size_t i;

	json_array_foreach (p->next_tokens, i, v) {
		const char *k = snap_json__str(v, "key"), *val = snap_json__str(v, "value");
		size_t n = strlen(value);

		if (!k || !val || strcmp(k, key))
			continue;
		for (const char *s = val; *s; s += strcspn(s, ",") + (s[strcspn(s, ",")] == ',')) {
			if (strcspn(s, ",") == n && !strncmp(s, value, n))
				return true;
		}
	}
	return false;
}

void snap_pf__check_console(struct pf *p, const json_t *pt)
{
	const json_t *devices = json_object_get(p->snap, "devices"), *d, *gpu = NULL;
	size_t i, displays = 0;
	snap_buf held = SNAP_BUF_INIT;
	bool sysfb_off;
	int kicks;

	json_array_foreach (devices, i, d) {
		const char *cls = snap_json__str(d, "class");

		if (!cls || strncmp(cls, "03", 2))
			continue;
		displays++;
		if (json_is_true(json_object_get(d, "boot_vga")))
			gpu = d;
	}
	if (!gpu || !json_object_get(pt, snap_json__str(gpu, "bdf")))
		return; /* the boot GPU stays with the host */
	if (displays == 1)
		snap_pf__add_check(p, "console", snap_json__str(gpu, "bdf"), SNAP_CHECK_WARN,
		                   "%s is the host's only display device and goes to vfio-pci: no "
		                   "local console once it binds (keep a serial console, "
		                   "console=ttyS0, or the BMC's)",
		                   snap_json__str(gpu, "bdf"));
	if (!p->kconfig || !json_object_size(p->kconfig) || !p->next_tokens) {
		snap_pf__add_check(
		    p, "framebuffer", snap_json__str(gpu, "bdf"), SNAP_CHECK_WARN,
		    "cannot tell whether a firmware framebuffer driver will hold %s: "
		    "%s unknown",
		    snap_json__str(gpu, "bdf"),
		    p->next_tokens ? "the kernel's config (boot/config-VER) is"
		                   : "the next command line is");
		return;
	}
	sysfb_off = token(p, "initcall_blacklist", "sysfb_init");
	{
		static const struct {
			const char *config, *name, *off;
		} fb[] = {
		    {"CONFIG_FB_EFI", "efifb", "efifb:off"},
		    {"CONFIG_FB_VESA", "vesafb", "vesafb:off"},
		    {"CONFIG_FB_SIMPLE", "simplefb", "simplefb:off"},
		    {"CONFIG_DRM_SIMPLEDRM", "simpledrm", NULL},
		};

		for (size_t k = 0; k < SNAP_ARRAY_SIZE(fb); k++) {
			const char *v = snap_json__str(p->kconfig, fb[k].config);

			if (!v || strcmp(v, "y") || sysfb_off ||
			    (fb[k].off && token(p, "video", fb[k].off)))
				continue;
			if ((!strcmp(fb[k].name, "simpledrm") || !strcmp(fb[k].name, "simplefb")) &&
			    !(snap_json__str(p->kconfig, "CONFIG_SYSFB_SIMPLEFB") &&
			      !strcmp(snap_json__str(p->kconfig, "CONFIG_SYSFB_SIMPLEFB"), "y")))
				continue; /* simpledrm binds only the simple-framebuffer sysfb makes
				           */
			snap_buf__printf(&held, "%s%s", held.len ? ", " : "", fb[k].name);
		}
	}
	if (!held.len) {
		snap_pf__add_check(
		    p, "framebuffer", snap_json__str(gpu, "bdf"), SNAP_CHECK_PASS,
		    "no firmware framebuffer driver will hold %s (none built into %s, "
		    "or the command line keeps them off)",
		    snap_json__str(gpu, "bdf"), p->release);
		return;
	}
	kicks = module_calls(p, "aperture_remove_conflicting_pci_devices");
	if (kicks == 1)
		snap_pf__add_check(
		    p, "framebuffer", snap_json__str(gpu, "bdf"), SNAP_CHECK_PASS,
		    "%s will hold the firmware framebuffer of %s until vfio-pci binds "
		    "it: vfio-pci of %s removes it then "
		    "(aperture_remove_conflicting_pci_devices)",
		    held.ptr, snap_json__str(gpu, "bdf"), p->release);
	else
		snap_pf__add_check(p, "framebuffer", snap_json__str(gpu, "bdf"), SNAP_CHECK_WARN,
		                   "%s (built into %s) will hold the firmware framebuffer in %s's "
		                   "BAR, and vfio-pci "
		                   "%s: the VM fails with \"BAR 0: can't reserve\"; add "
		                   "initcall_blacklist=sysfb_init "
		                   "(or video=efifb:off) to the command line",
		                   held.ptr, p->release, snap_json__str(gpu, "bdf"),
		                   kicks == 0 ? "of this kernel does not remove it"
		                              : "may not remove it (its module could not be read)");
	snap_buf__release(&held);
}
