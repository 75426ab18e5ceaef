/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * Will this host leave evidence when it dies? The boot's identity, and the facts that decide
 * whether a crash, a hard lockup or a power loss leaves anything to read: a persistent journal
 * on a disk (journald's Storage= and /var/log's mount), a pstore backend, memory reserved for a
 * crash kernel, netconsole targets, the panic sysctls. (Each device's AER totals are read with
 * the device, in devices.c.)
 */
#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "collect/collector.h"

/* An integer file (a sysctl, a sysfs attribute): its value, or null when unreadable. */
static json_t *int_or_null(struct collector *c, const char *rel)
{
	char *t = snap_collect__read_text(c, rel, ATTR_MAX);
	long v;
	json_t *out;

	out = t && snap_parse__int(&v, snap_parse__trim(t)) == 0 ? json_integer(v) : json_null();
	free(t);
	return out;
}

json_t *snap_collect__boot(struct collector *c)
{
	char *id = snap_collect__read_text(c, "proc/sys/kernel/random/boot_id", ATTR_MAX);
	char *up = snap_collect__read_text(c, "proc/uptime", ATTR_MAX);
	const char *trimmed = id ? snap_parse__trim(id) : NULL;
	json_t *boot;
	long tenths = -1;

	if (up)
		tenths = snap_parse__tenths(up, NULL);
	if (trimmed && !snap_boot_id_valid(trimmed)) {
		/* never a name the store's boot records could be confused by */
		snap_snapshot__warn(c->s,
		                    "proc/sys/kernel/random/boot_id is not a boot id as the kernel "
		                    "writes it (a UUID): this boot is recorded without one");
		trimmed = NULL;
	}
	boot = json_pack("{s:o, s:o, s:n, s:n}", "id", trimmed ? json_string(trimmed) : json_null(),
	                 "uptime", tenths >= 0 ? json_integer(tenths / 10) : json_null(),
	                 "previous_id", "previous_clean");
	free(id);
	free(up);
	return boot;
}

/*
 * journald's Storage=: journald.conf, then the drop-ins of systemd/journald.conf.d in /etc,
 * /run, /usr/local/lib and /usr/lib, in the order of their names (a name in an earlier directory
 * masks the same name in a later one), the last assignment winning (systemd's
 * config_parse_config_file). *from is the file that set it, NULL for the default.
 */
static bool parse_storage(char *text, char **value)
{
	char *save = NULL, *line;
	bool in_journal = false, set = false;

	for (line = strtok_r(text, "\n", &save); line; line = strtok_r(NULL, "\n", &save)) {
		char *l = snap_parse__trim(line), *eq;

		if (*l == '#' || *l == ';' || !*l)
			continue;
		if (*l == '[') {
			in_journal = !strncmp(l, "[Journal]", 9);
			continue;
		}
		if (!in_journal || !(eq = strchr(l, '=')))
			continue;
		*eq = '\0';
		if (strcmp(snap_parse__trim(l), "Storage"))
			continue;
		free(*value);
		*value = strdup(snap_parse__trim(eq + 1));
		set = true;
	}
	return set;
}

static int by_name(const void *a, const void *b)
{
	const char *const *x = a, *const *y = b;

	return strcmp(strrchr(*x, '/') + 1, strrchr(*y, '/') + 1);
}

/* Storage= as journald reads it into *storage (NULL: the default); the file that set it. */
static json_t *journal_storage(struct collector *c, char **storage)
{
	static const char *const dirs[] = {"etc", "run", "usr/local/lib", "usr/lib"};
	char *files[256];
	size_t nfiles = 0;
	const char *from = NULL;
	char *text;
	json_t *out = json_null();

	*storage = NULL;
	files[nfiles++] = strdup("etc/systemd/journald.conf");
	for (size_t d = 0; d < SNAP_ARRAY_SIZE(dirs); d++) {
		char rel[128], **names = NULL;
		size_t n = 0;

		snprintf(rel, sizeof(rel), "%s/systemd/journald.conf.d", dirs[d]);
		if (snap_root__list(&names, &n, &c->r, rel) < 0)
			continue;
		for (size_t i = 0; i < n && nfiles < SNAP_ARRAY_SIZE(files); i++) {
			size_t len = strlen(names[i]);
			bool masked = false;

			if (len < 6 || strcmp(names[i] + len - 5, ".conf"))
				continue;
			for (size_t k = 1; k < nfiles && !masked; k++)
				masked = !strcmp(strrchr(files[k], '/') + 1, names[i]);
			if (!masked && asprintf(&files[nfiles], "%s/%s", rel, names[i]) >= 0)
				nfiles++;
		}
		snap_strv__free(names, n);
	}
	if (files[0])
		qsort(files + 1, nfiles - 1, sizeof(*files), by_name);
	for (size_t i = 0; i < nfiles; i++) {
		if (files[i] && (text = snap_collect__read_text(c, files[i], TEXT_MAX))) {
			if (parse_storage(text, storage))
				from = files[i];
			free(text);
		}
	}
	if (from) {
		char path[512];

		snprintf(path, sizeof(path), "/%s", from);
		json_decref(out);
		out = json_string(path);
	}
	for (size_t i = 0; i < nfiles; i++)
		free(files[i]);
	return out;
}

