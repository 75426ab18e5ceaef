/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * pull: the remote's refs fetched into a quarantine namespace, each host (and label, the
 * label journal, the policy) checked by the store's rules before a local ref moves; one host's
 * trouble is refused and named, the others are pulled.
 */
#include "snap/store.h"
#include "store/store_internal.h"
#include "util/fsroot.h"
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

/* Where a pull puts what it fetched until every ref and commit in it has been checked. */
#define INCOMING "refs/pcisnap/incoming/"

static void drop_incoming(snap_store *st)
{
	git_reference_iterator *it = NULL;
	const char *name;
	json_t *names = json_array();
	size_t i;
	json_t *n;

	if (git_reference_iterator_glob_new(&it, st->repo, INCOMING "*") == 0) {
		while (git_reference_next_name(&name, it) == 0)
			json_array_append_new(names, json_string(name));
		git_reference_iterator_free(it);
	}
	json_array_foreach (names, i, n)
		git_reference_remove(st->repo, json_string_value(n));
	json_decref(names);
}

/*
 * What a pulled commit must look like before anything of it is inflated: a tree holding
 * snapshot.json alone (what snap_store_commit writes), a blob no larger than any reader takes
 * (its size read from the object's header), and dates no further ahead of this clock than
 * PULL_MAX_SKEW (a commit dated 2099 would read as collected "0m" ago forever).
 */
#define PULL_MAX_SKEW (24 * 3600)

static int verify_pulled_shape(snap_store *st, git_commit *c, const git_oid *id, const char *host,
                               snap_error *err)
{
	git_tree *tree = NULL;
	const git_tree_entry *e;
	git_odb *odb = NULL;
	git_object_t type;
	size_t len = 0;
	int64_t now = (int64_t)time(NULL), t;
	int error = 0;

	t = (int64_t)git_commit_author(c)->when.time;
	if ((int64_t)git_commit_time(c) > t)
		t = (int64_t)git_commit_time(c);
	if (t > now + PULL_MAX_SKEW) {
		char when[32];

		snap_time__format(when, sizeof(when), t, false);
		return snap_error__set(err, SNAP_EINVALID,
		                       "pulled commit %.12s on branch '%s' is dated %s, more than "
		                       "24 hours ahead of this host's clock",
		                       git_oid_tostr_s(id), host, when);
	}
	if (git_commit_tree(&tree, c) < 0)
		return snap_store__git_fail(err, SNAP_ERROR, "cannot read pulled commit",
		                            git_oid_tostr_s(id));
	if (git_tree_entrycount(tree) != 1 || !(e = git_tree_entry_byname(tree, SNAPSHOT_FILE)) ||
	    git_tree_entry_type(e) != GIT_OBJECT_BLOB) {
		error = snap_error__set(
		    err, SNAP_EINVALID,
		    "pulled commit %.12s on branch '%s' holds %zu tree entries: a "
		    "store commit holds %s alone",
		    git_oid_tostr_s(id), host, git_tree_entrycount(tree), SNAPSHOT_FILE);
		goto done;
	}
	if (git_repository_odb(&odb, st->repo) < 0 ||
	    git_odb_read_header(&len, &type, odb, git_tree_entry_id(e)) < 0) {
		error = snap_store__git_fail(err, SNAP_ERROR, "cannot read pulled commit",
		                             git_oid_tostr_s(id));
		goto done;
	}
	if (len > MAX_SNAPSHOT_BYTES)
		error = snap_error__set(
		    err, SNAP_EINVALID,
		    "pulled commit %.12s on branch '%s' holds a %s of %zu bytes, "
		    "above the %u MiB a snapshot may have",
		    git_oid_tostr_s(id), host, SNAPSHOT_FILE, len, MAX_SNAPSHOT_BYTES >> 20);
done:
	git_odb_free(odb);
	git_tree_free(tree);
	return error;
}

/* Does the message have a "key: " line below its title? */
static bool has_field(const char *msg, const char *key)
{
	size_t kl = strlen(key);

	for (const char *p = strstr(msg, "\n\n"); p; p = strchr(p + 1, '\n'))
		if (!strncmp(p + 1, key, kl) && p[kl + 1] == ':' && p[kl + 2] == ' ')
			return true;
	return false;
}

