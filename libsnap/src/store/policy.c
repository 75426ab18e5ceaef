/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * The fleet's policy of accepted deviations, kept as text (analyse/policy.c reads it) in
 * refs/pcisnap/policy: a linear history, one commit per change with who made it, its tree one
 * file, policy.json. push carries it when it continues the remote's; pull takes it when it
 * continues the local one, else refuses it, named.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <git2.h>

#include "store/store_internal.h"

#define POLICY_FILE "policy.json"
#define POLICY_MAX  (1u << 20)

int snap_store__policy_at(char **out, snap_store *st, const git_oid *commit, snap_error *err)
{
	git_commit *c = NULL;
	git_tree *tree = NULL;
	const git_tree_entry *e;
	git_blob *blob = NULL;
	int error = 0;

	*out = NULL;
	if (git_commit_lookup(&c, st->repo, commit) < 0 || git_commit_tree(&tree, c) < 0 ||
	    git_tree_entrycount(tree) != 1 || !(e = git_tree_entry_byname(tree, POLICY_FILE)) ||
	    git_tree_entry_type(e) != GIT_OBJECT_BLOB ||
	    git_blob_lookup(&blob, st->repo, git_tree_entry_id(e)) < 0 ||
	    git_blob_rawsize(blob) > POLICY_MAX) {
		error = snap_error__set(err, SNAP_EINVALID,
		                        "the policy's commit %.12s holds no '%s' of at most %u KiB "
		                        "alone",
		                        git_oid_tostr_s(commit), POLICY_FILE, POLICY_MAX >> 10);
		goto done;
	}
	if (!(*out = malloc((size_t)git_blob_rawsize(blob) + 1))) {
		error = snap_error__set(err, SNAP_ENOMEM, "out of memory");
		goto done;
	}
	memcpy(*out, git_blob_rawcontent(blob), (size_t)git_blob_rawsize(blob));
	(*out)[git_blob_rawsize(blob)] = '\0';
done:
	git_blob_free(blob);
	git_tree_free(tree);
	git_commit_free(c);
	return error;
}

int snap_store_policy_get(char **out, snap_store *st, snap_error *err)
{
	git_oid id;

	SNAP_ASSERT_ARG(out && st);
	*out = NULL;
	if (git_reference_name_to_id(&id, st->repo, SNAP_POLICY_REF) < 0)
		return 0;
	return snap_store__policy_at(out, st, &id, err);
}

int snap_store_policy_set(snap_store *st, const char *text, const char *change, const char *who,
                          snap_error *err)
{
	git_oid parent, blob_id, tree_id, commit_id;
	git_treebuilder *tb = NULL;
	git_signature *sig = NULL;
	git_commit *pc = NULL;
	git_tree *tree = NULL;
	git_reference *ref = NULL;
	snap_buf msg = SNAP_BUF_INIT;
	bool has_parent;
	int error = 0;

	SNAP_ASSERT_ARG(st && text);
	if (strlen(text) > POLICY_MAX)
		return snap_error__set(err, SNAP_EINVALID, "the policy is larger than %u KiB",
		                       POLICY_MAX >> 10);
	if ((error = snap_store__write_lock(st, err)) < 0)
		return error;
	has_parent = git_reference_name_to_id(&parent, st->repo, SNAP_POLICY_REF) == 0;
	snap_buf__printf(&msg, "pcisnap policy: %s\n\nby: %s\n", change ? change : "changed",
	                 who && *who ? who : "unknown");
	if (!msg.ptr || git_blob_create_from_buffer(&blob_id, st->repo, text, strlen(text)) < 0 ||
	    git_treebuilder_new(&tb, st->repo, NULL) < 0 ||
	    git_treebuilder_insert(NULL, tb, POLICY_FILE, &blob_id, GIT_FILEMODE_BLOB) < 0 ||
	    git_treebuilder_write(&tree_id, tb) < 0 ||
	    git_tree_lookup(&tree, st->repo, &tree_id) < 0 ||
	    git_signature_now(&sig, "pcisnap", "pcisnap@localhost") < 0 ||
	    (has_parent && git_commit_lookup(&pc, st->repo, &parent) < 0)) {
		error = snap_store__git_fail(err, SNAP_ERROR, "cannot store", "the policy");
		goto done;
	}
	{
		const git_commit *parents[1] = {pc};

		if (git_commit_create(&commit_id, st->repo, NULL, sig, sig, NULL, msg.ptr, tree,
		                      has_parent ? 1 : 0, parents) < 0 ||
		    git_reference_create_matching(&ref, st->repo, SNAP_POLICY_REF, &commit_id,
		                                  has_parent, has_parent ? &parent : NULL,
		                                  "pcisnap accept") < 0)
			error = snap_store__git_fail(err, SNAP_ERROR, "cannot store", "the policy");
	}
done:
	git_reference_free(ref);
	git_commit_free(pc);
	git_tree_free(tree);
	git_signature_free(sig);
	git_treebuilder_free(tb);
	snap_buf__release(&msg);
	return error;
}
