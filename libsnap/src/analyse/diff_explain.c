/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * After the rules: what explains what. A change that causes others (vfio modules missing, so
 * drivers changed; ACS lost on a port, so a group grew) is recorded as their "cause"; the VMs
 * whose configuration names a regressed device are named in its message ("vms"); and the
 * kernel and firmware changes that preceded a regression are the diff's "after".
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "analyse/diff.h"

#define MAX_VMS_NAMED 8

static const char *kind_of(const json_t *ch)
{
	return snap_json__str(ch, "kind");
}

static bool is_regression(const json_t *ch)
{
	const char *cls = snap_json__str(ch, "class");

	return cls && strcmp(cls, "harmless") != 0;
}

/* "kind" and "kind\nsubject" -> the index of the first such change: built once, so that
 * explaining n changes costs n lookups, not n scans of them. */
static void index_key(char *buf, size_t n, const char *kind, const char *subject)
{
	snprintf(buf, n, "%s%s%s", kind, subject ? "\n" : "", subject ? subject : "");
}

static json_t *index_changes(const json_t *changes)
{
	json_t *index = json_object(), *ch;
	size_t i;

	json_array_foreach (changes, i, ch) {
		char key[1024];

		for (int with_subject = 0; with_subject < 2; with_subject++) {
			index_key(key, sizeof(key), kind_of(ch),
			          with_subject ? snap_json__str(ch, "subject") : NULL);
			if (!json_object_get(index, key))
				json_object_set_new(index, key, json_integer((json_int_t)i));
		}
	}
	return index;
}

/* Index of the first change of kind (and subject, when not NULL), or -1. */
static int find_change(const json_t *index, const char *kind, const char *subject)
{
	const json_t *v;
	char key[1024];

	index_key(key, sizeof(key), kind, subject);
	v = json_object_get(index, key);
	return v ? (int)json_integer_value(v) : -1;
}

/* Index of an acs_lost change on a port upstream of NEW device j, or -1. */
static int acs_lost_above(const struct ctx *c, const json_t *index, int j)
{
	int guard = 0;

	for (int p = c->tn->dev[j].parent; p >= 0 && guard < 512;
	     p = c->tn->dev[p].parent, guard++) {
		int k = find_change(index, "acs_lost", c->tn->dev[p].bdf);

		if (k >= 0)
			return k;
	}
	return -1;
}

/* The change that explains change i, or -1: the first rule that applies, strongest first. */
static int cause_of(const struct ctx *c, const json_t *changes, const json_t *index, size_t i)
{
	const json_t *ch = json_array_get(changes, i);
	const char *kind = kind_of(ch), *subject = snap_json__str(ch, "subject");
	int k = -1, j;

	if (!is_regression(ch) && strcmp(kind, "groups_gone") != 0)
		return -1;
	/* no IOMMU: no groups, no vfio-pci binding, no interrupt remapping on Intel */
	if (strcmp(kind, "iommu_disabled") &&
	    (!strcmp(kind, "groups_gone") || !strcmp(kind, "driver_changed") ||
	     !strcmp(kind, "irq_remapping_disabled")) &&
	    (k = find_change(index, "iommu_disabled", NULL)) >= 0)
		return k;
	if (!strcmp(kind, "driver_changed")) {
		/* vfio-pci not loaded, or its ID list no longer naming the device */
		if ((k = find_change(index, "vfio_module_missing", "vfio_pci")) >= 0 ||
		    (k = find_change(index, "vfio_module_missing", NULL)) >= 0 ||
		    (k = find_change(index, "vfio_ids_uncovered", subject)) >= 0)
			return k;
	}
	if (!strcmp(kind, "group_grew") && subject && (j = snap_topo__find(c->tn, subject)) >= 0) {
		if ((k = acs_lost_above(c, index, j)) >= 0 ||
		    (k = find_change(index, "acs_override_removed", NULL)) >= 0)
			return k;
	}
	if (!strcmp(kind, "vm_device_changed") &&
	    (k = find_change(index, "devices_renumbered", NULL)) >= 0)
		return k;
	return -1;
}

/* "VM 100 (win11-gpu)", "VM win11" (libvirt: the id is the name) or "VM 100". */
static void vm_label(char *buf, size_t n, const json_t *vm)
{
	const char *id = snap_json__str(vm, "id"), *name = snap_json__str(vm, "name");

	if (id && name && strcmp(id, name))
		snprintf(buf, n, "VM %s (%s)", id, name);
	else
		snprintf(buf, n, "VM %s", id ? id : name ? name : "?");
}

/* OLD's bdf -> [VM labels] for every device a VM configuration names. */
static json_t *vms_by_device(const json_t *old_root)
{
	json_t *by = json_object(), *vm, *hd, *d;
	size_t i, k, m;

	json_array_foreach (json_object_get(old_root, "vms"), i, vm) {
		char label[300];

		vm_label(label, sizeof(label), vm);
		json_array_foreach (json_object_get(vm, "hostdevs"), k, hd) {
			json_array_foreach (json_object_get(hd, "devices"), m, d) {
				const char *bdf = json_string_value(d);
				json_t *list;
				size_t x;
				json_t *have;
				bool seen = false;

				if (!bdf)
					continue;
				if (!(list = json_object_get(by, bdf))) {
					list = json_array();
					json_object_set_new(by, bdf, list);
				}
				json_array_foreach (list, x, have)
					seen |= !strcmp(json_string_value(have), label);
				if (!seen)
					json_array_append_new(list, json_string(label));
			}
		}
	}
	return by;
}

