/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * push: the store's refs to a remote, each host on its own (a host whose history there is not
 * a part of ours is left out and named), with the label journal and the policy; pull.c takes
 * them the other way, verified.
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

/* A configured remote by name, else an anonymous one for a URL or path. */
int snap_store__remote_for(git_remote **out, snap_store *st, const char *remote, snap_error *err)
{
	if (git_remote_lookup(out, st->repo, remote) == 0)
		return 0;
	/* a bare word is a remote's name: none by that name is configured */
	if (!strpbrk(remote, "/:.") || !strcmp(remote, "origin"))
		return snap_error__set(err, SNAP_ENOTFOUND,
		                       "no remote '%s' configured in store '%s': give a URL or a "
		                       "path, or add it (git --git-dir '%s' remote add %s URL)",
		                       remote, st->path, st->path, remote);
	if (git_remote_create_anonymous(out, st->repo, remote) == 0)
		return 0;
	return snap_store__git_fail(err, SNAP_ERROR, "no such remote", remote);
}

/* The host a store ref belongs to: refs/heads/H, refs/tags/H/L, refs/pcisnap/imported/H */
static void host_of_ref(char *host, size_t n, const char *ref)
{
	const char *p = !strncmp(ref, "refs/heads/", 11)            ? ref + 11
	                : !strncmp(ref, "refs/tags/", 10)           ? ref + 10
	                : !strncmp(ref, IMPORTED, strlen(IMPORTED)) ? ref + strlen(IMPORTED)
	                                                            : ref;

	snprintf(host, n, "%.*s", (int)strcspn(p, "/"), p);
}

/* Does the local side history here continue the remote's (there_hex, NULL: none there)? */
static bool continues(snap_store *st, const git_oid *here, const char *there_hex)
{
	git_oid there;

	return !there_hex || (git_oid_fromstr(&there, there_hex) == 0 &&
	                      (git_oid_equal(here, &there) ||
	                       git_graph_descendant_of(st->repo, here, &there) == 1));
}

/*
 * Each host on its own: what the remote has is listed first (git_remote_ls()), and a ref whose
 * remote tip is not in its local history (a host reinstalled elsewhere, a label moved) is left
 * out and named, with the whole host; the others are pushed. libgit2 would refuse the whole
 * push for one such ref ("contains commits that are not present locally"), naming none.
 */
