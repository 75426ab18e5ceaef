/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * Reading a bundle: every member checked against the bounds (count, sizes, ratio, names),
 * the manifest verified (and its HMAC with a key) in memory before anything is used.
 */
#include "bundle/bundle_internal.h"
#include "model/model.h"
#include "snap/bundle.h"
#include "snap/check.h"
#include "snap/diff.h"
#include "snap/report.h"
#include <archive.h>
#include <archive_entry.h>
#include <ctype.h>
#include <errno.h>
#include <nettle/hmac.h>
#include <nettle/sha2.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

static int hostile(snap_error *err, const char *path, const char *what, const char *name)
{
	return snap_error__set(err, SNAP_EINVALID, "refusing bundle '%s': %s '%.200s'", path, what,
	                       name);
}

/* Read every member into memory, refusing anything a bundle cannot hold. */
static int read_members(struct members *m, char **top_out, const char *path, snap_error *err)
{
	struct archive *a = archive_read_new();
	struct archive_entry *e;
	char *top = NULL;
	size_t total = 0; /* uncompressed bytes of the members so far */
	int error = 0, rc;

	if (!a)
		return snap_error__set(err, SNAP_ENOMEM, "out of memory");
	archive_read_support_filter_all(a);
	archive_read_support_format_tar(a);
	if (archive_read_open_filename(a, path, 65536) != ARCHIVE_OK) {
		error =
		    snap_error__set(err, errno == ENOENT ? SNAP_ENOTFOUND : SNAP_EINVALID,
		                    "cannot read bundle '%s': %s", path, archive_error_string(a));
		goto done;
	}
	while ((rc = archive_read_next_header(a, &e)) == ARCHIVE_OK) {
		const char *name = archive_entry_pathname(e), *slash, *rel;
		mode_t type = archive_entry_filetype(e);
		la_int64_t size = archive_entry_size(e);
		char *data;
		size_t used = 0;

		if (!name || !*name) {
			error = hostile(err, path, "an unnamed member", "");
			goto done;
		}
		if (name[0] == '/') {
			error = hostile(err, path, "an absolute path", name);
			goto done;
		}
		for (const char *p = name; p; p = strchr(p, '/')) {
			if (*p == '/')
				p++;
			if (!strncmp(p, "..", 2) && (p[2] == '/' || !p[2])) {
				error = hostile(err, path, "a '..' path", name);
				goto done;
			}
		}
		if (archive_entry_hardlink(e)) {
			error = hostile(err, path, "a hard link", name);
			goto done;
		}
		if (type == AE_IFLNK) {
			error = hostile(err, path, "a symbolic link", name);
			goto done;
		}
		if (type != AE_IFREG && type != AE_IFDIR) {
			error = hostile(err, path, "a special file", name);
			goto done;
		}
		if (m->n >= MAX_MEMBERS) {
			error = hostile(err, path, "too many members, at", name);
			goto done;
		}
		slash = strchr(name, '/');
		if (!top)
			top = strndup(name, slash ? (size_t)(slash - name) : strlen(name));
		if (!top || strncmp(name, top, strlen(top)) ||
		    (name[strlen(top)] != '/' && name[strlen(top)])) {
			error = hostile(err, path, "a member outside the top directory", name);
			goto done;
		}
		if (type == AE_IFDIR)
			continue;
		/* a file named as the top directory itself has nothing after it */
		rel = name[strlen(top)] ? name + strlen(top) + 1 : "";
		if (!*rel) {
			error = hostile(err, path, "a file where the top directory belongs", name);
			goto done;
		}
		if (size < 0 || size > MAX_MEMBER_SIZE) {
			error = hostile(err, path, "an oversized member", name);
			goto done;
		}
		if ((size_t)size > MAX_TOTAL_SIZE - total) {
			error = hostile(err, path, "more data than a bundle holds, at", name);
			goto done;
		}
		for (size_t i = 0; i < m->n; i++)
			if (!strcmp(m->v[i].name, rel)) {
				error = hostile(err, path, "a duplicate member", name);
				goto done;
			}
		if (!(data = malloc((size_t)size + 1))) {
			error = snap_error__set(err, SNAP_ENOMEM, "out of memory");
			goto done;
		}
		while (used <= (size_t)size) {
			la_ssize_t n = archive_read_data(a, data + used, (size_t)size + 1 - used);

			if (n < 0) {
				free(data);
				error =
				    snap_error__set(err, SNAP_EINVALID, "corrupt bundle '%s': %s",
				                    path, archive_error_string(a));
				goto done;
			}
			if (n == 0)
				break;
			used += (size_t)n;
			/* a decompression bomb is refused while it inflates, not after */
			if (total + used > RATIO_FLOOR &&
			    total + used > MAX_RATIO * (size_t)(archive_filter_bytes(a, -1) + 1)) {
				free(data);
				error = hostile(err, path, "a compression ratio no bundle has, at",
				                name);
				goto done;
			}
		}
		total += used;
		if (used != (size_t)size) {
			free(data);
			error = hostile(err, path, "a member whose size lies", name);
			goto done;
		}
		data[used] = '\0'; /* members are text; keep them NUL-terminated */
		if ((error = snap_bundle__members_add(m, rel, data, used)) < 0) {
			snap_error__set(err, error, "out of memory");
			goto done;
		}
	}
	if (rc != ARCHIVE_EOF)
		error = snap_error__set(err, SNAP_EINVALID, "corrupt bundle '%s': %s", path,
		                        archive_error_string(a));
	else if (!top)
		error = snap_error__set(err, SNAP_EINVALID, "bundle '%s' is empty", path);
done:
	archive_read_free(a);
	if (error < 0)
		free(top);
	else
		*top_out = top;
	return error;
}

