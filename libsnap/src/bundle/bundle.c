/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * Change-ticket bundles through libarchive: pax (restricted) tar, compression by suffix,
 * reproducible (sorted members, mtime from the snapshot, uid/gid 0, fixed modes, no gzip
 * timestamp), MANIFEST.sha256 in `sha256sum -c` format. This file builds and writes a bundle;
 * read.c reads and verifies one in memory before anything is used or written; redact.c makes
 * the pseudonyms of a redacted one. SHA-256 and HMAC-SHA-256 come from nettle, the library
 * libarchive itself uses for its digests.
 */
#include <ctype.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <archive.h>
#include <archive_entry.h>
#include <nettle/hmac.h>
#include <nettle/sha2.h>

#include "bundle/bundle_internal.h"
#include "model/model.h"
#include "snap/bundle.h"
#include "snap/check.h"
#include "snap/diff.h"
#include "snap/report.h"

void snap_bundle__members_release(struct members *m)
{
	for (size_t i = 0; i < m->n; i++) {
		free(m->v[i].name);
		free(m->v[i].data);
	}
	free(m->v);
	m->v = NULL;
	m->n = 0;
}

/* Append a member; takes data. */
int snap_bundle__members_add(struct members *m, const char *name, char *data, size_t size)
{
	struct member *nv = realloc(m->v, (m->n + 1) * sizeof(*nv));

	if (!nv || !data) {
		free(data);
		return SNAP_ENOMEM;
	}
	m->v = nv;
	nv[m->n].name = strdup(name);
	nv[m->n].data = data;
	nv[m->n].size = size;
	if (!nv[m->n].name) {
		free(data);
		return SNAP_ENOMEM;
	}
	m->n++;
	return 0;
}

static int cmp_member(const void *a, const void *b)
{
	return strcmp(((const struct member *)a)->name, ((const struct member *)b)->name);
}

/* HMAC-SHA-256 of a manifest, hex, with the key and a domain of its own */
void snap_bundle__manifest_hmac(char out[65], const unsigned char *key, size_t key_len,
                                const void *data, size_t len)
{
	struct hmac_sha256_ctx ctx;
	uint8_t d[SHA256_DIGEST_SIZE];

	hmac_sha256_set_key(&ctx, key_len, key);
	hmac_sha256_update(&ctx, sizeof(HMAC_DOMAIN), (const uint8_t *)HMAC_DOMAIN);
	hmac_sha256_update(&ctx, len, data);
	hmac_sha256_digest(&ctx, sizeof(d), d);
	for (int i = 0; i < SHA256_DIGEST_SIZE; i++)
		snprintf(out + 2 * i, 3, "%02x", d[i]);
}

void snap_bundle__sha256_hex(char out[65], const void *data, size_t len)
{
	struct sha256_ctx ctx;
	uint8_t d[SHA256_DIGEST_SIZE];

	sha256_init(&ctx);
	sha256_update(&ctx, len, data);
	sha256_digest(&ctx, sizeof(d), d);
	for (int i = 0; i < SHA256_DIGEST_SIZE; i++)
		snprintf(out + 2 * i, 3, "%02x", d[i]);
}

int snap_bundle_is_bundle_path(const char *path)
{
	static const char *const sfx[] = {".tar", ".tar.gz", ".tgz", ".tar.xz", ".tar.zst"};
	size_t n = strlen(path);

	for (size_t i = 0; i < SNAP_ARRAY_SIZE(sfx); i++) {
		size_t k = strlen(sfx[i]);

		if (n > k && !strcmp(path + n - k, sfx[i]))
			return 1;
	}
	return 0;
}

static char *text_block(const char *title, const char *body)
{
	snap_buf b = SNAP_BUF_INIT;

	snap_buf__printf(&b, "## %s\n\n```\n%s```\n\n", title, body ? body : "");
	return snap_buf__detach(&b);
}

static char *dup_str(const char *s)
{
	return strdup(s ? s : "");
}

