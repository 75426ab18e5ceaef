/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * modprobe.d as modprobe reads it, through libkmod: the five directories of modprobe.d(5) in
 * their order, a file overriding the files of the same name in the directories after it, the
 * files of all of them taken in the order of their names, each line as libkmod parses it.
 *
 * libkmod opens what it is given by path, following links on the host. On the live host that is
 * what modprobe does, so it reads the directories themselves. A captured root's links must not
 * lead out of it, so its files are read below the root (fsroot), as every file is, and handed to
 * libkmod as a private copy in a temporary directory, removed before returning: the one thing
 * a collection of a captured root writes, and never under the root.
 */

#include "collect/collector.h"
#include <errno.h>
#include <fcntl.h>
#include <ftw.h>
#include <libkmod.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

/* modprobe.d(5), first wins */
static const char *const dirs[] = {"etc/modprobe.d", "run/modprobe.d", "usr/local/lib/modprobe.d",
                                   "usr/lib/modprobe.d", "lib/modprobe.d"};
#define NDIRS (sizeof(dirs) / sizeof(dirs[0]))

void snap_kmod__quiet(void *data, int priority, const char *file, int line, const char *fn,
                      const char *format, va_list args)
{
	(void)data, (void)priority, (void)file, (void)line, (void)fn, (void)format, (void)args;
}

static int remove_entry(const char *p, const struct stat *sb, int flag, struct FTW *ftw)
{
	(void)sb, (void)flag, (void)ftw;
	return remove(p);
}

int snap_kmod__write_file(const char *path, const char *data, size_t len)
{
	int fd = open(path, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0600);
	size_t off = 0;

	if (fd < 0)
		return -errno;
	while (off < len) {
		ssize_t w = write(fd, data + off, len - off);

		if (w < 0 && errno == EINTR)
			continue;
		if (w <= 0) {
			close(fd);
			return -EIO;
		}
		off += (size_t)w;
	}
	return close(fd) < 0 ? -errno : 0;
}

/* tmp/0 ... tmp/k-1 (the directories libkmod is given), made once tmp exists */
static int make_subdirs(const char *tmp, size_t from, size_t to)
{
	for (size_t k = from; k < to; k++) {
		char sub[4200];

		snprintf(sub, sizeof(sub), "%s/%zu", tmp, k);
		if (mkdir(sub, 0700) < 0)
			return -errno;
	}
	return 0;
}

/* Copy the *.conf of the root's modprobe.d directories into tmp/0 ... tmp/4; the files that
 * count (not overridden by name) go to files, as root-relative paths. With lazy_tag, tmp is
 * "" and made ($TMPDIR/pcisnap-TAG.XXXXXX) when the first file is copied. */
static int copy_configs(const snap_root *r, char *tmp, size_t tmp_size, const char *lazy_tag,
                        json_t *files)
{
	json_t *names_seen = json_object(), *canon_seen = json_object();
	int error = 0;

	for (size_t k = 0; k < NDIRS && !error; k++) {
		char *canon = NULL, **names = NULL;
		size_t n = 0;

		if (tmp && *tmp && (error = make_subdirs(tmp, k, k + 1)) < 0)
			break;
		/* with a merged /usr, lib/modprobe.d is usr/lib/modprobe.d: read once */
		if (snap_root__resolve(&canon, r, dirs[k]) < 0)
			continue;
		if (json_object_get(canon_seen, canon)) {
			free(canon);
			continue;
		}
		json_object_set_new(canon_seen, canon, json_true());
		free(canon);
		if (snap_root__list(&names, &n, r, dirs[k]) < 0)
			continue;
		for (size_t i = 0; i < n && !error; i++) {
			size_t len = strlen(names[i]), dlen = 0;
			char rel[4200], dst[8400], *data = NULL;

			if (len < 6 || strcmp(names[i] + len - 5, ".conf"))
				continue;
			snprintf(rel, sizeof(rel), "%s/%s", dirs[k], names[i]);
			if (snap_root__read(&data, &dlen, r, rel, TEXT_MAX) < 0)
				continue; /* not a regular file, unreadable: modprobe would skip it
				             too */
			if (tmp && !*tmp && lazy_tag) /* the first file: the copy's directories */
				if ((error = snap_kmod__mkdtemp(tmp, tmp_size, lazy_tag)) == 0)
					error = make_subdirs(tmp, 0, k + 1);
			if (tmp && !error) {
				snprintf(dst, sizeof(dst), "%s/%zu/%s", tmp, k, names[i]);
				error = snap_kmod__write_file(dst, data, dlen);
			}
			free(data);
			if (!error && !json_object_get(names_seen, names[i])) {
				json_object_set_new(names_seen, names[i], json_true());
				json_array_append_new(files, json_string(rel));
			}
		}
		snap_strv__free(names, n);
	}
	json_decref(names_seen);
	json_decref(canon_seen);
	return error;
}

