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

#define SNAPSHOT_FILE "snapshot.json"
#define MAX_CAS_TRIES 400
#define STORE_MARKER  "pcisnap.store"

static int git_fail(snap_error *err, int code, const char *what, const char *arg)
{
	const git_error *e = git_error_last();
	int saved = errno;

	/* libgit2 does not always say why: a full disk or a read-only store is in errno */
	if (e && e->message && *e->message)
		return snap_error__set(err, code, "%s '%s': %s", what, arg, e->message);
	return snap_error__set(err, code, "%s '%s': %s", what, arg,
	                       saved ? strerror(saved) : "libgit2 error");
}

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

/* A host name usable as a branch and unambiguous in revisions (no '/', '@', '~', '^', ':'). */
static bool valid_name(const char *s)
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
		error = git_fail(err, SNAP_ERROR, "cannot create store", path);
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
			error = git_fail(err, SNAP_ERROR, "cannot create store", path);
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
			error = git_fail(err, SNAP_ERROR, "corrupt store", path);
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
		error = git_fail(err, SNAP_ERROR, "cannot read snapshot of commit",
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
static int commit_message(char **out, snap_store *st, const snap_snapshot *s, const git_oid *parent,
                          const snap_snapshot *prev, snap_error *err)
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
static void backoff(int attempt)
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

	if (!host || !valid_name(host))
		return snap_error__set(
		    err, SNAP_EINVALID,
		    "host name '%s' cannot name a store branch (letters, digits, "
		    "'.', '-', '_')",
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
		return git_fail(err, SNAP_ERROR, "corrupt store: cannot read branch", host);
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
		return git_fail(err, SNAP_ERROR, "corrupt store: cannot read branch", host);
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
	return rc < 0 ? git_fail(err, SNAP_ERROR, "cannot restore branch", host) : 0;
}

#define IMPORTED "refs/pcisnap/imported/" /* a host's imported snapshots older than its tip */

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
	if (label && !valid_name(label))
		return snap_error__set(err, SNAP_EINVALID, "label '%s' is not a valid name", label);
	snprintf(refname, sizeof(refname), "refs/heads/%s", host);
	when = snap_time__parse(snap_json__str(json_object_get(s->root, "host"), "collected_at"));
	snprintf(email, sizeof(email), "pcisnap@%s", host);
	/* Read the current tip completely before writing anything: a corrupt store is reported
	 * and left exactly as it was. */
	{
		int rc = git_reference_name_to_id(&tip, st->repo, refname);

		if (rc < 0 && rc != GIT_ENOTFOUND)
			return git_fail(err, SNAP_ERROR, "corrupt store: cannot read branch", host);
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
		error = git_fail(err, SNAP_ERROR, "cannot write to store", st->path);
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
				bool older = git_commit_time(c) < when;
				bool more = git_commit_parentcount(c) > 0;

				found = git_oid_equal(git_commit_tree_id(c), &tree_id) &&
				        git_commit_time(c) == (when >= 0 ? when : -1);
				if (found)
					git_oid_cpy(&seen, &at);
				else if (more)
					git_oid_cpy(&at, git_commit_parent_id(c, 0));
				git_commit_free(c);
				c = NULL;
				/* newest first: past our time nothing can match */
				if (older || !more)
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
			error =
			    git_fail(err, SNAP_ERROR, "corrupt store: cannot read branch", host);
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

			if ((error = commit_message(&msg, st, s, have_parent ? &parent_id : NULL,
			                            known, err)) < 0)
				goto done;
			have_msg_parent = have_parent;
			if (have_parent)
				git_oid_cpy(&msg_parent, &parent_id);
		}
		if (have_parent && git_commit_lookup(&parent, st->repo, &parent_id) < 0) {
			error =
			    git_fail(err, SNAP_ERROR, "corrupt store: cannot read commit", host);
			goto done;
		}
		rc = git_commit_create(&commit_id, st->repo, NULL, sig, sig, "UTF-8", msg, tree,
		                       have_parent ? 1 : 0, (const git_commit **)&parent);
		git_commit_free(parent);
		if (rc < 0) {
			error = git_fail(err, SNAP_ERROR, "cannot write commit to store", st->path);
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
			backoff(attempt);
			continue; /* someone else moved the branch: rebuild on the new tip */
		}
		error = rc == GIT_ELOCKED
		            ? snap_error__set(err, SNAP_ERROR,
		                              "store '%s' is locked (%s.lock): another pcisnap is "
		                              "writing, or one died; remove the lock if none runs",
		                              st->path, refname)
		            : git_fail(err, SNAP_ERROR, "cannot update branch", host);
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
			            : git_fail(err, SNAP_ERROR, "cannot create label", label);
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
static void did_you_mean(char *buf, size_t n, snap_store *st, const char *name)
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
static int resolve(git_oid *out, snap_store *st, const char *rev, snap_error *err)
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
		if (!valid_name(host) || !valid_name(label))
			return snap_error__set(err, SNAP_EINVALID, "bad revision '%s'", rev);
		snprintf(spec, sizeof(spec), "refs/tags/%s/%s%s", host, label, rest + 1 + ll);
	} else if (valid_name(host) && snprintf(spec, sizeof(spec), "refs/heads/%s", host) > 0 &&
	           git_reference_lookup(&ref, st->repo, spec) == 0) {
		git_reference_free(ref);
		snprintf(spec, sizeof(spec), "refs/heads/%s%s", host, rest);
	} else if (hl >= 4 && hl <= GIT_OID_HEXSZ && strspn(host, "0123456789abcdef") == hl) {
		snprintf(spec, sizeof(spec), "%s", rev); /* a commit id or an abbreviation */
	} else {
		did_you_mean(hint, sizeof(hint), st, host);
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
	if ((error = resolve(&id, st, rev, err)) < 0)
		return error;
	return snap_store__load_commit(out, st, &id, err);
}

