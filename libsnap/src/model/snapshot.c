/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * Snapshot documents: loading (with validate.c's checks, which make diff and check safe to run
 * on any input), deterministic serialisation and atomic writing.
 */
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "model/model.h"

/* Append a one-line collection warning. Best effort: a warning lost to ENOMEM is dropped. */
int snap_snapshot__warn(snap_snapshot *s, const char *fmt, ...)
{
	char line[512];
	char **nw;
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(line, sizeof(line), fmt, ap);
	va_end(ap);
	for (size_t i = 0; i < s->nwarnings; i++)
		if (!strcmp(s->warnings[i], line))
			return 0;
	nw = realloc(s->warnings, (s->nwarnings + 1) * sizeof(*nw));
	if (!nw)
		return SNAP_ENOMEM;
	s->warnings = nw;
	if (!(nw[s->nwarnings] = strdup(line)))
		return SNAP_ENOMEM;
	s->nwarnings++;
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
	if (s->analysis_free)
		s->analysis_free(s->analysis);
	json_decref(s->root);
	snap_strv__free(s->warnings, s->nwarnings);
	free(s);
}

const char *snap_snapshot_hostname(const snap_snapshot *s)
{
	return s ? snap_json__str(json_object_get(s->root, "host"), "hostname") : NULL;
}

const char *snap_snapshot_boot_id(const snap_snapshot *s)
{
	return s ? snap_json__str(json_object_get(s->root, "boot"), "id") : NULL;
}

