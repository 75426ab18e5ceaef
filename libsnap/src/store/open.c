/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * Opening and creating a store: the default place, a new store made aside and renamed into
 * place (or in place when its directory is a mount point), the checks that a directory is a
 * pcisnap store, and libgit2's lifetime.
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

int snap_store_default_path(char **out, snap_error *err)
{
	const char *env = getenv("PCISNAP_STORE"), *xdg = getenv("XDG_STATE_HOME");
	const char *home = getenv("HOME");
	char buf[4096];

	SNAP_ASSERT_ARG(out);
	if (env && *env)
		snprintf(buf, sizeof(buf), "%s", env);
	else if (geteuid() == 0)
		snprintf(buf, sizeof(buf), "/var/lib/pcisnap");
	else if (xdg && *xdg)
		snprintf(buf, sizeof(buf), "%s/pcisnap", xdg);
	else if (home && *home)
		snprintf(buf, sizeof(buf), "%s/.local/state/pcisnap", home);
	else
		return snap_error__set(err, SNAP_EINVALID,
		                       "no store: set --store, PCISNAP_STORE or HOME");
	if (!(*out = strdup(buf)))
		return snap_error__set(err, SNAP_ENOMEM, "out of memory");
	return 0;
}
/* rm -rf of a directory this process made (a store that was never renamed into place) */
static int remove_entry(const char *p, const struct stat *sb, int flag, struct FTW *ftw)
{
	(void)sb;
	(void)flag;
	(void)ftw;
	remove(p);
	return 0; /* go on: remove what can be removed */
}

static void remove_tree(const char *path)
{
	nftw(path, remove_entry, 16, FTW_DEPTH | FTW_PHYS);
}

static bool dir_is_empty(const char *path)
{
	char **names = NULL;
	size_t n = 0;
	snap_root r;
	bool empty = false;

	if (snap_root__open(&r, path, NULL) < 0)
		return false;
	if (snap_root__list(&names, &n, &r, "") == 0)
		empty = n == 0;
	snap_strv__free(names, n);
	snap_root__close(&r);
	return empty;
}

#define STORE_DESCRIPTION "pcisnap store: passthrough health snapshots, one branch per host"

/*
 * A store that an older pcisnap began to create and did not finish (killed between the
 * repository and its marker): our description, no refs at all. Completed, not refused forever.
 */
static bool half_made(git_repository *repo)
{
	char *path = NULL, *text = NULL;
	git_config *cfg = NULL;
	snap_root r;
	bool ours = false;

	if (git_repository_is_bare(repo) != 1 || git_repository_is_empty(repo) != 1 ||
	    asprintf(&path, "%s", git_repository_path(repo)) < 0)
		return false;
	if (snap_root__open(&r, path, NULL) == 0) {
		if (snap_root__read(&text, NULL, &r, "description", 4096) == 0)
			ours = !strcmp(snap_parse__trim(text), STORE_DESCRIPTION);
		snap_root__close(&r);
	}
	free(text);
	free(path);
	ours = ours && git_repository_config(&cfg, repo) == 0 &&
	       git_config_set_int32(cfg, STORE_MARKER, 1) == 0;
	git_config_free(cfg);
	return ours;
}

/* mkdir -p of path's parent directories */
static int make_parents(const char *path, snap_error *err)
{
	char *p = strdup(path);
	int error = 0;

	if (!p)
		return snap_error__set(err, SNAP_ENOMEM, "out of memory");
	for (char *s = p + 1; (s = strchr(s, '/')); s++) {
		*s = '\0';
		if (mkdir(p, 0755) < 0 && errno != EEXIST) {
			error = snap_error__errno(err, "create directory", p);
			break;
		}
		*s = '/';
	}
	free(p);
	return error;
}

/* A new store at path: initialised in a sibling temporary directory, then renamed into place. */
static int create_store(const char *path, snap_error *err)
{
	git_repository_init_options o;
	git_repository *repo = NULL;
	git_config *cfg = NULL;
	char *tmp = NULL;
	int error;

	if ((error = make_parents(path, err)) < 0)
		return error;
	if (asprintf(&tmp, "%s.creating-XXXXXX", path) < 0)
		return snap_error__set(err, SNAP_ENOMEM, "out of memory");
	if (!mkdtemp(tmp)) {
		error = snap_error__errno(err, "create store", path);
		goto done;
	}
	git_repository_init_options_init(&o, GIT_REPOSITORY_INIT_OPTIONS_VERSION);
	o.flags = GIT_REPOSITORY_INIT_BARE | GIT_REPOSITORY_INIT_NO_REINIT;
	o.description = STORE_DESCRIPTION;
	if (git_repository_init_ext(&repo, tmp, &o) < 0 || git_repository_config(&cfg, repo) < 0 ||
	    git_config_set_int32(cfg, STORE_MARKER, 1) < 0 ||
	    /* a bare repository keeps no reflog unless asked: HOST@{N} needs one */
	    git_config_set_bool(cfg, "core.logAllRefUpdates", 1) < 0) {
		error = snap_store__git_fail(err, SNAP_ERROR, "cannot create store", path);
		goto done;
	}
	git_config_free(cfg);
	cfg = NULL;
	git_repository_free(repo);
	repo = NULL;
	/* rename() replaces an empty directory; a store another process put there first stays */
	if (rename(tmp, path) < 0 && errno != ENOTEMPTY && errno != EEXIST) {
		if (errno != EBUSY && errno != EXDEV) {
			error = snap_error__errno(err, "create store", path);
			goto done;
		}
		/* the empty directory is a mount point (a disk of its own for the store): made in
		 * place, as a re-initialisation would leave a store another process made meanwhile
		 */
		o.flags = GIT_REPOSITORY_INIT_BARE;
		if (git_repository_init_ext(&repo, path, &o) < 0 ||
		    git_repository_config(&cfg, repo) < 0 ||
		    git_config_set_int32(cfg, STORE_MARKER, 1) < 0 ||
		    git_config_set_bool(cfg, "core.logAllRefUpdates", 1) < 0)
			error = snap_store__git_fail(err, SNAP_ERROR, "cannot create store", path);
	}
done:
	git_config_free(cfg);
	git_repository_free(repo);
	if (tmp) {
		remove_tree(tmp); /* only when it was not renamed: then it is gone already */
		free(tmp);
	}
	return error;
}