/*
 * A pulled commit is the store's own only when it keeps the store's rules: one parent at most,
 * a snapshot that loads, of this host, and a message whose fields are what this pcisnap derives
 * from that snapshot (log, hosts and fleet read them back: a forged "check: PASS" is refused).
 */
static int verify_pulled_commit(snap_store *st, const git_oid *id, const char *host,
                                snap_error *err)
{
	git_commit *c = NULL;
	snap_snapshot *s = NULL;
	char *want = NULL, have_v[512], want_v[512];
	const git_oid *parent;
	int error;

	if (git_commit_lookup(&c, st->repo, id) < 0)
		return snap_store__git_fail(err, SNAP_ERROR, "cannot read pulled commit",
		                            git_oid_tostr_s(id));
	if (git_commit_parentcount(c) > 1) {
		error = snap_error__set(err, SNAP_EINVALID,
		                        "pulled commit %.12s of '%s' is a merge: a store's history "
		                        "is linear",
		                        git_oid_tostr_s(id), host);
		goto done;
	}
	if ((error = verify_pulled_shape(st, c, id, host, err)) < 0 ||
	    (error = snap_store__load_commit(&s, st, id, err)) < 0)
		goto done;
	{
		/* the commit's date is the collection time (snap_store_commit) */
		const char *when = snap_json__str(json_object_get(s->root, "host"), "collected_at");

		if (!when || snap_time__parse(when) != (int64_t)git_commit_author(c)->when.time) {
			error =
			    snap_error__set(err, SNAP_EINVALID,
			                    "pulled commit %.12s on branch '%s' is dated otherwise "
			                    "than its snapshot was collected (%s)",
			                    git_oid_tostr_s(id), host, when ? when : "no time");
			goto done;
		}
	}
	if (!snap_snapshot_hostname(s) || strcmp(snap_snapshot_hostname(s), host)) {
		error = snap_error__set(err, SNAP_EINVALID,
		                        "pulled commit %.12s on branch '%s' holds a snapshot of "
		                        "another host",
		                        git_oid_tostr_s(id), host);
		goto done;
	}
	parent = git_commit_parentcount(c) ? git_commit_parent_id(c, 0) : NULL;
	if ((error = snap_store__commit_message(&want, st, s, parent, NULL, err)) < 0)
		goto done;
	/*
	 * The fields: each one the commit records must be what the summary gives now, and it may
	 * record no other; one it lacks (written by an older pcisnap, before that field was
	 * recorded) is no refusal: readers derive it from the snapshot (fleet does).
	 */
	if (st->summary) {
		const char *have = strstr(git_commit_message(c), "\n\n");

		for (const char *hl = have ? have + 2 : ""; *hl;) {
			size_t hn = strcspn(hl, "\n");
			char key[64];

			snprintf(key, sizeof(key), "%.*s", (int)strcspn(hl, ":\n"), hl);
			snap_store__msg_field(have_v, sizeof(have_v), git_commit_message(c), key);
			snap_store__msg_field(want_v, sizeof(want_v), want, key);
			if (!*key) {
				error = snap_error__set(
				    err, SNAP_EINVALID,
				    "pulled commit %.12s of '%s' has a line that is "
				    "no field: refusing it",
				    git_oid_tostr_s(id), host);
				goto done;
			}
			if (strcmp(have_v, want_v) || !has_field(want, key)) {
				error =
				    snap_error__set(err, SNAP_EINVALID,
				                    "pulled commit %.12s of '%s' records '%s: "
				                    "%.100s' but its snapshot "
				                    "gives '%.100s': refusing the pull (forged, or "
				                    "written by another "
				                    "pcisnap version)",
				                    git_oid_tostr_s(id), host, key, have_v, want_v);
				goto done;
			}
			hl += hn + (hl[hn] == '\n');
		}
	}
	error = 0;
done:
	free(want);
	snap_snapshot_free(s);
	git_commit_free(c);
	return error;
}

/* Check one fetched host branch against the local one and every commit it adds: 0 when it
 * moves the local branch forward, 1 when it brings nothing new, or an error. */
