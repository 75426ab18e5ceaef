/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * Change-ticket bundles through libarchive: pax (restricted) tar, compression by suffix,
 * reproducible (sorted members, mtime from the snapshot, uid/gid 0, fixed modes, no gzip
 * timestamp), MANIFEST.sha256 in `sha256sum -c` format; reading verifies everything in memory
 * before anything is used or written. SHA-256 and HMAC-SHA-256 come from nettle, the library
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

#include "model/model.h"
#include "snap/bundle.h"
#include "snap/check.h"
#include "snap/diff.h"
#include "snap/report.h"

#define MAX_MEMBERS     32           /* a bundle has about ten */
#define MAX_MEMBER_SIZE (64u << 20)  /* far above any snapshot */
#define MAX_TOTAL_SIZE  (160u << 20) /* all members together, uncompressed */
#define MAX_RATIO       200          /* uncompressed : compressed, once past RATIO_FLOOR */
#define RATIO_FLOOR     (8u << 20)   /* small bundles may compress as well as they like */
#define MANIFEST        "MANIFEST.sha256"
#define MANIFEST_HMAC   "MANIFEST.sha256.hmac"    /* "HMAC-SHA-256 <hex>": authenticates MANIFEST */
#define HMAC_DOMAIN     "pcisnap bundle manifest" /* keeps this HMAC apart from pseudonyms */

/* One member: name relative to the top directory, contents. */
struct member {
	char *name;  /* owned */
	char *data;  /* owned */
	size_t size; /* bytes of data */
};

struct members {
	struct member *v; /* owned array */
	size_t n;         /* entries */
};

static void members_release(struct members *m)
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
static int members_add(struct members *m, const char *name, char *data, size_t size)
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
static void manifest_hmac(char out[65], const unsigned char *key, size_t key_len, const void *data,
                          size_t len)
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

static void sha256_hex(char out[65], const void *data, size_t len)
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

/* ---- redaction ---- */

struct redactor {
	const unsigned char *key; /* borrowed */
	size_t key_len;
	json_t *map;    /* owned: original -> pseudonym */
	json_t *prefix; /* owned: first 1-4 characters of an original -> [originals] */
	json_t *fields; /* owned: field name -> count of values replaced */
	json_t *made;   /* owned: first 1-4 characters of a pseudonym -> [pseudonyms] */
};

static void pseudonym_hex(char *out, size_t nhex, const struct redactor *r, const char *kind,
                          const char *value)
{
	struct hmac_sha256_ctx ctx;
	uint8_t d[SHA256_DIGEST_SIZE];

	hmac_sha256_set_key(&ctx, r->key_len, r->key);
	hmac_sha256_update(&ctx, strlen(kind) + 1, (const uint8_t *)kind); /* with its NUL */
	hmac_sha256_update(&ctx, strlen(value), (const uint8_t *)value);
	hmac_sha256_digest(&ctx, sizeof(d), d);
	for (size_t i = 0; i < nhex / 2 && i < sizeof(d); i++)
		snprintf(out + 2 * i, 3, "%02x", d[i]);
}

/* The pseudonym of value as kind, remembered so every occurrence gets the same one. */
static const char *pseudonym(struct redactor *r, const char *kind, const char *value,
                             const char *field)
{
	const json_t *have = json_object_get(r->map, value);
	char hex[33], out[64];

	if (have)
		return json_string_value(have);
	pseudonym_hex(hex, 24, r, kind, value);
	if (!strcmp(kind, "dsn")) /* keep the Device Serial Number format */
		snprintf(out, sizeof(out), "%.2s-%.2s-%.2s-%.2s-%.2s-%.2s-%.2s-%.2s", hex, hex + 2,
		         hex + 4, hex + 6, hex + 8, hex + 10, hex + 12, hex + 14);
	else if (!strcmp(kind, "mac")) /* a locally administered unicast address */
		snprintf(out, sizeof(out), "02:%.2s:%.2s:%.2s:%.2s:%.2s", hex, hex + 2, hex + 4,
		         hex + 6, hex + 8);
	else
		snprintf(out, sizeof(out), "%s-%.12s", kind, hex);
	json_object_set_new(r->map, value, json_string(out));
	{
		/* a pseudonym is never redacted again: its hex digits could pass for a MAC
		 * address, and a snapshot walked twice would name one host twice */
		char pre[5];
		json_t *list;

		snprintf(pre, sizeof(pre), "%.4s", out);
		if (!(list = json_object_get(r->made, pre))) {
			list = json_array();
			json_object_set_new(r->made, pre, list);
		}
		json_array_append_new(list, json_string(out));
	}
	if (strcmp(kind, "mac")) { /* MACs are found by their shape, everything else by name */
		char pre[5];
		json_t *list;

		snprintf(pre, sizeof(pre), "%.4s", value);
		if (!(list = json_object_get(r->prefix, pre))) {
			list = json_array();
			json_object_set_new(r->prefix, pre, list);
		}
		json_array_append_new(list, json_string(value));
	}
	if (field) {
		json_int_t c = json_integer_value(json_object_get(r->fields, field));

		json_object_set_new(r->fields, field, json_integer(c + 1));
	}
	return json_string_value(json_object_get(r->map, value));
}

