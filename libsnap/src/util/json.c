/* SPDX-License-Identifier: GPL-2.0-or-later */
/* jansson helpers: typed lookups, a stable sort by key and the deterministic serialisation. */
#include <stdlib.h>
#include <string.h>

#include "util/util.h"

const char *snap_json__str(const json_t *obj, const char *key)
{
	return json_string_value(json_object_get(obj, key));
}

json_t *snap_json__str_or_null(const char *s)
{
	return s ? json_string(s) : json_null();
}

struct keyed {
	const char *key; /* sort key, borrowed from item */
	size_t index;    /* original position: keeps the sort stable */
	json_t *item;    /* borrowed */
};

static int cmp_keyed(const void *a, const void *b)
{
	const struct keyed *x = a, *y = b;
	int c = strcmp(x->key ? x->key : "", y->key ? y->key : "");

	if (c)
		return c;
	return x->index < y->index ? -1 : x->index > y->index;
}

int snap_json__sort_by_key(json_t *array, const char *key)
{
	size_t n = json_array_size(array), i;
	struct keyed *v;
	json_t *item;

	if (n < 2)
		return 0;
	if (!(v = calloc(n, sizeof(*v))))
		return SNAP_ENOMEM;
	json_array_foreach (array, i, item) {
		v[i].key = snap_json__str(item, key);
		v[i].index = i;
		v[i].item = json_incref(item);
	}
	qsort(v, n, sizeof(*v), cmp_keyed);
	json_array_clear(array);
	for (i = 0; i < n; i++)
		json_array_append_new(array, v[i].item);
	free(v);
	return 0;
}

bool snap_json__has_string(const json_t *array, const char *s)
{
	size_t i;
	json_t *v;

	json_array_foreach (array, i, v)
		if (json_is_string(v) && !strcmp(json_string_value(v), s))
			return true;
	return false;
}

/* jansson's order of keys under JSON_SORT_KEYS (dump.c compare_keys): bytes, then length */
static int cmp_key(const char *a, size_t alen, const char *b, size_t blen)
{
	int c = memcmp(a, b, alen < blen ? alen : blen);

	return c ? c : (alen > blen) - (alen < blen);
}

/*
 * Every object below v holds its keys in sorted order already. jansson keeps the order keys
 * were set in, so such a document is written the same with JSON_SORT_KEYS and without, and
 * without spares a sort per object (a 10,000-host fleet: 10,000 sorts). One pass that stops
 * at the first object out of order: built any other way, the document is sorted as always.
 */
static bool keys_sorted(const json_t *v)
{
	const char *key, *prev = NULL;
	size_t len, prev_len = 0, i;
	json_t *x;

	if (json_is_array(v)) {
		json_array_foreach (v, i, x)
			if (!keys_sorted(x))
				return false;
		return true;
	}
	if (!json_is_object(v))
		return true;
	json_object_keylen_foreach((json_t *)v, key, len, x) /* this object's order first */
	{
		if (prev && cmp_key(prev, prev_len, key, len) >= 0)
			return false;
		prev = key;
		prev_len = len;
	}
	json_object_foreach ((json_t *)v, key, x)
		if (!keys_sorted(x))
			return false;
	return true;
}

static int to_buf(const char *data, size_t len, void *p)
{
	snap_buf__put(p, data, len);
	return ((snap_buf *)p)->oom ? -1 : 0;
}

/* Written straight into one growing buffer: json_dumps() builds its own, then copies it. */
static int dump(char **out, const json_t *root, size_t flags, snap_error *err)
{
	snap_buf b = SNAP_BUF_INIT;

	if (json_dump_callback(root, to_buf, &b,
	                       (keys_sorted(root) ? 0 : JSON_SORT_KEYS) | JSON_ENSURE_ASCII |
	                           flags) < 0 ||
	    (snap_buf__put(&b, "\n", 1), b.oom)) {
		snap_buf__release(&b);
		return snap_error__set(err, SNAP_ENOMEM, "cannot serialise snapshot");
	}
	*out = snap_buf__detach(&b);
	return 0;
}

int snap_json__dump(char **out, const json_t *root, snap_error *err)
{
	return dump(out, root, JSON_INDENT(2), err);
}

int snap_json__dump_compact(char **out, const json_t *root, snap_error *err)
{
	return dump(out, root, JSON_COMPACT, err);
}