/* The OLD bdf a change's subject names (NEW's devices mapped by identity), or NULL. */
static const char *old_bdf_of(const struct ctx *c, const char *subject)
{
	int j, i;

	if (!subject)
		return NULL;
	if ((j = snap_topo__find(c->tn, subject)) >= 0)
		return (i = c->n2o[j]) >= 0 ? c->to->dev[i].bdf : NULL;
	return (i = snap_topo__find(c->to, subject)) >= 0 ? subject : NULL;
}

/* Rewrite the message of ch as its text, then sentence, then its next step as before. */
static void insert_sentence(json_t *ch, const char *sentence)
{
	const char *msg = snap_json__str(ch, "message"), *next = snap_json__str(ch, "next_step");
	size_t len = strlen(msg), tail = 0;
	snap_buf b = SNAP_BUF_INIT;
	char *text;

	if (next && *next) {
		size_t nl = strlen(next) + strlen(" Next: ");

		if (len >= nl && !strncmp(msg + len - nl, " Next: ", 7) &&
		    !strcmp(msg + len - nl + 7, next))
			tail = nl;
	}
	snap_buf__put(&b, msg, len - tail);
	snap_buf__printf(&b, " %s", sentence);
	if (tail)
		snap_buf__put(&b, msg + len - tail, tail);
	if ((text = snap_buf__detach(&b))) {
		json_object_set_new(ch, "message", json_string(text));
		free(text);
	}
}

static void name_vms(const struct ctx *c, json_t *changes)
{
	json_t *by = vms_by_device(c->o), *ch;
	size_t i;

	json_array_foreach (changes, i, ch) {
		const char *bdf = old_bdf_of(c, snap_json__str(ch, "subject"));
		const json_t *list = bdf ? json_object_get(by, bdf) : NULL;
		snap_buf b = SNAP_BUF_INIT;
		const json_t *v;
		char *sentence;
		size_t k, n = json_array_size(list);

		if (!is_regression(ch) || !n)
			continue;
		json_array_foreach (list, k, v) {
			if (k == MAX_VMS_NAMED) {
				snap_buf__printf(&b, " and %zu more", n - MAX_VMS_NAMED);
				break;
			}
			snap_buf__printf(&b, "%s%s", k ? (k + 1 == n ? " and " : ", ") : "",
			                 json_string_value(v));
		}
		if (!strcmp(snap_json__str(ch, "class"), "isolation_loss"))
			snap_buf__printf(&b, " still start%s, with the device no longer isolated.",
			                 n == 1 ? "s" : "");
		else
			snap_buf__puts(&b, " will not start.");
		if ((sentence = snap_buf__detach(&b))) {
			insert_sentence(ch, sentence);
			free(sentence);
		}
		json_object_set_new(ch, "vms", json_deep_copy(list));
	}
	json_decref(by);
}

/* "kernel 6.8.12-4-pve -> 6.8.12-5-pve", "BIOS 2.1 -> 2.3": what preceded the regressions. */
static json_t *preceded_by(const json_t *changes)
{
	json_t *after = json_array(), *ch;
	size_t i;

	json_array_foreach (changes, i, ch) {
		const char *kind = kind_of(ch), *subject = snap_json__str(ch, "subject");
		const char *o = json_string_value(json_object_get(ch, "old"));
		const char *n = json_string_value(json_object_get(ch, "new"));
		const char *what = NULL;
		char line[512];

		if (!strcmp(kind, "kernel_release"))
			what = "kernel";
		else if (!strcmp(kind, "firmware") && subject &&
		         !strcmp(subject, "firmware bios_version"))
			what = "BIOS";
		if (!what)
			continue;
		snprintf(line, sizeof(line), "%s %s -> %s", what, o ? o : "unknown",
		         n ? n : "unknown");
		json_array_append_new(after, json_string(line));
	}
	return after;
}

json_t *snap_diff__explain(const struct ctx *c, json_t *changes, bool regression)
{
	size_t i, n = json_array_size(changes);
	int *cause = n ? malloc(n * sizeof(int)) : NULL;

	if (n && !cause)
		return NULL;
	{
		json_t *index = index_changes(changes);

		for (i = 0; i < n; i++)
			cause[i] = cause_of(c, changes, index, i);
		json_decref(index);
	}
	for (i = 0; i < n; i++) {
		int k = cause[i];

		/* a cause explained in turn (groups_gone <- iommu_disabled): go to the root */
		for (int hops = 0; k >= 0 && cause[k] >= 0 && hops < 8; hops++)
			k = cause[k];
		if (k >= 0 && (size_t)k != i)
			json_object_set_new(json_array_get(changes, i), "cause", json_integer(k));
	}
	free(cause);
	name_vms(c, changes);
	if (!regression)
		return json_array();
	return preceded_by(changes);
}
