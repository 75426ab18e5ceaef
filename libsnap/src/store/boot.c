/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * Boots in the store. Each commit's message names the boot its snapshot was taken in ("boot:
 * ID", from the snapshot's boot.id, written by the summary); a boot that ended cleanly has a
 * note under refs/notes/pcisnap/boot-end on its newest snapshot, written at shutdown (pcisnap
 * boot stop). A boot whose snapshots carry no such note ended in a crash, a power loss or a
 * hard lockup: the next boot's snapshot says so (boot.previous_clean false).
 */
#include <errno.h>
#include <git2.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <systemd/sd-journal.h>
#include <time.h>

#include "snap/store.h"
#include "store/store_internal.h"

#define BOOT_WALK_MAX 1000 /* snapshots of one host looked at, newest first */

static const char *boot_id_of(const snap_snapshot *s)
{
	return snap_json__str(json_object_get(s->root, "boot"), "id");
}

/*
 * Walk host's first-parent history from its tip, calling fn(commit id, its boot id or "") until
 * it returns nonzero. 0, or an error; a host with no snapshot walks nothing.
 */
static int walk(snap_store *st, const char *host,
                int (*fn)(const git_oid *id, const char *boot, const char *msg, void *p), void *p,
                snap_error *err)
{
	char ref[512];
	git_oid at;
	int rc;

	if (!snap_store__valid_name(host))
		return 0; /* no branch can have that name: the commit says why, with the fix */
	snprintf(ref, sizeof(ref), "refs/heads/%s", host);
	rc = git_reference_name_to_id(&at, st->repo, ref);
	if (rc == GIT_ENOTFOUND)
		return 0;
	if (rc < 0)
		return snap_error__set(err, SNAP_ERROR, "corrupt store: cannot read branch %s",
		                       host);
	for (int steps = 0; steps < BOOT_WALK_MAX; steps++) {
		git_commit *c = NULL;
		char boot[128];
		int stop;

		if (git_commit_lookup(&c, st->repo, &at) < 0)
			return snap_error__set(err, SNAP_ERROR,
			                       "corrupt store: cannot read a commit of %s", host);
		snap_store__msg_field(boot, sizeof(boot), git_commit_message(c), "boot");
		stop = fn(&at, boot, git_commit_message(c), p);
		if (!stop && git_commit_parentcount(c) > 0)
			git_oid_cpy(&at, git_commit_parent_id(c, 0));
		else
			stop = 1;
		git_commit_free(c);
		if (stop)
			break;
	}
	return 0;
}

struct previous {
	snap_store *st;
	const char *current;
	char id[128]; /* the previous boot, "" until found */
	bool clean;   /* a boot-end note on one of its snapshots */
};

static int has_end_note(snap_store *st, const git_oid *id)
{
	git_note *note = NULL;
	int rc = git_note_read(&note, st->repo, "refs/notes/pcisnap/boot-end", id);

	git_note_free(note);
	return rc == 0;
}

static int find_previous(const git_oid *id, const char *boot, const char *msg, void *p)
{
	struct previous *pv = p;

	if (!*boot) /* a snapshot taken before pcisnap knew boots: nothing older is known */
		return 1;
	if (!*pv->id) {
		if (!strcmp(boot, pv->current)) {
			/* this boot's own earlier snapshot: what it said of the boot before holds
			 * (that boot's end was written before this one began), so a host that
			 * collects every hour reads one commit, not a day of them */
			char prev[160];

			snap_store__msg_field(prev, sizeof(prev), msg, "previous_boot");
			if (!strcmp(prev, "none"))
				return 1; /* it found no boot before this one: nor will we */
			if (!strncmp(prev, "clean ", 6) || !strncmp(prev, "unclean ", 8)) {
				snprintf(pv->id, sizeof(pv->id), "%s", strchr(prev, ' ') + 1);
				pv->clean = prev[0] == 'c';
				return 1;
			}
			return 0;
		}
		snprintf(pv->id, sizeof(pv->id), "%s", boot);
	} else if (strcmp(boot, pv->id)) {
		return 1; /* past the previous boot */
	}
	if (has_end_note(pv->st, id))
		pv->clean = true;
	return pv->clean;
}

