/* SPDX-License-Identifier: GPL-2.0-or-later */
/* The loader refuses what a reader could trip on: every field a reader uses has its type. */
#include <criterion/criterion.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "model/model.h"
#include "util/util.h"

/* A minimal valid snapshot with one device; extra is spliced into the device object's text. */
static char *doc(const char *devices, const char *kernel, const char *schema)
{
	static char buf[4096];

	snprintf(buf, sizeof(buf),
	         "{\"schema\": \"%s\", \"host\": {\"hostname\": \"h\", \"collected_at\": "
	         "\"1970-01-01T00:00:00Z\"}, \"kernel\": {%s}, \"firmware\": {}, "
	         "\"iommu\": {}, \"groups\": [], \"devices\": [%s]}",
	         schema ? schema : "pcisnap.snapshot/1", kernel ? kernel : "",
	         devices ? devices : "");
	return buf;
}

static int load(const char *text, snap_error *err)
{
	snap_snapshot *s = NULL;
	int rc = snap_snapshot_load_buffer(&s, text, strlen(text), err);

	snap_snapshot_free(s);
	return rc;
}

#define DEV(bdf, extra)                                                                            \
	"{\"bdf\": \"" bdf "\", \"vendor\": \"8086\", \"device\": \"10d3\"" extra "}"

Test(snapshot, a_valid_document_loads)
{
	cr_assert_eq(
	    load(doc(DEV("0000:00:01.0", "") "," DEV("10000:00:02.0", ""), NULL, NULL), NULL), 0);
}

Test(snapshot, non_string_token_key_is_refused)
{
	snap_error err = {0};

	cr_assert_eq(load(doc(NULL, "\"cmdline_tokens\": [{\"key\": 7}]", NULL), &err),
	             SNAP_EINVALID);
	cr_assert(strstr(err.message, "cmdline_tokens[].key"), "%s", err.message);
}

Test(snapshot, number_in_modules_is_refused)
{
	cr_assert_eq(load(doc(NULL, "\"modules\": [\"vfio\", 3]", NULL), NULL), SNAP_EINVALID);
}

Test(snapshot, duplicate_bdf_is_refused)
{
	snap_error err = {0};

	cr_assert_eq(
	    load(doc(DEV("0000:00:01.0", "") "," DEV("0000:00:01.0", ""), NULL, NULL), &err),
	    SNAP_EINVALID);
	cr_assert(strstr(err.message, "listed twice"), "%s", err.message);
}

Test(snapshot, malformed_bdfs_are_refused)
{
	static const char *const bad[] = {
	    DEV("-1:0:0.0", ""),     DEV(" 0:0x1:+1.7", ""),   DEV("0000:00:20.0", ""),
	    DEV("0000:00:01.8", ""), DEV("0000:00:01.0 ", ""), DEV("0000:0:01.0", ""),
	    DEV("0000:00:1F.0", ""), DEV("000:00:01.0", ""),
	};

	for (size_t i = 0; i < SNAP_ARRAY_SIZE(bad); i++)
		cr_assert_eq(load(doc(bad[i], NULL, NULL), NULL), SNAP_EINVALID, "%s", bad[i]);
}

Test(snapshot, self_parent_and_bad_parent_are_refused)
{
	cr_assert_eq(
	    load(doc(DEV("0000:01:00.0", ", \"parent\": \"0000:01:00.0\""), NULL, NULL), NULL),
	    SNAP_EINVALID);
	cr_assert_eq(load(doc(DEV("0000:01:00.0", ", \"parent\": \"x\""), NULL, NULL), NULL),
	             SNAP_EINVALID);
}

Test(snapshot, odd_schema_strings_are_refused)
{
	static const char *const bad[] = {"pcisnap.snapshot/ 1", "pcisnap.snapshot/+1",
	                                  "pcisnap.snapshot/", "pcisnap.snapshot/1x",
	                                  "pcisnap.snapshot/0"};

	for (size_t i = 0; i < SNAP_ARRAY_SIZE(bad); i++)
		cr_assert_eq(load(doc(NULL, NULL, bad[i]), NULL), SNAP_EINVALID, "%s", bad[i]);
	cr_assert_eq(load(doc(NULL, NULL, "pcisnap.snapshot/2"), NULL), SNAP_ESCHEMA);
}

