/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * One analysis per snapshot (analyse/analysis.c): whatever a command does with a snapshot
 * (check, show, the tree, metrics, diff, a bundle with all of them), the topology is built once.
 */
#include <criterion/criterion.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "analyse/analyse.h"
#include "snap/bundle.h"
#include "snap/check.h"
#include "snap/diff.h"
#include "snap/report.h"

#define BASE SNAP_TEST_DATA "/../golden/collect/pve-intel/expected.stdout"

static snap_snapshot *load(void)
{
	snap_snapshot *s = NULL;
	snap_error err = {0};

	cr_assert_eq(snap_snapshot_load_file(&s, BASE, &err), 0, "%s", err.message);
	return s;
}

Test(analysis, check_show_tree_and_metrics_build_one_topology)
{
	snap_snapshot *s = load();
	unsigned long before = snap_analysis__topo_builds();
	snap_check *c = NULL;
	char *a = NULL, *b = NULL, *m = NULL;

	cr_assert_eq(snap_check_run(&c, s, NULL), 0);
	cr_assert_eq(snap_report_render(&a, s, SNAP_REPORT_TEXT, NULL), 0);
	cr_assert_eq(snap_report_render(&b, s, SNAP_REPORT_TREE, NULL), 0);
	cr_assert_eq(snap_metrics_render(&m, s, c, NULL, 0, NULL), 0);
	cr_assert_eq(snap_analysis__topo_builds() - before, 1);
	cr_assert_not_null(strstr(b, "0000:01:00.0"));
	free(a);
	free(b);
	free(m);
	snap_check_free(c);
	snap_snapshot_free(s);
}

Test(analysis, a_diff_builds_one_topology_per_side_and_one_for_itself)
{
	snap_snapshot *o = load(), *n = load();
	unsigned long before = snap_analysis__topo_builds();
	snap_diff *d = NULL;
	snap_check *c = NULL;

	cr_assert_eq(snap_diff_compute(&d, o, n, NULL), 0);
	snap_diff_free(d);
	cr_assert_eq(snap_analysis__topo_builds() - before, 2);
	/* NEW's check after the diff reuses its analysis */
	cr_assert_eq(snap_check_run(&c, n, NULL), 0);
	snap_check_free(c);
	cr_assert_eq(snap_analysis__topo_builds() - before, 2);
	/* a snapshot against itself: one */
	before = snap_analysis__topo_builds();
	snap_snapshot_free(o);
	o = load();
	cr_assert_eq(snap_diff_compute(&d, o, o, NULL), 0);
	cr_assert_eq(snap_diff_verdict(d), SNAP_CLASS_HARMLESS);
	snap_diff_free(d);
	cr_assert_eq(snap_analysis__topo_builds() - before, 1);
	snap_snapshot_free(o);
	snap_snapshot_free(n);
}

Test(analysis, a_bundle_builds_one_topology_per_snapshot)
{
	char dir[] = "/tmp/pcisnap-analysis-XXXXXX", path[128], cmd[160];
	snap_snapshot *s = load(), *old = load();
	snap_export_options o = SNAP_EXPORT_OPTIONS_INIT;
	unsigned long before;
	snap_error err = {0};

	cr_assert_not_null(mkdtemp(dir));
	snprintf(path, sizeof(path), "%s/b.tar.gz", dir);
	before = snap_analysis__topo_builds();
	cr_assert_eq(snap_bundle_export(s, &o, path, &err), 0, "%s", err.message);
	cr_assert_eq(snap_analysis__topo_builds() - before, 1); /* report, tree, check: one */
	o.against = old;
	before = snap_analysis__topo_builds();
	cr_assert_eq(snap_bundle_export(s, &o, path, &err), 0, "%s", err.message);
	cr_assert_eq(snap_analysis__topo_builds() - before, 2); /* and OLD's, for the diff */
	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", dir);
	cr_assert_eq(system(cmd), 0);
	snap_snapshot_free(old);
	snap_snapshot_free(s);
}
