/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * The snapshot store: a bare git repository through libgit2 (docs/store.md).
 *
 * refs/heads/<host>            the host's history; each commit's tree holds snapshot.json
 * refs/tags/<host>/<label>     a named snapshot
 * config pcisnap.store = 1     what makes the repository a pcisnap store
 *
 * Writers never lose each other's work: objects are written first (content-addressed, atomic
 * renames), then the branch moves by compare-and-swap (git_reference_create_matching); a writer
 * that lost the race rebuilds its commit on the new tip and tries again. A writer killed at any
 * point leaves at most unreferenced objects behind: the branch still names a complete commit.
 */
#include <ctype.h>
#include <errno.h>
#include <ftw.h>
#include <git2.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "snap/store.h"
#include "store/store_internal.h"
#include "util/fsroot.h"

int snap_store__git_fail(snap_error *err, int code, const char *what, const char *arg)
{
	const git_error *e = git_error_last();
	int saved = errno;

	/* libgit2 does not always say why: a full disk or a read-only store is in errno */
	if (e && e->message && *e->message)
		return snap_error__set(err, code, "%s '%s': %s", what, arg, e->message);
	return snap_error__set(err, code, "%s '%s': %s", what, arg,
	                       saved ? strerror(saved) : "libgit2 error");
}

/* A host name usable as a branch and unambiguous in revisions (no '/', '@', '~', '^', ':'). */
bool snap_store__valid_name(const char *s)
{
	size_t n = strlen(s);

	if (!n || n > 200 || s[0] == '.' || s[0] == '-' || strstr(s, "..") ||
	    (n >= 5 && !strcmp(s + n - 5, ".lock")))
		return false;
	for (const char *p = s; *p; p++)
		if (!isalnum((unsigned char)*p) && *p != '.' && *p != '-' && *p != '_')
			return false;
	return true;
}

/* Load the snapshot.json of a commit. */
int snap_store__load_commit(snap_snapshot **out, snap_store *st, const git_oid *id, snap_error *err)
{
	git_commit *commit = NULL;
	git_tree *tree = NULL;
	git_tree_entry *entry = NULL;
	git_blob *blob = NULL;
	int error = 0;

	if (git_commit_lookup(&commit, st->repo, id) < 0 || git_commit_tree(&tree, commit) < 0 ||
	    git_tree_entry_bypath(&entry, tree, SNAPSHOT_FILE) < 0 ||
	    git_blob_lookup(&blob, st->repo, git_tree_entry_id(entry)) < 0) {
		error = snap_store__git_fail(err, SNAP_ERROR, "cannot read snapshot of commit",
		                             git_oid_tostr_s(id));
		goto done;
	}
	error = snap_snapshot_load_buffer(out, git_blob_rawcontent(blob),
	                                  (size_t)git_blob_rawsize(blob), err);
	if (error == 0) { /* the collection time lives in the commit (see snap_store_commit) */
		json_t *host = json_object_get((*out)->root, "host");
		char when[32];

		snap_time__format(when, sizeof(when), git_commit_author(commit)->when.time, false);
		if (json_is_object(host) && !json_object_get(host, "collected_at"))
			json_object_set_new(host, "collected_at", json_string(when));
	}
done:
	git_blob_free(blob);
	git_tree_entry_free(entry);
	git_tree_free(tree);
	git_commit_free(commit);
	return error;
}

/*
 * A value of the commit message, with every control character (a newline above all) and
 * backslash written as \xNN: whatever a snapshot holds, it can never start a line of its own,
 * so the "key: value" lines that log, hosts and fleet read back are the ones written here.
 */
static void put_value(snap_buf *b, const char *v)
{
	for (const unsigned char *p = (const unsigned char *)(v ? v : "?"); *p; p++)
		if (*p < 0x20 || *p == 0x7f || *p == '\\')
			snap_buf__printf(b, "\\x%02x", *p);
		else
			snap_buf__put(b, (const char *)p, 1);
}