/*
 * libgit2 counts git_libgit2_init() against git_libgit2_shutdown(), and the shutdown that brings
 * the count to zero deletes the thread-local key under which each thread keeps its error state.
 * Two stores opened on two threads (diff loads OLD and NEW in parallel) could each bring it to
 * zero in turn: the other thread's state then outlives its key and leaks, and libgit2 requires
 * its initialisation before any thread uses it. So the first store takes one reference for the
 * life of the process, and each store its own on top of it.
 */
static pthread_once_t libgit2_once = PTHREAD_ONCE_INIT;

static void libgit2_hold(void)
{
	git_libgit2_init();
}

int snap_store_open(snap_store **out, const char *path, int create, snap_error *err)
{
	git_repository *repo = NULL;
	git_config *cfg = NULL;
	snap_store *st = NULL;
	struct stat sb;
	int marker = 0, error = 0, rc;

	SNAP_ASSERT_ARG(out && path);
	pthread_once(&libgit2_once, libgit2_hold);
	git_libgit2_init();
	if (stat(path, &sb) < 0 || (S_ISDIR(sb.st_mode) && dir_is_empty(path))) {
		if (!create) {
			error =
			    snap_error__set(err, SNAP_ENOTFOUND, "no pcisnap store at '%s'", path);
			goto done;
		}
		/* built aside and renamed into place: never seen half made, and of several
		 * first collects racing, one store wins and the others use it */
		if ((error = create_store(path, err)) < 0)
			goto done;
		if (stat(path, &sb) < 0) {
			error = snap_error__errno(err, "create store", path);
			goto done;
		}
	}
	if (!S_ISDIR(sb.st_mode)) {
		error = snap_error__set(err, SNAP_EINVALID, "'%s' is not a pcisnap store", path);
		goto done;
	} else {
		rc = git_repository_open_ext(&repo, path, GIT_REPOSITORY_OPEN_NO_SEARCH, NULL);
		/* libgit2 1.5 answers GIT_ENOTFOUND (its last message about safe.directory) when a
		 * repository belongs to another user: a repository's HEAD there, owned by another,
		 * is that */
		if (rc == GIT_ENOTFOUND && sb.st_uid != geteuid()) {
			char head[4096];
			struct stat hs;

			snprintf(head, sizeof(head), "%s/HEAD", path);
			if (stat(head, &hs) == 0 && S_ISREG(hs.st_mode))
				rc = GIT_EOWNER;
		}
		if (rc == GIT_EOWNER) {
			error = snap_error__set(
			    err, SNAP_EINVALID,
			    "store '%s' belongs to another user, and libgit2 (as git) refuses "
			    "repositories it does not own: run pcisnap as the store's owner, or "
			    "add it to git's safe.directory ('git config --global --add "
			    "safe.directory %s')",
			    path, path);
			goto done;
		}
		if (rc == GIT_ENOTFOUND) {
			error = snap_error__set(
			    err, SNAP_EINVALID,
			    "'%s' is not a pcisnap store (not a git repository)", path);
			goto done;
		}
		if (rc < 0) {
			error = snap_store__git_fail(err, SNAP_ERROR, "corrupt store", path);
			goto done;
		}
		if (git_repository_config_snapshot(&cfg, repo) < 0 ||
		    git_config_get_bool(&marker, cfg, STORE_MARKER) < 0 || !marker)
			marker = create && half_made(repo);
		if (!marker) {
			error = snap_error__set(err, SNAP_EINVALID,
			                        "'%s' is a git repository but not a pcisnap store "
			                        "(no %s in its config)",
			                        path, STORE_MARKER);
			goto done;
		}
		if (!git_repository_is_bare(repo)) {
			error = snap_error__set(
			    err, SNAP_EINVALID,
			    "'%s' is not a bare repository, not a pcisnap store", path);
			goto done;
		}
	}
	if (!(st = calloc(1, sizeof(*st))) || !(st->path = strdup(path))) {
		free(st);
		st = NULL;
		error = snap_error__set(err, SNAP_ENOMEM, "out of memory");
		goto done;
	}
	/* a store made before HOST@{N} existed gets its reflog from the next writer on */
	if (create && cfg) {
		int on = 0;

		git_config *w = NULL;

		if ((git_config_get_bool(&on, cfg, "core.logAllRefUpdates") < 0 || !on) &&
		    git_repository_config(&w, repo) == 0)
			git_config_set_bool(w, "core.logAllRefUpdates", 1); /* best effort */
		git_config_free(w);
	}
	st->repo = repo;
	st->lock_fd = -1;
	repo = NULL;
	*out = st;
done:
	git_config_free(cfg);
	git_repository_free(repo);
	if (error < 0)
		git_libgit2_shutdown();
	return error;
}

void snap_store_free(snap_store *st)
{
	if (!st)
		return;
	snap_store__write_unlock(st);
	git_repository_free(st->repo);
	free(st->path);
	free(st);
	git_libgit2_shutdown();
}
