/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * Labels that move: a label is a tag, refs/tags/HOST/LABEL. Creating one needs nothing more;
 * moving or deleting one is the fleet's decision and is recorded in the label journal,
 * refs/pcisnap/labels: a linear history, one commit per move or deletion, whose message says
 * which label, from what, to what, by whom and where, and whose tree holds "labels", the
 * journal's state: "HOST/LABEL OID" (or "HOST/LABEL deleted") per line, sorted. push carries
 * the journal and forces a tag only where the journal says it moved; pull takes a moved or
 * deleted label only when the journal it pulls continues the local one and says so.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <git2.h>

#include "store/store_internal.h"

#define STATE_FILE "labels"
#define STATE_MAX  (16u << 20) /* the journal's state: ~80 bytes a label */

/* The state a journal commit holds: {"HOST/LABEL": "OID" | "deleted"} (empty: none) */
int snap_store__journal_state(json_t **out, snap_store *st, const git_oid *commit, snap_error *err)
{
	git_commit *c = NULL;
	git_tree *tree = NULL;
	const git_tree_entry *e;
	git_blob *blob = NULL;
	json_t *state = json_object();
	int error = 0;

	if (!commit) {
		*out = state;
		return 0;
	}
	if (git_commit_lookup(&c, st->repo, commit) < 0 || git_commit_tree(&tree, c) < 0) {
		error = snap_store__git_fail(err, SNAP_ERROR, "cannot read the label journal at",
		                             git_oid_tostr_s(commit));
		goto done;
	}
	if (git_tree_entrycount(tree) != 1 || !(e = git_tree_entry_byname(tree, STATE_FILE)) ||
	    git_tree_entry_type(e) != GIT_OBJECT_BLOB ||
	    git_blob_lookup(&blob, st->repo, git_tree_entry_id(e)) < 0 ||
	    git_blob_rawsize(blob) > STATE_MAX) {
		error = snap_error__set(err, SNAP_EINVALID,
		                        "the label journal's commit %.12s holds no '%s' of at most "
		                        "%u MiB alone",
		                        git_oid_tostr_s(commit), STATE_FILE, STATE_MAX >> 20);
		goto done;
	}
	{
		const char *p = git_blob_rawcontent(blob), *end = p + git_blob_rawsize(blob);

		while (p < end) {
			const char *nl = memchr(p, '\n', (size_t)(end - p)), *sp;
			char label[600], value[64];

			if (!nl || !(sp = memchr(p, ' ', (size_t)(nl - p))) ||
			    (size_t)(sp - p) >= sizeof(label) ||
			    (size_t)(nl - sp - 1) >= sizeof(value)) {
				error = snap_error__set(err, SNAP_EINVALID,
				                        "the label journal's commit %.12s has a "
				                        "malformed line",
				                        git_oid_tostr_s(commit));
				goto done;
			}
			snprintf(label, sizeof(label), "%.*s", (int)(sp - p), p);
			snprintf(value, sizeof(value), "%.*s", (int)(nl - sp - 1), sp + 1);
			json_object_set_new(state, label, json_string(value));
			p = nl + 1;
		}
	}
done:
	git_blob_free(blob);
	git_tree_free(tree);
	git_commit_free(c);
	if (error < 0) {
		json_decref(state);
		return error;
	}
	*out = state;
	return 0;
}

static int cmp_str(const void *a, const void *b)
{
	return strcmp(*(const char *const *)a, *(const char *const *)b);
}