/* "key: value\n", the value escaped */
static void put_field(snap_buf *b, const char *key, const char *value)
{
	snap_buf__printf(b, "%s: ", key);
	put_value(b, value);
	snap_buf__puts(b, "\n");
}

int snap_store_fields_add(snap_store_fields *f, const char *key, const char *value)
{
	if (!f || !key || !*key || strspn(key, "abcdefghijklmnopqrstuvwxyz_") != strlen(key))
		return SNAP_EINVALID;
	put_field(&f->b, key, value);
	return f->b.oom ? SNAP_ENOMEM : 0;
}

void snap_store_set_summary(snap_store *st, snap_store_summary_fn fn, void *payload)
{
	st->summary = fn;
	st->summary_payload = payload;
}

/*
 * The commit message: a title, then the caller's summary fields (snap_store_set_summary()).
 * prev: the parent's snapshot when the caller has it loaded already, else NULL. *out is NULL
 * when out of memory; a summary's failure is returned.
 */
int snap_store__commit_message(char **out, snap_store *st, const snap_snapshot *s,
                               const git_oid *parent, const snap_snapshot *prev, snap_error *err)
{
	snap_store_fields f = {SNAP_BUF_INIT};
	snap_snapshot *loaded = NULL;
	int error = 0;

	*out = NULL;
	snap_buf__puts(&f.b, "pcisnap: ");
	put_value(&f.b, snap_snapshot_hostname(s));
	snap_buf__puts(&f.b, " ");
	put_value(&f.b, snap_json__str(json_object_get(s->root, "host"), "collected_at"));
	snap_buf__puts(&f.b, "\n\n");
	if (st->summary) {
		char parent_hex[GIT_OID_HEXSZ + 1];

		/* a parent that cannot be read is summarised as unknown, not as no parent */
		if (parent && !prev && snap_store__load_commit(&loaded, st, parent, NULL) == 0)
			prev = loaded;
		if (parent)
			git_oid_tostr(parent_hex, sizeof(parent_hex), parent);
		error = st->summary(&f, s, prev, parent ? parent_hex : NULL, st->summary_payload);
		snap_snapshot_free(loaded);
		if (error < 0) {
			snap_buf__release(&f.b);
			return snap_error__set(err, error, "cannot summarise the snapshot of '%s'",
			                       snap_snapshot_hostname(s));
		}
	}
	*out = snap_buf__detach(&f.b);
	return *out ? 0 : snap_error__set(err, SNAP_ENOMEM, "out of memory");
}

/* Short random pause between compare-and-swap attempts, so contenders spread out. */
void snap_store__backoff(int attempt)
{
	/* jitter from the clock and the pid: rand() is the host program's state, not ours */
	struct timespec now, ts = {0, 0};
	unsigned long x;

	clock_gettime(CLOCK_MONOTONIC, &now);
	x = ((unsigned long)now.tv_nsec ^ (unsigned long)getpid() * 2654435761UL) >> 3;
	ts.tv_nsec = (long)(1 + x % (unsigned long)(attempt < 10 ? 2 + attempt : 12)) * 1000000L;

	nanosleep(&ts, NULL);
}

/* The snapshot's host name, if it can name a store branch. */
static int host_of(const char **out, const snap_snapshot *s, snap_error *err)
{
	const char *host = snap_snapshot_hostname(s);

	if (!host || !snap_store__valid_name(host))
		return snap_error__set(
		    err, SNAP_EINVALID,
		    "host name '%s' cannot name a store branch (letters, digits, "
		    "'.', '-', '_'): collect with --host NAME",
		    host ? host : "");
	*out = host;
	return 0;
}

