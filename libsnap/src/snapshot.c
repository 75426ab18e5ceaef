/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * Snapshot documents: loading (with the checks that make diff and check safe to run on any
 * input), deterministic serialisation and atomic writing.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "internal.h"

#define MAX_SNAPSHOT_BYTES (64u << 20) /* far above any real host; bounds a hostile input */

const char *snap_json__str(const json_t *obj, const char *key)
{
	return json_string_value(json_object_get(obj, key));
}

json_t *snap_json__str_or_null(const char *s)
{
	return s ? json_string(s) : json_null();
}

json_t *snap_snapshot__kernel_multifunction(const json_t *dev, const json_t *parent)
{
	const char *bdf = snap_json__str(dev, "bdf"), *ptype = snap_json__str(parent, "pcie_type");
	const json_t *raw = json_object_get(dev, "multifunction");
	unsigned dom, bus, slot, fn;

	if (snap_json__str(dev, "physfn"))
		return json_false(); /* pci_iov_add_virtfn(): virtfn->multifunction = 0 */
	if (!bdf || sscanf(bdf, "%x:%x:%x.%u", &dom, &bus, &slot, &fn) != 4)
		return json_null();
	if (fn > 0)
		return json_true(); /* pci_scan_slot(): "if (fn > 0) dev->multifunction = 1" */
	/* below a root or downstream port only device 0 exists unless ARI numbers functions 8+
	 * as slots 1+: pci_scan_slot() scanned those as functions above 0 of slot 0 */
	if (slot > 0 && ptype && (!strcmp(ptype, "root_port") || !strcmp(ptype, "downstream_port")))
		return json_true();
	return json_is_boolean(raw) ? json_incref((json_t *)raw) : json_null();
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

int snap_json__dump(char **out, const json_t *root, snap_error *err)
{
	char *text = json_dumps(root, JSON_SORT_KEYS | JSON_INDENT(2) | JSON_ENSURE_ASCII);
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

snap_snapshot *snap_snapshot__new(json_t *root)
{
	snap_snapshot *s = calloc(1, sizeof(*s));

	if (!s) {
		json_decref(root);
		return NULL;
	}
	s->root = root;
	return s;
}

void snap_snapshot_free(snap_snapshot *s)
{
	if (!s)
		return;
	json_decref(s->root);
	snap_strv__free(s->warnings, s->nwarnings);
	free(s);
}

const char *snap_snapshot_hostname(const snap_snapshot *s)
{
	return s ? snap_json__str(json_object_get(s->root, "host"), "hostname") : NULL;
}

size_t snap_snapshot_warning_count(const snap_snapshot *s)
{
	return s ? s->nwarnings : 0;
}

const char *snap_snapshot_warning(const snap_snapshot *s, size_t i)
{
	return s && i < s->nwarnings ? s->warnings[i] : NULL;
}

int snap_snapshot_to_json(char **out, const snap_snapshot *s, snap_error *err)
{
	SNAP_ASSERT_ARG(out && s);
	return snap_json__dump(out, s->root, err);
}

/* Structural checks beyond JSON syntax: what diff, check and show rely on. */
static int check_skeleton(const json_t *root, snap_error *err)
{
	static const char *const objects[] = {"host", "kernel", "firmware", "iommu"};
	const char *schema = snap_json__str(root, "schema");
	json_t *groups, *devices, *v;
	size_t i;

	if (!json_is_object(root))
		return snap_error__set(err, SNAP_EINVALID,
		                       "not a pcisnap snapshot: not a JSON object");
	if (!schema)
		return snap_error__set(err, SNAP_EINVALID,
		                       "not a pcisnap snapshot: no \"schema\" string");
	if (strncmp(schema, "pcisnap.snapshot/", 17) != 0)
		return snap_error__set(err, SNAP_EINVALID,
		                       "not a pcisnap snapshot: schema is '%.64s'", schema);
	{
		long major = 0;

		if (snap_parse__int(&major, schema + 17) < 0 || major < 1)
			return snap_error__set(err, SNAP_EINVALID, "bad snapshot schema '%.64s'",
			                       schema);
		if (major > SNAP_SNAPSHOT_SCHEMA_VERSION)
			return snap_error__set(err, SNAP_ESCHEMA,
			                       "snapshot schema '%.64s' is newer than this pcisnap "
			                       "reads (pcisnap.snapshot/%d); upgrade pcisnap",
			                       schema, SNAP_SNAPSHOT_SCHEMA_VERSION);
	}
	for (i = 0; i < SNAP_ARRAY_SIZE(objects); i++)
		if (!json_is_object(json_object_get(root, objects[i])))
			return snap_error__set(
			    err, SNAP_EINVALID,
			    "invalid snapshot: \"%s\" is missing or not an object", objects[i]);
	groups = json_object_get(root, "groups");
	devices = json_object_get(root, "devices");
	if (!json_is_array(groups) || !json_is_array(devices))
		return snap_error__set(
		    err, SNAP_EINVALID,
		    "invalid snapshot: \"groups\" and \"devices\" must be arrays");
	json_array_foreach (groups, i, v) {
		json_t *members = json_object_get(v, "devices"), *m;
		size_t j;

		if (!json_is_integer(json_object_get(v, "id")) || !json_is_array(members))
			return snap_error__set(
			    err, SNAP_EINVALID,
			    "invalid snapshot: group %zu needs an integer \"id\" "
			    "and a \"devices\" array",
			    i);
		json_array_foreach (members, j, m)
			if (!json_is_string(m))
				return snap_error__set(
				    err, SNAP_EINVALID,
				    "invalid snapshot: group %zu has a non-string member", i);
	}
	json_array_foreach (devices, i, v) {
		const char *bdf = snap_json__str(v, "bdf");
		unsigned dom, bus, dev, fn;
		char tail;

		if (!bdf || sscanf(bdf, "%x:%x:%x.%u%c", &dom, &bus, &dev, &fn, &tail) != 4 ||
		    bus > 0xff || dev > 0x1f || fn > 7)
			return snap_error__set(err, SNAP_EINVALID,
			                       "invalid snapshot: device %zu has no valid \"bdf\"",
			                       i);
		if (!snap_json__str(v, "vendor") || !snap_json__str(v, "device"))
			return snap_error__set(
			    err, SNAP_EINVALID,
			    "invalid snapshot: device '%s' lacks vendor/device ids", bdf);
	}
	return 0;
}

int snap_snapshot_load_buffer(snap_snapshot **out, const char *buf, size_t len, snap_error *err)
{
	json_error_t jerr;
	snap_snapshot *s;
	json_t *root;
	int error;

	SNAP_ASSERT_ARG(out && buf);
	root = json_loadb(buf, len, JSON_REJECT_DUPLICATES, &jerr);
	if (!root)
		return snap_error__set(err, SNAP_EINVALID, "malformed JSON at line %d: %s",
		                       jerr.line, jerr.text);
	if ((error = check_skeleton(root, err)) < 0) {
		json_decref(root);
		return error;
	}
	if (!(s = snap_snapshot__new(root)))
		return snap_error__set(err, SNAP_ENOMEM, "out of memory");
	*out = s;
	return 0;
}

int snap_snapshot_load_file(snap_snapshot **out, const char *path, snap_error *err)
{
	snap_buf b = SNAP_BUF_INIT;
	char chunk[65536];
	FILE *f;
	int error;

	SNAP_ASSERT_ARG(out && path);
	f = strcmp(path, "-") ? fopen(path, "rb") : stdin;
	if (!f)
		return snap_error__errno(err, "open", path);
	for (;;) {
		size_t n = fread(chunk, 1, sizeof(chunk), f);

		snap_buf__put(&b, chunk, n);
		if (b.len > MAX_SNAPSHOT_BYTES) {
			error = snap_error__set(err, SNAP_EINVALID,
			                        "'%s' is too large for a snapshot", path);
			goto done;
		}
		if (n < sizeof(chunk))
			break;
	}
	if (ferror(f)) {
		error = snap_error__errno(err, "read", path);
		goto done;
	}
	if (b.oom) {
		error = snap_error__set(err, SNAP_ENOMEM, "out of memory reading '%s'", path);
		goto done;
	}
	if ((error = snap_snapshot_load_buffer(out, b.ptr ? b.ptr : "", b.len, err)) < 0) {
		char msg[SNAP_ERROR_MESSAGE_MAX + 64];

		if (err) {
			snprintf(msg, sizeof(msg), "'%s': %s", path, err->message);
			size_t n = strnlen(msg, sizeof(err->message) - 1); /* truncation intended */

			memcpy(err->message, msg, n);
			err->message[n] = '\0';
		}
	}
done:
	if (f != stdin)
		fclose(f);
	snap_buf__release(&b);
	return error;
}

/* Write all of buf to fd. */
static int write_all(int fd, const char *buf, size_t len)
{
	while (len) {
		ssize_t n = write(fd, buf, len);

		if (n < 0) {
			if (errno == EINTR)
				continue;
			return -1;
		}
		buf += n;
		len -= (size_t)n;
	}
	return 0;
}

int snap_snapshot_write_file(const snap_snapshot *s, const char *path, snap_error *err)
{
	char *json = NULL, *tmp = NULL;
	size_t len;
	int fd = -1, error;

	SNAP_ASSERT_ARG(s && path);
	if ((error = snap_snapshot_to_json(&json, s, err)) < 0)
		return error;
	len = strlen(json);
	if (!strcmp(path, "-")) {
		if (write_all(STDOUT_FILENO, json, len) < 0)
			error = snap_error__errno(err, "write", "<stdout>");
		goto done;
	}
	if (!(tmp = malloc(strlen(path) + 16))) {
		error = snap_error__set(err, SNAP_ENOMEM, "out of memory");
		goto done;
	}
	snprintf(tmp, strlen(path) + 16, "%s.tmpXXXXXX", path);
	if ((fd = mkstemp(tmp)) < 0) {
		error = snap_error__errno(err, "create", path);
		goto done;
	}
	if (fchmod(fd, 0644) < 0 || write_all(fd, json, len) < 0 || fsync(fd) < 0) {
		error = snap_error__errno(err, "write", path);
		goto done;
	}
	if (close(fd) < 0) {
		fd = -1;
		error = snap_error__errno(err, "write", path);
		goto done;
	}
	fd = -1;
	if (rename(tmp, path) < 0) {
		error = snap_error__errno(err, "rename into", path);
		goto done;
	}
	free(tmp);
	tmp = NULL;
done:
	if (fd >= 0)
		close(fd);
	if (tmp) {
		unlink(tmp);
		free(tmp);
	}
	free(json);
	return error;
}