static int verify_pulled_branch(snap_store *st, const char *local_prefix, const char *host,
                                const git_oid *tip, snap_error *err)
{
	git_revwalk *walk = NULL;
	git_oid local, id;
	char ref[300];
	int rc, error = 0;

	if (!snap_store__valid_name(host))
		return snap_error__set(err, SNAP_EINVALID,
		                       "refusing pulled branch '%s': not a host name (letters, "
		                       "digits, '.', '-', '_')",
		                       host);
	snprintf(ref, sizeof(ref), "%s%s", local_prefix, host);
	rc = git_reference_name_to_id(&local, st->repo, ref);
	if (rc < 0 && rc != GIT_ENOTFOUND)
		return snap_store__git_fail(err, SNAP_ERROR, "corrupt store: cannot read branch",
		                            host);
	if (rc == 0 &&
	    (git_oid_equal(&local, tip) || git_graph_descendant_of(st->repo, &local, tip) == 1))
		return 1; /* nothing new: the local branch has it already */
	if (rc == 0 && git_graph_descendant_of(st->repo, tip, &local) != 1)
		return snap_error__set(err, SNAP_EINVALID,
		                       "refusing to pull '%s': the remote history does not "
		                       "continue the local one (pull never rewrites history)",
		                       host);
	if (git_revwalk_new(&walk, st->repo) < 0 || git_revwalk_push(walk, tip) < 0 ||
	    (rc == 0 && git_revwalk_hide(walk, &local) < 0)) {
		error =
		    snap_store__git_fail(err, SNAP_ERROR, "cannot walk pulled history of", host);
		goto done;
	}
	while (git_revwalk_next(&id, walk) == 0)
		if ((error = verify_pulled_commit(st, &id, host, err)) < 0)
			goto done;
	error = 0;
done:
	git_revwalk_free(walk);
	return error;
}

/* Record what was refused (the first reason for each) */
static void refuse(json_t *refused, const char *what, const char *why)
{
	if (!json_object_get(refused, what))
		json_object_set_new(refused, what, json_string(why));
}

/* Is commit id the tip of ref, or in its history? */
static bool in_history(snap_store *st, const char *ref, const git_oid *id)
{
	git_oid tip;

	return git_reference_name_to_id(&tip, st->repo, ref) == 0 &&
	       (git_oid_equal(&tip, id) || git_graph_descendant_of(st->repo, &tip, id) == 1);
}

/* A commit of the label journal whose state reads */
static bool journal_commit_ok(snap_store *st, const git_oid *id)
{
	json_t *state = NULL;
	bool ok = snap_store__journal_state(&state, st, id, NULL) == 0;

	json_decref(state);
	return ok;
}

/* A commit of the policy holding one policy.json */
static bool policy_commit_ok(snap_store *st, const git_oid *id)
{
	char *text = NULL;
	bool ok = snap_store__policy_at(&text, st, id, NULL) == 0;

	free(text);
	return ok;
}

/* Each commit of a pulled side history (the label journal, the policy) that the local one
 * (here; NULL: none) lacks has one parent at most and passes valid(). */
static bool side_commits_ok(snap_store *st, const git_oid *in, const git_oid *here,
                            bool (*valid)(snap_store *, const git_oid *))
{
	git_revwalk *walk = NULL;
	git_oid id;
	bool ok = git_revwalk_new(&walk, st->repo) == 0 && git_revwalk_push(walk, in) == 0 &&
	          (!here || git_revwalk_hide(walk, here) == 0);

	while (ok && git_revwalk_next(&id, walk) == 0) {
		git_commit *c = NULL;

		ok = git_commit_lookup(&c, st->repo, &id) == 0 && git_commit_parentcount(c) <= 1 &&
		     valid(st, &id);
		git_commit_free(c);
	}
	git_revwalk_free(walk);
	return ok;
}

/* What one pull gathers before it moves any ref. */
struct pull {
	json_t *updates; /* [{ref, id} or {ref, delete}]: applied once everything is checked */
	json_t *refused; /* host, tag, "the label journal", "the policy" -> why: its own trouble */
	json_t *journal; /* the label journal's state that vouches for moves: pulled, or ours */
	bool remote_behind; /* the remote's label journal is a part of ours */
};

/* Every branch, and every host's imported history: a host name, a continuation of the
 * local history, valid commits */