/* mountinfo's octal escapes (\040 for a space) undone in place */
static void unescape_mount(char *s)
{
	char *w = s;

	for (; *s; s++) {
		if (s[0] == '\\' && s[1] >= '0' && s[1] <= '3' && s[2] >= '0' && s[2] <= '7' &&
		    s[3] >= '0' && s[3] <= '7') {
			*w++ = (char)((s[1] - '0') * 64 + (s[2] - '0') * 8 + (s[3] - '0'));
			s += 3;
		} else {
			*w++ = *s;
		}
	}
	*w = '\0';
}

/* Is mount point mp path or one of its parents? */
static bool covers(const char *mp, const char *path)
{
	size_t n = strlen(mp);

	if (!strcmp(mp, "/"))
		return true;
	return !strncmp(path, mp, n) && (path[n] == '\0' || path[n] == '/');
}

/*
 * The mount /var/log/journal lives on, from proc/self/mountinfo (the last mount of the longest
 * covering mount point: the one on top): {mount_point, fstype, source}; null when unreadable.
 */
static json_t *journal_mount(struct collector *c)
{
	char *text = snap_collect__read_text(c, "proc/self/mountinfo", TEXT_MAX), *save = NULL,
	     *line;
	json_t *best = json_null();
	size_t best_len = 0;

	if (!text)
		return best;
	for (line = strtok_r(text, "\n", &save); line; line = strtok_r(NULL, "\n", &save)) {
		char *f[5] = {0}, *sep, *fs, *src, *s2 = NULL;
		size_t i = 0;

		for (char *tok = strtok_r(line, " ", &s2); tok && i < 5;
		     tok = strtok_r(NULL, " ", &s2))
			f[i++] = tok;
		if (i < 5 || !(sep = strstr(s2 ? s2 : "", "- ")))
			continue;
		fs = strtok_r(sep + 2, " ", &s2);
		src = fs ? strtok_r(NULL, " ", &s2) : NULL;
		if (!fs)
			continue;
		unescape_mount(f[4]);
		if (!covers(f[4], "/var/log/journal") || strlen(f[4]) < best_len)
			continue;
		best_len = strlen(f[4]);
		json_decref(best);
		best =
		    json_pack("{s:s, s:s, s:s?}", "mount_point", f[4], "fstype", fs, "source", src);
	}
	free(text);
	return best;
}

/* RAM-backed: a tmpfs or ramfs (rootfs is one: an initramfs never pivoted, as in the lab), or a
 * zram device (log2ram and folder2ram use either). */
static bool mount_volatile(const json_t *m)
{
	const char *fs = snap_json__str(m, "fstype"), *src = snap_json__str(m, "source");

	return (fs && (!strcmp(fs, "tmpfs") || !strcmp(fs, "ramfs") || !strcmp(fs, "rootfs"))) ||
	       (src && (!strncmp(src, "/dev/zram", 9) || strstr(src, "log2ram")));
}