int snap_store_check_commit(snap_store *st, const snap_snapshot *s, snap_error *err)
{
	snap_snapshot *tip_snap = NULL;
	const char *host = NULL;
	char refname[512];
	git_oid tip;
	int rc, error = 0;

	SNAP_ASSERT_ARG(st && s);
	if ((error = host_of(&host, s, err)) < 0)
		return error;
	snprintf(refname, sizeof(refname), "refs/heads/%s", host);
	rc = git_reference_name_to_id(&tip, st->repo, refname);
	if (rc < 0 && rc != GIT_ENOTFOUND)
		return snap_store__git_fail(err, SNAP_ERROR, "corrupt store: cannot read branch",
		                            host);
	if (rc == 0)
		error = snap_store__load_commit(&tip_snap, st, &tip, err);
	snap_snapshot_free(tip_snap);
	return error;
}

int snap_store_tip(snap_oid *out, snap_store *st, const char *host, snap_error *err)
{
	char refname[512];
	git_oid id;
	int rc;

	SNAP_ASSERT_ARG(out && st && host);
	snprintf(refname, sizeof(refname), "refs/heads/%s", host);
	rc = git_reference_name_to_id(&id, st->repo, refname);
	if (rc == GIT_ENOTFOUND)
		return snap_error__set(err, SNAP_ENOTFOUND, "no host '%s' in store '%s'", host,
		                       st->path);
	if (rc < 0)
		return snap_store__git_fail(err, SNAP_ERROR, "corrupt store: cannot read branch",
		                            host);
	git_oid_tostr(out->hex, sizeof(out->hex), &id);
	return 0;
}

int snap_store_undo_commit(snap_store *st, const char *host, const snap_oid *old,
                           const snap_oid *cur, snap_error *err)
{
	git_reference *ref = NULL;
	char refname[512];
	git_oid o, c;
	int rc;

	SNAP_ASSERT_ARG(st && host && cur);
	if ((rc = snap_store__write_lock(st, err)) < 0)
		return rc;
	snprintf(refname, sizeof(refname), "refs/heads/%s", host);
	if (git_oid_fromstr(&c, cur->hex) < 0 || (old && git_oid_fromstr(&o, old->hex) < 0))
		return snap_error__set(err, SNAP_EINVALID, "invalid commit id");
	if (old)
		rc = git_reference_create_matching(&ref, st->repo, refname, &o, 1, &c,
		                                   "pcisnap: undo an incomplete change");
	else if ((rc = git_reference_lookup(&ref, st->repo, refname)) == 0) {
		rc = git_oid_equal(git_reference_target(ref), &c) ? git_reference_delete(ref)
		                                                  : GIT_EMODIFIED;
	}
	git_reference_free(ref);
	if (rc == GIT_EMODIFIED)
		return snap_error__set(err, SNAP_EINVALID,
		                       "branch '%s' moved meanwhile: left as it is", host);
	return rc < 0 ? snap_store__git_fail(err, SNAP_ERROR, "cannot restore branch", host) : 0;
}

/*
 * by_time: an import. A snapshot older (by collection time) than the host's tip goes into the
 * host's history of imported snapshots (IMPORTED<host>, a chain of its own), never on top of
 * the branch: HOST stays the newest, nothing shared is rewritten, and log shows both by time.
 */
static int commit_on(snap_oid *out, snap_store *st, const snap_snapshot *s, const char *label,
                     bool by_time, snap_error *err);

int snap_store_commit(snap_oid *out, snap_store *st, const snap_snapshot *s, const char *label,
                      snap_error *err)
{
	int error;

	SNAP_ASSERT_ARG(st && s);
	if ((error = snap_store__write_lock(st, err)) < 0)
		return error;
	return commit_on(out, st, s, label, false, err);
}

int snap_store_import(snap_oid *out, snap_store *st, const snap_snapshot *s, snap_error *err)
{
	int error;

	SNAP_ASSERT_ARG(st && s);
	if ((error = snap_store__write_lock(st, err)) < 0)
		return error;
	return commit_on(out, st, s, NULL, true, err);
}