static int pull_branches(struct pull *pl, snap_store *st, const char *remote, snap_error *err)
{
	git_reference_iterator *it = NULL;
	const char *name;
	int error = 0;

	for (int ns = 0; ns < 2 && !error; ns++) {
		const char *in = ns ? INCOMING "imported/" : INCOMING "heads/";
		const char *local = ns ? IMPORTED : "refs/heads/";
		char glob[128];

		snprintf(glob, sizeof(glob), "%s*", in);
		if (git_reference_iterator_glob_new(&it, st->repo, glob) < 0) {
			error = snap_store__git_fail(err, SNAP_ERROR,
			                             "cannot read what was pulled from", remote);
			return error;
		}
		while (git_reference_next_name(&name, it) == 0) {
			const char *host = name + strlen(in);
			char ref[300];
			git_oid tip;

			if (git_reference_name_to_id(&tip, st->repo, name) < 0) {
				error = snap_store__git_fail(err, SNAP_ERROR,
				                             "cannot read pulled branch", host);
				break;
			}
			{
				snap_error why = {0};

				error = verify_pulled_branch(st, local, host, &tip, &why);
				if (error == SNAP_EINVALID || error == SNAP_ESCHEMA) {
					/* this host's trouble: refused, named; the others go on */
					refuse(pl->refused, host, why.message);
					error = 0;
					continue;
				}
				if (error < 0) {
					if (err)
						*err = why;
					break;
				}
			}
			if (error == 1) {
				error = 0;
				continue;
			}
			snprintf(ref, sizeof(ref), "%s%s", local, host);
			json_array_append_new(pl->updates, json_pack("{s:s, s:s}", "ref", ref, "id",
			                                             git_oid_tostr_s(&tip)));
		}
		git_reference_iterator_free(it);
		it = NULL;
	}
	return error;
}

/* The label journal: taken when it continues ours (each new commit one parent at
 * most, a state that reads); its state then vouches for the labels it moved or deleted */
static int pull_journal(struct pull *pl, snap_store *st, snap_error *err)
{
	git_oid in, here;
	bool has_in = git_reference_name_to_id(&in, st->repo, INCOMING "labels") == 0;
	bool has_here = git_reference_name_to_id(&here, st->repo, SNAP_LABEL_JOURNAL) == 0;
	snap_error why = {0};
	int error = 0;

	pl->remote_behind =
	    has_here && (!has_in || (!git_oid_equal(&in, &here) &&
	                             git_graph_descendant_of(st->repo, &here, &in) == 1));
	if (has_in && (!has_here || git_oid_equal(&in, &here) ||
	               git_graph_descendant_of(st->repo, &in, &here) == 1)) {
		bool ok = side_commits_ok(st, &in, has_here ? &here : NULL, journal_commit_ok);
		if (ok && snap_store__journal_state(&pl->journal, st, &in, &why) == 0) {
			if (!has_here || !git_oid_equal(&in, &here))
				json_array_append_new(
				    pl->updates, json_pack("{s:s, s:s}", "ref", SNAP_LABEL_JOURNAL,
				                           "id", git_oid_tostr_s(&in)));
		} else {
			refuse(pl->refused, "the label journal",
			       *why.message ? why.message
			                    : "refusing the pulled label journal: a commit "
			                      "breaks its rules");
		}
	} else if (has_in && has_here && git_graph_descendant_of(st->repo, &here, &in) != 1) {
		refuse(pl->refused, "the label journal",
		       "refusing the pulled label journal: labels were moved in both stores "
		       "(it does not continue the local one)");
	}
	if (!pl->journal && has_here &&
	    (error = snap_store__journal_state(&pl->journal, st, &here, err)) < 0)
		return error;
	return 0;
}

/* The policy of accepted deviations: taken when it continues ours, each new commit
 * one parent at most and one policy.json */
static void pull_policy(struct pull *pl, snap_store *st)
{
	git_oid in, here;
	bool has_in = git_reference_name_to_id(&in, st->repo, INCOMING "policy") == 0;
	bool has_here = git_reference_name_to_id(&here, st->repo, SNAP_POLICY_REF) == 0;

	if (has_in && (!has_here || (!git_oid_equal(&in, &here) &&
	                             git_graph_descendant_of(st->repo, &in, &here) == 1))) {
		bool ok = side_commits_ok(st, &in, has_here ? &here : NULL, policy_commit_ok);
		if (ok)
			json_array_append_new(pl->updates,
			                      json_pack("{s:s, s:s}", "ref", SNAP_POLICY_REF, "id",
			                                git_oid_tostr_s(&in)));
		else
			refuse(pl->refused, "the policy",
			       "refusing the pulled policy: a commit of it breaks its rules");
	} else if (has_in && has_here && !git_oid_equal(&in, &here) &&
	           git_graph_descendant_of(st->repo, &here, &in) != 1) {
		refuse(pl->refused, "the policy",
		       "refusing the pulled policy: it was changed in both stores (it does "
		       "not "
		       "continue the local one)");
	}
}

