/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * IOMMU groups as sysfs shows them (kernel/iommu_groups/N/devices and its type), checked against
 * the devices' own iommu_group links, and the kernel's multifunction flag of each slot.
 */
#include "collect/collector.h"
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

static int cmp_json_str(const void *a, const void *b)
{
	return strcmp(json_string_value(*(json_t *const *)a),
	              json_string_value(*(json_t *const *)b));
}

static int cmp_group_id(const void *a, const void *b)
{
	json_int_t x = json_integer_value(json_object_get(*(json_t *const *)a, "id"));
	json_int_t y = json_integer_value(json_object_get(*(json_t *const *)b, "id"));

	return (x > y) - (x < y);
}

/* sys/kernel/iommu_groups/N/{devices/<bdf>,type}; fills device iommu_group where the link lacked.
 */
/* A group's type, read relative to the groups directory, the descriptor kept in fds */
static json_t *group_type(struct collector *c, int gfd, const char *name, struct snap_fdset *fds)
{
	char rel[300], *data = NULL;
	struct stat st;
	json_t *v;

	snprintf(rel, sizeof(rel), "%s/type", name);
	/* a captured root may hold anything: only a regular file is opened (sysfs holds no
	 * device nodes, so the live root is not asked) */
	if (!c->r.is_slash &&
	    (fstatat(gfd, rel, &st, AT_SYMLINK_NOFOLLOW) < 0 || !S_ISREG(st.st_mode)))
		return json_null();
	if (fds->n == SNAP_FDSET_MAX)
		snap_fdset__close(fds);
	if (snap_root__read_at_keep(&data, NULL, gfd, rel, ATTR_MAX, fds) < 0)
		return json_null();
	data = snap_collect__utf8(c, data, "iommu group type");
	v = data ? json_string(snap_parse__trim(data)) : NULL;
	free(data);
	return v ? v : json_null();
}

json_t *snap_collect__groups(struct collector *c, json_t *devices)
{
	json_t *groups = json_array(), *byid = json_object();
	char **names = NULL, *canon = NULL;
	size_t n = 0, i;
	json_t *dev;
	bool linked = true; /* every device names its group by its iommu_group link */
	int gfd = -1;

	json_array_foreach (devices, i, dev)
		linked &= json_is_integer(json_object_get(dev, "iommu_group"));
	if (snap_root__resolve(&canon, &c->r, "sys/kernel/iommu_groups") == 0)
		gfd = snap_root__opendir(&c->r, canon);
	free(canon);
	if (gfd >= 0 && snap_root__list(&names, &n, &c->r, "sys/kernel/iommu_groups") == 0) {
		struct snap_fdset fds = {.n = 0};

		for (i = 0; i < n; i++) {
			char rel[512], **members = NULL;
			size_t m = 0;
			long id;
			json_t *list = json_array(), *g;

			if (snap_parse__int(&id, names[i]) < 0 || id < 0)
				continue;
			/* membership from the devices' links when every device has one (the
			 * kernel makes both from the same group); else from the directory */
			snprintf(rel, sizeof(rel), "sys/kernel/iommu_groups/%s/devices", names[i]);
			if (!linked && snap_root__list(&members, &m, &c->r, rel) == 0) {
				for (size_t j = 0; j < m; j++)
					if (snap_devdir__is_bdf(members[j], NULL, NULL, NULL, NULL))
						json_array_append_new(list,
						                      json_string(members[j]));
				snap_strv__free(members, m);
			}
			g = json_pack("{s:I, s:o, s:o}", "id", (json_int_t)id, "type",
			              group_type(c, gfd, names[i], &fds), "devices", list);
			json_array_append_new(groups, g);
			json_object_set_new(byid, names[i], json_incref(g));
		}
		snap_fdset__close(&fds);
		snap_strv__free(names, n);
	}
	if (gfd >= 0)
		close(gfd);
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
			json_t *list = json_object_get(g, "devices"), **v;
			size_t j, nm = json_array_size(list);

			if (nm < 2 || !(v = malloc(nm * sizeof(*v))))
				continue; /* one member, or out of memory: left as listed */
			for (j = 0; j < nm; j++)
				v[j] = json_incref(json_array_get(list, j));
			qsort(v, nm, sizeof(*v), cmp_json_str);
			json_array_clear(list);
			for (j = 0; j < nm; j++)
				json_array_append_new(list, v[j]);
			free(v);
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

/* Each device's multifunction flag as the kernel sets it, beside the raw header bit. */
void snap_collect__kernel_multifunction(json_t *devices)
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
