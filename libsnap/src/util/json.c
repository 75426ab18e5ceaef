/* SPDX-License-Identifier: GPL-2.0-or-later */
/* jansson helpers: typed lookups, a stable sort by key and the deterministic serialisation. */
#include <pthread.h>
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

json_t *snap_json__string(const char *s)
{
	size_t n = 0;

	/* ASCII is UTF-8: jansson's check, a function call per character, is not needed */
	for (; s[n]; n++)
		if ((unsigned char)s[n] >= 0x80)
			return json_string(s);
	return json_stringn_nocheck(s, n);
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

/* what the flags need to write v as under JSON_SORT_KEYS */
static size_t sort_flag(const json_t *v)
{
	return keys_sorted(v) ? 0 : JSON_SORT_KEYS;
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

	if (json_dump_callback(root, to_buf, &b, sort_flag(root) | JSON_ENSURE_ASCII | flags) < 0 ||
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

/*
 * snap_json__dump() of a document whose bulk is one array under a key of its top object (a
 * fleet's hosts), the array's second half written on a second thread. jansson writes a value
 * the same wherever it sits at the same depth, so each half is written as the array of an
 * object {key: [half]}, whose elements sit at depth 2 as in the document, and the document
 * itself with [] in the array's place; the three texts are then joined as jansson joins array
 * elements: the elements of the halves come between "[\n    " and "\n  ]", the halves with
 * ",\n    ". A raw newline is never inside a JSON string, so every newline found below is
 * jansson's own. Anything not as expected, or no thread: the document is written in one go.
 */
struct part {
	json_t *doc;
	size_t flags;
	snap_buf b;
	int rc;
};

static void *dump_part(void *p)
{
	struct part *t = p;

	/* each part's own keys checked on its own thread: a part written sorted is the text of
	 * the same part already in order */
	t->rc = json_dump_callback(t->doc, to_buf, &t->b, t->flags | sort_flag(t->doc));
	if (t->b.oom)
		t->rc = -1;
	return NULL;
}

static json_t *wrap(const char *key, const json_t *arr, size_t from, size_t to)
{
	json_t *a = json_array(), *w = json_object();

	for (size_t i = from; i < to && a; i++)
		if (json_array_append(a, json_array_get(arr, i)) < 0)
			break;
	if (!a || !w || json_array_size(a) != to - from) {
		json_decref(a);
		json_decref(w);
		return NULL;
	}
	if (json_object_set_new(w, key, a) < 0) { /* a is released either way */
		json_decref(w);
		return NULL;
	}
	return w;
}

/* text between "[\n    " and "\n  ]\n}" of a wrapper, whose empty form is empty_w */
static bool elements(const snap_buf *w, const snap_buf *empty_w, const char **start, size_t *len)
{
	/* empty_w: "{\n  KEY: []\n}"; w: "{\n  KEY: [\n    ...\n  ]\n}" */
	size_t head = empty_w->len - 4; /* "{\n  KEY: " */
	static const char open_[] = "[\n    ", close_[] = "\n  ]\n}";

	if (empty_w->len < 4 || w->len < head + strlen(open_) + strlen(close_) ||
	    memcmp(w->ptr, empty_w->ptr, head) || memcmp(w->ptr + head, open_, strlen(open_)) ||
	    memcmp(w->ptr + w->len - strlen(close_), close_, strlen(close_)))
		return false;
	*start = w->ptr + head + strlen(open_);
	*len = w->len - head - strlen(open_) - strlen(close_);
	return true;
}

/* root's text, pieces in order to cb, its second half of root[key] written on a second thread */
int snap_json__dump_split_cb(const json_t *root, const char *key, size_t min,
                             json_dump_callback_t cb, void *data)
{
	const json_t *arr = json_object_get(root, key);
	size_t n = json_array_size(arr), flags, head, slot_len;
	struct part second = {.b = SNAP_BUF_INIT}, first = {.b = SNAP_BUF_INIT},
	            rest = {.b = SNAP_BUF_INIT}, empty = {.b = SNAP_BUF_INIT};
	json_t *shallow = NULL;
	const char *e1, *e2, *slot, *at;
	size_t l1, l2;
	pthread_t t;
	bool threaded = false, ok = false;
	int rc = 0;

	flags = JSON_ENSURE_ASCII | JSON_INDENT(2);
	if (!json_is_object(root) || !json_is_array(arr) || n < min || n < 2)
		goto done;
	second.flags = first.flags = rest.flags = empty.flags = flags;
	if (!(second.doc = wrap(key, arr, n / 2, n)) || !(first.doc = wrap(key, arr, 0, n / 2)) ||
	    !(empty.doc = wrap(key, arr, 0, 0)) || !(shallow = json_copy((json_t *)root)) ||
	    json_object_set_new(shallow, key, json_array()) < 0)
		goto done;
	rest.doc = shallow;
	threaded = snap_thread_start(&t, dump_part, &second) == 0;
	if (!threaded)
		goto done;
	dump_part(&first);
	dump_part(&rest);
	dump_part(&empty);
	pthread_join(t, NULL);
	threaded = false;
	if (first.rc < 0 || second.rc < 0 || rest.rc < 0 || empty.rc < 0 ||
	    !elements(&first.b, &empty.b, &e1, &l1) || !elements(&second.b, &empty.b, &e2, &l2))
		goto done;
	/* the array's place in the document: "\n  KEY: []", once (keys are unique, and a newline
	 * followed by two spaces starts a key of the top object only) */
	slot = empty.b.ptr + 1;
	slot_len = empty.b.len - 3; /* without "{" and "\n}" */
	if (!(at = memmem(rest.b.ptr, rest.b.len, slot, slot_len)) ||
	    memmem(at + 1, rest.b.len - (size_t)(at + 1 - rest.b.ptr), slot, slot_len))
		goto done;
	head = (size_t)(at - rest.b.ptr) + slot_len - 2; /* up to "KEY: " */
	ok = true; /* from here every piece goes to cb: no fallback once one has */
	rc = (cb(rest.b.ptr, head, data) || cb("[\n    ", 6, data) || cb(e1, l1, data) ||
	      cb(",\n    ", 6, data) || cb(e2, l2, data) || cb("\n  ]", 4, data) ||
	      cb(at + slot_len, rest.b.len - (size_t)(at + slot_len - rest.b.ptr), data) ||
	      cb("\n", 1, data))
	         ? -1
	         : 0;
done:
	if (threaded)
		pthread_join(t, NULL);
	json_decref(second.doc);
	json_decref(first.doc);
	json_decref(empty.doc);
	json_decref(shallow);
	snap_buf__release(&second.b);
	snap_buf__release(&first.b);
	snap_buf__release(&rest.b);
	snap_buf__release(&empty.b);
	if (!ok) /* written in one go */
		rc = json_dump_callback(root, cb, data, flags | sort_flag(root)) < 0 ||
		             cb("\n", 1, data)
		         ? -1
		         : 0;
	return rc;
}

int snap_json__dump_split_min(char **out, const json_t *root, const char *key, size_t min,
                              snap_error *err)
{
	snap_buf b = SNAP_BUF_INIT;

	if (snap_json__dump_split_cb(root, key, min, to_buf, &b) < 0 || b.oom) {
		snap_buf__release(&b);
		return snap_error__set(err, SNAP_ENOMEM, "cannot serialise snapshot");
	}
	*out = snap_buf__detach(&b);
	return 0;
}

int snap_json__dump_split(char **out, const json_t *root, const char *key, snap_error *err)
{
	/* below some thousands of elements a thread saves less than it costs */
	return snap_json__dump_split_min(out, root, key, 2048, err);
}