/* Every tag: HOST/LABEL naming a snapshot of that host's (pulled) history */
static int pull_tags(struct pull *pl, snap_store *st, const char *remote, snap_error *err)
{
	git_reference_iterator *it = NULL;
	const char *name;
	int error = 0;

	if (git_reference_iterator_glob_new(&it, st->repo, INCOMING "tags/*") < 0) {
		error = snap_store__git_fail(err, SNAP_ERROR, "cannot read what was pulled from",
		                             remote);
		return error;
	}
	while (git_reference_next_name(&name, it) == 0) {
		const char *tag = name + strlen(INCOMING "tags/"), *slash = strchr(tag, '/');
		char host[256], head[300], ihead[300], ref[300];
		git_oid id, have;
		int rc;

		if (!slash || (size_t)(slash - tag) >= sizeof(host)) {
			char why[600];

			snprintf(why, sizeof(why), "refusing pulled tag '%s': not HOST/LABEL", tag);
			refuse(pl->refused, tag, why);
			continue;
		}
		snprintf(host, sizeof(host), "%.*s", (int)(slash - tag), tag);
		if (json_object_get(pl->refused, host))
			continue; /* the host was refused: its labels with it */
		snprintf(head, sizeof(head), INCOMING "heads/%s", host);
		snprintf(ihead, sizeof(ihead), INCOMING "imported/%s", host);
		if (!snap_store__valid_name(host) || !snap_store__valid_name(slash + 1) ||
		    git_reference_name_to_id(&id, st->repo, name) < 0 ||
		    (!in_history(st, head, &id) && !in_history(st, ihead, &id))) {
			char why[900];

			snprintf(
			    why, sizeof(why),
			    "refusing pulled tag '%s': not a label of a snapshot in the history "
			    "of host '%s'",
			    tag, host);
			refuse(pl->refused, tag, why);
			continue;
		}
		snprintf(ref, sizeof(ref), "refs/tags/%s", tag);
		rc = git_reference_name_to_id(&have, st->repo, ref);
		{
			const char *said = snap_json__str(pl->journal, tag);

			if (said && !strcmp(said, "deleted"))
				continue; /* deleted by the journal: not brought back */
			/* moved here since: the remote's journal is a part of ours */
			if (rc == 0 && !git_oid_equal(&have, &id) && said &&
			    !strcmp(said, git_oid_tostr_s(&have)) && pl->remote_behind)
				continue;
			if (rc == 0 && !git_oid_equal(&have, &id) && said &&
			    !strcmp(said, git_oid_tostr_s(&id))) {
				json_array_append_new(pl->updates,
				                      json_pack("{s:s, s:s}", "ref", ref, "id",
				                                git_oid_tostr_s(&id)));
				continue; /* moved there, and the journal says so */
			}
		}
		if (rc == 0 && !git_oid_equal(&have, &id)) {
			char why[600];

			snprintf(
			    why, sizeof(why),
			    "refusing to pull label '%s': here it names another snapshot (labels "
			    "never move)",
			    tag);
			refuse(pl->refused, tag, why);
			continue;
		}
		if (rc != 0)
			json_array_append_new(pl->updates, json_pack("{s:s, s:s}", "ref", ref, "id",
			                                             git_oid_tostr_s(&id)));
	}
	git_reference_iterator_free(it);
	return error;
}

/* Labels the journal deleted. */
static void pull_deletions(struct pull *pl, snap_store *st)
{
	const char *label;
	json_t *v;

	json_object_foreach (pl->journal, label, v) {
		char ref[600];
		git_oid have;

		snprintf(ref, sizeof(ref), "refs/tags/%s", label);
		if (!strcmp(json_string_value(v), "deleted") &&
		    git_reference_name_to_id(&have, st->repo, ref) == 0)
			json_array_append_new(pl->updates,
			                      json_pack("{s:s, s:b}", "ref", ref, "delete", 1));
	}
}