/* Append to the journal: label from old (NULL: none) to now (NULL: deleted), by who */
static int journal(snap_store *st, const char *label, const git_oid *old, const git_oid *now,
                   const char *who, snap_error *err)
{
	git_oid parent, blob_id, tree_id, commit_id;
	bool has_parent = git_reference_name_to_id(&parent, st->repo, SNAP_LABEL_JOURNAL) == 0;
	json_t *state = NULL;
	git_treebuilder *tb = NULL;
	git_signature *sig = NULL;
	git_commit *pc = NULL;
	snap_buf text = SNAP_BUF_INIT, msg = SNAP_BUF_INIT;
	void *iter;
	int error;

	if ((error = snap_store__journal_state(&state, st, has_parent ? &parent : NULL, err)) < 0)
		return error;
	json_object_set_new(state, label, json_string(now ? git_oid_tostr_s(now) : "deleted"));
	/* sorted lines */
	{
		const char **keys = calloc(json_object_size(state) + 1, sizeof(*keys));
		size_t n = 0;

		if (!keys) {
			error = snap_error__set(err, SNAP_ENOMEM, "out of memory");
			goto done;
		}
		for (iter = json_object_iter(state); iter;
		     iter = json_object_iter_next(state, iter))
			keys[n++] = json_object_iter_key(iter);
		qsort(keys, n, sizeof(*keys), cmp_str);
		for (size_t i = 0; i < n; i++)
			snap_buf__printf(&text, "%s %s\n", keys[i], snap_json__str(state, keys[i]));
		free(keys);
	}
	snap_buf__printf(&msg, "pcisnap label: %s %s\n\nlabel: %s\nfrom: %s\n", label,
	                 now ? (old ? "moved" : "set") : "deleted", label,
	                 old ? git_oid_tostr_s(old) : "none");
	snap_buf__printf(&msg, "to: %s\nby: %s\n", now ? git_oid_tostr_s(now) : "deleted",
	                 who && *who ? who : "unknown");
	if (!text.ptr || !msg.ptr ||
	    git_blob_create_from_buffer(&blob_id, st->repo, text.ptr, text.len) < 0 ||
	    git_treebuilder_new(&tb, st->repo, NULL) < 0 ||
	    git_treebuilder_insert(NULL, tb, STATE_FILE, &blob_id, GIT_FILEMODE_BLOB) < 0 ||
	    git_treebuilder_write(&tree_id, tb) < 0 ||
	    git_signature_now(&sig, "pcisnap", "pcisnap@localhost") < 0 ||
	    (has_parent && git_commit_lookup(&pc, st->repo, &parent) < 0)) {
		error =
		    snap_store__git_fail(err, SNAP_ERROR, "cannot record the label move of", label);
		goto done;
	}
	{
		git_tree *tree = NULL;
		const git_commit *parents[1] = {pc};

		if (git_tree_lookup(&tree, st->repo, &tree_id) < 0 ||
		    git_commit_create(&commit_id, st->repo, NULL, sig, sig, NULL, msg.ptr, tree,
		                      has_parent ? 1 : 0, parents) < 0) {
			git_tree_free(tree);
			error = snap_store__git_fail(err, SNAP_ERROR,
			                             "cannot record the label move of", label);
			goto done;
		}
		git_tree_free(tree);
	}
	{
		git_reference *ref = NULL;
		int rc = git_reference_create_matching(
		    &ref, st->repo, SNAP_LABEL_JOURNAL, &commit_id, has_parent,
		    has_parent ? &parent : NULL, "pcisnap label");

		git_reference_free(ref);
		if (rc < 0)
			error = snap_store__git_fail(err, SNAP_ERROR,
			                             "cannot record the label move of", label);
	}
done:
	git_commit_free(pc);
	git_signature_free(sig);
	git_treebuilder_free(tb);
	snap_buf__release(&text);
	snap_buf__release(&msg);
	json_decref(state);
	return error;
}

int snap_store__journal_set(snap_store *st, const char *label, const git_oid *id, snap_error *err)
{
	git_oid head;
	json_t *state = NULL;
	int error;

	if (git_reference_name_to_id(&head, st->repo, SNAP_LABEL_JOURNAL) < 0)
		return 0; /* no journal: nothing to keep in step */
	if ((error = snap_store__journal_state(&state, st, &head, err)) < 0)
		return error;
	if (json_object_get(state, label))
		error = journal(st, label, NULL, id, NULL, err);
	json_decref(state);
	return error;
}

