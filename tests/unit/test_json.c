/* SPDX-License-Identifier: GPL-2.0-or-later */
/* The deterministic serialisation (util/json.c): the split dump writes what the plain one does. */
#include <criterion/criterion.h>
#include <stdlib.h>
#include <string.h>

#include "util/util.h"

/* split and plain dumps of doc are the same bytes; the split one took its own path (min 2) */
static void same(json_t *doc, const char *key)
{
	char *plain = NULL, *split = NULL;

	cr_assert_eq(snap_json__dump(&plain, doc, NULL), 0);
	cr_assert_eq(snap_json__dump_split_min(&split, doc, key, 2, NULL), 0);
	cr_assert_str_eq(split, plain);
	free(plain);
	free(split);
	json_decref(doc);
}

static json_t *host(int i)
{
	char name[32];

	snprintf(name, sizeof(name), "host-%04d", i);
	/* keys in sorted order, as fleet sets them */
	return json_pack("{s:i, s:s, s:n, s:[i, {s:s}], s:s}", "age", i, "host", name, "next",
	                 "nested", i, "deep", "a\nb \"q\" \xc3\xa9 \\", "z", "\n  \"hosts\": []");
}

static json_t *fleet_doc(int n, bool sorted)
{
	json_t *hosts = json_array();

	for (int i = 0; i < n; i++)
		json_array_append_new(hosts, host(i));
	if (sorted)
		return json_pack("{s:{s:i}, s:i, s:o, s:[{s:s}], s:s}", "counts", "harmless", 3,
		                 "failing_hosts", 1, "hosts", hosts, "models", "model", "m",
		                 "schema", "pcisnap.fleet/1");
	/* keys out of order: both dumps sort them */
	return json_pack("{s:s, s:o, s:{s:i, s:i}, s:i}", "schema", "pcisnap.fleet/1", "hosts",
	                 hosts, "counts", "z", 1, "a", 2, "failing_hosts", 1);
}

Test(json, split_dump_is_the_plain_dump)
{
	for (int n = 2; n <= 9; n++)
		same(fleet_doc(n, true), "hosts");
	same(fleet_doc(101, true), "hosts");
}

Test(json, split_dump_of_unsorted_keys)
{
	same(fleet_doc(5, false), "hosts");
}

/* each part is checked for its own order: one half in order, the other and the rest not */
Test(json, split_dump_of_parts_sorted_and_not)
{
	json_t *doc = fleet_doc(6, true), *hosts = json_object_get(doc, "hosts");

	json_array_append_new(hosts, json_pack("{s:s, s:i}", "z", "last", "a", 1));
	same(doc, "hosts"); /* the second half holds the unsorted host */
	doc = fleet_doc(7, true);
	hosts = json_object_get(doc, "hosts");
	json_array_insert_new(hosts, 0, json_pack("{s:s, s:i}", "z", "first", "a", 1));
	same(doc, "hosts"); /* the first */
	doc = fleet_doc(8, true);
	json_object_set_new(json_object_get(doc, "counts"), "a_late", json_integer(1));
	same(doc, "hosts"); /* the rest */
}

Test(json, split_dump_with_the_array_first_or_last)
{
	same(json_pack("{s:[i, i, i], s:s}", "a", 1, 2, 3, "b", "x"), "a");
	same(json_pack("{s:s, s:[s, s]}", "a", "x", "z", "1", "2"), "z");
	same(json_pack("{s:[[], {}, [i]]}", "only", 1), "only");
}

Test(json, split_dump_of_a_key_needing_escapes)
{
	same(json_pack("{s:[i, i], s:i}", "h\xc3\xa9 \"x\"", 1, 2, "h", 3), "h\xc3\xa9 \"x\"");
}

Test(json, split_dump_falls_back_where_there_is_nothing_to_split)
{
	same(json_pack("{s:[i], s:i}", "hosts", 1, "n", 2), "hosts"); /* one element */
	same(json_pack("{s:{}, s:i}", "hosts", "n", 2), "hosts");     /* not an array */
	same(json_pack("{s:i}", "n", 2), "hosts");                    /* no such key */
	same(json_pack("[i, i, i]", 1, 2, 3), "hosts");               /* not an object */
	same(json_pack("{s:[i, i, i]}", "hosts", 1, 2, 3), "other");  /* another key */
}

Test(json, string_is_json_string)
{
	json_t *a = snap_json__string("plain ascii"), *b = snap_json__string("caf\xc3\xa9");

	cr_assert_str_eq(json_string_value(a), "plain ascii");
	cr_assert_str_eq(json_string_value(b), "caf\xc3\xa9");
	/* not UTF-8: no string, as json_string() */
	cr_assert_null(snap_json__string("caf\xe9"));
	cr_assert_null(snap_json__string("\xff"));
	json_decref(a);
	json_decref(b);
}