/* Build every member of the bundle in memory. */
static int build_members(struct members *m, snap_snapshot *s, snap_snapshot *old,
                         struct redactor *red, snap_error *err)
{
	char *text = NULL, *show = NULL, *chk_text = NULL;
	snap_check *chk = NULL;
	snap_buf b = SNAP_BUF_INIT;
	int error;

	if ((error = snap_snapshot_to_json(&text, s, err)) < 0 ||
	    (error = snap_bundle__members_add(m, "snapshot.json", text, strlen(text))) < 0)
		return error;
	if ((error = snap_report_render(&show, s, SNAP_REPORT_TEXT, err)) < 0 ||
	    (error = snap_check_run(&chk, s, err)) < 0 ||
	    (error = snap_check_render(&chk_text, chk, 0, err)) < 0)
		goto done;
	snap_buf__printf(&b, "# pcisnap report: %s\n\n", snap_snapshot_hostname(s));
	{
		char *a = text_block("show", show), *c = text_block("check", chk_text);

		snap_buf__puts(&b, a ? a : "");
		snap_buf__puts(&b, c ? c : "");
		free(a);
		free(c);
	}
	text = snap_buf__detach(&b);
	if ((error = snap_bundle__members_add(m, "report.md", text, text ? strlen(text) : 0)) < 0)
		goto done;
	if (old) {
		snap_diff *d = NULL;
		char *dj = NULL, *dm = NULL, *oj = NULL;

		if ((error = snap_diff_compute(&d, old, s, err)) == 0 &&
		    (error = snap_diff_render(&dj, d, SNAP_DIFF_JSON, err)) == 0 &&
		    (error = snap_diff_render(&dm, d, SNAP_DIFF_MARKDOWN, err)) == 0 &&
		    (error = snap_snapshot_to_json(&oj, old, err)) == 0) {
			error = snap_bundle__members_add(m, "diff.json", dj, strlen(dj));
			dj = NULL;
			if (!error)
				error = snap_bundle__members_add(m, "diff.md", dm, strlen(dm));
			dm = NULL;
			if (!error)
				error = snap_bundle__members_add(m, "old-snapshot.json", oj,
				                                 strlen(oj));
			oj = NULL;
		}
		free(dj);
		free(dm);
		free(oj);
		snap_diff_free(d);
		if (error < 0)
			goto done;
	}
	/* raw evidence the collector kept */
	{
		const json_t *root = s->root, *ev = json_object_get(root, "evidence");
		const char *cl = snap_json__str(json_object_get(root, "kernel"), "cmdline");
		const json_t *lines = json_object_get(json_object_get(ev, "kernel_log"), "lines"),
		             *l;
		size_t i;

		if (cl) {
			snap_buf__printf(&b, "%s\n", cl);
			text = snap_buf__detach(&b);
			if ((error = snap_bundle__members_add(m, "evidence/cmdline.txt", text,
			                                      strlen(text))) < 0)
				goto done;
		}
		if (json_array_size(lines)) {
			json_array_foreach (lines, i, l)
				snap_buf__printf(&b, "%s\n", json_string_value(l));
			text = snap_buf__detach(&b);
			if ((error = snap_bundle__members_add(m, "evidence/kernel-log.txt", text,
			                                      strlen(text))) < 0)
				goto done;
		}
		if (json_is_object(json_object_get(ev, "interrupts"))) {
			if ((error = snap_json__dump(&text, json_object_get(ev, "interrupts"),
			                             err)) < 0 ||
			    (error = snap_bundle__members_add(m, "evidence/interrupts.json", text,
			                                      strlen(text))) < 0)
				goto done;
		}
	}
	if (red) {
		const char *field;
		json_t *count;

		snap_buf__puts(
		    &b, "# Redactions\n\nThese fields were replaced by keyed pseudonyms "
		        "(HMAC-SHA-256; the same value and key give the same pseudonym, so "
		        "redacted bundles of one host still compare). Values are not listed.\n\n");
		json_object_foreach (red->fields, field, count)
			snap_buf__printf(&b, "- %s: %" JSON_INTEGER_FORMAT " value(s)\n", field,
			                 json_integer_value(count));
		if (!json_object_size(red->fields))
			snap_buf__puts(&b, "- none of the redactable fields had a value\n");
		text = snap_buf__detach(&b);
		if ((error = snap_bundle__members_add(m, "REDACTIONS.md", text, strlen(text))) < 0)
			goto done;
	}
	text = dup_str("This is a pcisnap bundle: the passthrough health snapshot of one host\n"
	               "(snapshot.json, schema pcisnap.snapshot/1), the show and check reports\n"
	               "(report.md) and, when made with --against, the older snapshot and the\n"
	               "classified differences (old-snapshot.json, diff.json, diff.md).\n\n"
	               "Check it:   cd <this directory> && sha256sum -c MANIFEST.sha256\n"
	               "Use it:     pcisnap show BUNDLE.tar.gz ; pcisnap import BUNDLE.tar.gz\n");
	error = snap_bundle__members_add(m, "README.txt", text, strlen(text));
done:
	snap_buf__release(&b);
	free(show);
	free(chk_text);
	snap_check_free(chk);
	return error;
}

