/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * The modules of one release as one boot stage sees them, through libkmod: the indexes of
 * lib/modules/RELEASE (modules.alias.bin, modules.dep.bin, modules.builtin.bin, ...) and the
 * modprobe.d of the stage. libkmod decides what a modalias resolves to and what a module's
 * soft dependencies are, exactly as udev's "kmod load" and modprobe do at boot.
 *
 * Two things libkmod answers from the running machine are taken elsewhere: whether a module is
 * built in (kmod_module_get_initstate() looks at this machine's /sys/module first), which is
 * read from the release's modules.builtin; and what this machine's /proc/cmdline adds to the
 * configuration, which snap_kmod__config() leaves out (the next command line is the caller's).
 */

#include "preflight/preflight.h"
#include <errno.h>
#include <fcntl.h>
#include <fnmatch.h>
#include <libkmod.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#define INDEX_MAX (64u << 20)

static const char *const confdirs[] = {"etc/modprobe.d", "run/modprobe.d",
                                       "usr/local/lib/modprobe.d", "usr/lib/modprobe.d",
                                       "lib/modprobe.d"};
#define NCONF (sizeof(confdirs) / sizeof(confdirs[0]))

/* the indexes libkmod and this file read (copied from a captured root) */
static const char *const indexes[] = {
    "modules.dep.bin",           "modules.alias.bin", "modules.builtin.bin", "modules.builtin",
    "modules.builtin.alias.bin", "modules.softdep",   "modules.alias",       "modules.symbols.bin",
    "modules.builtin.modinfo",   "modules.devname"};

void snap_kmod__name(char *buf, size_t n, const char *module)
{
	snprintf(buf, n, "%s", module ? module : "");
	for (char *c = buf; *c; c++)
		if (*c == '-')
			*c = '_';
}

static char *read_file(const char *path, size_t *len)
{
	FILE *f = fopen(path, "re");
	snap_buf b = SNAP_BUF_INIT;
	char chunk[65536];
	size_t n;

	if (!f)
		return NULL;
	while ((n = fread(chunk, 1, sizeof(chunk), f)) > 0 && b.len < INDEX_MAX)
		snap_buf__put(&b, chunk, n);
	fclose(f);
	if (len)
		*len = b.len;
	return snap_buf__detach(&b);
}

/* modules.builtin: "kernel/drivers/vfio/pci/vfio-pci.ko" per line */
static json_t *builtin_of(const char *dir)
{
	char path[4200], *text, *save = NULL;
	json_t *out = json_object();

	snprintf(path, sizeof(path), "%s/modules.builtin", dir);
	if (!(text = read_file(path, NULL)))
		return out;
	for (char *l = strtok_r(text, "\n", &save); l; l = strtok_r(NULL, "\n", &save)) {
		char *base = strrchr(l, '/'), name[256];
		size_t len;

		base = base ? base + 1 : l;
		len = strlen(base);
		if (len > 3 && !strcmp(base + len - 3, ".ko")) {
			base[len - 3] = '\0';
			snap_kmod__name(name, sizeof(name), base);
			json_object_set_new(out, name, json_true());
		}
	}
	free(text);
	return out;
}

/* Create dir/rel (and its directories) as an empty file unless something is there already. */
static void placeholder(const char *dir, const char *rel)
{
	const int flags = O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC;
	char path[4200];
	int fd;

	if (snprintf(path, sizeof(path), "%s/%s", dir, rel) >= (int)sizeof(path))
		return;
	if ((fd = open(path, flags, 0600)) < 0 && errno == ENOENT) {
		for (char *sl = strchr(path + strlen(dir) + 1, '/'); sl; sl = strchr(sl + 1, '/')) {
			*sl = '\0';
			(void)mkdir(path, 0700);
			*sl = '/';
		}
		fd = open(path, flags, 0600);
	}
	if (fd >= 0)
		close(fd);
}

/* A module's name from its path in modules.dep: the base name without .ko[.xz|.zst|.gz]. */
static void name_of_path(char *buf, size_t n, const char *path)
{
	const char *base = strrchr(path, '/');
	char *ko;

	snap_kmod__name(buf, n, base ? base + 1 : path);
	if ((ko = strstr(buf, ".ko")))
		*ko = '\0';
}

/*
 * libkmod resolves a module's dependencies through their files: kmod_module_parse_depline()
 * makes each path of modules.dep a module with kmod_module_new_from_path(), which stats it. A
 * private copy of a captured root's or an image's indexes has no .ko files, so the dependency
 * chain (and with it the softdeps of its modules) would be lost. The dependency index, as
 * libkmod itself dumps it (kmod_dump_index()), is read once into v->dep_paths; before a probe
 * order is asked, the files of the modules it can reach get an empty placeholder, in that
 * private copy only (place_files()). A path that is absolute or climbs out ("..") is left out.
 */
static void read_dep_paths(struct snap_kmodview *v)
{
	FILE *f = tmpfile();
	char *line = NULL;
	size_t cap = 0;

	v->dep_paths = json_object();
	v->placed = json_object();
	if (!f || !v->dep_paths || !v->placed ||
	    kmod_dump_index(v->ctx, KMOD_INDEX_MODULES_DEP, fileno(f)) < 0 ||
	    fseek(f, 0, SEEK_SET) < 0)
		goto out;
	while (getline(&line, &cap, f) > 0) {
		char *save = NULL, *name = strtok_r(line, " \t\n", &save), *tok, key[256];
		json_t *paths = json_array();

		if (!name || !paths) {
			json_decref(paths);
			continue;
		}
		while ((tok = strtok_r(NULL, " \t\n", &save))) {
			size_t n = strlen(tok);

			if (n && tok[n - 1] == ':')
				tok[--n] = '\0';
			if (!n || *tok == '/' || !strncmp(tok, "../", 3) || strstr(tok, "/../") ||
			    (n >= 3 && !strcmp(tok + n - 3, "/..")))
				continue;
			json_array_append_new(paths, json_string(tok));
		}
		snap_kmod__name(key, sizeof(key), name);
		json_object_set_new(v->dep_paths, key, paths);
	}
out:
	free(line);
	if (f)
		fclose(f);
}

/* Give the files of module, its dependencies and (recursively) their softdeps a placeholder. */
static void place_files(struct snap_kmodview *v, const char *module, int depth)
{
	const json_t *paths = json_object_get(v->dep_paths, module), *p;
	struct kmod_module *m = NULL;
	struct kmod_list *pre = NULL, *post = NULL, *l;
	size_t i;

	if (!v->placed || json_object_get(v->placed, module) || depth > 32)
		return;
	json_object_set_new(v->placed, module, json_true());
	json_array_foreach (paths, i, p) {
		char dep[256];

		placeholder(v->modules_dir, json_string_value(p));
		name_of_path(dep, sizeof(dep), json_string_value(p));
		if (i)
			place_files(v, dep, depth + 1);
	}
	if (kmod_module_new_from_name(v->ctx, module, &m) < 0)
		return;
	if (kmod_module_get_softdeps(m, &pre, &post) == 0) {
		struct kmod_list *lists[] = {pre, post};

		for (size_t k = 0; k < 2; k++)
			kmod_list_foreach(l, lists[k])
			{
				struct kmod_module *d = kmod_module_get_module(l);
				char name[256];

				snap_kmod__name(name, sizeof(name), kmod_module_get_name(d));
				place_files(v, name, depth + 1);
				kmod_module_unref(d);
			}
	}
	kmod_module_unref_list(pre);
	kmod_module_unref_list(post);
	kmod_module_unref(m);
}

/* A big-endian u32 of an index at off (the caller checked off + 4 <= n). */
static uint32_t be32(const unsigned char *p, size_t off)
{
	return (uint32_t)p[off] << 24 | (uint32_t)p[off + 1] << 16 | (uint32_t)p[off + 2] << 8 |
	       p[off + 3];
}

/*
 * Whether a libkmod index (modules.*.bin) is laid out as libkmod reads it (libkmod-index.c:
 * magic 0xB007F457, version 2.x, the root's offset; each node a prefix, children and values as
 * its offset's flags say) with every offset inside the file, and each child before its parent,
 * as depmod writes them (index_write__node() writes the children first). libkmod reads the
 * mmap'ed file without these checks: a root offset past the end, or a child that points back
 * at its parent, makes it read out of bounds or loop while its memory grows. NULL when valid,
 * else why not.
 */
static const char *index_invalid(const unsigned char *p, size_t n)
{
	enum {
		PREFIX = 0x80000000u,
		VALUES = 0x40000000u,
		CHILDS = 0x20000000u,
		MASK = 0x0fffffffu
	};
	uint32_t *stack = NULL;
	size_t depth = 0, cap = 0, visited = 0;
	const char *why = NULL;

	if (n < 12 || be32(p, 0) != 0xB007F457u || be32(p, 4) >> 16 != 2)
		return "not a libkmod index (magic or version)";
	if (!(be32(p, 8) & MASK))
		return NULL; /* no nodes */
	if (!(stack = malloc(64 * sizeof(*stack))))
		return "out of memory";
	cap = 64;
	stack[depth++] = be32(p, 8);
	while (depth && !why) {
		uint32_t off = stack[--depth], o = off & MASK;
		size_t pos = o;

		if (o < 12 || o >= n || ++visited > n) {
			why = "a node offset outside the file";
			break;
		}
		if (off & PREFIX) {
			const unsigned char *nul = memchr(p + pos, 0, n - pos);

			if (!nul) {
				why = "a prefix that runs past the end";
				break;
			}
			pos = (size_t)(nul - p) + 1;
		}
		if (off & CHILDS) {
			unsigned first, last;

			if (pos + 2 > n || (first = p[pos]) > (last = p[pos + 1]) || first > 127 ||
			    last > 127 || pos + 2 + 4 * (last - first + 1) > n) {
				why = "a child table that runs past the end";
				break;
			}
			for (unsigned c = 0; c <= last - first; c++) {
				uint32_t child = be32(p, pos + 2 + 4 * c);

				if (!(child & MASK))
					continue;
				if ((child & MASK) >= o) {
					why = "a child written after its parent (a loop)";
					break;
				}
				if (depth == cap) {
					uint32_t *grown = realloc(stack, 2 * cap * sizeof(*stack));

					if (!grown) {
						why = "out of memory";
						break;
					}
					stack = grown;
					cap *= 2;
				}
				stack[depth++] = child;
			}
			pos += 2 + 4 * (size_t)(last - first + 1);
		}
		if (!why && (off & VALUES)) {
			uint32_t count;

			if (pos + 4 > n || (count = be32(p, pos)) > n) {
				why = "a value count past the end";
				break;
			}
			pos += 4;
			for (uint32_t k = 0; k < count && !why; k++) {
				const unsigned char *nul;

				if (pos + 4 > n || !(nul = memchr(p + pos + 4, 0, n - pos - 4)))
					why = "a value that runs past the end";
				else
					pos = (size_t)(nul - p) + 1;
			}
		}
	}
	free(stack);
	return why;
}

/* Each binary index of modules_dir checked before libkmod reads it; NULL, or why not. */
static char *indexes_invalid(const char *modules_dir)
{
	static const char *const bins[] = {"modules.dep.bin", "modules.alias.bin",
	                                   "modules.symbols.bin", "modules.builtin.bin",
	                                   "modules.builtin.alias.bin"};

	for (size_t i = 0; i < sizeof(bins) / sizeof(bins[0]); i++) {
		char path[4200], *data, *out = NULL;
		size_t len = 0;
		const char *why;

		snprintf(path, sizeof(path), "%s/%s", modules_dir, bins[i]);
		if (access(path, F_OK) < 0)
			continue;
		if (!(data = read_file(path, &len)))
			return snap_mem__strdup(bins[i]);
		why = index_invalid((const unsigned char *)data, len);
		if (why && asprintf(&out, "%s: %s", bins[i], why) < 0)
			out = NULL;
		free(data);
		if (why)
			return out ? out : snap_mem__strdup(bins[i]);
	}
	return NULL;
}

static int open_ctx(struct snap_kmodview *v, const char *modules_dir, const char *const *config,
                    bool private_copy)
{
	char probe[4200];

	v->modules_dir = snap_mem__strdup(modules_dir);
	v->config = json_pack("{s:{}, s:[], s:{}, s:{}, s:[]}", "options", "blacklist", "softdep",
	                      "install", "files");
	v->builtin = builtin_of(modules_dir);
	if (!v->modules_dir || !v->config || !v->builtin)
		return SNAP_ENOMEM;
	snprintf(probe, sizeof(probe), "%s/modules.dep.bin", modules_dir);
	if (access(probe, R_OK) < 0)
		return 0; /* no indexes: v->ctx stays NULL, the stage is unknown */
	if ((v->bad_index = indexes_invalid(modules_dir)))
		return 0; /* an index libkmod cannot read safely: the stage is unknown */
	if (!(v->ctx = kmod_new(modules_dir, config)))
		return SNAP_ENOMEM;
	kmod_set_log_fn(v->ctx, snap_kmod__quiet, NULL);
	snap_kmod__config(v->config, v->ctx);
	if (private_copy)
		read_dep_paths(v);
	return 0;
}

int snap_kmodview__open_dir(struct snap_kmodview *v, const char *top, const char *release,
                            bool private_copy)
{
	char modules_dir[4200], paths[NCONF][4200];
	const char *config[NCONF + 1];
	struct stat st;

	memset(v, 0, sizeof(*v));
	/* merged /usr (usr/lib/modules) or not (lib/modules) */
	snprintf(modules_dir, sizeof(modules_dir), "%s/usr/lib/modules/%s", top, release);
	if (stat(modules_dir, &st) < 0 || !S_ISDIR(st.st_mode))
		snprintf(modules_dir, sizeof(modules_dir), "%s/lib/modules/%s", top, release);
	for (size_t k = 0; k < NCONF; k++) {
		snprintf(paths[k], sizeof(paths[k]), "%s/%s", top, confdirs[k]);
		config[k] = paths[k];
	}
	config[NCONF] = NULL;
	return open_ctx(v, modules_dir, config, private_copy);
}

int snap_kmodview__open_root(struct snap_kmodview *v, const snap_root *r, const char *release)
{
	char modules_dir[4200], paths[NCONF][4200], rel[4200];
	const char *config[NCONF + 1];
	json_t *files = json_array();
	int e;

	if (r->is_slash) {
		json_decref(files);
		return snap_kmodview__open_dir(v, "", release, false);
	}
	memset(v, 0, sizeof(*v));
	if ((e = snap_kmod__mkdtemp(v->tmp, sizeof(v->tmp), "modules")) < 0 ||
	    snap_kmod__copy_configs(r, v->tmp, files) < 0) {
		json_decref(files);
		return SNAP_ERROR;
	}
	json_decref(files);
	snprintf(modules_dir, sizeof(modules_dir), "%s/modules", v->tmp);
	if (mkdir(modules_dir, 0700) < 0)
		return SNAP_ERROR;
	for (size_t i = 0; i < sizeof(indexes) / sizeof(indexes[0]); i++) {
		char *data = NULL, dst[8400];
		size_t len = 0;

		snprintf(rel, sizeof(rel), "lib/modules/%s/%s", release, indexes[i]);
		if (snap_root__read(&data, &len, r, rel, INDEX_MAX) < 0)
			continue;
		snprintf(dst, sizeof(dst), "%s/%s", modules_dir, indexes[i]);
		e = snap_kmod__write_file(dst, data, len);
		free(data);
		if (e < 0)
			return SNAP_ERROR;
	}
	for (size_t k = 0; k < NCONF; k++) {
		snprintf(paths[k], sizeof(paths[k]), "%s/%zu", v->tmp, k);
		config[k] = paths[k];
	}
	config[NCONF] = NULL;
	return open_ctx(v, modules_dir, config, true);
}

void snap_kmodview__release(struct snap_kmodview *v)
{
	kmod_unref(v->ctx);
	json_decref(v->config);
	json_decref(v->builtin);
	json_decref(v->dep_paths);
	json_decref(v->placed);
	free(v->bad_index);
	free(v->modules_dir);
	free(v->alias_text);
	snap_kmod__rmtree(v->tmp);
	memset(v, 0, sizeof(*v));
}

json_t *snap_kmodview__lookup(struct snap_kmodview *v, const char *modalias)
{
	struct kmod_list *list = NULL, *l;
	json_t *out;

	if (!v->ctx)
		return NULL;
	if (kmod_module_new_from_lookup(v->ctx, modalias, &list) < 0)
		return NULL;
	out = json_array();
	kmod_list_foreach(l, list)
	{
		struct kmod_module *m = kmod_module_get_module(l);
		char name[256];
		const char *path = kmod_module_get_path(m);

		snap_kmod__name(name, sizeof(name), kmod_module_get_name(m));
		json_array_append_new(out, json_pack("{s:s, s:b, s:o}", "name", name, "builtin",
		                                     json_object_get(v->builtin, name) != NULL,
		                                     "path", snap_json__str_or_null(path)));
		kmod_module_unref(m);
	}
	kmod_module_unref_list(list);
	return out;
}

/* print_action of kmod_module_probe_insert_module() takes no user data: the list being built */
static _Thread_local json_t *probe_out;

static void probe_action(struct kmod_module *m, bool install, const char *options)
{
	char name[256];

	(void)options;
	snap_kmod__name(name, sizeof(name), kmod_module_get_name(m));
	json_array_append_new(probe_out, json_pack("{s:s, s:b}", "name", name, "install", install));
}

json_t *snap_kmodview__probe_list(struct snap_kmodview *v, const char *module)
{
	struct kmod_module *m = NULL;
	json_t *out = json_array();

	if (!v->ctx)
		return out;
	if (v->dep_paths) {
		char name[256];

		snap_kmod__name(name, sizeof(name), module);
		place_files(v, name, 0);
	}
	if (kmod_module_new_from_name(v->ctx, module, &m) < 0)
		return out;
	/* a dry run that ignores what this machine has loaded: the order alone, from the
	 * stage's indexes and modprobe.d */
	probe_out = out;
	kmod_module_probe_insert_module(m, KMOD_PROBE_DRY_RUN | KMOD_PROBE_IGNORE_LOADED, NULL,
	                                NULL, NULL, probe_action);
	probe_out = NULL;
	kmod_module_unref(m);
	return out;
}

bool snap_kmodview__loads_first(struct snap_kmodview *v, const char *module, const char *first)
{
	json_t *list = snap_kmodview__probe_list(v, module), *e;
	bool before = false;
	size_t i;

	json_array_foreach (list, i, e) {
		const char *n = snap_json__str(e, "name");

		if (!strcmp(n, module))
			break;
		if (!strcmp(n, first)) {
			before = !json_is_true(json_object_get(e, "install"));
			break;
		}
	}
	json_decref(list);
	return before;
}

bool snap_kmodview__install_blocks(const struct snap_kmodview *v, const char *module)
{
	struct kmod_module *m = NULL;
	const char *cmd;
	bool blocks = false;

	if (!v->ctx || kmod_module_new_from_name(v->ctx, module, &m) < 0)
		return false;
	if ((cmd = kmod_module_get_install_commands(m))) {
		size_t n;

		cmd += strspn(cmd, " \t");
		n = strcspn(cmd, " \t;&|");
		/* the command's program, by its last path component */
		for (size_t k = n; k > 0; k--)
			if (cmd[k - 1] == '/') {
				cmd += k;
				n -= k;
				break;
			}
		blocks =
		    (n == 5 && !strncmp(cmd, "false", 5)) || (n == 4 && !strncmp(cmd, "true", 4));
	}
	kmod_module_unref(m);
	return blocks;
}

bool snap_kmodview__has(const struct snap_kmodview *v, const char *module, bool *builtin)
{
	struct kmod_module *m = NULL;
	struct kmod_list *deps, *l;
	bool ok;

	if (builtin)
		*builtin = false;
	if (json_object_get(v->builtin, module)) {
		if (builtin)
			*builtin = true;
		return true;
	}
	if (!v->ctx || kmod_module_new_from_name(v->ctx, module, &m) < 0)
		return false;
	ok = kmod_module_get_path(m) != NULL;
	if (ok && v->available) {
		/* in the image, and so is every module it needs */
		ok = json_object_get(v->available, module) != NULL;
		deps = ok ? kmod_module_get_dependencies(m) : NULL;
		kmod_list_foreach(l, deps)
		{
			struct kmod_module *d = kmod_module_get_module(l);
			char name[256];

			snap_kmod__name(name, sizeof(name), kmod_module_get_name(d));
			if (!json_object_get(v->available, name) &&
			    !json_object_get(v->builtin, name))
				ok = false;
			kmod_module_unref(d);
		}
		kmod_module_unref_list(deps);
	}
	kmod_module_unref(m);
	return ok;
}

/* The modules.alias pattern of module that modalias matches, for the evidence; NULL if none. */
char *snap_kmodview__alias_of(struct snap_kmodview *v, const char *modalias, const char *module)
{
	char path[4200], *text, *save = NULL, *found = NULL;

	if (!v->modules_dir)
		return NULL;
	if (!v->alias_text) { /* read once per view: every host driver's evidence asks */
		snprintf(path, sizeof(path), "%s/modules.alias", v->modules_dir);
		if (!(v->alias_text = read_file(path, NULL)))
			return NULL;
	}
	if (!(text = snap_mem__strdup(v->alias_text)))
		return NULL;
	for (char *l = strtok_r(text, "\n", &save); l && !found; l = strtok_r(NULL, "\n", &save)) {
		char pat[512], mod[256], norm[256];

		if (sscanf(l, "alias %511s %255s", pat, mod) != 2)
			continue;
		snap_kmod__name(norm, sizeof(norm), mod);
		if (!strcmp(norm, module) && fnmatch(pat, modalias, 0) == 0)
			found = snap_mem__strdup(pat);
	}
	free(text);
	return found;
}
