/* SPDX-License-Identifier: GPL-2.0-or-later */
/* Store operations and revision parsing on a temporary store. */
#include <criterion/criterion.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "snap/fleet.h"
#include "snap/store.h"
#include "store/store_internal.h"

static char dir[128];
static snap_store *st;

static snap_snapshot *snap_of(const char *host, const char *when, const char *kernel)
{
	json_t *root =
	    json_pack("{s:s, s:{s:s, s:s}, s:{s:s}, s:{}, s:{}, s:[], s:[]}", "schema",
	              "pcisnap.snapshot/1", "host", "hostname", host, "collected_at", when,
	              "kernel", "release", kernel, "firmware", "iommu", "groups", "devices");
	char *text = json_dumps(root, 0);
	snap_snapshot *s = NULL;
	snap_error err = {0};

	cr_assert_eq(snap_snapshot_load_buffer(&s, text, strlen(text), &err), 0, "%s", err.message);
	free(text);
	json_decref(root);
	return s;
}

static void setup(void)
{
	snap_error err = {0};

	snprintf(dir, sizeof(dir), "/tmp/pcisnap-store-XXXXXX");
	cr_assert_not_null(mkdtemp(dir));
	cr_assert_eq(snap_store_open(&st, dir, 1, &err), 0, "%s", err.message);
	snap_store_set_summary(st, snap_fleet_summary, NULL);
}

static void teardown(void)
{
	char cmd[256];

	snap_store_free(st);
	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", dir);
	cr_assert_eq(system(cmd), 0);
}

TestSuite(store, .init = setup, .fini = teardown);

static void commit(const char *host, const char *when, const char *kernel, const char *label)
{
	snap_snapshot *s = snap_of(host, when, kernel);
	snap_error err = {0};
	snap_oid oid;

	cr_assert_eq(snap_store_commit(&oid, st, s, label, &err), 0, "%s", err.message);
	cr_assert_eq(strlen(oid.hex), 40);
	snap_snapshot_free(s);
}

static const char *kernel_of(const char *rev)
{
	static char buf[64];
	snap_snapshot *s = NULL;
	snap_error err = {0};

	if (snap_store_load(&s, st, rev, &err) < 0)
		return NULL;
	snprintf(buf, sizeof(buf), "%s",
	         snap_json__str(json_object_get(s->root, "kernel"), "release"));
	snap_snapshot_free(s);
	return buf;
}

Test(store, revisions_host_tilde_label_and_commit)
{
	snap_error err = {0};
	snap_oid oid;
	snap_snapshot *s;

	commit("web-07", "2026-01-01T00:00:00Z", "6.1", NULL);
	commit("web-07", "2026-01-02T00:00:00Z", "6.2", "golden");
	commit("web-07", "2026-01-03T00:00:00Z", "6.3", NULL);
	cr_assert_str_eq(kernel_of("web-07"), "6.3");
	cr_assert_str_eq(kernel_of("web-07~1"), "6.2");
	cr_assert_str_eq(kernel_of("web-07~2"), "6.1");
	cr_assert_str_eq(kernel_of("web-07@golden"), "6.2");
	cr_assert_null(kernel_of("web-07~3"));
	cr_assert_null(kernel_of("web-07@nope"));
	cr_assert_null(kernel_of("other"));
	cr_assert_null(kernel_of("web-07~x"));
	/* a commit id resolves, and so does a unique prefix */
	s = snap_of("web-08", "2026-01-04T00:00:00Z", "6.4");
	cr_assert_eq(snap_store_commit(&oid, st, s, NULL, &err), 0);
	snap_snapshot_free(s);
	cr_assert_str_eq(kernel_of(oid.hex), "6.4");
	oid.hex[10] = '\0';
	cr_assert_str_eq(kernel_of(oid.hex), "6.4");
}

Test(store, labels_are_unique_per_host)
{
	snap_error err = {0};

	commit("db-1", "2026-01-01T00:00:00Z", "6.1", "a");
	cr_assert_eq(snap_store_label(st, "db-1", "a", &err), SNAP_EINVALID);
	cr_assert_eq(snap_store_label(st, "db-1", "b", &err), 0, "%s", err.message);
	cr_assert_eq(snap_store_label(st, "db-1", "bad/name", &err), SNAP_EINVALID);
}

Test(store, host_names_must_make_branches)
{
	snap_snapshot *s = snap_of("bad/host", "2026-01-01T00:00:00Z", "6.1");
	snap_error err = {0};

	cr_assert_eq(snap_store_commit(NULL, st, s, NULL, &err), SNAP_EINVALID);
	cr_assert_not_null(strstr(err.message, "bad/host"));
	snap_snapshot_free(s);
}

