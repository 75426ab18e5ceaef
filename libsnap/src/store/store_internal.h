/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * store/: snapshots in a git repository. Includes util/ and model/ only: what a commit records
 * beside its snapshot comes from the caller.
 */
#ifndef SNAP_STORE_STORE_INTERNAL_H
#define SNAP_STORE_STORE_INTERNAL_H

#include "model/model.h"
#include "snap/store.h"
#include "util/util.h"

struct git_repository;
struct git_oid;
struct snap_store {
	struct git_repository *repo;   /* owned */
	char *path;                    /* owned: as given */
	snap_store_summary_fn summary; /* NULL: commits record no fields */
	void *summary_payload;
};
struct snap_store_fields {
	snap_buf b; /* "key: value\n" lines */
};
int snap_store__load_commit(snap_snapshot **out, struct snap_store *st, const struct git_oid *id,
                            snap_error *err);
void snap_store__msg_field(char *buf, size_t n, const char *msg, const char *key);
/* Host branch names, sorted, as [{"k": name}]; an unreadable branch is an error, never skipped. */
int snap_store__host_names(json_t **out, struct snap_store *st, snap_error *err);

#endif