/* Replace the string at obj[key] by its pseudonym. */
static void redact_field(struct redactor *r, json_t *obj, const char *key, const char *kind,
                         const char *field)
{
	const char *v = snap_json__str(obj, key);

	if (v && *v)
		json_object_set_new(obj, key, json_string(pseudonym(r, kind, v, field)));
}

static bool hex2(const char *p)
{
	return isxdigit((unsigned char)p[0]) && isxdigit((unsigned char)p[1]);
}

/* The pseudonym of a MAC address (12 hex digits, any case) written in the style it came in:
 * sep ':' or '-' (six groups), '.' (three groups of four) or 0 (unseparated). */
static void put_mac(snap_buf *b, struct redactor *r, const char *digits12, char sep)
{
	char mac[18], hexd[13];
	const char *ps;
	size_t n = 0;

	for (int i = 0; i < 12; i++)
		hexd[i] = (char)tolower((unsigned char)digits12[i]);
	hexd[12] = '\0';
	snprintf(mac, sizeof(mac), "%.2s:%.2s:%.2s:%.2s:%.2s:%.2s", hexd, hexd + 2, hexd + 4,
	         hexd + 6, hexd + 8, hexd + 10);
	ps = pseudonym(r, "mac", mac, "MAC addresses in text"); /* "02:xx:xx:xx:xx:xx" */
	for (const char *q = ps; *q; q++) {
		if (*q == ':') {
			if (sep == ':' || sep == '-')
				snap_buf__put(b, &sep, 1);
			continue;
		}
		snap_buf__put(b, q, 1);
		if (sep == '.' && ++n % 4 == 0 && n < 12)
			snap_buf__puts(b, ".");
	}
}

/*
 * A MAC address starting at p (the character before p is not a hex digit): six groups of two
 * hex digits joined by ':' or '-' (also at the end of a longer run, as BOOTIF=01-<mac> and
 * dracut's ifname=<name>:<mac> write them, but not an eight-group Device Serial Number or
 * EUI-64), three groups of four joined by '.', or twelve hex digits alone. Writes the pseudonym
 * and returns how many characters it replaced, 0 when there is no MAC at p.
 */
static size_t redact_mac_at(snap_buf *b, struct redactor *r, const char *p)
{
	const char *g[16];
	size_t ng = 0, len = 0;
	char sep = 0, digits[13];

	/* a run of hex groups with one separator */
	for (const char *q = p;;) {
		size_t glen = 0;

		while (isxdigit((unsigned char)q[glen]))
			glen++;
		if (!glen || ng == SNAP_ARRAY_SIZE(g))
			break;
		g[ng++] = q;
		q += glen;
		if ((*q == ':' || *q == '-') && (!sep || *q == sep) &&
		    isxdigit((unsigned char)q[1])) {
			sep = *q;
			q++;
			continue;
		}
		len = (size_t)(q - p);
		break;
	}
	if (sep && ng >= 6) {
		bool two = true; /* the last six groups are two digits each */
		bool all_two = true;

		for (size_t i = 0; i < ng; i++) {
			size_t glen = 0;

			while (isxdigit((unsigned char)g[i][glen]))
				glen++;
			if (glen != 2) {
				all_two = false;
				if (i >= ng - 6)
					two = false;
			}
		}
		if (two && !(ng == 8 && all_two) && ng <= 7) {
			const char *m = g[ng - 6];

			snap_buf__put(b, p, (size_t)(m - p)); /* "01-" or "0:" before it stays */
			for (int i = 0; i < 6; i++) {
				digits[2 * i] = m[3 * i];
				digits[2 * i + 1] = m[3 * i + 1];
			}
			put_mac(b, r, digits, sep);
			return len;
		}
		return 0;
	}
	/* aabb.ccdd.eeff */
	if (hex2(p) && hex2(p + 2) && p[4] == '.' && hex2(p + 5) && hex2(p + 7) && p[9] == '.' &&
	    hex2(p + 10) && hex2(p + 12) && !isxdigit((unsigned char)p[14]) && p[14] != '.') {
		memcpy(digits, p, 4);
		memcpy(digits + 4, p + 5, 4);
		memcpy(digits + 8, p + 10, 4);
		put_mac(b, r, digits, '.');
		return 14;
	}
	/* twelve hex digits alone */
	if (ng == 1 && !sep) {
		size_t glen = 0;

		while (isxdigit((unsigned char)p[glen]))
			glen++;
		if (glen == 12 && p[12] != '.' && p[12] != ':' && p[12] != '-') {
			memcpy(digits, p, 12);
			put_mac(b, r, digits, 0);
			return 12;
		}
	}
	return 0;
}