/* The compression: opts' name if given ("none", "gzip", "xz", "zstd"), else path's suffix. */
static int set_filter(struct archive *a, const char *path, const char *compression, snap_error *err)
{
	size_t n = strlen(path);
	int rc;

#define ENDS(s) (n > strlen(s) && !strcmp(path + n - strlen(s), s))
	if (compression ? !strcmp(compression, "none") : ENDS(".tar"))
		return 0;
	if (compression ? !strcmp(compression, "gzip") : (ENDS(".tar.gz") || ENDS(".tgz"))) {
		if ((rc = archive_write_add_filter_gzip(a)) == ARCHIVE_OK)
			rc = archive_write_set_filter_option(a, "gzip", "timestamp", NULL);
	} else if (compression ? !strcmp(compression, "xz") : ENDS(".tar.xz")) {
		rc = archive_write_add_filter_xz(a);
	} else if (compression ? !strcmp(compression, "zstd") : ENDS(".tar.zst")) {
		rc = archive_write_add_filter_zstd(a);
	} else if (compression) {
		return snap_error__set(err, SNAP_EINVALID,
		                       "unknown compression '%s' (none, gzip, xz, zstd)",
		                       compression);
	} else if (!strcmp(path, "-")) {
		return snap_error__set(err, SNAP_EINVALID,
		                       "a bundle on standard output needs its compression named "
		                       "(none, gzip, xz, zstd)");
	} else {
		return snap_error__set(
		    err, SNAP_EINVALID,
		    "'%s': unknown bundle suffix (.tar, .tar.gz, .tar.xz, .tar.zst)", path);
	}
#undef ENDS
	if (rc != ARCHIVE_OK)
		return snap_error__set(err, SNAP_ERROR, "libarchive: %s", archive_error_string(a));
	return 0;
}

/* libarchive's output into memory, for a bundle written to standard output whole or not at all */
static la_ssize_t to_buf(struct archive *a, void *payload, const void *data, size_t n)
{
	snap_buf *b = payload;

	snap_buf__put(b, data, n);
	if (b->oom) {
		archive_set_error(a, ENOMEM, "out of memory");
		return -1;
	}
	return (la_ssize_t)n;
}