int snap_store_label_move(snap_store *st, const char *rev, const char *label, const char *who,
                          snap_error *err)
{
	git_reference *ref = NULL;
	char tag[600];
	git_oid id, old;
	int error, had;

	SNAP_ASSERT_ARG(st && rev && label);
	if ((error = snap_store__label_target(&id, tag, sizeof(tag), st, rev, label, err)) < 0)
		return error;
	had = git_reference_name_to_id(&old, st->repo, tag) == 0;
	if (had && git_oid_equal(&old, &id))
		return 0; /* already there */
	/* the journal first: a label moved without its record would not travel */
	if ((error = journal(st, tag + strlen("refs/tags/"), had ? &old : NULL, &id, who, err)) < 0)
		return error;
	if (git_reference_create(&ref, st->repo, tag, &id, 1, "pcisnap label -f") < 0)
		return snap_store__git_fail(err, SNAP_ERROR, "cannot move label", label);
	git_reference_free(ref);
	return 0;
}

int snap_store_label_delete(snap_store *st, const char *host, const char *label, const char *who,
                            snap_error *err)
{
	char tag[600];
	git_oid old;
	int error;

	SNAP_ASSERT_ARG(st && host && label);
	if (!snap_store__valid_name(host) || !snap_store__valid_name(label))
		return snap_error__set(err, SNAP_EINVALID, "'%s@%s' is not a label", host, label);
	if ((error = snap_store__write_lock(st, err)) < 0)
		return error;
	snprintf(tag, sizeof(tag), "refs/tags/%s/%s", host, label);
	if (git_reference_name_to_id(&old, st->repo, tag) < 0)
		return snap_error__set(err, SNAP_ENOTFOUND, "no label '%s' of host '%s'", label,
		                       host);
	if ((error = journal(st, tag + strlen("refs/tags/"), &old, NULL, who, err)) < 0)
		return error;
	if (git_reference_remove(st->repo, tag) < 0)
		return snap_store__git_fail(err, SNAP_ERROR, "cannot delete label", label);
	return 0;
}

int snap_store_label_history(char **out, snap_store *st, snap_error *err)
{
	git_revwalk *walk = NULL;
	snap_buf b = SNAP_BUF_INIT;
	git_oid id;
	int error = 0;

	SNAP_ASSERT_ARG(out && st);
	if (git_reference_name_to_id(&id, st->repo, SNAP_LABEL_JOURNAL) < 0) {
		*out = strdup("");
		return *out ? 0 : snap_error__set(err, SNAP_ENOMEM, "out of memory");
	}
	if (git_revwalk_new(&walk, st->repo) < 0 || git_revwalk_push(walk, &id) < 0) {
		git_revwalk_free(walk);
		return snap_store__git_fail(err, SNAP_ERROR, "cannot read", "the label journal");
	}
	while (git_revwalk_next(&id, walk) == 0) {
		git_commit *c = NULL;
		char label[300], from[64], to[64], by[300], when[32];

		if (git_commit_lookup(&c, st->repo, &id) < 0) {
			error = snap_store__git_fail(err, SNAP_ERROR, "cannot read",
			                             "the label journal");
			break;
		}
		snap_store__msg_field(label, sizeof(label), git_commit_message(c), "label");
		snap_store__msg_field(from, sizeof(from), git_commit_message(c), "from");
		snap_store__msg_field(to, sizeof(to), git_commit_message(c), "to");
		snap_store__msg_field(by, sizeof(by), git_commit_message(c), "by");
		snap_time__format(when, sizeof(when), (int64_t)git_commit_time(c), false);
		snap_buf__printf(&b, "%s  %-30s %.12s -> %.12s  by %s\n", when, label, from, to,
		                 by);
		git_commit_free(c);
	}
	git_revwalk_free(walk);
	if (!error && !(*out = snap_buf__detach(&b)))
		error = snap_error__set(err, SNAP_ENOMEM, "out of memory");
	snap_buf__release(&b);
	return error;
}