int snap_kmod__copy_configs(const snap_root *r, const char *tmp, json_t *files)
{
	return copy_configs(r, (char *)tmp, 0, NULL, files); /* tmp is only read without a tag */
}

static json_t *obj_child(json_t *obj, const char *key)
{
	json_t *v = json_object_get(obj, key);

	if (!json_is_object(v)) {
		v = json_object();
		json_object_set_new(obj, key, v);
	}
	return v;
}

/* "ids=10de:1e87,10de:10f8 disable_vga=1" into options[module]: the last value of a name wins,
 * as it does for the kernel's module parameters. */
static void add_options(json_t *options, const char *module, const char *value)
{
	/* the kernel splits a module's options with next_arg(), as it does the command line:
	 * double quotes group and are removed (ids="10de:1e87,10de:10f8" is ids=10de:...) */
	json_t *tokens = snap_parse__cmdline(value ? value : ""), *t;
	json_t *m = obj_child(options, module);
	size_t i;

	json_array_foreach (tokens, i, t) {
		const char *v = snap_json__str(t, "value");

		json_object_set_new(m, snap_json__str(t, "key"), json_string(v ? v : ""));
	}
	json_decref(tokens);
}

/*
 * libkmod also takes module options and blacklists from the kernel command line of the machine
 * it runs on (/proc/cmdline). Those are not modprobe.d, and for a captured root not even its
 * host's: the snapshot has the root's own command line. What they add is what a context
 * without files yields; each such entry is taken out once, wherever libkmod put it.
 */
enum { OPTIONS, BLACKLISTS, SOFTDEPS, INSTALLS, NLISTS };

static struct kmod_config_iter *list_of(const struct kmod_ctx *ctx, int which)
{
	switch (which) {
	case OPTIONS:
		return kmod_config_get_options(ctx);
	case BLACKLISTS:
		return kmod_config_get_blacklists(ctx);
	case SOFTDEPS:
		return kmod_config_get_softdeps(ctx);
	default:
		return kmod_config_get_install_commands(ctx);
	}
}

static void entry_key(char *buf, size_t n, int which, const struct kmod_config_iter *it)
{
	const char *v = kmod_config_iter_get_value(it);

	snprintf(buf, n, "%d\n%s\n%s", which, kmod_config_iter_get_key(it), v ? v : "");
}

/* "which\nkey\nvalue" -> how many times the command line gave it */
static json_t *kcmdline_entries(const char *no_dir)
{
	const char *config[] = {no_dir, NULL};
	struct kmod_ctx *ctx = kmod_new(NULL, config);
	json_t *seen = json_object();

	if (!ctx)
		return seen;
	kmod_set_log_fn(ctx, snap_kmod__quiet, NULL);
	for (int which = 0; which < NLISTS; which++) {
		struct kmod_config_iter *it = list_of(ctx, which);

		while (it && kmod_config_iter_next(it)) {
			char key[4096];

			entry_key(key, sizeof(key), which, it);
			json_object_set_new(
			    seen, key,
			    json_integer(json_integer_value(json_object_get(seen, key)) + 1));
		}
		kmod_config_iter_free_iter(it);
	}
	kmod_unref(ctx);
	return seen;
}

/* the next entry of it that came from a file, not from the command line */
static bool next_from_files(struct kmod_config_iter *it, int which, json_t *kcmdline)
{
	while (it && kmod_config_iter_next(it)) {
		char key[4096];
		json_int_t left;

		entry_key(key, sizeof(key), which, it);
		if ((left = json_integer_value(json_object_get(kcmdline, key))) <= 0)
			return true;
		json_object_set_new(kcmdline, key, json_integer(left - 1));
	}
	return false;
}

int snap_kmod__mkdtemp(char *buf, size_t n, const char *tag)
{
	const char *tmpdir = getenv("TMPDIR");

	snprintf(buf, n, "%s/pcisnap-%s.XXXXXX", tmpdir && *tmpdir == '/' ? tmpdir : "/tmp", tag);
	if (!mkdtemp(buf)) {
		int e = -errno;

		*buf = '\0';
		return e;
	}
	return 0;
}