static bool word_char(char c)
{
	return isalnum((unsigned char)c) || c == '-' || c == '_';
}

/*
 * Rewrite one string: known originals and MAC addresses become pseudonyms. Originals of four
 * characters or more are replaced anywhere, shorter ones (a host called "web") only as a whole
 * word. The originals are indexed by their first characters, so a long text costs its length.
 */
static json_t *redact_string(struct redactor *r, const char *s)
{
	snap_buf b = SNAP_BUF_INIT;
	json_t *res;
	char *out;

	for (const char *p = s; *p;) {
		const char *bestv = NULL;
		size_t bestlen = 0, used;
		char pre[5];
		const json_t *cands, *key;
		size_t i;

		/* 0. a pseudonym already made stays as it is */
		snprintf(pre, sizeof(pre), "%.4s", p);
		json_array_foreach (json_object_get(r->made, pre), i, key) {
			size_t kl = strlen(json_string_value(key));

			if (kl > bestlen && !strncmp(p, json_string_value(key), kl))
				bestlen = kl;
		}
		if (bestlen) {
			snap_buf__put(&b, p, bestlen);
			p += bestlen;
			continue;
		}
		/* 1. the longest known original at p */
		for (size_t plen = strlen(pre); plen >= 1 && !bestv; plen--) {
			pre[plen] = '\0';
			cands = json_object_get(r->prefix, pre);
			json_array_foreach (cands, i, key) {
				const char *k = json_string_value(key);
				size_t kl = strlen(k);

				if (kl <= bestlen || strncmp(p, k, kl))
					continue;
				if (kl < 4 && ((p > s && word_char(p[-1])) || word_char(p[kl])))
					continue; /* a short name only as a word of its own */
				bestv = json_string_value(json_object_get(r->map, k));
				bestlen = kl;
			}
		}
		if (bestv) {
			snap_buf__puts(&b, bestv);
			p += bestlen;
			continue;
		}
		/* 2. a MAC address */
		if ((p == s || !isxdigit((unsigned char)p[-1])) &&
		    (used = redact_mac_at(&b, r, p))) {
			p += used;
			continue;
		}
		snap_buf__put(&b, p, 1);
		p++;
	}
	out = snap_buf__detach(&b);
	res = json_string(out ? out : "");
	free(out);
	return res;
}

static void redact_walk(struct redactor *r, json_t *j)
{
	size_t i;
	const char *k;
	json_t *v;

	if (json_is_object(j)) {
		json_t *renamed = NULL; /* keys hold values too (modprobe.d option names) */

		json_object_foreach (j, k, v) {
			json_t *nk = redact_string(r, k);

			if (json_is_string(v))
				json_object_set_new(j, k, redact_string(r, json_string_value(v)));
			else
				redact_walk(r, v);
			if (strcmp(json_string_value(nk), k)) {
				if (!renamed)
					renamed = json_object();
				json_object_set(renamed, k, nk);
			}
			json_decref(nk);
		}
		json_object_foreach (renamed, k, v) {
			json_t *val = json_incref(json_object_get(j, k));

			json_object_del(j, k);
			json_object_set_new(j, json_string_value(v), val);
		}
		json_decref(renamed);
	} else if (json_is_array(j)) {
		json_array_foreach (j, i, v) {
			if (json_is_string(v))
				json_array_set_new(j, i, redact_string(r, json_string_value(v)));
			else
				redact_walk(r, v);
		}
	}
}

/* Redact a snapshot document in place: fields first, then every string. */
static void redact_doc(struct redactor *r, json_t *root)
{
	static const char *const serials[] = {"product_serial", "board_serial", "chassis_serial"};
	json_t *fw = json_object_get(root, "firmware"), *d, *vm;
	size_t i;

	redact_field(r, json_object_get(root, "host"), "hostname", "host", "host.hostname");
	for (size_t k = 0; k < SNAP_ARRAY_SIZE(serials); k++) {
		char field[64];

		snprintf(field, sizeof(field), "firmware.%s", serials[k]);
		redact_field(r, fw, serials[k], "serial", field);
	}
	redact_field(r, fw, "product_uuid", "uuid", "firmware.product_uuid");
	json_array_foreach (json_object_get(root, "devices"), i, d)
		redact_field(r, d, "dsn", "dsn", "devices[].dsn (PCIe Device Serial Numbers)");
	json_array_foreach (json_object_get(root, "vms"), i, vm) {
		redact_field(r, vm, "name", "vm", "vms[].name");
		if (!strcmp(snap_json__str(vm, "source") ? snap_json__str(vm, "source") : "",
		            "libvirt"))
			redact_field(r, vm, "id", "vm", "vms[].id (libvirt domain names)");
	}
	redact_walk(r, root);
}

