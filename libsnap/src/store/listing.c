/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * Listing the store: the "key: value" fields of commit messages, the rows of log (a host's
 * snapshots with their labels) and of hosts (each host's newest); render/listing.c prints them
 * and fleet/listing.c is the public API.
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

static void msg_field(char *buf, size_t n, const char *msg, const char *key);

/* Value of "key: value" in a commit message; "" when absent. */
void snap_store__msg_field(char *buf, size_t n, const char *msg, const char *key)
{
	msg_field(buf, n, msg, key);
}

static void msg_field(char *buf, size_t n, const char *msg, const char *key)
{
	size_t kl = strlen(key);
	const char *p = msg;

	buf[0] = '\0';
	while (p && *p) {
		if (!strncmp(p, key, kl) && p[kl] == ':' && p[kl + 1] == ' ') {
			const char *e = strchr(p, '\n');

			size_t len = e ? (size_t)(e - p) - kl - 2 : strlen(p + kl + 2);

			snprintf(buf, n, "%.*s", (int)len, p + kl + 2);
			return;
		}
		p = strchr(p, '\n');
		if (p)
			p++;
	}
}

/* labels: commit id -> "a,b" for one host */
static json_t *labels_of(snap_store *st, const char *host)
{
	git_reference_iterator *it = NULL;
	json_t *labels = json_object();
	char glob[300];
	const char *name;

	snprintf(glob, sizeof(glob), "refs/tags/%s/*", host);
	if (git_reference_iterator_glob_new(&it, st->repo, glob) < 0)
		return labels;
	while (git_reference_next_name(&name, it) == 0) {
		git_oid id;
		char key[GIT_OID_HEXSZ + 1];
		const json_t *have;
		char joined[1024];

		if (git_reference_name_to_id(&id, st->repo, name) < 0)
			continue;
		git_oid_tostr(key, sizeof(key), &id);
		have = json_object_get(labels, key);
		snprintf(joined, sizeof(joined), "%s%s%s", have ? json_string_value(have) : "",
		         have ? "," : "", name + strlen(glob) - 1);
		json_object_set_new(labels, key, json_string(joined));
	}
	git_reference_iterator_free(it);
	return labels;
}

/* "a,b" -> ["a", "b"] */
static json_t *split_labels(const char *joined)
{
	json_t *a = json_array();
	char *dup = joined ? strdup(joined) : NULL, *save = NULL, *tok;

	for (tok = dup ? strtok_r(dup, ",", &save) : NULL; tok; tok = strtok_r(NULL, ",", &save))
		json_array_append_new(a, json_string(tok));
	free(dup);
	return a;
}

/* The snapshots of host that opts selects, newest first, as objects appended to rows. */
static int log_host(json_t *rows, snap_store *st, const char *host, const snap_log_options *opts,
                    snap_error *err)
{
	git_revwalk *walk = NULL;
	json_t *labels = labels_of(st, host);
	char ref[300];
	git_oid id;
	long listed = 0;
	int error = 0;

	snprintf(ref, sizeof(ref), "refs/heads/%s", host);
	if (git_revwalk_new(&walk, st->repo) < 0 || git_revwalk_push_ref(walk, ref) < 0) {
		char hint[300] = "";

		snap_store__did_you_mean(hint, sizeof(hint), st, host);
		error = snap_error__set(err, SNAP_ENOTFOUND, "no host '%s' in store '%s'%s", host,
		                        st->path, hint);
		goto done;
	}
	/* the imported older snapshots too, in their place by time */
	snprintf(ref, sizeof(ref), IMPORTED "%s", host);
	git_revwalk_push_ref(walk, ref); /* absent when nothing older was imported */
	git_revwalk_sorting(walk, GIT_SORT_TOPOLOGICAL | GIT_SORT_TIME);
	while ((opts->max_count < 0 || listed < opts->max_count) &&
	       git_revwalk_next(&id, walk) == 0) {
		git_commit *c = NULL;
		char kernel[128], bios[256], verdict[128], check[16], key[GIT_OID_HEXSZ + 1],
		    when[32], boot[128], prev[160];
		const json_t *lbl;
		int64_t t;

		if (git_commit_lookup(&c, st->repo, &id) < 0) {
			error = snap_store__git_fail(err, SNAP_ERROR,
			                             "corrupt store: cannot read commit of", host);
			goto done;
		}
		t = (int64_t)git_commit_time(c);
		if (t < opts->since || t > opts->until) {
			git_commit_free(c);
			continue;
		}
		msg_field(kernel, sizeof(kernel), git_commit_message(c), "kernel");
		msg_field(bios, sizeof(bios), git_commit_message(c), "bios");
		msg_field(verdict, sizeof(verdict), git_commit_message(c), "verdict");
		msg_field(check, sizeof(check), git_commit_message(c), "check");
		msg_field(boot, sizeof(boot), git_commit_message(c), "boot");
		msg_field(prev, sizeof(prev), git_commit_message(c), "previous_boot");
		snap_time__format(when, sizeof(when), t, false);
		git_oid_tostr(key, sizeof(key), &id);
		lbl = json_object_get(labels, key);
		json_array_append_new(
		    rows, json_pack("{s:s, s:s, s:s, s:o, s:s, s:s, s:s, s:s, s:o, s:o}", "host",
		                    host, "collected_at", when, "commit", key, "labels",
		                    split_labels(json_string_value(lbl)), "kernel", kernel, "bios",
		                    bios, "check", *check ? check : "?", "verdict", verdict, "boot",
		                    snap_json__str_or_null(*boot ? boot : NULL), "previous_boot",
		                    snap_json__str_or_null(*prev ? prev : NULL)));
		listed++;
		git_commit_free(c);
	}
done:
	json_decref(labels);
	git_revwalk_free(walk);
	return error;
}

/*
 * Names of the host branches, sorted, as a JSON array of {"k": name, "tip": hex}: the iterator
 * has read each ref already, so its target comes with it (fleet looks no ref up twice).
 * libgit2's iterator passes
 * over a loose ref it cannot parse without a word, so the loose refs on disk are counted too:
 * a branch that is there but unreadable is an error, never a host silently left out.
 */
int snap_store__host_names(json_t **out, snap_store *st, snap_error *err)
{
	git_reference_iterator *it = NULL;
	json_t *hosts = json_array(), *seen = json_object();
	char **loose = NULL, *dir = NULL;
	size_t nloose = 0;
	git_reference *ref = NULL;
	snap_root r;
	int rc, error = 0;

	if (!hosts || !seen) {
		error = snap_error__set(err, SNAP_ENOMEM, "out of memory");
		goto done;
	}
	if (git_reference_iterator_glob_new(&it, st->repo, "refs/heads/*") < 0) {
		error = snap_store__git_fail(err, SNAP_ERROR, "corrupt store: cannot list hosts of",
		                             st->path);
		goto done;
	}
	while ((rc = git_reference_next(&ref, it)) == 0) {
		const char *name = git_reference_name(ref);
		const git_oid *tip = git_reference_target(ref);
		char hex[GIT_OID_HEXSZ + 1] = "";

		if (tip)
			git_oid_tostr(hex, sizeof(hex), tip);
		/* not json_pack(): its format parsed per host; a name that is not UTF-8 is
		 * left out, as json_pack() left it */
		json_t *k = snap_json__string(name + 11), *h = k ? json_object() : NULL;

		if (h) {
			json_object_set_new_nocheck(h, "k", k);
			json_object_set_new_nocheck(h, "tip", snap_json__string(hex));
			json_array_append_new(hosts, h);
		} else {
			json_decref(k);
		}
		json_object_set_new(seen, name + 11, json_true());
		git_reference_free(ref);
		ref = NULL;
	}
	if (rc != GIT_ITEROVER) {
		error = snap_store__git_fail(err, SNAP_ERROR, "corrupt store: cannot list hosts of",
		                             st->path);
		goto done;
	}
	if (asprintf(&dir, "%srefs/heads", git_repository_path(st->repo)) < 0) {
		dir = NULL;
		error = snap_error__set(err, SNAP_ENOMEM, "out of memory");
		goto done;
	}
	if (snap_root__open(&r, dir, NULL) == 0) {
		if (snap_root__list(&loose, &nloose, &r, "") == 0)
			for (size_t i = 0; i < nloose && !error; i++)
				if (!json_object_get(seen, loose[i]) && !strstr(loose[i], ".lock"))
					error = snap_error__set(
					    err, SNAP_ERROR,
					    "corrupt store '%s': branch '%s' cannot be read (%s/%s "
					    "is not a ref)",
					    st->path, loose[i], dir, loose[i]);
		snap_strv__free(loose, nloose);
		snap_root__close(&r);
	}
	if (error < 0)
		goto done;
	snap_json__sort_by_key(hosts, "k");
	*out = hosts;
	hosts = NULL;
done:
	git_reference_iterator_free(it);
	json_decref(seen);
	json_decref(hosts);
	free(dir);
	return error;
}

int snap_store__log_rows(json_t **out, snap_store *st, const char *host,
                         const snap_log_options *opts, snap_error *err)
{
	json_t *rows = json_array();
	int error = 0;

	if (!rows)
		return snap_error__set(err, SNAP_ENOMEM, "out of memory");
	if (host) {
		error = log_host(rows, st, host, opts, err);
	} else {
		json_t *hosts = NULL, *h;
		size_t i;

		if ((error = snap_store__host_names(&hosts, st, err)) == 0)
			json_array_foreach (hosts, i, h) {
				if ((error =
				         log_host(rows, st, snap_json__str(h, "k"), opts, err)) < 0)
					break;
			}
		json_decref(hosts);
	}
	if (error < 0) {
		json_decref(rows);
		return error;
	}
	*out = rows;
	return 0;
}

int snap_store__hosts_rows(json_t **out, snap_store *st, snap_error *err)
{
	json_t *hosts = NULL, *h, *rows = json_array();
	size_t i;
	int error;

	SNAP_ASSERT_ARG(out && st);
	if ((error = snap_store__host_names(&hosts, st, err)) < 0) {
		json_decref(rows);
		return error;
	}
	json_array_foreach (hosts, i, h) {
		const char *host = snap_json__str(h, "k");
		git_commit *c = NULL;
		git_oid id;
		char ref[300], model[256], kernel[128], bios[256], check[16], when[32],
		    key[GIT_OID_HEXSZ + 1];

		snprintf(ref, sizeof(ref), "refs/heads/%s", host);
		if (git_reference_name_to_id(&id, st->repo, ref) < 0 ||
		    git_commit_lookup(&c, st->repo, &id) < 0) {
			error = snap_store__git_fail(err, SNAP_ERROR,
			                             "corrupt store: cannot read host", host);
			break;
		}
		msg_field(model, sizeof(model), git_commit_message(c), "model");
		msg_field(kernel, sizeof(kernel), git_commit_message(c), "kernel");
		msg_field(bios, sizeof(bios), git_commit_message(c), "bios");
		msg_field(check, sizeof(check), git_commit_message(c), "check");
		snap_time__format(when, sizeof(when), git_commit_time(c), false);
		git_oid_tostr(key, sizeof(key), &id);
		json_array_append_new(rows, json_pack("{s:s, s:s, s:s, s:s, s:s, s:s, s:s}", "host",
		                                      host, "model", model, "kernel", kernel,
		                                      "bios", bios, "latest", when, "commit", key,
		                                      "check", *check ? check : "?"));
		git_commit_free(c);
	}
	json_decref(hosts); /* host names are borrowed from it */
	if (error < 0) {
		json_decref(rows);
		return error;
	}
	*out = rows;
	return 0;
}