int snap_store_boot_previous(snap_store *st, snap_snapshot *s, snap_error *err)
{
	json_t *boot;
	struct previous pv = {st, NULL, "", false};
	const char *host = snap_snapshot_hostname(s);
	int error;

	SNAP_ASSERT_ARG(st && s);
	boot = json_object_get(s->root, "boot");
	if (!host || !json_is_object(boot) || !(pv.current = boot_id_of(s)))
		return 0; /* nothing to say of a snapshot without a boot id */
	if ((error = walk(st, host, find_previous, &pv, err)) < 0)
		return error;
	if (!*pv.id)
		return 0;
	json_object_set_new(boot, "previous_id", json_string(pv.id));
	json_object_set_new(boot, "previous_clean", json_boolean(pv.clean));
	return 0;
}

struct newest {
	const char *boot;
	git_oid id;
	bool found;
};

static int find_newest(const git_oid *id, const char *boot, const char *msg, void *p)
{
	struct newest *nw = p;

	(void)msg;
	if (strcmp(boot, nw->boot))
		return !*boot; /* a snapshot of pcisnap before boots: nothing older can match */
	git_oid_cpy(&nw->id, id);
	nw->found = true;
	return 1;
}

static int newest_of_boot(struct newest *nw, snap_store *st, const char *host, const char *boot_id,
                          snap_error *err)
{
	int error;

	nw->boot = boot_id;
	nw->found = false;
	if ((error = walk(st, host, find_newest, nw, err)) < 0)
		return error;
	if (!nw->found)
		return snap_error__set(err, SNAP_ENOTFOUND, "no snapshot of %s in boot %s", host,
		                       boot_id);
	return 0;
}

int snap_store_boot_snapshot(snap_oid *out, snap_store *st, const char *host, const char *boot_id,
                             snap_error *err)
{
	struct newest nw;
	int error;

	SNAP_ASSERT_ARG(out && st && host && boot_id);
	if ((error = newest_of_boot(&nw, st, host, boot_id, err)) < 0)
		return error;
	git_oid_tostr(out->hex, sizeof(out->hex), &nw.id);
	return 0;
}

int snap_store_boot_end(snap_store *st, const char *host, const char *boot_id, snap_oid *at,
                        snap_error *err)
{
	struct newest nw;
	git_signature *sig = NULL;
	git_oid note_id;
	char when[32], *text;
	json_t *doc;
	int error;

	SNAP_ASSERT_ARG(st && host && boot_id);
	if (!snap_boot_id_valid(boot_id)) /* never a record mistaken for another boot's end */
		return snap_error__set(
		    err, SNAP_EINVALID,
		    "this boot's boot_id is not a boot id as the kernel writes it "
		    "(a UUID): no end recorded");
	if ((error = snap_store__write_lock(st, err)) < 0 ||
	    (error = newest_of_boot(&nw, st, host, boot_id, err)) < 0)
		return error;
	snap_time__format(when, sizeof(when), (int64_t)time(NULL), false);
	doc = json_pack("{s:s, s:s}", "boot_id", boot_id, "ended_at", when);
	text = doc ? json_dumps(doc, JSON_SORT_KEYS) : NULL;
	json_decref(doc);
	if (!text)
		return snap_error__set(err, SNAP_ENOMEM, "out of memory");
	if (git_signature_now(&sig, "pcisnap", "pcisnap@localhost") < 0 ||
	    git_note_create(&note_id, st->repo, "refs/notes/pcisnap/boot-end", sig, sig, &nw.id,
	                    text, 1) < 0)
		error = snap_error__set(err, SNAP_ERROR, "cannot write to store %s: %s", st->path,
		                        git_error_last() ? git_error_last()->message : "?");
	git_signature_free(sig);
	snap_json__free(text);
	if (!error && at)
		git_oid_tostr(at->hex, sizeof(at->hex), &nw.id);
	return error;
}