Test(snapshot, wrong_types_in_devices_are_refused)
{
	static const char *const bad[] = {
	    DEV("0000:00:01.0", ", \"driver\": 1"),
	    DEV("0000:00:01.0", ", \"acs\": {\"present\": true, \"cap\": [1], \"ctl\": []}"),
	    DEV("0000:00:01.0", ", \"reset_methods\": \"flr\""),
	    DEV("0000:00:01.0", ", \"iommu_group\": \"3\""),
	    DEV("0000:00:01.0", ", \"link\": {\"cur_width\": \"x16\"}"),
	};

	for (size_t i = 0; i < SNAP_ARRAY_SIZE(bad); i++)
		cr_assert_eq(load(doc(bad[i], NULL, NULL), NULL), SNAP_EINVALID, "%s", bad[i]);
}

/* A file is handed to jansson as it is read (never held whole): what reading can go wrong with
 * still says so, and a valid-looking document longer than any host's is refused, not parsed. */
Test(snapshot, a_file_too_large_or_unreadable_is_refused_by_name)
{
	char dir[] = "/tmp/pcisnap-load.XXXXXX", path[64];
	snap_snapshot *s = NULL;
	snap_error err = {0};
	FILE *f;
	size_t i;

	cr_assert_not_null(mkdtemp(dir));
	cr_assert_eq(snap_snapshot_load_file(&s, dir, &err), SNAP_ERROR);
	cr_assert(strstr(err.message, "Is a directory"), "%s", err.message);
	snprintf(path, sizeof(path), "%s/big.json", dir);
	cr_assert_not_null(f = fopen(path, "w"));
	fputc('[', f);
	for (i = 0; i < (65u << 20) / 4096; i++)
		fprintf(f, "%4095s", "");
	cr_assert_eq(fclose(f), 0);
	cr_assert_eq(snap_snapshot_load_file(&s, path, &err), SNAP_EINVALID);
	cr_assert(strstr(err.message, "is too large for a snapshot"), "%s", err.message);
	cr_assert_null(s);
	unlink(path);
	rmdir(dir);
}

/* A snapshot of many devices is written with the devices' halves on two threads: the file is
 * the text one dump writes, whatever the size of each piece (here halves past the 64 KiB the
 * writer buffers, and a small document written in one go). */
static void written_is_dumped(size_t ndev, size_t label_len)
{
	char dir[] = "/tmp/pcisnap-write.XXXXXX", path[64], *plain = NULL, *label;
	snap_snapshot *s = NULL;
	json_t *root, *devs;
	FILE *f;
	long len;
	char *text;

	cr_assert_not_null(mkdtemp(dir));
	snprintf(path, sizeof(path), "%s/s.json", dir);
	cr_assert_not_null(label = malloc(label_len + 1));
	memset(label, 'x', label_len);
	label[label_len] = '\0';
	root =
	    json_pack("{s:s, s:{s:s, s:s}, s:{}, s:{}, s:{}, s:[], s:[]}", "schema",
	              "pcisnap.snapshot/1", "host", "hostname", "h", "collected_at",
	              "1970-01-01T00:00:00Z", "kernel", "firmware", "iommu", "groups", "devices");
	devs = json_object_get(root, "devices");
	for (size_t i = 0; i < ndev; i++) {
		char bdf[40];

		snprintf(bdf, sizeof(bdf), "0000:%02zx:%02zx.0", i / 32, i % 32);
		/* keys not in sorted order, as the collector sets them */
		json_array_append_new(devs,
		                      json_pack("{s:s, s:s, s:s, s:s}", "vendor", "8086", "bdf",
		                                bdf, "device", "10d3", "label", label));
	}
	cr_assert_not_null(s = snap_snapshot__new(root));
	cr_assert_eq(snap_snapshot_write_file(s, path, NULL), 0);
	cr_assert_eq(snap_json__dump(&plain, s->root, NULL), 0);
	cr_assert_not_null(f = fopen(path, "r"));
	fseek(f, 0, SEEK_END);
	len = ftell(f);
	rewind(f);
	cr_assert_not_null(text = calloc(1, (size_t)len + 1));
	cr_assert_eq(fread(text, 1, (size_t)len, f), (size_t)len);
	fclose(f);
	cr_assert_eq((size_t)len, strlen(plain), "%zu devices: %ld bytes written, %zu dumped", ndev,
	             len, strlen(plain));
	cr_assert_str_eq(text, plain);
	free(text);
	free(plain);
	free(label);
	snap_snapshot_free(s);
	unlink(path);
	rmdir(dir);
}

Test(snapshot, written_as_one_dump_writes)
{
	written_is_dumped(1, 10);
	written_is_dumped(63, 10);
	written_is_dumped(64, 10);
	written_is_dumped(301, 10);
	written_is_dumped(400, 400); /* halves of some 90 KB each */
}