int snap_store_label(snap_store *st, const char *rev, const char *label, snap_error *err)
{
	snap_snapshot *s = NULL;
	git_reference *ref = NULL;
	char tag[512];
	git_oid id;
	int error, rc;

	SNAP_ASSERT_ARG(st && rev && label);
	if (!valid_name(label))
		return snap_error__set(err, SNAP_EINVALID, "label '%s' is not a valid name", label);
	if ((error = snap_store__write_lock(st, err)) < 0)
		return error;
	if ((error = resolve(&id, st, rev, err)) < 0 ||
	    (error = snap_store__load_commit(&s, st, &id, err)) < 0)
		return error;
	snprintf(tag, sizeof(tag), "refs/tags/%s/%s", snap_snapshot_hostname(s), label);
	snap_snapshot_free(s);
	rc = git_reference_create(&ref, st->repo, tag, &id, 0, "pcisnap label");
	git_reference_free(ref);
	if (rc == GIT_EEXISTS)
		return snap_error__set(err, SNAP_EINVALID, "label '%s' already exists", label);
	if (rc < 0)
		return git_fail(err, SNAP_ERROR, "cannot create label", label);
	return 0;
}

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
	    (error = resolve(&id, st, rev, err)) < 0)
		return error;
	if ((error = snap_store__write_lock(st, err)) < 0)
		return error;
	if (git_signature_now(&sig, "pcisnap", "pcisnap@localhost") < 0)
		return git_fail(err, SNAP_ERROR, "cannot write to store", st->path);
	/* force: a new prediction replaces the one made before against the same snapshot. The
	 * notes ref moves as a branch does: retried as a commit is when another writer (git
	 * itself: pcisnap's writers hold the store's lock) moved it meanwhile */
	for (int attempt = 0;; attempt++) {
		int rc = git_note_create(&note_id, st->repo, ref, sig, sig, &id, text, 1);

		if (rc == 0)
			break;
		if ((rc == GIT_EMODIFIED || rc == GIT_ELOCKED || rc == GIT_EEXISTS) &&
		    attempt < MAX_CAS_TRIES) {
			backoff(attempt);
			continue;
		}
		error = git_fail(err, SNAP_ERROR, "cannot write to store", st->path);
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
	    (error = resolve(&id, st, rev, err)) < 0)
		return error;
	rc = git_note_read(&note, st->repo, ref, &id);
	if (rc == GIT_ENOTFOUND)
		return snap_error__set(err, SNAP_ENOTFOUND, "no %s note on '%s'", kind, rev);
	if (rc < 0)
		return git_fail(err, SNAP_ERROR, "cannot read the store", st->path);
	text = strdup(git_note_message(note) ? git_note_message(note) : "");
	git_note_free(note);
	if (!text)
		return snap_error__set(err, SNAP_ENOMEM, "out of memory");
	*out = text;
	return 0;
}

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

		did_you_mean(hint, sizeof(hint), st, host);
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
			error =
			    git_fail(err, SNAP_ERROR, "corrupt store: cannot read commit of", host);
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