struct reopen {
	snap_store *st;
	const char *boot;
	git_signature *sig;
	int removed, error;
};

static int drop_end(const git_oid *id, const char *boot, const char *msg, void *p)
{
	struct reopen *ro = p;

	(void)msg;
	if (strcmp(boot, ro->boot))
		return 1; /* this boot's snapshots are the newest: past them, done */
	if (has_end_note(ro->st, id)) {
		if (git_note_remove(ro->st->repo, "refs/notes/pcisnap/boot-end", ro->sig, ro->sig,
		                    id) < 0)
			ro->error = -1;
		else
			ro->removed++;
	}
	return 0;
}

int snap_store_boot_reopen(snap_store *st, const char *host, const char *boot_id, snap_error *err)
{
	struct reopen ro = {st, boot_id, NULL, 0, 0};
	int error;

	SNAP_ASSERT_ARG(st && host && boot_id);
	if (!snap_boot_id_valid(boot_id))
		return snap_error__set(err, SNAP_EINVALID,
		                       "this boot's boot_id is not a boot id (a UUID)");
	if ((error = snap_store__write_lock(st, err)) < 0)
		return error;
	if (git_signature_now(&ro.sig, "pcisnap", "pcisnap@localhost") < 0)
		return snap_error__set(err, SNAP_ERROR, "cannot write to store %s", st->path);
	error = walk(st, host, drop_end, &ro, err);
	git_signature_free(ro.sig);
	if (!error && ro.error)
		error = snap_error__set(err, SNAP_ERROR, "cannot write to store %s: %s", st->path,
		                        git_error_last() ? git_error_last()->message : "?");
	return error;
}

struct kept {
	snap_store *st;
	json_t *keys; /* array of strings */
};

static int collect_kept(const git_oid *id, const char *boot, const char *msg, void *p)
{
	struct kept *k = p;
	git_note *note = NULL;
	json_t *doc, *r;
	size_t i;

	(void)boot;
	(void)msg;
	if (git_note_read(&note, k->st->repo, "refs/notes/pcisnap/last-words", id) < 0)
		return 0;
	doc = json_loads(git_note_message(note) ? git_note_message(note) : "", 0, NULL);
	git_note_free(note);
	json_array_foreach (json_object_get(doc, "pstore"), i, r)
		if (json_is_string(json_object_get(r, "key")))
			json_array_append(k->keys, json_object_get(r, "key"));
	json_decref(doc);
	return 0;
}

int snap_store_last_words_kept(char ***out, size_t *n, snap_store *st, const char *host,
                               snap_error *err)
{
	struct kept k = {st, json_array()};
	char **v = NULL;
	size_t i;
	int error;

	SNAP_ASSERT_ARG(out && n && st && host);
	if (!k.keys)
		return snap_error__set(err, SNAP_ENOMEM, "out of memory");
	if ((error = walk(st, host, collect_kept, &k, err)) < 0)
		goto done;
	if (json_array_size(k.keys) && !(v = calloc(json_array_size(k.keys), sizeof(*v)))) {
		error = snap_error__set(err, SNAP_ENOMEM, "out of memory");
		goto done;
	}
	for (i = 0; i < json_array_size(k.keys); i++)
		if (!(v[i] = strdup(json_string_value(json_array_get(k.keys, i))))) {
			while (i--)
				free(v[i]);
			free(v);
			error = snap_error__set(err, SNAP_ENOMEM, "out of memory");
			goto done;
		}
	*out = v;
	*n = json_array_size(k.keys);
done:
	json_decref(k.keys);
	return error;
}

int snap_boot_journal_send(int priority, const char *host, const char *verdict, const char *message)
{
	if (!host || !message)
		return -EINVAL;
	return sd_journal_send("MESSAGE=%s", message, "PRIORITY=%d", priority,
	                       "SYSLOG_IDENTIFIER=pcisnap", "PCISNAP_HOST=%s", host,
	                       "PCISNAP_VERDICT=%s", verdict ? verdict : "", NULL);
}