int snap_store_push(snap_store *st, const char *remote, snap_error *err)
{
	git_push_options po;
	git_reference_iterator *it = NULL;
	struct snap_transport t;
	git_strarray specs = {NULL, 0};
	git_remote *r = NULL;
	json_t *list = json_array(), *theirs = json_object(), *refused = json_object();
	json_t *journal = NULL, *forced = json_object();
	const git_remote_head **heads = NULL;
	size_t nheads = 0;
	const char *name;
	snap_buf why = SNAP_BUF_INIT;
	int error = 0;
	size_t i;

	SNAP_ASSERT_ARG(st && remote);
	git_push_options_init(&po, GIT_PUSH_OPTIONS_VERSION);
	if ((error = snap_store__remote_for(&r, st, remote, err)) < 0)
		goto done;
	snap_store__callbacks(&po.callbacks, &t, st, git_remote_url(r));
	if (git_remote_connect(r, GIT_DIRECTION_PUSH, &po.callbacks, NULL, NULL) < 0 ||
	    git_remote_ls(&heads, &nheads, r) < 0) {
		error = snap_store__git_fail(err, SNAP_ERROR, "cannot push to", remote);
		goto done;
	}
	for (i = 0; i < nheads; i++)
		json_object_set_new(theirs, heads[i]->name,
		                    json_string(git_oid_tostr_s(&heads[i]->oid)));
	/* still connected: git_remote_push() uploads on this connection (its credentials were
	 * asked once) and disconnects */
	/* 0. the label journal: pushed when it continues the remote's; then the labels it moved
	 * are forced and those it deleted are deleted there */
	{
		const char *there_hex = snap_json__str(theirs, SNAP_LABEL_JOURNAL);
		git_oid here;

		if (git_reference_name_to_id(&here, st->repo, SNAP_LABEL_JOURNAL) == 0) {
			if (!continues(st, &here, there_hex)) {
				json_object_set_new(refused, "the label journal",
				                    json_string("labels were moved there too: pull "
				                                "first"));
			} else if ((error = snap_store__journal_state(&journal, st, &here, err)) <
			           0) {
				goto done;
			} else {
				json_array_append_new(
				    list, json_string(SNAP_LABEL_JOURNAL ":" SNAP_LABEL_JOURNAL));
			}
		}
	}
	/* 0b. the policy of accepted deviations: pushed when it continues the remote's */
	{
		const char *there_hex = snap_json__str(theirs, SNAP_POLICY_REF);
		git_oid here;

		if (git_reference_name_to_id(&here, st->repo, SNAP_POLICY_REF) == 0) {
			if (!continues(st, &here, there_hex))
				json_object_set_new(
				    refused, "the policy",
				    json_string("it was changed there too: pull first"));
			else
				json_array_append_new(
				    list, json_string(SNAP_POLICY_REF ":" SNAP_POLICY_REF));
		}
	}
	/* 1. the hosts whose remote history is not a part of the local one */
	if (git_reference_iterator_new(&it, st->repo) == 0) {
		while (git_reference_next_name(&name, it) == 0) {
			const char *remote_hex = snap_json__str(theirs, name);
			git_oid local, there;
			char host[256];

			if ((strncmp(name, "refs/heads/", 11) && strncmp(name, "refs/tags/", 10) &&
			     strncmp(name, IMPORTED, strlen(IMPORTED))) ||
			    !remote_hex || git_reference_name_to_id(&local, st->repo, name) < 0 ||
			    git_oid_fromstr(&there, remote_hex) < 0 ||
			    git_oid_equal(&local, &there))
				continue;
			if (!strncmp(name, "refs/heads/", 11) ||
			            !strncmp(name, IMPORTED, strlen(IMPORTED))
			        ? git_graph_descendant_of(st->repo, &local, &there) == 1
			        : false)
				continue;
			if (!strncmp(name, "refs/tags/", 10) &&
			    !strcmp(snap_json__str(journal, name + 10)
			                ? snap_json__str(journal, name + 10)
			                : "",
			            git_oid_tostr_s(&local))) {
				json_object_set_new(forced, name, json_true()); /* moved here */
				continue;
			}
			host_of_ref(host, sizeof(host), name);
			if (!json_object_get(refused, host))
				json_object_set_new(
				    refused, host,
				    json_string(
				        !strncmp(name, "refs/tags/", 10)
				            ? "a label that names another snapshot there"
				            : "its history there is not this store's (reinstalled, "
				              "or collected into another store)"));
		}
		git_reference_iterator_free(it);
		it = NULL;
	}
	/* 2. explicit, non-forced refspecs for the others */
	if (git_reference_iterator_new(&it, st->repo) == 0) {
		while (git_reference_next_name(&name, it) == 0) {
			char host[256], spec[600];

			if (strncmp(name, "refs/heads/", 11) && strncmp(name, "refs/tags/", 10) &&
			    strncmp(name, IMPORTED, strlen(IMPORTED)))
				continue;
			host_of_ref(host, sizeof(host), name);
			if (json_object_get(refused, host))
				continue;
			snprintf(spec, sizeof(spec), "%s%s:%s",
			         json_object_get(forced, name) ? "+" : "", name, name);
			json_array_append_new(list, json_string(spec));
		}
		git_reference_iterator_free(it);
		it = NULL;
	}
	{
		/* labels the journal deleted that the remote still has */
		const char *label;
		json_t *v;

		json_object_foreach (journal, label, v) {
			char ref[600], host[256];

			snprintf(ref, sizeof(ref), "refs/tags/%s", label);
			host_of_ref(host, sizeof(host), ref);
			if (!strcmp(json_string_value(v), "deleted") &&
			    json_object_get(theirs, ref) && !json_object_get(refused, host)) {
				char spec[700];

				snprintf(spec, sizeof(spec), ":%s", ref);
				json_array_append_new(list, json_string(spec));
			}
		}
	}
	if (json_array_size(list)) {
		specs.count = json_array_size(list);
		specs.strings = calloc(specs.count, sizeof(char *));
		for (i = 0; specs.strings && i < specs.count; i++)
			specs.strings[i] = (char *)json_string_value(json_array_get(list, i));
		if (!specs.strings || git_remote_push(r, &specs, &po) < 0) {
			error = snap_store__git_fail(err, SNAP_ERROR, "cannot push to", remote);
			goto done;
		}
	}
	{
		const char *host;
		json_t *v;

		json_object_foreach (refused, host, v)
			snap_buf__printf(&why, "%s%s (%s)", why.len ? "; " : "", host,
			                 json_string_value(v));
	}
	if (why.len)
		error = snap_error__set(err, SNAP_ERROR,
		                        "pushed the other hosts to '%s'; refused %zu: %s. See "
		                        "docs/store.md, \"A host whose history diverged\"",
		                        remote, json_object_size(refused), why.ptr);
	else if (t.rejected.len)
		error = snap_error__set(err, SNAP_ERROR, "remote '%s' refused: %s", remote,
		                        t.rejected.ptr);
done:
	free(specs.strings);
	json_decref(list);
	json_decref(theirs);
	json_decref(refused);
	json_decref(journal);
	json_decref(forced);
	snap_buf__release(&why);
	if (r)
		snap_store__callbacks_release(&t);
	git_remote_free(r);
	return error;
}