/* rows in text (one line each, text_row), as one document of schema, or one per line. */
static int render_rows(char **out, json_t *rows, snap_list_format format, const char *schema,
                       const char *key, void (*text_row)(snap_buf *, const json_t *),
                       snap_error *err)
{
	snap_buf b = SNAP_BUF_INIT;
	size_t i;
	json_t *row;

	switch (format) {
	case SNAP_LIST_JSON: {
		json_t *doc = json_pack("{s:s, s:O}", "schema", schema, key, rows);
		int error = doc ? snap_json__dump(out, doc, err)
		                : snap_error__set(err, SNAP_ENOMEM, "out of memory");

		json_decref(doc);
		return error;
	}
	case SNAP_LIST_JSONL:
		json_array_foreach (rows, i, row) {
			char *line =
			    json_dumps(row, JSON_SORT_KEYS | JSON_COMPACT | JSON_ENSURE_ASCII);

			if (!line)
				b.oom = true;
			else
				snap_buf__printf(&b, "%s\n", line);
			snap_json__free(line);
		}
		break;
	case SNAP_LIST_TEXT:
		json_array_foreach (rows, i, row)
			text_row(&b, row);
		break;
	default:
		return snap_error__set(err, SNAP_EINVALID, "unknown list format %d", (int)format);
	}
	if (!(*out = snap_buf__detach(&b)))
		return snap_error__set(err, SNAP_ENOMEM, "out of memory");
	return 0;
}

static void log_text_row(snap_buf *b, const json_t *r)
{
	const json_t *labels = json_object_get(r, "labels"), *l;
	snap_buf lb = SNAP_BUF_INIT;
	size_t i;
	char *joined;

	json_array_foreach (labels, i, l)
		snap_buf__printf(&lb, "%s%s", i ? "," : "", json_string_value(l));
	joined = snap_buf__detach(&lb);
	snap_buf__printf(b, "%s  %s  %.10s  %-14s kernel %s  bios %s  check %s  %s",
	                 snap_json__str(r, "host"), snap_json__str(r, "collected_at"),
	                 snap_json__str(r, "commit"), joined && *joined ? joined : "-",
	                 snap_json__str(r, "kernel"), snap_json__str(r, "bios"),
	                 snap_json__str(r, "check"), snap_json__str(r, "verdict"));
	/* the boot before ended in a crash, a power loss or a hard lockup: on the same line */
	if (snap_json__str(r, "previous_boot") &&
	    !strncmp(snap_json__str(r, "previous_boot"), "unclean ", 8))
		snap_buf__printf(b, "  after an unclean end of boot %.8s",
		                 snap_json__str(r, "previous_boot") + 8);
	snap_buf__puts(b, "\n");
	free(joined);
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
		error = git_fail(err, SNAP_ERROR, "corrupt store: cannot list hosts of", st->path);
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
		error = git_fail(err, SNAP_ERROR, "corrupt store: cannot list hosts of", st->path);
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

int snap_store_log_ext(char **out, snap_store *st, const char *host, const snap_log_options *opts,
                       snap_error *err)
{
	static const snap_log_options defaults = SNAP_LOG_OPTIONS_INIT;
	json_t *rows = json_array();
	int error = 0;

	SNAP_ASSERT_ARG(out && st);
	if (!opts)
		opts = &defaults;
	if (opts->version != SNAP_LOG_OPTIONS_VERSION)
		error = snap_error__set(err, SNAP_EINVALID, "unsupported log options version");
	else if (host) {
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
	if (error == 0)
		error = render_rows(out, rows, opts->format, "pcisnap.log/1", "snapshots",
		                    log_text_row, err);
	json_decref(rows);
	return error;
}

int snap_store_log(char **out, snap_store *st, const char *host, snap_error *err)
{
	return snap_store_log_ext(out, st, host, NULL, err);
}

static void hosts_text_row(snap_buf *b, const json_t *r)
{
	snap_buf__printf(b, "%-20s %-40s latest %s  check %s\n", snap_json__str(r, "host"),
	                 snap_json__str(r, "model"), snap_json__str(r, "latest"),
	                 snap_json__str(r, "check"));
}

int snap_store_hosts_ext(char **out, snap_store *st, snap_list_format format, snap_error *err)
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
			error = git_fail(err, SNAP_ERROR, "corrupt store: cannot read host", host);
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
	if (error == 0)
		error =
		    render_rows(out, rows, format, "pcisnap.hosts/1", "hosts", hosts_text_row, err);
	json_decref(hosts); /* host names are borrowed from it */
	json_decref(rows);
	return error;
}

int snap_store_hosts(char **out, snap_store *st, snap_error *err)
{
	return snap_store_hosts_ext(out, st, SNAP_LIST_TEXT, err);
}

/* A configured remote by name, else an anonymous one for a URL or path. */
static int remote_for(git_remote **out, snap_store *st, const char *remote, snap_error *err)
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
	return git_fail(err, SNAP_ERROR, "no such remote", remote);
}

