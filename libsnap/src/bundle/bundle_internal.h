/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * bundle/: what its files share: the members of a bundle in memory, the bounds a bundle is
 * read within, and the redactor. bundle.c builds and writes a bundle, read.c reads and
 * verifies one, redact.c makes the pseudonyms of a redacted one.
 */
#ifndef SNAP_BUNDLE_INTERNAL_H
#define SNAP_BUNDLE_INTERNAL_H

#include <stdbool.h>
#include <stddef.h>

#include "model/model.h"

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

struct redactor {
	const unsigned char *key; /* borrowed */
	size_t key_len;
	json_t *map;    /* owned: original -> pseudonym */
	json_t *prefix; /* owned: first 1-4 characters of an original -> [originals] */
	json_t *fields; /* owned: field name -> count of values replaced */
	json_t *made;   /* owned: first 1-4 characters of a pseudonym -> [pseudonyms] */
};

/* shared by the files split from bundle.c */
void snap_bundle__members_release(struct members *m);
int snap_bundle__members_add(struct members *m, const char *name, char *data, size_t size);
void snap_bundle__manifest_hmac(char out[65], const unsigned char *key, size_t key_len,
                                const void *data, size_t len);
void snap_bundle__sha256_hex(char out[65], const void *data, size_t len);
void snap_bundle__redact_walk(struct redactor *r, json_t *j);
void snap_bundle__redact_doc(struct redactor *r, json_t *root);

#endif