int snap_bundle_export(const snap_snapshot *s, const snap_export_options *opts, const char *path,
                       snap_error *err)
{
	static const snap_export_options defaults = SNAP_EXPORT_OPTIONS_INIT;
	struct members m = {NULL, 0};
	struct redactor red = {NULL, 0, NULL, NULL, NULL, NULL};
	snap_snapshot *cur = NULL, *old = NULL;
	struct archive *a = NULL;
	char top[256], tmp[4096], manifest_line[4096];
	snap_buf man = SNAP_BUF_INIT, out = SNAP_BUF_INIT;
	int64_t when = 0;
	int error = 0, fd = -1;
	bool to_stdout = path && !strcmp(path, "-");
	const char *comp;

	SNAP_ASSERT_ARG(s && path);
	if (!opts)
		opts = &defaults;
	if (opts->version < 1 || opts->version > SNAP_EXPORT_OPTIONS_VERSION)
		return snap_error__set(err, SNAP_EINVALID, "unsupported export options version");
	if (opts->version >= 2 && opts->auth_key && opts->auth_key_len < 16)
		return snap_error__set(err, SNAP_EINVALID,
		                       "authentication needs a key of 16 bytes or more");
	if (opts->redact && (!opts->redact_key || opts->redact_key_len < 16))
		return snap_error__set(err, SNAP_EINVALID,
		                       "redaction needs a key of 16 bytes or more");
	comp = opts->version >= 3 ? opts->compression : NULL;
	/* a name it does not know, or a path whose suffix names none: said before any work */
	if ((!comp && !snap_bundle_is_bundle_path(path)) ||
	    (comp && strcmp(comp, "none") && strcmp(comp, "gzip") && strcmp(comp, "xz") &&
	     strcmp(comp, "zstd")))
		return set_filter(NULL, path, comp, err);
	/* work on copies: redaction rewrites them */
	cur = snap_snapshot__new(json_deep_copy(s->root));
	old = opts->against ? snap_snapshot__new(json_deep_copy(opts->against->root)) : NULL;
	if (!cur || !cur->root || (opts->against && (!old || !old->root))) {
		error = snap_error__set(err, SNAP_ENOMEM, "out of memory");
		goto done;
	}
	if (opts->redact) {
		red.key = opts->redact_key;
		red.key_len = opts->redact_key_len;
		red.map = json_object();
		red.prefix = json_object();
		red.fields = json_object();
		red.made = json_object();
		if (old)
			snap_bundle__redact_doc(&red, old->root);
		snap_bundle__redact_doc(&red, cur->root);
		if (old) /* values first seen in cur may also occur in old */
			snap_bundle__redact_walk(&red, old->root);
	}
	{
		const char *at = snap_json__str(json_object_get(cur->root, "host"), "collected_at");
		char stamp[32] = "unknown-time";

		if ((when = snap_time__parse(at)) >= 0)
			snap_time__format(stamp, sizeof(stamp), when, true);
		snprintf(top, sizeof(top), "pcisnap-%s-%s",
		         snap_snapshot_hostname(cur) ? snap_snapshot_hostname(cur) : "host", stamp);
		for (char *p = top; *p; p++)
			if (!isalnum((unsigned char)*p) && *p != '-' && *p != '.' && *p != '_')
				*p = '_';
	}
	if ((error = build_members(&m, cur, old, opts->redact ? &red : NULL, err)) < 0)
		goto done;
	qsort(m.v, m.n, sizeof(*m.v), cmp_member);
	for (size_t i = 0; i < m.n; i++) {
		char hex[65];

		snap_bundle__sha256_hex(hex, m.v[i].data, m.v[i].size);
		snprintf(manifest_line, sizeof(manifest_line), "%s  %s\n", hex, m.v[i].name);
		snap_buf__puts(&man, manifest_line);
	}
	{
		char *mt = snap_buf__detach(&man);
		size_t mlen = mt ? strlen(mt) : 0;

		if ((error = snap_bundle__members_add(&m, MANIFEST, mt, mlen)) < 0)
			goto done;
		if (opts->version >= 2 && opts->auth_key) {
			char hex[65], *line = NULL;

			snap_bundle__manifest_hmac(hex, opts->auth_key, opts->auth_key_len,
			                           mt ? mt : "", mlen);
			if (asprintf(&line, "HMAC-SHA-256 %s\n", hex) < 0 ||
			    (error = snap_bundle__members_add(&m, MANIFEST_HMAC, line,
			                                      strlen(line))) < 0) {
				error = snap_error__set(err, SNAP_ENOMEM, "out of memory");
				goto done;
			}
		}
	}
	qsort(m.v, m.n, sizeof(*m.v), cmp_member);

	if (!to_stdout) {
		snprintf(tmp, sizeof(tmp), "%s.tmpXXXXXX", path);
		if ((fd = mkstemp(tmp)) < 0) {
			error = snap_error__errno(err, "create", path);
			goto done;
		}
	}
	if (!(a = archive_write_new()) ||
	    archive_write_set_format_pax_restricted(a) != ARCHIVE_OK ||
	    (error = set_filter(a, path, comp, err)) < 0 ||
	    (to_stdout ? archive_write_set_bytes_in_last_block(a, 1) != ARCHIVE_OK ||
	                     archive_write_open(a, &out, NULL, to_buf, NULL) != ARCHIVE_OK
	               : archive_write_open_fd(a, fd) != ARCHIVE_OK)) {
		if (!error)
			error = snap_error__set(err, SNAP_ERROR, "libarchive: %s",
			                        a ? archive_error_string(a) : "out of memory");
		goto done;
	}
	{
		struct archive_entry *e = archive_entry_new();
		bool evidence_dir = false;

		archive_entry_set_pathname(e, top);
		archive_entry_set_filetype(e, AE_IFDIR);
		archive_entry_set_perm(e, 0755);
		archive_entry_set_mtime(e, (time_t)when, 0);
		archive_entry_set_uid(e, 0);
		archive_entry_set_gid(e, 0);
		if (archive_write_header(a, e) != ARCHIVE_OK)
			error = snap_error__set(err, SNAP_ERROR, "libarchive: %s",
			                        archive_error_string(a));
		for (size_t i = 0; !error && i < m.n; i++) {
			char name[600];

			if (!evidence_dir && !strncmp(m.v[i].name, "evidence/", 9)) {
				evidence_dir = true;
				archive_entry_clear(e);
				snprintf(name, sizeof(name), "%s/evidence", top);
				archive_entry_set_pathname(e, name);
				archive_entry_set_filetype(e, AE_IFDIR);
				archive_entry_set_perm(e, 0755);
				archive_entry_set_mtime(e, (time_t)when, 0);
				if (archive_write_header(a, e) != ARCHIVE_OK) {
					error = snap_error__set(err, SNAP_ERROR, "libarchive: %s",
					                        archive_error_string(a));
					break;
				}
			}
			archive_entry_clear(e);
			snprintf(name, sizeof(name), "%s/%s", top, m.v[i].name);
			archive_entry_set_pathname(e, name);
			archive_entry_set_filetype(e, AE_IFREG);
			archive_entry_set_perm(e, 0644);
			archive_entry_set_size(e, (la_int64_t)m.v[i].size);
			archive_entry_set_mtime(e, (time_t)when, 0);
			archive_entry_set_uid(e, 0);
			archive_entry_set_gid(e, 0);
			if (archive_write_header(a, e) != ARCHIVE_OK ||
			    archive_write_data(a, m.v[i].data, m.v[i].size) !=
			        (la_ssize_t)m.v[i].size)
				error = snap_error__set(err, SNAP_ERROR, "libarchive: %s",
				                        archive_error_string(a));
		}
		archive_entry_free(e);
	}
	if (!error && archive_write_close(a) != ARCHIVE_OK)
		error = snap_error__set(err, SNAP_ERROR, "libarchive: %s", archive_error_string(a));
	if (!error && to_stdout) {
		/* complete: now it goes out, all of it */
		for (size_t off = 0; off < out.len;) {
			ssize_t w = write(STDOUT_FILENO, out.ptr + off, out.len - off);

			if (w < 0 && errno == EINTR)
				continue;
			if (w <= 0) {
				error = snap_error__errno(err, "write", "standard output");
				break;
			}
			off += (size_t)w;
		}
	} else if (!error && (fsync(fd) < 0 || rename(tmp, path) < 0)) {
		error = snap_error__errno(err, "write", path);
	}
done:
	if (a)
		archive_write_free(a);
	if (fd >= 0) {
		close(fd);
		if (error < 0)
			unlink(tmp);
	}
	snap_buf__release(&man);
	snap_buf__release(&out);
	snap_bundle__members_release(&m);
	json_decref(red.map);
	json_decref(red.prefix);
	json_decref(red.fields);
	json_decref(red.made);
	snap_snapshot_free(cur);
	snap_snapshot_free(old);
	return error;
}

/* ---- read and verify ---- */