const char *snap_snapshot_previous_boot(const snap_snapshot *s, int *clean)
{
	const json_t *boot = s ? json_object_get(s->root, "boot") : NULL;
	const json_t *c = json_object_get(boot, "previous_clean");

	if (clean)
		*clean = json_is_boolean(c) ? json_is_true(c) : -1;
	return snap_json__str(boot, "previous_id");
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

/* The parsed root (or jansson's error) checked and made a snapshot; takes root. */
static int load_root(snap_snapshot **out, json_t *root, const json_error_t *jerr, snap_error *err)
{
	snap_snapshot *s;
	int error;

	if (!root)
		return snap_error__set(err, SNAP_EINVALID, "malformed JSON at line %d: %s",
		                       jerr->line, jerr->text);
	if ((error = snap_snapshot__check_skeleton(root, err)) < 0) {
		json_decref(root);
		return error;
	}
	if (!(s = snap_snapshot__new(root)))
		return snap_error__set(err, SNAP_ENOMEM, "out of memory");
	*out = s;
	return 0;
}

int snap_snapshot_load_buffer(snap_snapshot **out, const char *buf, size_t len, snap_error *err)
{
	json_error_t jerr;
	json_t *root;

	SNAP_ASSERT_ARG(out && buf);
	snap_json__arena_begin(); /* the document's values die together: util/jarena.c */
	root = json_loadb(buf, len, JSON_REJECT_DUPLICATES, &jerr);
	snap_json__arena_end();
	return load_root(out, root, &jerr, err);
}

/* A file handed to jansson as it is read: its text is never held whole. */
struct file_source {
	FILE *f;
	size_t total;
	int error; /* errno of the failed read, or 0 */
	bool too_large;
};

static size_t read_source(void *buf, size_t len, void *arg)
{
	struct file_source *src = arg;
	size_t n = fread(buf, 1, len, src->f);

	if (!n && ferror(src->f)) {
		src->error = errno ? errno : EIO;
		return (size_t)-1;
	}
	if ((src->total += n) > MAX_SNAPSHOT_BYTES) {
		src->too_large = true;
		return (size_t)-1;
	}
	return n;
}

int snap_snapshot_load_file(snap_snapshot **out, const char *path, snap_error *err)
{
	struct file_source src = {NULL, 0, 0, false};
	json_error_t jerr;
	json_t *root;
	int error;

	SNAP_ASSERT_ARG(out && path);
	src.f = strcmp(path, "-") ? fopen(path, "rb") : stdin;
	if (!src.f)
		return snap_error__errno(err, "open", path);
	snap_json__arena_begin();
	root = json_load_callback(read_source, &src, JSON_REJECT_DUPLICATES, &jerr);
	snap_json__arena_end();
	if (src.error || src.too_large) {
		json_decref(root);
		errno = src.error;
		error = src.error ? snap_error__errno(err, "read", path)
		                  : snap_error__set(err, SNAP_EINVALID,
		                                    "'%s' is too large for a snapshot", path);
	} else if ((error = load_root(out, root, &jerr, err)) < 0 && err) {
		char msg[SNAP_ERROR_MESSAGE_MAX + 64];

		snprintf(msg, sizeof(msg), "'%s': %s", path, err->message);
		size_t n = strnlen(msg, sizeof(err->message) - 1); /* truncation intended */

		memcpy(err->message, msg, n);
		err->message[n] = '\0';
	}
	if (src.f != stdin)
		fclose(src.f);
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

/* json_dump_callback's sink: the document goes out in 64 KiB pieces, never whole in memory */
struct sink {
	int fd;
	size_t used;
	bool failed;
	char buf[65536];
};

static int sink_flush(struct sink *k)
{
	if (k->used && !k->failed && write_all(k->fd, k->buf, k->used) < 0)
		k->failed = true;
	k->used = 0;
	return k->failed ? -1 : 0;
}

static int sink_put(const char *data, size_t len, void *p)
{
	struct sink *k = p;

	if (len <= sizeof(k->buf) - k->used) { /* jansson hands out a token at a time */
		memcpy(k->buf + k->used, data, len);
		k->used += len;
		return 0;
	}
	if (len >= sizeof(k->buf)) { /* a half of the devices, written in one piece */
		if (sink_flush(k) < 0 || write_all(k->fd, data, len) < 0)
			k->failed = true;
		return k->failed ? -1 : 0;
	}
	while (len) {
		size_t n = sizeof(k->buf) - k->used < len ? sizeof(k->buf) - k->used : len;

		memcpy(k->buf + k->used, data, n);
		k->used += n;
		data += n;
		len -= n;
		if (k->used == sizeof(k->buf) && sink_flush(k) < 0)
			return -1;
	}
	return 0;
}

/*
 * The document as snap_json__dump() writes it (sorted keys, two-space indent, ASCII, a final
 * newline), streamed to fd: a 1,000-device snapshot is 1.2 MB that need not be held twice.
 * From SPLIT_DEVICES devices the devices' second half is written on a second thread (the same
 * text, util/json.c): each half is held once, the rest streamed.
 */
#define SPLIT_DEVICES 64

static int dump_to_fd(const snap_snapshot *s, int fd)
{
	struct sink *k = malloc(sizeof(*k));
	int rc;

	if (!k)
		return -1;
	k->fd = fd;
	k->used = 0;
	k->failed = false;
	rc = snap_json__dump_split_cb(s->root, "devices", SPLIT_DEVICES, sink_put, k);
	if (sink_flush(k) < 0)
		rc = -1;
	free(k);
	return rc;
}

int snap_snapshot_write_file(const snap_snapshot *s, const char *path, snap_error *err)
{
	char *tmp = NULL;
	int fd = -1, error = 0;

	SNAP_ASSERT_ARG(s && path);
	if (!strcmp(path, "-")) {
		if (dump_to_fd(s, STDOUT_FILENO) < 0)
			error = snap_error__errno(err, "write", "<stdout>");
		return error;
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
	if (fchmod(fd, 0644) < 0 || dump_to_fd(s, fd) < 0 || fsync(fd) < 0) {
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
	return error;
}

/* "board_vendor board_name / product_name", unknown parts "?": the commit summary's model */
void snap_snapshot__model(char *buf, size_t n, const json_t *root)
{
	const json_t *fw = json_object_get(root, "firmware");
	const char *v = snap_json__str(fw, "board_vendor"), *b = snap_json__str(fw, "board_name"),
	           *p = snap_json__str(fw, "product_name");

	snprintf(buf, n, "%s %s / %s", v ? v : "?", b ? b : "?", p ? p : "?");
}

void snap_snapshot_model(char *buf, size_t n, const snap_snapshot *s)
{
	if (buf && n)
		snap_snapshot__model(buf, n, s ? s->root : NULL);
}
