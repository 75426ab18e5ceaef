/* SPDX-License-Identifier: GPL-2.0-or-later */
/* Notes on snapshots: a preflight prediction, a dead boot's last words (refs/notes/pcisnap/KIND).
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

static int notes_ref(char *buf, size_t n, const char *kind, snap_error *err)
{
	if (!kind || (strcmp(kind, "preflight") && strcmp(kind, "last-words")))
		return snap_error__set(err, SNAP_EINVALID, "no note kind '%s'", kind ? kind : "");
	snprintf(buf, n, "refs/notes/pcisnap/%s", kind);
	return 0;
}

int snap_store_note_set(snap_store *st, const char *rev, const char *kind, const char *text,
                        snap_error *err)
{
	git_signature *sig = NULL;
	git_oid id, note_id;
	char ref[256];
	int error;

	SNAP_ASSERT_ARG(st && rev && text);
	if ((error = notes_ref(ref, sizeof(ref), kind, err)) < 0 ||
	    (error = snap_store__resolve(&id, st, rev, err)) < 0)
		return error;
	if ((error = snap_store__write_lock(st, err)) < 0)
		return error;
	if (git_signature_now(&sig, "pcisnap", "pcisnap@localhost") < 0)
		return snap_store__git_fail(err, SNAP_ERROR, "cannot write to store", st->path);
	/* force: a new prediction replaces the one made before against the same snapshot. The
	 * notes ref moves as a branch does: retried as a commit is when another writer (git
	 * itself: pcisnap's writers hold the store's lock) moved it meanwhile */
	for (int attempt = 0;; attempt++) {
		int rc = git_note_create(&note_id, st->repo, ref, sig, sig, &id, text, 1);

		if (rc == 0)
			break;
		if ((rc == GIT_EMODIFIED || rc == GIT_ELOCKED || rc == GIT_EEXISTS) &&
		    attempt < MAX_CAS_TRIES) {
			snap_store__backoff(attempt);
			continue;
		}
		error = snap_store__git_fail(err, SNAP_ERROR, "cannot write to store", st->path);
		break;
	}
	git_signature_free(sig);
	return error;
}

int snap_store_note_get(char **out, snap_store *st, const char *rev, const char *kind,
                        snap_error *err)
{
	git_note *note = NULL;
	git_oid id;
	char ref[256], *text;
	int error, rc;

	SNAP_ASSERT_ARG(out && st && rev);
	if ((error = notes_ref(ref, sizeof(ref), kind, err)) < 0 ||
	    (error = snap_store__resolve(&id, st, rev, err)) < 0)
		return error;
	rc = git_note_read(&note, st->repo, ref, &id);
	if (rc == GIT_ENOTFOUND)
		return snap_error__set(err, SNAP_ENOTFOUND, "no %s note on '%s'", kind, rev);
	if (rc < 0)
		return snap_store__git_fail(err, SNAP_ERROR, "cannot read the store", st->path);
	text = strdup(git_note_message(note) ? git_note_message(note) : "");
	git_note_free(note);
	if (!text)
		return snap_error__set(err, SNAP_ENOMEM, "out of memory");
	*out = text;
	return 0;
}