/* ---- export ---- */

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
	    (error = members_add(m, "snapshot.json", text, strlen(text))) < 0)
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
	if ((error = members_add(m, "report.md", text, text ? strlen(text) : 0)) < 0)
		goto done;
	if (old) {
		snap_diff *d = NULL;
		char *dj = NULL, *dm = NULL, *oj = NULL;

		if ((error = snap_diff_compute(&d, old, s, err)) == 0 &&
		    (error = snap_diff_render(&dj, d, SNAP_DIFF_JSON, err)) == 0 &&
		    (error = snap_diff_render(&dm, d, SNAP_DIFF_MARKDOWN, err)) == 0 &&
		    (error = snap_snapshot_to_json(&oj, old, err)) == 0) {
			error = members_add(m, "diff.json", dj, strlen(dj));
			dj = NULL;
			if (!error)
				error = members_add(m, "diff.md", dm, strlen(dm));
			dm = NULL;
			if (!error)
				error = members_add(m, "old-snapshot.json", oj, strlen(oj));
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
			if ((error = members_add(m, "evidence/cmdline.txt", text, strlen(text))) <
			    0)
				goto done;
		}
		if (json_array_size(lines)) {
			json_array_foreach (lines, i, l)
				snap_buf__printf(&b, "%s\n", json_string_value(l));
			text = snap_buf__detach(&b);
			if ((error =
			         members_add(m, "evidence/kernel-log.txt", text, strlen(text))) < 0)
				goto done;
		}
		if (json_is_object(json_object_get(ev, "interrupts"))) {
			if ((error = snap_json__dump(&text, json_object_get(ev, "interrupts"),
			                             err)) < 0 ||
			    (error = members_add(m, "evidence/interrupts.json", text,
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
		if ((error = members_add(m, "REDACTIONS.md", text, strlen(text))) < 0)
			goto done;
	}
	text = dup_str("This is a pcisnap bundle: the passthrough health snapshot of one host\n"
	               "(snapshot.json, schema pcisnap.snapshot/1), the show and check reports\n"
	               "(report.md) and, when made with --against, the older snapshot and the\n"
	               "classified differences (old-snapshot.json, diff.json, diff.md).\n\n"
	               "Check it:   cd <this directory> && sha256sum -c MANIFEST.sha256\n"
	               "Use it:     pcisnap show BUNDLE.tar.gz ; pcisnap import BUNDLE.tar.gz\n");
	error = members_add(m, "README.txt", text, strlen(text));
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
			redact_doc(&red, old->root);
		redact_doc(&red, cur->root);
		if (old) /* values first seen in cur may also occur in old */
			redact_walk(&red, old->root);
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

		sha256_hex(hex, m.v[i].data, m.v[i].size);
		snprintf(manifest_line, sizeof(manifest_line), "%s  %s\n", hex, m.v[i].name);
		snap_buf__puts(&man, manifest_line);
	}
	{
		char *mt = snap_buf__detach(&man);
		size_t mlen = mt ? strlen(mt) : 0;

		if ((error = members_add(&m, MANIFEST, mt, mlen)) < 0)
			goto done;
		if (opts->version >= 2 && opts->auth_key) {
			char hex[65], *line = NULL;

			manifest_hmac(hex, opts->auth_key, opts->auth_key_len, mt ? mt : "", mlen);
			if (asprintf(&line, "HMAC-SHA-256 %s\n", hex) < 0 ||
			    (error = members_add(&m, MANIFEST_HMAC, line, strlen(line))) < 0) {
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
	members_release(&m);
	json_decref(red.map);
	json_decref(red.prefix);
	json_decref(red.fields);
	json_decref(red.made);
	snap_snapshot_free(cur);
	snap_snapshot_free(old);
	return error;
}

/* ---- read and verify ---- */

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
		if ((error = members_add(m, rel, data, used)) < 0) {
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
		sha256_hex(hex, mem->data, mem->size);
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
	manifest_hmac(want, key, key_len, man->data, man->size);
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
	members_release(&m);
	free(top);
	return error;
}
