/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * Redaction: hostnames, serials, UUIDs, MACs and addresses replaced by keyed pseudonyms
 * (HMAC-SHA-256 of the value under the redaction key), the same value always the same pseudonym,
 * collisions refused; the report says which fields were replaced.
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

/* ---- redaction ---- */

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

void snap_bundle__redact_walk(struct redactor *r, json_t *j)
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
				snap_bundle__redact_walk(r, v);
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
				snap_bundle__redact_walk(r, v);
		}
	}
}

/* Redact a snapshot document in place: fields first, then every string. */
void snap_bundle__redact_doc(struct redactor *r, json_t *root)
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
	snap_bundle__redact_walk(r, root);
}

/* ---- export ---- */
