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

static int dump(char **out, const json_t *root, size_t flags, snap_error *err)
{
	char *text = json_dumps(root, JSON_SORT_KEYS | JSON_ENSURE_ASCII | flags);
	size_t len;
	char *with_nl;

	if (!text)
		return snap_error__set(err, SNAP_ENOMEM, "cannot serialise snapshot");
	len = strlen(text);
	if (!(with_nl = realloc(text, len + 2))) {
		free(text);
		return snap_error__set(err, SNAP_ENOMEM, "out of memory");
	}
	with_nl[len] = '\n';
	with_nl[len + 1] = '\0';
	*out = with_nl;
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
