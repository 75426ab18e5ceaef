/* SPDX-License-Identifier: GPL-2.0-or-later */
/* Bundles: a round trip, authentication, and what reading refuses. */
#include <criterion/criterion.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "model/model.h"
#include "snap/bundle.h"

#define BASE SNAP_TEST_DATA "/../golden/collect/pve-intel/expected.stdout"

static char dir[] = "/tmp/pcisnap-bundle-XXXXXX";
static snap_snapshot *snap;
static const unsigned char key[] = "a bundle key of 32 bytes, really";
static const unsigned char other[] = "another key, also 32 bytes long!";

static void setup(void)
{
	snap_error err = {0};

	cr_assert_not_null(mkdtemp(dir));
	cr_assert_eq(snap_snapshot_load_file(&snap, BASE, &err), 0, "%s", err.message);
}

static void teardown(void)
{
	char cmd[128];

	snap_snapshot_free(snap);
	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", dir);
	cr_assert_eq(system(cmd), 0);
}

TestSuite(bundle, .init = setup, .fini = teardown);

static void export_to(const char *name, const unsigned char *auth, char *path, size_t n)
{
	snap_export_options o = SNAP_EXPORT_OPTIONS_INIT;
	snap_error err = {0};

	o.auth_key = auth;
	o.auth_key_len = auth ? sizeof(key) - 1 : 0;
	snprintf(path, n, "%s/%s", dir, name);
	cr_assert_eq(snap_bundle_export(snap, &o, path, &err), 0, "%s", err.message);
}

Test(bundle, round_trip_gives_the_same_document)
{
	char path[256], *a = NULL, *b = NULL;
	snap_snapshot *back = NULL;
	snap_bundle_verified how = SNAP_BUNDLE_AUTHENTICATED;

	export_to("plain.tar.gz", NULL, path, sizeof(path));
	cr_assert_eq(snap_bundle_read_keyed(&back, NULL, path, NULL, 0, &how, NULL), 0);
	cr_assert_eq(how, SNAP_BUNDLE_CHECKSUMS);
	cr_assert_eq(snap_snapshot_to_json(&a, snap, NULL), 0);
	cr_assert_eq(snap_snapshot_to_json(&b, back, NULL), 0);
	cr_assert_str_eq(a, b);
	free(a);
	free(b);
	snap_snapshot_free(back);
}

Test(bundle, authentication_takes_the_right_key_only)
{
	char path[256];
	snap_snapshot *back = NULL;
	snap_bundle_verified how = SNAP_BUNDLE_CHECKSUMS;
	snap_error err = {0};

	export_to("signed.tar", key, path, sizeof(path));
	cr_assert_eq(snap_bundle_read_keyed(&back, NULL, path, key, sizeof(key) - 1, &how, &err), 0,
	             "%s", err.message);
	cr_assert_eq(how, SNAP_BUNDLE_AUTHENTICATED);
	snap_snapshot_free(back);
	back = NULL;
	cr_assert_eq(
	    snap_bundle_read_keyed(&back, NULL, path, other, sizeof(other) - 1, &how, &err),
	    SNAP_EINVALID);
	cr_assert(strstr(err.message, "authentication failed"), "%s", err.message);
	cr_assert_null(back);
	/* without a key it still reads, checked by its checksums */
	cr_assert_eq(snap_bundle_read_keyed(&back, NULL, path, NULL, 0, &how, NULL), 0);
	cr_assert_eq(how, SNAP_BUNDLE_CHECKSUMS);
	snap_snapshot_free(back);
}

Test(bundle, a_key_refuses_an_unauthenticated_bundle)
{
	char path[256];
	snap_snapshot *back = NULL;
	snap_error err = {0};

	export_to("plain.tar", NULL, path, sizeof(path));
	cr_assert_eq(snap_bundle_read_keyed(&back, NULL, path, key, sizeof(key) - 1, NULL, &err),
	             SNAP_EINVALID);
	cr_assert(strstr(err.message, "not authenticated"), "%s", err.message);
}

Test(bundle, an_unknown_suffix_and_a_short_key_are_refused)
{
	snap_export_options o = SNAP_EXPORT_OPTIONS_INIT;
	char path[256];

	snprintf(path, sizeof(path), "%s/x.zip", dir);
	cr_assert_eq(snap_bundle_export(snap, &o, path, NULL), SNAP_EINVALID);
	o.auth_key = (const unsigned char *)"short";
	o.auth_key_len = 5;
	snprintf(path, sizeof(path), "%s/x.tar", dir);
	cr_assert_eq(snap_bundle_export(snap, &o, path, NULL), SNAP_EINVALID);
	cr_assert_neq(access(path, F_OK), 0); /* nothing half-written */
}

Test(bundle, version_1_options_still_work)
{
	/* a program built against version 1 of the options has no auth_key fields */
	snap_export_options o = SNAP_EXPORT_OPTIONS_INIT;
	char path[256];
	snap_snapshot *back = NULL;

	o.version = 1;
	snprintf(path, sizeof(path), "%s/v1.tar", dir);
	cr_assert_eq(snap_bundle_export(snap, &o, path, NULL), 0);
	cr_assert_eq(snap_bundle_read(&back, NULL, path, NULL), 0);
	snap_snapshot_free(back);
}