static int commit_on(snap_oid *out, snap_store *st, const snap_snapshot *s, const char *label,
                     bool by_time, snap_error *err)
{
	git_treebuilder *tb = NULL;
	git_signature *sig = NULL;
	git_tree *tree = NULL;
	git_oid blob, tree_id, commit_id, parent_id, msg_parent, tip;
	char refname[512], email[300], *json = NULL, *msg = NULL;
	snap_snapshot *tip_snap = NULL; /* the branch tip, read before anything is written */
	const char *host = NULL;
	int64_t when;
	int error = 0, have_msg_parent = -1;

	SNAP_ASSERT_ARG(st && s);
	if ((error = host_of(&host, s, err)) < 0)
		return error;
	if (label && !snap_store__valid_name(label))
		return snap_error__set(err, SNAP_EINVALID, "label '%s' is not a valid name", label);
	snprintf(refname, sizeof(refname), "refs/heads/%s", host);
	when = snap_time__parse(snap_json__str(json_object_get(s->root, "host"), "collected_at"));
	snprintf(email, sizeof(email), "pcisnap@%s", host);
	/* Read the current tip completely before writing anything: a corrupt store is reported
	 * and left exactly as it was. */
	{
		int rc = git_reference_name_to_id(&tip, st->repo, refname);

		if (rc < 0 && rc != GIT_ENOTFOUND)
			return snap_store__git_fail(err, SNAP_ERROR,
			                            "corrupt store: cannot read branch", host);
		/* "cannot read snapshot of commit ...": the store is corrupt */
		if (rc == 0 && (error = snap_store__load_commit(&tip_snap, st, &tip, err)) < 0)
			return error;
		if (rc == 0 && by_time && when >= 0) {
			git_commit *tc = NULL;

			if (git_commit_lookup(&tc, st->repo, &tip) == 0 &&
			    (int64_t)git_commit_time(tc) > when) {
				snprintf(refname, sizeof(refname), IMPORTED "%s", host);
				snap_snapshot_free(
				    tip_snap); /* the parent is the imported chain's */
				tip_snap = NULL;
			}
			git_commit_free(tc);
		}
	}
	/*
	 * The stored snapshot.json leaves out host.collected_at, the one field that changes when
	 * nothing else does: an unchanged host then reuses the blob and the tree, and adds only a
	 * commit, whose author date is the collection time (restored by snap_store__load_commit()).
	 */
	{
		json_t *copy = json_copy(s->root),
		       *hostobj = json_copy(json_object_get(s->root, "host"));

		if (!copy || !hostobj) {
			json_decref(copy);
			json_decref(hostobj);
			error = snap_error__set(err, SNAP_ENOMEM, "out of memory");
			goto done;
		}
		json_object_del(hostobj, "collected_at");
		json_object_set_new(copy, "host", hostobj);
		/* compact: the stored form is 40% smaller and parses faster; show pretty-prints */
		error = snap_json__dump_compact(&json, copy, err);
		json_decref(copy);
		if (error < 0)
			goto done;
	}
	if (git_blob_create_from_buffer(&blob, st->repo, json, strlen(json)) < 0 ||
	    git_treebuilder_new(&tb, st->repo, NULL) < 0 ||
	    git_treebuilder_insert(NULL, tb, SNAPSHOT_FILE, &blob, GIT_FILEMODE_BLOB) < 0 ||
	    git_treebuilder_write(&tree_id, tb) < 0 ||
	    git_tree_lookup(&tree, st->repo, &tree_id) < 0 ||
	    git_signature_new(&sig, "pcisnap", email, when >= 0 ? when : (int64_t)time(NULL), 0) <
	        0) {
		error = snap_store__git_fail(err, SNAP_ERROR, "cannot write to store", st->path);
		goto done;
	}
	/* Idempotent: the same snapshot (tree and time) already in the host's recent history is
	 * not stored twice (importing a bundle of a snapshot the store has). */
	{
		git_oid seen;
		int steps = 0, found = 0;
		char branch[512], imported[512];

		snprintf(branch, sizeof(branch), "refs/heads/%s", host);
		snprintf(imported, sizeof(imported), IMPORTED "%s", host);
		/* the branch and the imported history both: "already present anywhere". Each is
		 * a line of commits newest first: followed by first parents from the tip, not by
		 * a time-sorted revwalk, which reads the whole history before its first answer */
		for (int r = 0; r < 2 && !found; r++) {
			git_oid at;
			git_commit *c = NULL;

			if (git_reference_name_to_id(&at, st->repo, r ? imported : branch) < 0)
				continue;
			for (steps = 0;
			     !found && steps < 1000 && git_commit_lookup(&c, st->repo, &at) == 0;
			     steps++) {
				bool more = git_commit_parentcount(c) > 0;

				found = git_oid_equal(git_commit_tree_id(c), &tree_id) &&
				        git_commit_time(c) == (when >= 0 ? when : -1);
				if (found)
					git_oid_cpy(&seen, &at);
				else if (more)
					git_oid_cpy(&at, git_commit_parent_id(c, 0));
				git_commit_free(c);
				c = NULL;
				/* not stopped at the first older commit: a host's clock may have
				 * gone back, and its history with it (1000 commits at most) */
				if (!more)
					break;
			}
		}
		if (found) {
			git_oid_cpy(&commit_id, &seen);
			goto labelled;
		}
	}
	for (int attempt = 0;; attempt++) {
		git_commit *parent = NULL;
		git_reference *ref = NULL;
		int have_parent, rc;

		rc = git_reference_name_to_id(&parent_id, st->repo, refname);
		if (rc < 0 && rc != GIT_ENOTFOUND) {
			error = snap_store__git_fail(err, SNAP_ERROR,
			                             "corrupt store: cannot read branch", host);
			goto done;
		}
		have_parent = rc == 0;
		/* the summary depends on the parent: recompute only when the tip moved */
		if (!msg || have_msg_parent != have_parent ||
		    (have_parent && !git_oid_equal(&msg_parent, &parent_id))) {
			free(msg);
			/* the tip read before writing is the parent unless someone moved it */
			const snap_snapshot *known =
			    have_parent && tip_snap && git_oid_equal(&tip, &parent_id) ? tip_snap
			                                                               : NULL;

			if ((error = snap_store__commit_message(
			         &msg, st, s, have_parent ? &parent_id : NULL, known, err)) < 0)
				goto done;
			have_msg_parent = have_parent;
			if (have_parent)
				git_oid_cpy(&msg_parent, &parent_id);
		}
		if (have_parent && git_commit_lookup(&parent, st->repo, &parent_id) < 0) {
			error = snap_store__git_fail(err, SNAP_ERROR,
			                             "corrupt store: cannot read commit", host);
			goto done;
		}
		rc = git_commit_create(&commit_id, st->repo, NULL, sig, sig, "UTF-8", msg, tree,
		                       have_parent ? 1 : 0, (const git_commit **)&parent);
		git_commit_free(parent);
		if (rc < 0) {
			error = snap_store__git_fail(err, SNAP_ERROR,
			                             "cannot write commit to store", st->path);
			goto done;
		}
		rc = git_reference_create_matching(&ref, st->repo, refname, &commit_id, have_parent,
		                                   have_parent ? &parent_id : NULL,
		                                   "pcisnap collect");
		git_reference_free(ref);
		if (rc == 0)
			break;
		if ((rc == GIT_EMODIFIED || rc == GIT_EEXISTS || rc == GIT_ELOCKED) &&
		    attempt < MAX_CAS_TRIES) {
			snap_store__backoff(attempt);
			continue; /* someone else moved the branch: rebuild on the new tip */
		}
		error = rc == GIT_ELOCKED
		            ? snap_error__set(err, SNAP_ERROR,
		                              "store '%s' is locked (%s.lock): another pcisnap is "
		                              "writing, or one died; remove the lock if none runs",
		                              st->path, refname)
		            : snap_store__git_fail(err, SNAP_ERROR, "cannot update branch", host);
		goto done;
	}
labelled:
	if (label) {
		char tag[512];
		git_reference *ref = NULL;
		int rc;

		snprintf(tag, sizeof(tag), "refs/tags/%s/%s", host, label);
		rc = git_reference_create(&ref, st->repo, tag, &commit_id, 0, "pcisnap label");
		git_reference_free(ref);
		if (rc < 0) {
			error = rc == GIT_EEXISTS
			            ? snap_error__set(err, SNAP_EINVALID,
			                              "label '%s' already names a snapshot of '%s' "
			                              "(the snapshot was stored without it)",
			                              label, host)
			            : snap_store__git_fail(err, SNAP_ERROR, "cannot create label",
			                                   label);
			goto done;
		}
	}
	if (out)
		git_oid_tostr(out->hex, sizeof(out->hex), &commit_id);
	snap_store__auto_pack(st, &commit_id);
done:
	snap_snapshot_free(tip_snap);
	free(msg);
	free(json);
	git_signature_free(sig);
	git_tree_free(tree);
	git_treebuilder_free(tb);
	return error;
}

