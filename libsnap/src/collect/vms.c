/* SPDX-License-Identifier: GPL-2.0-or-later */
/* VM configurations that name devices: Proxmox qemu-server and libvirt domains. */
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

/* Proxmox and libvirt VM configurations, with their addresses resolved to present devices. */
json_t *snap_collect__vms(struct collector *c, const json_t *devices)
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
			if (!(text = snap_collect__read_text(c, rel, TEXT_MAX)))
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
			if (!(text = snap_collect__read_text(c, rel, TEXT_MAX)))
				continue;
			if (!(vm = snap_parse__libvirt(text, rel)))
				snap_snapshot__warn(
				    c->s,
				    "%s is not a libvirt domain (not well-formed XML): "
				    "the devices it may pass are not counted",
				    rel);
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