static const struct member *find(const struct members *m, const char *name)
{
	for (size_t i = 0; i < m->n; i++)
		if (!strcmp(m->v[i].name, name))
			return &m->v[i];
	return NULL;
}

/* MANIFEST.sha256 must list every other member, each with its right digest, and nothing else. */
static int verify_manifest(const struct members *m, const char *path, snap_error *err)
{
	const struct member *man = find(m, MANIFEST);
	json_t *listed = json_object(); /* names the manifest lists */
	char *text, *save = NULL, *line;
	int error = 0;

	if (!man) {
		json_decref(listed);
		return snap_error__set(err, SNAP_EINVALID, "refusing bundle '%s': no %s", path,
		                       MANIFEST);
	}
	if (!(text = strndup(man->data, man->size)) || !listed) {
		free(text);
		json_decref(listed);
		return snap_error__set(err, SNAP_ENOMEM, "out of memory");
	}
	for (line = strtok_r(text, "\n", &save); line && !error;
	     line = strtok_r(NULL, "\n", &save)) {
		const struct member *mem;
		char hex[65];
		const char *name;

		if (strlen(line) < 67 || strspn(line, "0123456789abcdef") != 64 ||
		    line[64] != ' ' || (line[65] != ' ' && line[65] != '*')) {
			error = snap_error__set(err, SNAP_EINVALID,
			                        "refusing bundle '%s': malformed %s line", path,
			                        MANIFEST);
			break;
		}
		name = line + 66;
		if (!(mem = find(m, name)) || !strcmp(name, MANIFEST) ||
		    !strcmp(name, MANIFEST_HMAC)) {
			error = hostile(err, path, "a manifest entry for a missing member", name);
			break;
		}
		snap_bundle__sha256_hex(hex, mem->data, mem->size);
		if (strncmp(hex, line, 64)) {
			error = hostile(err, path, "a checksum mismatch in", name);
			break;
		}
		json_object_set_new(listed, name, json_true());
	}
	for (size_t i = 0; !error && i < m->n; i++)
		if (strcmp(m->v[i].name, MANIFEST) && strcmp(m->v[i].name, MANIFEST_HMAC) &&
		    !json_object_get(listed, m->v[i].name))
			error =
			    hostile(err, path, "a member the manifest does not list", m->v[i].name);
	json_decref(listed);
	free(text);
	return error;
}

/* With a key: MANIFEST.sha256.hmac must be there and verify. */
static int verify_hmac(const struct members *m, const char *path, const unsigned char *key,
                       size_t key_len, snap_error *err)
{
	const struct member *man = find(m, MANIFEST), *mac = find(m, MANIFEST_HMAC);
	char want[65], line[96];

	if (!mac)
		return snap_error__set(
		    err, SNAP_EINVALID,
		    "refusing bundle '%s': it is not authenticated (no %s), and a "
		    "key was given",
		    path, MANIFEST_HMAC);
	snap_bundle__manifest_hmac(want, key, key_len, man->data, man->size);
	snprintf(line, sizeof(line), "HMAC-SHA-256 %s\n", want);
	/* compare all of it, whatever differs first */
	if (mac->size != strlen(line) || memcmp(mac->data, line, mac->size) != 0) {
		volatile unsigned char diff = 0;

		for (size_t i = 0; i < mac->size && i < strlen(line); i++)
			diff |= (unsigned char)(mac->data[i] ^ line[i]);
		(void)diff;
		return snap_error__set(err, SNAP_EINVALID,
		                       "refusing bundle '%s': authentication failed (its %s does "
		                       "not verify with this key: altered, or made with another)",
		                       path, MANIFEST_HMAC);
	}
	return 0;
}

int snap_bundle_read(snap_snapshot **out, snap_snapshot **old_out, const char *path,
                     snap_error *err)
{
	return snap_bundle_read_keyed(out, old_out, path, NULL, 0, NULL, err);
}

int snap_bundle_read_keyed(snap_snapshot **out, snap_snapshot **old_out, const char *path,
                           const unsigned char *key, size_t key_len, snap_bundle_verified *verified,
                           snap_error *err)
{
	struct members m = {NULL, 0};
	snap_snapshot *s = NULL, *old = NULL;
	const struct member *sm, *om;
	char *top = NULL;
	int error;

	SNAP_ASSERT_ARG(out && path);
	if ((error = read_members(&m, &top, path, err)) < 0 ||
	    (error = verify_manifest(&m, path, err)) < 0 ||
	    (key && (error = verify_hmac(&m, path, key, key_len, err)) < 0))
		goto done;
	if (verified)
		*verified = key ? SNAP_BUNDLE_AUTHENTICATED : SNAP_BUNDLE_CHECKSUMS;
	if (!(sm = find(&m, "snapshot.json"))) {
		error =
		    snap_error__set(err, SNAP_EINVALID, "bundle '%s' has no snapshot.json", path);
		goto done;
	}
	if ((error = snap_snapshot_load_buffer(&s, sm->data, sm->size, err)) < 0)
		goto done;
	if (old_out && (om = find(&m, "old-snapshot.json")) &&
	    (error = snap_snapshot_load_buffer(&old, om->data, om->size, err)) < 0)
		goto done;
	*out = s;
	s = NULL;
	if (old_out) {
		*old_out = old;
		old = NULL;
	}
done:
	snap_snapshot_free(s);
	snap_snapshot_free(old);
	snap_bundle__members_release(&m);
	free(top);
	return error;
}