static json_t *journal(struct collector *c)
{
	char *storage = NULL, *canon = NULL;
	json_t *from = journal_storage(c, &storage), *mount = journal_mount(c), *persistent, *j;
	bool dir = snap_root__resolve(&canon, &c->r, "var/log/journal") == 0;
	bool in_ram = json_is_object(mount) && mount_volatile(mount);
	const char *st = storage ? storage : "auto";

	free(canon);
	if (!strcmp(st, "volatile") || !strcmp(st, "none"))
		persistent = json_false();
	else if (!strcmp(st, "persistent")) /* journald creates /var/log/journal */
		persistent = json_boolean(!in_ram);
	else if (!strcmp(st, "auto")) /* persistent when /var/log/journal exists */
		persistent = json_boolean(dir && !in_ram);
	else
		persistent = json_null(); /* a value journald rejects (it keeps its default) */
	j = json_pack("{s:s, s:o, s:b, s:o, s:o, s:o}", "storage", st, "storage_from", from,
	              "var_log_journal", dir, "mount", mount, "mount_volatile",
	              json_is_object(mount) ? json_boolean(in_ram) : json_null(), "persistent",
	              persistent);
	free(storage);
	return j;
}

/* pstore: the registered backend ("(null)" when none) and the records kept from earlier boots */
static json_t *pstore(struct collector *c)
{
	char *b = snap_collect__read_text(c, "sys/module/pstore/parameters/backend", ATTR_MAX);
	char **names = NULL;
	size_t n = 0, records = 0;
	json_t *out, *backend;
	const char *v = b ? snap_parse__trim(b) : NULL;

	if (!v)
		backend = json_null();
	else if (!*v || !strcmp(v, "(null)"))
		backend = json_string("");
	else
		backend = json_string(v);
	free(b);
	if (snap_root__list(&names, &n, &c->r, "sys/fs/pstore") == 0)
		records += n;
	snap_strv__free(names, n);
	names = NULL;
	n = 0;
	/* systemd-pstore moves them to /var/lib/systemd/pstore/<id>/ at boot */
	if (snap_root__list(&names, &n, &c->r, "var/lib/systemd/pstore") == 0)
		records += n;
	snap_strv__free(names, n);
	out = json_pack("{s:o, s:I}", "backend", backend, "records", (json_int_t)records);
	return out;
}

static json_t *netconsole(struct collector *c, const json_t *opts)
{
	char **names = NULL, *canon = NULL;
	size_t n = 0, enabled = 0;
	json_t *sources = json_array();
	bool loaded;

	if (snap_root__list(&names, &n, &c->r, "sys/kernel/config/netconsole") == 0) {
		for (size_t i = 0; i < n; i++) {
			char rel[512];
			json_t *e;

			snprintf(rel, sizeof(rel), "sys/kernel/config/netconsole/%s/enabled",
			         names[i]);
			e = int_or_null(c, rel);
			enabled += json_integer_value(e) == 1;
			json_decref(e);
		}
		if (n)
			json_array_append_new(sources, json_string("configfs"));
	}
	snap_strv__free(names, n);
	/* the module's parameter has mode 0: not in sysfs; configured on the command line or in
	 * modprobe.d */
	if (json_object_get(opts, "netconsole"))
		json_array_append_new(sources, json_string("cmdline"));
	loaded = snap_root__resolve(&canon, &c->r, "sys/module/netconsole") == 0;
	free(canon);
	return json_pack("{s:I, s:I, s:b, s:o}", "targets", (json_int_t)n, "enabled",
	                 (json_int_t)enabled, "loaded", loaded, "configured", sources);
}

json_t *snap_collect__forensics(struct collector *c, const json_t *opts, const json_t *vfio)
{
	json_t *nc = netconsole(c, opts);
	const json_t *mp = json_object_get(json_object_get(vfio, "modprobe"), "options");

	if (json_object_get(mp, "netconsole"))
		json_array_append_new(json_object_get(nc, "configured"), json_string("modprobe.d"));
	return json_pack("{s:o, s:o, s:{s:o, s:o}, s:o, s:{s:o, s:o, s:o, s:o}}", "journal",
	                 journal(c), "pstore", pstore(c), "crash_kernel", "reserved_bytes",
	                 int_or_null(c, "sys/kernel/kexec_crash_size"), "loaded",
	                 int_or_null(c, "sys/kernel/kexec_crash_loaded"), "netconsole", nc, "panic",
	                 "panic", int_or_null(c, "proc/sys/kernel/panic"), "panic_on_oops",
	                 int_or_null(c, "proc/sys/kernel/panic_on_oops"), "hardlockup_panic",
	                 int_or_null(c, "proc/sys/kernel/hardlockup_panic"), "softlockup_panic",
	                 int_or_null(c, "proc/sys/kernel/softlockup_panic"));
}