/* ", did you mean 'web-01'?" when a host's name is close to what was asked, else "". */
void snap_store__did_you_mean(char *buf, size_t n, snap_store *st, const char *name)
{
	json_t *hosts = NULL, *h;
	size_t i, best = 3; /* at most two edits away */
	const char *pick = NULL;

	buf[0] = '\0';
	if (snap_store__host_names(&hosts, st, NULL) < 0)
		return;
	json_array_foreach (hosts, i, h) {
		const char *k = snap_json__str(h, "k");
		size_t d = k ? snap_edit_distance(name, k) : best;

		if (d < best) {
			best = d;
			pick = k;
		}
	}
	if (pick)
		snprintf(buf, n, "; did you mean '%s'?", pick);
	json_decref(hosts);
}

/*
 * Resolve a revision to a commit, as git users expect: HOST (its branch) and anything git's
 * revision syntax adds to it (HOST~, HOST^, HOST~3, HOST@{2}), HOST@LABEL (a label, with a
 * suffix too), or a full or abbreviated commit id. The host part is looked up here; the rest
 * is libgit2's git_revparse_single().
 */
int snap_store__resolve(git_oid *out, snap_store *st, const char *rev, snap_error *err)
{
	size_t hl = strcspn(rev, "~^@:");
	const char *rest = rev + hl;
	git_object *obj = NULL, *peeled = NULL;
	git_reference *ref = NULL;
	char spec[700], host[256], hint[300] = "";
	int rc;

	if (hl == 0 || hl >= sizeof(host))
		return snap_error__set(err, SNAP_EINVALID, "bad revision '%s'", rev);
	snprintf(host, sizeof(host), "%.*s", (int)hl, rev);
	if (rest[0] == '@' && rest[1] != '{') {
		/* HOST@LABEL, then perhaps ~N or ^ */
		size_t ll = strcspn(rest + 1, "~^@:");
		char label[256];

		snprintf(label, sizeof(label), "%.*s", (int)ll, rest + 1);
		if (!snap_store__valid_name(host) || !snap_store__valid_name(label))
			return snap_error__set(err, SNAP_EINVALID, "bad revision '%s'", rev);
		snprintf(spec, sizeof(spec), "refs/tags/%s/%s%s", host, label, rest + 1 + ll);
	} else if (snap_store__valid_name(host) &&
	           snprintf(spec, sizeof(spec), "refs/heads/%s", host) > 0 &&
	           git_reference_lookup(&ref, st->repo, spec) == 0) {
		git_reference_free(ref);
		snprintf(spec, sizeof(spec), "refs/heads/%s%s", host, rest);
	} else if (hl >= 4 && hl <= GIT_OID_HEXSZ && strspn(host, "0123456789abcdef") == hl) {
		snprintf(spec, sizeof(spec), "%s", rev); /* a commit id or an abbreviation */
	} else {
		snap_store__did_you_mean(hint, sizeof(hint), st, host);
		return snap_error__set(err, SNAP_ENOTFOUND,
		                       "no host, label or commit '%s' in store '%s'%s", rev,
		                       st->path, hint);
	}
	rc = git_revparse_single(&obj, st->repo, spec);
	if (rc == GIT_ENOTFOUND || rc == GIT_EAMBIGUOUS || rc == GIT_EINVALIDSPEC ||
	    rc == GIT_EINVALID)
		return snap_error__set(err, SNAP_ENOTFOUND, "no snapshot '%s' in store '%s'%s", rev,
		                       st->path,
		                       rc == GIT_EAMBIGUOUS     ? " (ambiguous prefix)"
		                       : rc == GIT_EINVALIDSPEC ? " (not a revision git can read)"
		                                                : "");
	if (rc < 0)
		return snap_error__set(err, SNAP_ENOTFOUND, "no snapshot '%s' in store '%s' (%s)",
		                       rev, st->path,
		                       git_error_last() ? git_error_last()->message : "unknown");
	rc = git_object_peel(&peeled, obj, GIT_OBJECT_COMMIT);
	git_object_free(obj);
	if (rc < 0)
		return snap_error__set(err, SNAP_ENOTFOUND, "'%s' is not a snapshot in store '%s'",
		                       rev, st->path);
	git_oid_cpy(out, git_object_id(peeled));
	git_object_free(peeled);
	return 0;
}