Test(store, log_and_hosts_read_messages)
{
	snap_error err = {0};
	char *text = NULL;

	commit("a-1", "2026-01-01T00:00:00Z", "6.1", NULL);
	commit("a-1", "2026-01-02T00:00:00Z", "6.2", "x");
	commit("b-1", "2026-01-02T00:00:00Z", "6.2", NULL);
	cr_assert_eq(snap_store_log(&text, st, "a-1", &err), 0, "%s", err.message);
	cr_assert_not_null(strstr(text, "KERNEL"));  /* a table: a header, then the rows */
	cr_assert_not_null(strstr(text, "  6.2  ")); /* the kernel column */
	cr_assert_not_null(strstr(text, " x "));
	cr_assert_not_null(strstr(text, "harmless (against"));
	cr_assert_not_null(strstr(text, "first snapshot"));
	free(text);
	cr_assert_eq(snap_store_hosts(&text, st, &err), 0);
	cr_assert_not_null(strstr(text, "a-1"));
	cr_assert_not_null(strstr(text, "b-1"));
	free(text);
	cr_assert_eq(snap_store_log(&text, st, "zzz", &err), SNAP_ENOTFOUND);
}

Test(store, reopen_requires_the_marker)
{
	snap_store *again = NULL;
	snap_error err = {0};
	char cmd[600];

	cr_assert_eq(snap_store_open(&again, dir, 0, &err), 0, "%s", err.message);
	snap_store_free(again);
	/* somebody's own repository: not ours, whatever create says */
	snprintf(cmd, sizeof(cmd),
	         "git -C '%s' config --unset pcisnap.store && echo mine >'%s/description'", dir,
	         dir);
	cr_assert_eq(system(cmd), 0);
	cr_assert_eq(snap_store_open(&again, dir, 1, &err), SNAP_EINVALID);
	cr_assert_not_null(strstr(err.message, "not a pcisnap store"));
}

Test(store, a_half_made_store_is_completed_not_refused)
{
	snap_store *again = NULL;
	snap_error err = {0};
	char cmd[600];

	/* what a collect killed between creating the repository and marking it left */
	snprintf(cmd, sizeof(cmd), "git -C '%s' config --unset pcisnap.store", dir);
	cr_assert_eq(system(cmd), 0);
	cr_assert_eq(snap_store_open(&again, dir, 0, &err), SNAP_EINVALID); /* reading: no */
	cr_assert_eq(snap_store_open(&again, dir, 1, &err), 0, "%s", err.message);
	snap_store_free(again);
	cr_assert_eq(snap_store_open(&again, dir, 0, &err), 0, "%s", err.message); /* marked */
	snap_store_free(again);
}

/* The store records what its caller's summary gives, with the real parent, and nothing else. */
struct seen {
	int calls;
	char parent[3][41]; /* parent_id per call, "" for none */
	int had_parent[3];  /* the parent snapshot was handed over */
};

static int record_parent(snap_store_fields *f, const snap_snapshot *s, const snap_snapshot *parent,
                         const char *parent_id, void *payload)
{
	struct seen *seen = payload;

	(void)s;
	if (seen->calls < 3) {
		snprintf(seen->parent[seen->calls], 41, "%s", parent_id ? parent_id : "");
		seen->had_parent[seen->calls] = parent != NULL;
	}
	seen->calls++;
	cr_assert_eq(snap_store_fields_add(f, "Bad-Key", "x"), SNAP_EINVALID);
	cr_assert_eq(snap_store_fields_add(f, "", "x"), SNAP_EINVALID);
	return snap_store_fields_add(f, "note", "line\nbreak");
}

Test(store, the_summary_comes_from_the_caller)
{
	struct seen seen = {0};
	snap_error err = {0};
	snap_oid first, tip;
	char *text = NULL;

	snap_store_set_summary(st, record_parent, &seen);
	commit("c-1", "2026-01-01T00:00:00Z", "6.1", NULL);
	cr_assert_eq(snap_store_tip(&first, st, "c-1", &err), 0);
	commit("c-1", "2026-01-02T00:00:00Z", "6.2", NULL);
	cr_assert_eq(seen.calls, 2);
	cr_assert_str_eq(seen.parent[0], "");
	cr_assert_eq(seen.had_parent[0], 0);
	cr_assert_str_eq(seen.parent[1], first.hex);
	cr_assert_eq(seen.had_parent[1], 1);
	cr_assert_eq(snap_store_tip(&tip, st, "c-1", &err), 0);
	cr_assert_eq(snap_store_log(&text, st, "c-1", &err), 0, "%s", err.message);
	/* no check or verdict was given, so none is shown; the escaped value cannot start a line */
	cr_assert_null(strstr(text, "harmless"));
	cr_assert_null(strstr(text, "\nbreak"));
	free(text);
	/* without a summary a commit records its title only */
	snap_store_set_summary(st, NULL, NULL);
	commit("c-1", "2026-01-03T00:00:00Z", "6.3", NULL);
	cr_assert_eq(seen.calls, 2);
}