int snap_store_push(snap_store *st, const char *remote, snap_error *err)
{
	git_push_options po;
	git_reference_iterator *it = NULL;
	struct snap_transport t;
	git_strarray specs = {NULL, 0};
	git_remote *r = NULL;
	json_t *list = json_array();
	const char *name;
	int error = 0;
	size_t i;

	SNAP_ASSERT_ARG(st && remote);
	git_push_options_init(&po, GIT_PUSH_OPTIONS_VERSION);
	if ((error = remote_for(&r, st, remote, err)) < 0)
		goto done;
	snap_store__callbacks(&po.callbacks, &t, st, git_remote_url(r));
	/* explicit, non-forced refspecs: a host whose remote history diverged is refused */
	if (git_reference_iterator_new(&it, st->repo) == 0) {
		while (git_reference_next_name(&name, it) == 0)
			if (!strncmp(name, "refs/heads/", 11) || !strncmp(name, "refs/tags/", 10) ||
			    !strncmp(name, IMPORTED, strlen(IMPORTED))) {
				char spec[600];

				snprintf(spec, sizeof(spec), "%s:%s", name, name);
				json_array_append_new(list, json_string(spec));
			}
		git_reference_iterator_free(it);
	}
	if (!json_array_size(list))
		goto done; /* nothing to publish */
	specs.count = json_array_size(list);
	specs.strings = calloc(specs.count, sizeof(char *));
	for (i = 0; specs.strings && i < specs.count; i++)
		specs.strings[i] = (char *)json_string_value(json_array_get(list, i));
	if (!specs.strings || git_remote_push(r, &specs, &po) < 0) {
		error = git_fail(err, SNAP_ERROR, "cannot push to", remote);
		goto done;
	}
	if (t.rejected.len)
		error = snap_error__set(err, SNAP_ERROR, "remote '%s' refused: %s", remote,
		                        t.rejected.ptr);
done:
	free(specs.strings);
	json_decref(list);
	if (r)
		snap_store__callbacks_release(&t);
	git_remote_free(r);
	return error;
}

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
		return git_fail(err, SNAP_ERROR, "cannot read pulled commit", git_oid_tostr_s(id));
	if (git_commit_parentcount(c) > 1) {
		error = snap_error__set(err, SNAP_EINVALID,
		                        "pulled commit %.12s of '%s' is a merge: a store's history "
		                        "is linear",
		                        git_oid_tostr_s(id), host);
		goto done;
	}
	if ((error = snap_store__load_commit(&s, st, id, err)) < 0)
		goto done;
	if (!snap_snapshot_hostname(s) || strcmp(snap_snapshot_hostname(s), host)) {
		error = snap_error__set(err, SNAP_EINVALID,
		                        "pulled commit %.12s on branch '%s' holds a snapshot of "
		                        "another host",
		                        git_oid_tostr_s(id), host);
		goto done;
	}
	parent = git_commit_parentcount(c) ? git_commit_parent_id(c, 0) : NULL;
	if ((error = commit_message(&want, st, s, parent, NULL, err)) < 0)
		goto done;
	/* the fields, line by line: each recorded one must be what the summary gives now */
	if (st->summary) {
		const char *have = strstr(git_commit_message(c), "\n\n"), *w = strstr(want, "\n\n");
		const char *hl = have ? have + 2 : "", *wl = w ? w + 2 : "";

		while (*hl || *wl) {
			size_t hn = strcspn(hl, "\n"), wn = strcspn(wl, "\n");

			if (hn != wn || memcmp(hl, wl, hn)) {
				const char *line = hn ? hl : wl;
				char key[64];

				snprintf(key, sizeof(key), "%.*s", (int)strcspn(line, ":\n"), line);
				msg_field(have_v, sizeof(have_v), git_commit_message(c), key);
				msg_field(want_v, sizeof(want_v), want, key);
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
			wl += wn + (wl[wn] == '\n');
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

	if (!valid_name(host))
		return snap_error__set(err, SNAP_EINVALID,
		                       "refusing pulled branch '%s': not a host name (letters, "
		                       "digits, '.', '-', '_')",
		                       host);
	snprintf(ref, sizeof(ref), "%s%s", local_prefix, host);
	rc = git_reference_name_to_id(&local, st->repo, ref);
	if (rc < 0 && rc != GIT_ENOTFOUND)
		return git_fail(err, SNAP_ERROR, "corrupt store: cannot read branch", host);
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
		error = git_fail(err, SNAP_ERROR, "cannot walk pulled history of", host);
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

/* Is commit id the tip of ref, or in its history? */
static bool in_history(snap_store *st, const char *ref, const git_oid *id)
{
	git_oid tip;

	return git_reference_name_to_id(&tip, st->repo, ref) == 0 &&
	       (git_oid_equal(&tip, id) || git_graph_descendant_of(st->repo, &tip, id) == 1);
}

int snap_store_pull(snap_store *st, const char *remote, snap_error *err)
{
	git_fetch_options fo;
	/* libgit2 takes char ** for refspecs it does not modify */
	static char heads[] = "+refs/heads/*:" INCOMING "heads/*",
	            tags[] = "+refs/tags/*:" INCOMING "tags/*",
	            imported[] = "+" IMPORTED "*:" INCOMING "imported/*";
	char *list[] = {heads, tags, imported};
	git_strarray specs = {list, 3};
	git_reference_iterator *it = NULL;
	git_remote *r = NULL;
	json_t *updates = json_array(), *u; /* [{ref, id, old}] applied once all is checked */
	struct snap_transport t;
	const char *name;
	size_t i;
	int error;

	SNAP_ASSERT_ARG(st && remote);
	if (!updates)
		return snap_error__set(err, SNAP_ENOMEM, "out of memory");
	if ((error = snap_store__write_lock(st, err)) < 0) {
		json_decref(updates);
		return error;
	}
	git_fetch_options_init(&fo, GIT_FETCH_OPTIONS_VERSION);
	if ((error = remote_for(&r, st, remote, err)) < 0)
		goto done;
	snap_store__callbacks(&fo.callbacks, &t, st, git_remote_url(r));
	drop_incoming(st);
	fo.download_tags = GIT_REMOTE_DOWNLOAD_TAGS_NONE;
	fo.update_fetchhead = 0;
	if (git_remote_fetch(r, &specs, &fo, "pcisnap pull") < 0) {
		error = git_fail(err, SNAP_ERROR, "cannot pull from", remote);
		goto done;
	}
	/* 1. every branch, and every host's imported history: a host name, a continuation of the
	 * local history, valid commits */
	for (int ns = 0; ns < 2 && !error; ns++) {
		const char *in = ns ? INCOMING "imported/" : INCOMING "heads/";
		const char *local = ns ? IMPORTED : "refs/heads/";
		char glob[128];

		snprintf(glob, sizeof(glob), "%s*", in);
		if (git_reference_iterator_glob_new(&it, st->repo, glob) < 0) {
			error =
			    git_fail(err, SNAP_ERROR, "cannot read what was pulled from", remote);
			goto done;
		}
		while (git_reference_next_name(&name, it) == 0) {
			const char *host = name + strlen(in);
			char ref[300];
			git_oid tip;

			if (git_reference_name_to_id(&tip, st->repo, name) < 0) {
				error =
				    git_fail(err, SNAP_ERROR, "cannot read pulled branch", host);
				break;
			}
			if ((error = verify_pulled_branch(st, local, host, &tip, err)) < 0)
				break;
			if (error == 1) {
				error = 0;
				continue;
			}
			snprintf(ref, sizeof(ref), "%s%s", local, host);
			json_array_append_new(updates, json_pack("{s:s, s:s}", "ref", ref, "id",
			                                         git_oid_tostr_s(&tip)));
		}
		git_reference_iterator_free(it);
		it = NULL;
	}
	if (error < 0)
		goto done;
	/* 2. every tag: HOST/LABEL naming a snapshot of that host's (pulled) history */
	if (git_reference_iterator_glob_new(&it, st->repo, INCOMING "tags/*") < 0) {
		error = git_fail(err, SNAP_ERROR, "cannot read what was pulled from", remote);
		goto done;
	}
	while (git_reference_next_name(&name, it) == 0) {
		const char *tag = name + strlen(INCOMING "tags/"), *slash = strchr(tag, '/');
		char host[256], head[300], ihead[300], ref[300];
		git_oid id, have;
		int rc;

		if (!slash || (size_t)(slash - tag) >= sizeof(host)) {
			error = snap_error__set(err, SNAP_EINVALID,
			                        "refusing pulled tag '%s': not HOST/LABEL", tag);
			break;
		}
		snprintf(host, sizeof(host), "%.*s", (int)(slash - tag), tag);
		snprintf(head, sizeof(head), INCOMING "heads/%s", host);
		snprintf(ihead, sizeof(ihead), INCOMING "imported/%s", host);
		if (!valid_name(host) || !valid_name(slash + 1) ||
		    git_reference_name_to_id(&id, st->repo, name) < 0 ||
		    (!in_history(st, head, &id) && !in_history(st, ihead, &id))) {
			error =
			    snap_error__set(err, SNAP_EINVALID,
			                    "refusing pulled tag '%s': not a label of a snapshot "
			                    "in the history of host '%s'",
			                    tag, host);
			break;
		}
		snprintf(ref, sizeof(ref), "refs/tags/%s", tag);
		rc = git_reference_name_to_id(&have, st->repo, ref);
		if (rc == 0 && !git_oid_equal(&have, &id)) {
			error =
			    snap_error__set(err, SNAP_EINVALID,
			                    "refusing to pull label '%s': here it names another "
			                    "snapshot (labels never move)",
			                    tag);
			break;
		}
		if (rc != 0)
			json_array_append_new(updates, json_pack("{s:s, s:s}", "ref", ref, "id",
			                                         git_oid_tostr_s(&id)));
	}
	git_reference_iterator_free(it);
	it = NULL;
	if (error < 0)
		goto done;
	/* 3. everything checked: move the local refs (fast-forward, compare-and-swap) */
	json_array_foreach (updates, i, u) {
		const char *ref = snap_json__str(u, "ref");
		git_reference *out = NULL;
		git_oid id, old;
		int rc, had;

		git_oid_fromstr(&id, snap_json__str(u, "id"));
		had = git_reference_name_to_id(&old, st->repo, ref) == 0;
		if (had && git_oid_equal(&old, &id))
			continue;
		rc = git_reference_create_matching(&out, st->repo, ref, &id, had, had ? &old : NULL,
		                                   "pcisnap pull");
		git_reference_free(out);
		if (rc < 0) {
			error = git_fail(err, SNAP_ERROR, "cannot update", ref);
			goto done;
		}
		snap_store__report_ref(st, ref, had ? &old : NULL, &id);
	}
done:
	if (r)
		snap_store__callbacks_release(&t);
	git_reference_iterator_free(it);
	drop_incoming(st);
	json_decref(updates);
	git_remote_free(r);
	return error;
}