int snap_store_load(snap_snapshot **out, snap_store *st, const char *rev, snap_error *err)
{
	git_oid id;
	int error;

	SNAP_ASSERT_ARG(out && st && rev);
	if ((error = snap_store__resolve(&id, st, rev, err)) < 0)
		return error;
	return snap_store__load_commit(out, st, &id, err);
}

int snap_store__label_target(git_oid *id, char *tag, size_t n, snap_store *st, const char *rev,
                             const char *label, snap_error *err)
{
	snap_snapshot *s = NULL;
	int error;

	if (!snap_store__valid_name(label))
		return snap_error__set(err, SNAP_EINVALID, "label '%s' is not a valid name", label);
	if ((error = snap_store__write_lock(st, err)) < 0 ||
	    (error = snap_store__resolve(id, st, rev, err)) < 0 ||
	    (error = snap_store__load_commit(&s, st, id, err)) < 0)
		return error;
	snprintf(tag, n, "refs/tags/%s/%s", snap_snapshot_hostname(s), label);
	snap_snapshot_free(s);
	return 0;
}

int snap_store_label(snap_store *st, const char *rev, const char *label, snap_error *err)
{
	git_reference *ref = NULL;
	char tag[600];
	git_oid id, have;
	int error, rc;

	SNAP_ASSERT_ARG(st && rev && label);
	if ((error = snap_store__label_target(&id, tag, sizeof(tag), st, rev, label, err)) < 0)
		return error;
	if (git_reference_name_to_id(&have, st->repo, tag) == 0)
		return snap_error__set(err, SNAP_EINVALID,
		                       "label '%s' already exists ('pcisnap label -f' moves it)",
		                       label);
	/* a label the journal knows (deleted earlier) is set again through it */
	if ((error = snap_store__journal_set(st, tag + strlen("refs/tags/"), &id, err)) < 0)
		return error;
	rc = git_reference_create(&ref, st->repo, tag, &id, 0, "pcisnap label");
	git_reference_free(ref);
	if (rc == GIT_EEXISTS)
		return snap_error__set(err, SNAP_EINVALID,
		                       "label '%s' already exists ('pcisnap label -f' moves it)",
		                       label);
	if (rc < 0)
		return snap_store__git_fail(err, SNAP_ERROR, "cannot create label", label);
	return 0;
}