void snap_kmod__rmtree(const char *dir)
{
	if (dir && *dir)
		nftw(dir, remove_entry, 16, FTW_DEPTH | FTW_PHYS);
}

void snap_kmod__config(json_t *acc, struct kmod_ctx *ctx)
{
	/* a directory that cannot exist: what libkmod then yields is the command line's */
	json_t *kc = kcmdline_entries("/dev/null/none");
	struct kmod_config_iter *it;

	for (it = kmod_config_get_options(ctx); next_from_files(it, OPTIONS, kc);)
		add_options(obj_child(acc, "options"), kmod_config_iter_get_key(it),
		            kmod_config_iter_get_value(it));
	kmod_config_iter_free_iter(it);
	for (it = kmod_config_get_blacklists(ctx); next_from_files(it, BLACKLISTS, kc);) {
		const char *m = kmod_config_iter_get_key(it);
		json_t *bl = json_object_get(acc, "blacklist"), *v;
		size_t i;
		bool seen = false;

		if (!json_is_array(bl)) {
			bl = json_array();
			json_object_set_new(acc, "blacklist", bl);
		}
		json_array_foreach (bl, i, v)
			seen |= !strcmp(json_string_value(v), m);
		if (!seen)
			json_array_append_new(bl, json_string(m));
	}
	kmod_config_iter_free_iter(it);
	for (it = kmod_config_get_softdeps(ctx); next_from_files(it, SOFTDEPS, kc);)
		json_object_set_new(obj_child(acc, "softdep"), kmod_config_iter_get_key(it),
		                    json_string(kmod_config_iter_get_value(it)));
	kmod_config_iter_free_iter(it);
	for (it = kmod_config_get_install_commands(ctx); next_from_files(it, INSTALLS, kc);)
		json_object_set_new(obj_child(acc, "install"), kmod_config_iter_get_key(it),
		                    json_string(kmod_config_iter_get_value(it)));
	kmod_config_iter_free_iter(it);
	json_decref(kc);
}

json_t *snap_collect__modprobe(struct collector *c)
{
	json_t *acc = json_pack("{s:{}, s:[], s:{}, s:{}, s:[]}", "options", "blacklist", "softdep",
	                        "install", "files");
	char tmp[4096] = "", paths[NDIRS][4200];
	const char *config[NDIRS + 1];
	struct kmod_ctx *ctx = NULL;
	int e;

	if (!acc)
		return NULL;
	if (c->r.is_slash) {
		/* the live host: libkmod reads its directories as modprobe does; nothing copied */
		if (snap_kmod__copy_configs(&c->r, NULL, json_object_get(acc, "files")) < 0)
			goto done;
		for (size_t k = 0; k < NDIRS; k++)
			snprintf(paths[k], sizeof(paths[k]), "/%s", dirs[k]);
	} else {
		/* the private copy is made when there is a file to copy: a root without any
		 * writes nothing */
		if ((e = copy_configs(&c->r, tmp, sizeof(tmp), "modprobe",
		                      json_object_get(acc, "files"))) < 0) {
			snap_snapshot__warn(
			    c->s,
			    "modprobe.d not read: cannot copy it for libkmod into a "
			    "private temporary directory (%s)",
			    strerror(-e));
			goto done;
		}
		for (size_t k = 0; k < NDIRS; k++)
			snprintf(paths[k], sizeof(paths[k]), "%s/%zu", tmp, k);
	}
	/* no file to read: what libkmod would yield is the command line's, all taken out again */
	if (!json_array_size(json_object_get(acc, "files")))
		goto done;
	for (size_t k = 0; k < NDIRS; k++)
		config[k] = paths[k];
	config[NDIRS] = NULL;
	if (!(ctx = kmod_new(NULL, config))) {
		snap_snapshot__warn(c->s, "modprobe.d not read: libkmod failed");
		goto done;
	}
	kmod_set_log_fn(ctx, snap_kmod__quiet, NULL);
	snap_kmod__config(acc, ctx);
done:
	if (ctx) /* not a call for nothing: libkmod is loaded on its first call (util/lazy.h) */
		kmod_unref(ctx);
	snap_kmod__rmtree(tmp);
	return acc;
}
