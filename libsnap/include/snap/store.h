/* SPDX-License-Identifier: GPL-2.0-or-later */
/**
 * @file store.h
 * The snapshot store: a bare git repository, one branch per host, labels as tags.
 *
 * Layout (docs/store.md): refs/heads/<host> is the host's history, each commit's tree holds
 * snapshot.json; refs/tags/<host>/<label> names a snapshot; the repository config has
 * pcisnap.store = 1, which marks a directory as a pcisnap store.
 */
#ifndef SNAP_STORE_H
#define SNAP_STORE_H

#include <stddef.h>
#include <stdint.h>

#include "common.h"
#include "error.h"
#include "snapshot.h"

#ifdef __cplusplus
extern "C" {
#endif

/** Opaque open store. */
typedef struct snap_store snap_store;

/** Hex object id of a commit, NUL-terminated. */
typedef struct {
	char hex[41]; /**< 40 hex digits */
} snap_oid;

/**
 * Open the store at path. With create, an absent or empty directory becomes a new store.
 * @param[out] out  new store; free with snap_store_free(). Untouched on failure.
 * @return 0, SNAP_ENOTFOUND (no store there and !create), SNAP_EINVALID (not a pcisnap store)
 *         or SNAP_ERROR (corrupt, unreadable)
 */
SNAP_EXTERN int snap_store_open(snap_store **out, const char *path, int create, snap_error *err);

/** The "key: value" fields of one commit message, filled by a snap_store_summary_fn. */
typedef struct snap_store_fields snap_store_fields;

/**
 * Append "key: value" to the commit message being built. The value is written with every
 * control character and backslash as \xNN, so it never starts a line of its own.
 * @return 0, SNAP_EINVALID (key empty or not [a-z_]) or SNAP_ENOMEM
 */
SNAP_EXTERN int snap_store_fields_add(snap_store_fields *f, const char *key, const char *value);

/**
 * What a commit records beside its snapshot, for log, hosts and fleet to read back without
 * loading snapshots: the store calls it for every commit it writes (again when a concurrent
 * writer moved the branch meanwhile) and for every commit a pull brings, whose recorded fields
 * must be the ones this function gives.
 * @param parent     the snapshot s follows on its host, NULL for a host's first
 * @param parent_id  that commit's id, NULL alike
 * @return 0, or a negative status that abandons the commit
 */
typedef int (*snap_store_summary_fn)(snap_store_fields *f, const snap_snapshot *s,
                                     const snap_snapshot *parent, const char *parent_id,
                                     void *payload);

/**
 * Set the summary of the commits st writes (snap_fleet_summary() in fleet.h is pcisnap's).
 * Without one, a commit records its title only and a pull checks no fields.
 */
SNAP_EXTERN void snap_store_set_summary(snap_store *st, snap_store_summary_fn fn, void *payload);

/**
 * A user name and password for url (username: the URL's, or NULL), each malloc'd, for push and
 * pull over HTTP(S). Return 0, or a negative status when there is none.
 */
typedef int (*snap_store_credential_fn)(char **username, char **password, const char *url,
                                        const char *url_username, void *payload);

/** A ref a push or pull moved: old_hex is "" when the ref is new. */
typedef void (*snap_store_ref_fn)(const char *ref, const char *old_hex, const char *new_hex,
                                  void *payload);

/**
 * How push and pull authenticate and report. SSH keys come from ssh-agent (SSH_AUTH_SOCK) and
 * SSH host keys must be in ~/.ssh/known_hosts or /etc/ssh/ssh_known_hosts with that key, as ssh
 * requires; user names and passwords come from cred (NULL: none); every ref moved goes to
 * on_ref (NULL: not reported).
 */
SNAP_EXTERN void snap_store_set_transport(snap_store *st, snap_store_credential_fn cred,
                                          snap_store_ref_fn on_ref, void *payload);

/**
 * After a push or pull: did the remote refuse the user name and password the credential
 * function gave (so a helper that stored them should forget them)? 1 or 0.
 */
SNAP_EXTERN int snap_store_credential_rejected(const snap_store *st);

/** Free a store. NULL is a no-op. */
SNAP_EXTERN void snap_store_free(snap_store *st);

/**
 * Check, without writing anything, that snap_store_commit() of s would be accepted: its host
 * name can name a branch and the host's branch tip is readable. Callers that commit several
 * snapshots as one change (import of a bundle) check them all first.
 * @return 0, SNAP_EINVALID or SNAP_ERROR (a corrupt store)
 */
SNAP_EXTERN int snap_store_check_commit(snap_store *st, const snap_snapshot *s, snap_error *err);

/**
 * Set a host's branch back to the commit it named before (old, or no branch when old is NULL),
 * if it still names cur: undoes a commit of a change that could not be completed.
 * @return 0, SNAP_EINVALID (the branch moved meanwhile: nothing changed) or SNAP_ERROR
 */
SNAP_EXTERN int snap_store_undo_commit(snap_store *st, const char *host, const snap_oid *old,
                                       const snap_oid *cur, snap_error *err);

/**
 * The commit a host's branch names now.
 * @return 0, SNAP_ENOTFOUND (no such host) or SNAP_ERROR
 */
SNAP_EXTERN int snap_store_tip(snap_oid *out, snap_store *st, const char *host, snap_error *err);

/**
 * Add an imported snapshot (a bundle's): like snap_store_commit(), but a snapshot older than
 * the host's newest goes into the host's history, not on top, so HOST stays the newest by
 * collection time: it is kept on refs/pcisnap/imported/HOST, which log, push and pull include.
 * A snapshot already present (on either) is not added again; *out names it.
 * @return as snap_store_commit()
 */
SNAP_EXTERN int snap_store_import(snap_oid *out, snap_store *st, const snap_snapshot *s,
                                  snap_error *err);

/**
 * Commit a snapshot onto its host's branch (compare-and-swap with retry: concurrent writers
 * lose nothing), optionally labelling it. The message summarises kernel, BIOS, model, the
 * check verdict and the diff verdict against the previous snapshot.
 * @param[out] out  the new commit id (may be NULL)
 * @return 0, SNAP_EINVALID (host name unusable as a branch, label exists) or SNAP_ERROR
 */
SNAP_EXTERN int snap_store_commit(snap_oid *out, snap_store *st, const snap_snapshot *s,
                                  const char *label, snap_error *err);

/**
 * Load the snapshot a revision names: HOST, HOST~N, HOST@LABEL or a commit id (or prefix).
 * @param[out] out  new snapshot; free with snap_snapshot_free(). Untouched on failure.
 * @return 0, SNAP_ENOTFOUND or SNAP_ERROR
 */
SNAP_EXTERN int snap_store_load(snap_snapshot **out, snap_store *st, const char *rev,
                                snap_error *err);

/** Name the snapshot rev with label (a tag under its host). @return 0, SNAP_EINVALID or SNAP_ERROR
 */
SNAP_EXTERN int snap_store_label(snap_store *st, const char *rev, const char *label,
                                 snap_error *err);

/**
 * Move label (or set it) to the snapshot rev: the fleet's decision, recorded in the label
 * journal (refs/pcisnap/labels: which label, from what, to what, by whom) that push and pull
 * carry, so a moved label travels instead of conflicting.
 * @param who  "user@machine" for the record
 * @return 0, SNAP_EINVALID, SNAP_ENOTFOUND or SNAP_ERROR
 */
SNAP_EXTERN int snap_store_label_move(snap_store *st, const char *rev, const char *label,
                                      const char *who, snap_error *err);

/** Delete host's label, recorded in the label journal. @return 0, SNAP_ENOTFOUND or SNAP_ERROR */
SNAP_EXTERN int snap_store_label_delete(snap_store *st, const char *host, const char *label,
                                        const char *who, snap_error *err);

/**
 * The fleet's policy of accepted deviations (pcisnap.policy/1 text, see policy.h), kept in the
 * store and carried by push and pull. *out NULL when there is none.
 * @return 0, SNAP_EINVALID (a damaged policy commit) or SNAP_ERROR
 */
SNAP_EXTERN int snap_store_policy_get(char **out, snap_store *st, snap_error *err);

/** Store a new policy text (validated by the caller), recording change and who. */
SNAP_EXTERN int snap_store_policy_set(snap_store *st, const char *text, const char *change,
                                      const char *who, snap_error *err);

/** The label journal as text, newest first: when, label, from, to, by. @param[out] out free() */
SNAP_EXTERN int snap_store_label_history(char **out, snap_store *st, snap_error *err);

/**
 * Keep a document with the snapshot rev names (a git note under refs/notes/pcisnap/KIND,
 * KIND one of "preflight", "last-words"): what was said of that snapshot, e.g. the prediction made
 * against it, replacing what was kept before. @return 0, SNAP_ENOTFOUND, SNAP_EINVALID or
 * SNAP_ERROR
 */
SNAP_EXTERN int snap_store_note_set(snap_store *st, const char *rev, const char *kind,
                                    const char *text, snap_error *err);

/**
 * The document kept with the snapshot rev names, or SNAP_ENOTFOUND when there is none.
 * @param[out] out  new string; free() it
 */
SNAP_EXTERN int snap_store_note_get(char **out, snap_store *st, const char *rev, const char *kind,
                                    snap_error *err);

/**
 * Fill s's boot.previous_id and boot.previous_clean from the store: the boot of the host's
 * newest stored snapshot of another boot than s's, and whether that boot recorded its clean end
 * (snap_store_boot_end()). Left null when the store has no earlier boot of the host.
 * @return 0 or SNAP_ERROR (a corrupt store)
 */
SNAP_EXTERN int snap_store_boot_previous(snap_store *st, snap_snapshot *s, snap_error *err);

/**
 * The newest stored snapshot of host taken in boot boot_id.
 * @return 0, SNAP_ENOTFOUND or SNAP_ERROR
 */
SNAP_EXTERN int snap_store_boot_snapshot(snap_oid *out, snap_store *st, const char *host,
                                         const char *boot_id, snap_error *err);

/**
 * Record that boot boot_id of host ended cleanly (a note under refs/notes/pcisnap/boot-end on
 * the newest snapshot of that boot). Run at shutdown; a boot without the record ended in a
 * crash, a power loss or a hard lockup.
 * @param[out] at  the snapshot the record is kept with (may be NULL)
 * @return 0, SNAP_ENOTFOUND (no snapshot of that boot) or SNAP_ERROR
 */
SNAP_EXTERN int snap_store_boot_end(snap_store *st, const char *host, const char *boot_id,
                                    snap_oid *at, snap_error *err);

/**
 * Take back the clean-end record of boot boot_id of host: the boot goes on (the unit was
 * restarted: its stop recorded an end, its start says otherwise). @return 0 or SNAP_ERROR
 */
SNAP_EXTERN int snap_store_boot_reopen(snap_store *st, const char *host, const char *boot_id,
                                       snap_error *err);

/**
 * The pstore records already kept as some boot's last words of host (their "key"s, from the
 * last-words notes of its history), so that a record is kept once, with the boot it belongs to.
 * @param[out] out  new array of n new strings; free each and the array with free()
 * @return 0, or SNAP_ERROR (a corrupt store)
 */
SNAP_EXTERN int snap_store_last_words_kept(char ***out, size_t *n, snap_store *st, const char *host,
                                           snap_error *err);

/**
 * What the store's writer lock said when it was taken: stale locks of a writer that died (a
 * kill -9, a power loss) taken over, each named with its maker. Writers (commit, import, label,
 * notes, boot records, pull) take the lock on their first write and hold it until
 * snap_store_free(); a lock held by a live pcisnap is waited for (a minute at most).
 * @return a borrowed string, valid until st is freed; NULL when there was nothing to say
 */
SNAP_EXTERN const char *snap_store_warning(const snap_store *st);

/**
 * Send one boot verdict to the systemd journal: MESSAGE, PRIORITY, SYSLOG_IDENTIFIER=pcisnap,
 * PCISNAP_HOST and PCISNAP_VERDICT (empty when verdict is NULL).
 * @return 0, or a negative errno (no journal to send to: a container, a test)
 */
SNAP_EXTERN int snap_boot_journal_send(int priority, const char *host, const char *verdict,
                                       const char *message);

/**
 * One line per snapshot of host, newest first: time, commit, labels, kernel, BIOS, verdict.
 * Reads commit messages only, never the snapshots.
 * @param[out] out  new string; free() it
 */
SNAP_EXTERN int snap_store_log(char **out, snap_store *st, const char *host, snap_error *err);

/**
 * One line per host: name, hardware model, latest snapshot time, its check result.
 * @param[out] out  new string; free() it
 */
SNAP_EXTERN int snap_store_hosts(char **out, snap_store *st, snap_error *err);

/** Output forms of snap_store_log_ext() and snap_store_hosts_ext(). */
typedef enum {
	SNAP_LIST_TEXT = 0, /**< one line each, as snap_store_log() */
	SNAP_LIST_JSON = 1, /**< one document: schema pcisnap.log/1 or pcisnap.hosts/1 */
	SNAP_LIST_JSONL = 2 /**< one JSON object per line */
} snap_list_format;

#define SNAP_LOG_OPTIONS_VERSION 1

/** Which snapshots snap_store_log_ext() lists. Initialise with SNAP_LOG_OPTIONS_INIT. */
typedef struct {
	unsigned version;        /**< SNAP_LOG_OPTIONS_VERSION */
	long max_count;          /**< at most this many snapshots of each host; < 0: all */
	int64_t since;           /**< only those collected at or after; INT64_MIN: no bound */
	int64_t until;           /**< only those collected at or before; INT64_MAX: no bound */
	snap_list_format format; /**< text, json or jsonl */
} snap_log_options;

#define SNAP_LOG_OPTIONS_INIT                                                                      \
	{                                                                                          \
		SNAP_LOG_OPTIONS_VERSION, -1, INT64_MIN, INT64_MAX, SNAP_LIST_TEXT                 \
	}

/**
 * snap_store_log() with a limit, a time window and a format (NULL opts: all, text).
 * @param host  one host, or NULL for every host, each newest first
 * @return 0, SNAP_ENOTFOUND (no such host), SNAP_EINVALID or SNAP_ERROR
 */
SNAP_EXTERN int snap_store_log_ext(char **out, snap_store *st, const char *host,
                                   const snap_log_options *opts, snap_error *err);

/** snap_store_hosts() in a format. @return 0, SNAP_EINVALID or SNAP_ERROR */
SNAP_EXTERN int snap_store_hosts_ext(char **out, snap_store *st, snap_list_format format,
                                     snap_error *err);

/**
 * Push every host branch and label to remote (a configured remote name, a URL or a path), or
 * fetch them from it. Refs are never forced: a host whose history diverged is reported.
 * @return 0 or SNAP_ERROR
 */
SNAP_EXTERN int snap_store_push(snap_store *st, const char *remote, snap_error *err);
SNAP_EXTERN int snap_store_pull(snap_store *st, const char *remote, snap_error *err);

/**
 * The default store directory: $PCISNAP_STORE, else /var/lib/pcisnap for root, else
 * $XDG_STATE_HOME/pcisnap, else ~/.local/state/pcisnap.
 * @param[out] out  new string; free() it
 */
SNAP_EXTERN int snap_store_default_path(char **out, snap_error *err);

#ifdef __cplusplus
}
#endif

#endif
