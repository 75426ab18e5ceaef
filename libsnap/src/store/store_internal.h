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
	snap_store_credential_fn cred; /* NULL: no user name and password */
	snap_store_ref_fn on_ref;      /* NULL: refs moved are not reported */
	void *transport_payload;
	bool credential_rejected; /* the last push or pull: the remote refused cred's */
	int lock_fd;              /* pcisnap-write.lock, flock()ed while >= 0 (lock.c) */
	char warning[1024];       /* what taking the lock over said; "" when nothing */
};

#define SNAPSHOT_FILE      "snapshot.json"
#define MAX_CAS_TRIES      400
#define STORE_MARKER       "pcisnap.store"
#define IMPORTED           "refs/pcisnap/imported/" /* a host's imported snapshots older than its tip */
#define SNAP_LABEL_JOURNAL "refs/pcisnap/labels" /* labels moved and deleted (labels.c) */
#define SNAP_POLICY_REF    "refs/pcisnap/policy" /* accepted deviations (policy.c) */

/* store.c: what the store's files share */
int snap_store__git_fail(snap_error *err, int code, const char *what, const char *arg);
/* A host name usable as a branch and unambiguous in revisions (no '/', '@', '~', '^', ':'). */
bool snap_store__valid_name(const char *s);
/* A revision (HOST, HOST~N, HOST@LABEL, a commit id) to its commit. */
int snap_store__resolve(struct git_oid *out, struct snap_store *st, const char *rev,
                        snap_error *err);
/* ", did you mean 'web-01'?" into buf when a host's name is close to name, else "". */
void snap_store__did_you_mean(char *buf, size_t n, struct snap_store *st, const char *name);
/*
 * The commit message of s on parent: its summary fields (the store's summary function), the
 * verdict against prev (NULL: loaded from parent when needed). *out malloc'd.
 */
struct git_oid;
int snap_store__commit_message(char **out, struct snap_store *st, const snap_snapshot *s,
                               const struct git_oid *parent, const snap_snapshot *prev,
                               snap_error *err);
/* A short random pause between compare-and-swap attempts. */
void snap_store__backoff(int attempt);

/*
 * lock.c: every writer takes the store's writer lock first (held until snap_store_free()),
 * taking over the git lock files a dead writer left. 0, or SNAP_ERROR when another pcisnap
 * has held it for a minute.
 */
int snap_store__write_lock(struct snap_store *st, snap_error *err);
void snap_store__write_unlock(struct snap_store *st);

/*
 * pack.c: the store packs itself, as git gc --auto does: after a commit, when the loose objects
 * pass SNAP_STORE_LOOSE_MAX (estimated from the new object's fan-out directory, counted only
 * then), they go into one new pack through libgit2's packbuilder and the loose copies are
 * removed; past SNAP_STORE_PACKS_MAX packs, everything reachable is repacked into one. Failure
 * leaves the loose objects as they were: it is never an error of the commit.
 */
#define SNAP_STORE_LOOSE_MAX 128
#define SNAP_STORE_PACKS_MAX 8
void snap_store__auto_pack(struct snap_store *st, const struct git_oid *new_object);
/* Pack now (loose objects into a pack; all into one when all); 0 or -1. */
int snap_store__pack(struct snap_store *st, bool all);

/* transport.c: the callbacks of one push or pull. */
struct git_remote_callbacks;
struct snap_transport {
	struct snap_store *st;
	int port;         /* of an ssh:// URL, for known_hosts; 0: 22 */
	bool tried_agent; /* each kind of credential is offered once */
	bool tried_password;
	bool tried_username;
	snap_buf rejected; /* refs the remote refused: "ref (reason)" */
	json_t *planned;   /* owned: ref -> {old, new} a push asks for */
};
void snap_store__callbacks(struct git_remote_callbacks *cb, struct snap_transport *t,
                           struct snap_store *st, const char *url);
void snap_store__callbacks_release(struct snap_transport *t);
/* Report a ref a pull moved (old NULL: it is new). */
void snap_store__report_ref(struct snap_store *st, const char *ref, const struct git_oid *old,
                            const struct git_oid *now);
struct snap_store_fields {
	snap_buf b; /* "key: value\n" lines */
};
int snap_store__load_commit(snap_snapshot **out, struct snap_store *st, const struct git_oid *id,
                            snap_error *err);
void snap_store__msg_field(char *buf, size_t n, const char *msg, const char *key);
/* labels.c: the label journal's state at commit (NULL: none): {"HOST/LABEL": "OID"|"deleted"} */
int snap_store__journal_state(json_t **out, struct snap_store *st, const struct git_oid *commit,
                              snap_error *err);
/* store.c: the commit rev names and the tag "refs/tags/HOST/LABEL" label would be on it, the
 * writer lock taken; 0, SNAP_EINVALID (not a name), SNAP_ENOTFOUND or SNAP_ERROR */
int snap_store__label_target(struct git_oid *id, char *tag, size_t n, struct snap_store *st,
                             const char *rev, const char *label, snap_error *err);
/* A label set again (label, not -f) that the journal knows: recorded as set; 0 when none */
int snap_store__journal_set(struct snap_store *st, const char *label, const struct git_oid *id,
                            snap_error *err);
/* policy.c: the policy text a policy commit holds (*out malloc'd) */
int snap_store__policy_at(char **out, struct snap_store *st, const struct git_oid *commit,
                          snap_error *err);
/* Host branch names, sorted, as [{"k": name, "tip": hex ("" for a symbolic ref)}]; an
 * unreadable branch is an error, never skipped. */
int snap_store__host_names(json_t **out, struct snap_store *st, snap_error *err);

/* sync.c: a configured remote by name, else an anonymous one for a URL or a path */
struct git_remote;
int snap_store__remote_for(struct git_remote **out, struct snap_store *st, const char *remote,
                           snap_error *err);

/* listing.c: the rows of log (schema pcisnap.log/1's "snapshots") and of hosts (pcisnap.hosts/1's
 * "hosts"), each a new array; fleet/listing.c renders them */
int snap_store__log_rows(json_t **out, snap_store *st, const char *host,
                         const snap_log_options *opts, snap_error *err);
int snap_store__hosts_rows(json_t **out, snap_store *st, snap_error *err);

#endif