/* Everything checked: move the local refs (fast-forward, compare-and-swap) */
static int apply_updates(snap_store *st, const json_t *updates, snap_error *err)
{
	size_t i;
	json_t *u;
	int error = 0;

	json_array_foreach (updates, i, u) {
		const char *ref = snap_json__str(u, "ref");
		git_reference *out = NULL;
		git_oid id, old;
		int rc, had;

		if (json_is_true(json_object_get(u, "delete"))) { /* a label the journal deleted */
			if (git_reference_remove(st->repo, ref) < 0) {
				error = snap_store__git_fail(err, SNAP_ERROR, "cannot delete", ref);
				return error;
			}
			continue;
		}
		git_oid_fromstr(&id, snap_json__str(u, "id"));
		had = git_reference_name_to_id(&old, st->repo, ref) == 0;
		if (had && git_oid_equal(&old, &id))
			continue;
		rc = git_reference_create_matching(&out, st->repo, ref, &id, had, had ? &old : NULL,
		                                   "pcisnap pull");
		git_reference_free(out);
		if (rc < 0) {
			error = snap_store__git_fail(err, SNAP_ERROR, "cannot update", ref);
			return error;
		}
		snap_store__report_ref(st, ref, had ? &old : NULL, &id);
	}
	return error;
}

int snap_store_pull(snap_store *st, const char *remote, snap_error *err)
{
	git_fetch_options fo;
	/* libgit2 takes char ** for refspecs it does not modify */
	static char heads[] = "+refs/heads/*:" INCOMING "heads/*",
	            tags[] = "+refs/tags/*:" INCOMING "tags/*",
	            imported[] = "+" IMPORTED "*:" INCOMING "imported/*",
	            labels[] = "+" SNAP_LABEL_JOURNAL ":" INCOMING "labels",
	            policy[] = "+" SNAP_POLICY_REF ":" INCOMING "policy";
	char *list[] = {heads, tags, imported, labels, policy};
	git_strarray specs = {list, 5};
	struct pull pl = {json_array(), json_object(), NULL, false};
	git_remote *r = NULL;
	struct snap_transport t;
	int error;

	SNAP_ASSERT_ARG(st && remote);
	if (!pl.updates || !pl.refused) {
		json_decref(pl.updates);
		json_decref(pl.refused);
		return snap_error__set(err, SNAP_ENOMEM, "out of memory");
	}
	if ((error = snap_store__write_lock(st, err)) < 0) {
		json_decref(pl.updates);
		json_decref(pl.refused);
		return error;
	}
	git_fetch_options_init(&fo, GIT_FETCH_OPTIONS_VERSION);
	if ((error = snap_store__remote_for(&r, st, remote, err)) < 0)
		goto done;
	snap_store__callbacks(&fo.callbacks, &t, st, git_remote_url(r));
	drop_incoming(st);
	fo.download_tags = GIT_REMOTE_DOWNLOAD_TAGS_NONE;
	fo.update_fetchhead = 0;
	if (git_remote_fetch(r, &specs, &fo, "pcisnap pull") < 0) {
		error = snap_store__git_fail(err, SNAP_ERROR, "cannot pull from", remote);
		goto done;
	}
	if ((error = pull_branches(&pl, st, remote, err)) < 0 ||
	    (error = pull_journal(&pl, st, err)) < 0)
		goto done;
	pull_policy(&pl, st);
	if ((error = pull_tags(&pl, st, remote, err)) < 0)
		goto done;
	pull_deletions(&pl, st);
	if ((error = apply_updates(st, pl.updates, err)) < 0)
		goto done;
	if (json_object_size(pl.refused)) {
		snap_buf why = SNAP_BUF_INIT;
		const char *what;
		json_t *v;

		json_object_foreach (pl.refused, what, v)
			snap_buf__printf(&why, "%s%s", why.len ? "; " : "", json_string_value(v));
		error = snap_error__set(err, SNAP_EINVALID, "%s%s",
		                        json_array_size(pl.updates) ? "pulled the rest; " : "",
		                        why.ptr ? why.ptr : "");
		snap_buf__release(&why);
	}
done:
	if (r)
		snap_store__callbacks_release(&t);
	drop_incoming(st);
	json_decref(pl.updates);
	json_decref(pl.refused);
	json_decref(pl.journal);
	git_remote_free(r);
	return error;
}
