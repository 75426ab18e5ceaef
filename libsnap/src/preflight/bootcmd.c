/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * The command line the boot loader will give a release, from the files it is made of:
 *
 *   1. a Boot Loader Specification entry for the release (systemd-boot, kernel-install,
 *      Proxmox's proxmox-boot-tool): loader/entries/NAME.conf on /boot, /efi or /boot/efi, its
 *      "options" lines;
 *   2. /etc/kernel/cmdline when the host boots through proxmox-boot-tool
 *      (/etc/kernel/proxmox-boot-uuids): the entries on the ESPs are written from it;
 *   3. GRUB's generated entry for the release in /boot/grub/grub.cfg (the first "linux" line
 *      loading vmlinuz-RELEASE that is not a recovery entry);
 *   4. /etc/kernel/cmdline alone (kernel-install);
 *   5. /etc/default/grub and /etc/default/grub.d/NAME.cfg as grub-mkconfig sources them, when
 *      grub.cfg has no entry for the release (update-grub has not run since it was installed).
 *
 * When grub.cfg's entry lacks what /etc/default/grub now asks for, grub.cfg is stale (an edit
 * that update-grub has not seen): what boots is grub.cfg, and the notes say so.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "preflight/preflight.h"

#define CFG_MAX      (4u << 20)
#define OVERFLOW_KEY "\1overflow" /* no shell name: set when a value grew past EXPAND_MAX */
#define EXPAND_MAX   4096u /* x86's COMMAND_LINE_SIZE is 2048: a longer value is no command line */

static char *read_rel(const snap_root *r, const char *rel)
{
	char *data = NULL;
	size_t len = 0;

	if (snap_root__read(&data, &len, r, rel, CFG_MAX) < 0)
		return NULL;
	return data;
}

static char *trim(char *s)
{
	char *e;

	while (*s == ' ' || *s == '\t')
		s++;
	e = s + strlen(s);
	while (e > s && (e[-1] == ' ' || e[-1] == '\t' || e[-1] == '\n' || e[-1] == '\r'))
		*--e = '\0';
	return s;
}

/*
 * Expand $NAME and ${NAME} from vars (values of earlier assignments). A name vars lacks expands
 * to nothing, as in the shell, and is copied to unresolved (the first one, when it is given).
 * NULL when the result would pass EXPAND_MAX: forty X="$X$X" lines must not grow without bound.
 */
static char *expand_vars(const char *v, const json_t *vars, char *unresolved, size_t un)
{
	snap_buf b = SNAP_BUF_INIT;

	for (const char *p = v; *p;) {
		if (*p == '$' && (p[1] == '{' || p[1] == '_' || (p[1] >= 'A' && p[1] <= 'Z') ||
		                  (p[1] >= 'a' && p[1] <= 'z'))) {
			bool brace = p[1] == '{';
			const char *s = p + 1 + brace, *e = s, *val;
			char name[128];

			while (*e == '_' || (*e >= 'A' && *e <= 'Z') || (*e >= 'a' && *e <= 'z') ||
			       (*e >= '0' && *e <= '9'))
				e++;
			snprintf(name, sizeof(name), "%.*s", (int)(e - s), s);
			if (brace && *e == '}')
				e++;
			if ((val = snap_json__str(vars, name)))
				snap_buf__puts(&b, val); /* val itself is at most EXPAND_MAX */
			else if (unresolved && !*unresolved)
				snprintf(unresolved, un, "%s", name);
			p = e;
		} else {
			if (*p == '\\' && p[1])
				p++;
			snap_buf__put(&b, p, 1);
			p++;
		}
		if (b.len > EXPAND_MAX) {
			snap_buf__release(&b);
			return NULL;
		}
	}
	return snap_buf__detach(&b);
}

static char *expand(const char *v, const json_t *vars)
{
	return expand_vars(v, vars, NULL, 0);
}

/* Does a kernel path ("/vmlinuz-6.8.12-5-pve", "/MACHINE/6.8.12-5-pve/linux") load release? */
static bool loads(const char *path, const char *release)
{
	const char *base = strrchr(path, '/');
	char want[512];

	base = base ? base + 1 : path;
	snprintf(want, sizeof(want), "vmlinuz-%s", release);
	if (!strcmp(base, want))
		return true;
	snprintf(want, sizeof(want), "/%s/", release);
	return strstr(path, want) != NULL;
}

/* 1. the options of a BLS entry for release, or NULL; *where gets its path */
static char *bls_entry(const snap_root *r, const char *release, char *where, size_t n)
{
	static const char *const dirs[] = {"boot/loader/entries", "efi/loader/entries",
	                                   "boot/efi/loader/entries"};

	for (size_t d = 0; d < sizeof(dirs) / sizeof(dirs[0]); d++) {
		char **names = NULL;
		size_t count = 0;
		char *found = NULL;

		if (snap_root__list(&names, &count, r, dirs[d]) < 0)
			continue;
		for (size_t i = 0; i < count && !found; i++) {
			char rel[4200], *text, *save = NULL;
			snap_buf opts = SNAP_BUF_INIT;
			bool match = false;
			size_t len = strlen(names[i]);

			if (len < 6 || strcmp(names[i] + len - 5, ".conf"))
				continue;
			snprintf(rel, sizeof(rel), "%s/%s", dirs[d], names[i]);
			if (!(text = read_rel(r, rel)))
				continue;
			for (char *l = strtok_r(text, "\n", &save); l;
			     l = strtok_r(NULL, "\n", &save)) {
				char *t = trim(l), *v = t + strcspn(t, " \t");

				if (*v)
					*v++ = '\0';
				v = trim(v);
				if (!strcmp(t, "version") && !strcmp(v, release))
					match = true;
				else if (!strcmp(t, "linux") && loads(v, release))
					match = true;
				else if (!strcmp(t, "options"))
					snap_buf__printf(&opts, "%s%s", opts.len ? " " : "", v);
			}
			free(text);
			if (match) {
				found = snap_buf__detach(&opts);
				snprintf(where, n, "%s", rel);
			} else {
				snap_buf__release(&opts);
			}
		}
		snap_strv__free(names, count);
		if (found)
			return found;
	}
	return NULL;
}

/* grub's "set NAME=VALUE" (VALUE quoted or not) into vars, expanded with the earlier ones */
static void grub_set(json_t *vars, char *t)
{
	char *name = trim(t + 4), *eq = strchr(name, '='), *v, *val;
	size_t vl;

	if (!eq || eq == name)
		return;
	*eq = '\0';
	if (name[strspn(name, "ABCDEFGHIJKLMNOPQRSTUVWXYZ_abcdefghijklmnopqrstuvwxyz0123456789")])
		return;
	v = eq + 1;
	vl = strlen(v);
	if ((*v == '"' || *v == '\'') && vl >= 2 && v[vl - 1] == *v) {
		v[vl - 1] = '\0';
		v++;
	}
	if (!(val = expand(v, vars)))
		json_object_set_new(vars, OVERFLOW_KEY, json_string(name));
	else
		json_object_set_new(vars, name, json_string(val));
	free(val);
}

/*
 * 3. grub.cfg's entry: the arguments after the kernel path, with the variables grub.cfg sets
 * before it expanded (set extra_cmdline=...; grub expands $NAME on the linux line); NULL when
 * none. A variable grub.cfg does not set (it comes from grubenv, or the menu) is named in
 * unresolved: the command line is then unknown, never the literal text.
 */
static char *grub_entry(const char *cfg, const char *release, const json_t *env, char *unresolved,
                        size_t un)
{
	const char *p = cfg;
	json_t *vars = json_deep_copy(env);

	if (!vars)
		vars = json_object();

	while (p && *p) {
		const char *eol = strchr(p, '\n');
		size_t len = eol ? (size_t)(eol - p) : strlen(p);
		char *line = strndup(p, len), *t = line ? trim(line) : NULL;

		p = eol ? eol + 1 : NULL;
		if (t && (!strncmp(t, "set ", 4) || !strncmp(t, "set\t", 4)))
			grub_set(vars, t);
		if (t && (!strncmp(t, "linux ", 6) || !strncmp(t, "linux\t", 6) ||
		          !strncmp(t, "linuxefi ", 9) || !strncmp(t, "linuxefi\t", 9))) {
			char *path = t + strcspn(t, " \t"), *args;

			path += strspn(path, " \t");
			args = path + strcspn(path, " \t");
			if (*args)
				*args++ = '\0';
			args = trim(args);
			/* recovery entries: "ro single", "recovery nomodeset" */
			if (loads(path, release) && !strstr(args, " single") &&
			    strncmp(args, "single", 6) && !strstr(args, "recovery")) {
				char *out = expand_vars(args, vars, unresolved, un);

				if (!out && !*unresolved)
					snprintf(unresolved, un, "(a value past %u bytes)",
					         EXPAND_MAX);
				free(line);
				json_decref(vars);
				return out ? out : snap_mem__strdup("");
			}
		}
		free(line);
	}
	json_decref(vars);
	return NULL;
}

/* KEY=VALUE lines of a shell file sourced by grub-mkconfig, into vars */
static void source_shell(json_t *vars, const char *text)
{
	char *dup = snap_mem__strdup(text), *save = NULL;

	for (char *l = dup ? strtok_r(dup, "\n", &save) : NULL; l;
	     l = strtok_r(NULL, "\n", &save)) {
		char *t = trim(l), *eq, *v, *val;
		size_t vl;

		if (!strncmp(t, "export ", 7))
			t = trim(t + 7);
		if (*t == '#' || !(eq = strchr(t, '=')) || eq == t)
			continue;
		*eq = '\0';
		if (t[strspn(t, "ABCDEFGHIJKLMNOPQRSTUVWXYZ_abcdefghijklmnopqrstuvwxyz0123456789")])
			continue;
		v = eq + 1;
		vl = strlen(v);
		if (*v == '\'' && vl >= 2 && v[vl - 1] == '\'') {
			v[vl - 1] = '\0';
			val = snap_mem__strdup(v + 1);
		} else {
			if (*v == '"' && vl >= 2 && v[vl - 1] == '"') {
				v[vl - 1] = '\0';
				v++;
			} else {
				v[strcspn(v, " \t#;")] = '\0';
			}
			if (!(val = expand(v, vars)))
				/* past EXPAND_MAX: remembered, so the result is unknown */
				json_object_set_new(vars, OVERFLOW_KEY, json_string(t));
		}
		if (val)
			json_object_set_new(vars, t, json_string(val));
		free(val);
	}
	free(dup);
}

/* 5. GRUB_CMDLINE_LINUX GRUB_CMDLINE_LINUX_DEFAULT as grub-mkconfig composes them, or NULL */
static char *grub_defaults(const snap_root *r, json_t *notes)
{
	json_t *vars = json_object();
	char *text = read_rel(r, "etc/default/grub"), **names = NULL, *out = NULL;
	size_t n = 0;
	bool any = text != NULL;

	if (text)
		source_shell(vars, text);
	free(text);
	if (snap_root__list(&names, &n, r, "etc/default/grub.d") == 0) {
		for (size_t i = 0; i < n; i++) {
			char rel[4200];
			size_t len = strlen(names[i]);

			if (len < 5 || strcmp(names[i] + len - 4, ".cfg"))
				continue;
			snprintf(rel, sizeof(rel), "etc/default/grub.d/%s", names[i]);
			if ((text = read_rel(r, rel))) {
				source_shell(vars, text);
				json_array_append_new(notes, json_sprintf("%s is sourced after "
				                                          "etc/default/grub",
				                                          rel));
				any = true;
			}
			free(text);
		}
		snap_strv__free(names, n);
	}
	if (any && json_object_get(vars, OVERFLOW_KEY)) {
		json_array_append_new(notes,
		                      json_sprintf("etc/default/grub: %s grows past %u bytes as "
		                                   "grub-mkconfig would expand it: not a command "
		                                   "line pcisnap can read",
		                                   snap_json__str(vars, OVERFLOW_KEY), EXPAND_MAX));
		any = false;
	}
	if (any) {
		snap_buf b = SNAP_BUF_INIT;
		const char *l = snap_json__str(vars, "GRUB_CMDLINE_LINUX");
		const char *d = snap_json__str(vars, "GRUB_CMDLINE_LINUX_DEFAULT");

		snap_buf__printf(&b, "%s%s%s", l ? l : "", l && *l && d && *d ? " " : "",
		                 d ? d : "");
		out = snap_buf__detach(&b);
		if (!out)
			out = snap_mem__strdup("");
	}
	json_decref(vars);
	return out;
}

/* The tokens of want missing from have, as "a b c" (NULL when none is) */
static char *missing_tokens(const char *want, const char *have)
{
	json_t *w = snap_parse__cmdline(want), *h = snap_parse__cmdline(have), *t, *u;
	snap_buf b = SNAP_BUF_INIT;
	size_t i, k;

	json_array_foreach (w, i, t) {
		bool found = false;
		const char *tk = snap_json__str(t, "key"), *tv = snap_json__str(t, "value");

		json_array_foreach (h, k, u) {
			const char *uk = snap_json__str(u, "key"), *uv = snap_json__str(u, "value");

			if (tk && uk && !strcmp(tk, uk) &&
			    ((!tv && !uv) || (tv && uv && !strcmp(tv, uv))))
				found = true;
		}
		if (!found)
			snap_buf__printf(&b, "%s%s%s%s", b.len ? " " : "", tk ? tk : "",
			                 tv ? "=" : "", tv ? tv : "");
	}
	json_decref(w);
	json_decref(h);
	return b.len ? snap_buf__detach(&b) : (snap_buf__release(&b), NULL);
}

/* grub's environment block (load_env): NAME=VALUE lines after a "# GRUB Environment Block"
 * header, padded with '#'; BLS entries' $kernelopts comes from it */
static json_t *grubenv(const snap_root *r)
{
	static const char *const paths[] = {"boot/grub2/grubenv", "boot/grub/grubenv"};
	json_t *env = json_object();

	for (size_t i = 0; i < sizeof(paths) / sizeof(paths[0]); i++) {
		char *text = read_rel(r, paths[i]), *save = NULL;

		for (char *l = text ? strtok_r(text, "\n", &save) : NULL; l;
		     l = strtok_r(NULL, "\n", &save)) {
			char *eq = strchr(l, '=');

			if (*l == '#' || !eq || eq == l)
				continue;
			*eq = '\0';
			if (!json_object_get(env, l) && strlen(eq + 1) <= EXPAND_MAX)
				json_object_set_new(env, l, json_string(eq + 1));
		}
		free(text);
	}
	return env;
}

/* the command line found, and where */
static void take(json_t *out, const char *cmdline, const char *source)
{
	json_object_set_new(out, "cmdline", json_string(cmdline));
	json_object_set_new(out, "source", json_string(source));
}

json_t *snap_bootcmd__next(const snap_root *r, const char *release)
{
	json_t *out = json_pack("{s:n, s:n, s:[], s:b}", "cmdline", "source", "notes", "stale", 0);
	json_t *notes = json_object_get(out, "notes");
	char where[4200] = "", *bls, *kcmd, *cfg, *grub = NULL, *defaults, *canon = NULL;
	char grub_unres[128] = "";
	bool pbt, grub_unknown = false;
	json_t *env;

	if (!out)
		return NULL;
	if ((kcmd = read_rel(r, "etc/kernel/cmdline"))) {
		char *t = trim(kcmd);

		memmove(kcmd, t, strlen(t) + 1);
		kcmd[strcspn(kcmd, "\n")] = '\0';
	}
	pbt = snap_root__resolve(&canon, r, "etc/kernel/proxmox-boot-uuids") == 0;
	free(canon);
	env = grubenv(r);
	cfg = read_rel(r, "boot/grub/grub.cfg");
	if (cfg)
		grub = grub_entry(cfg, release, env, grub_unres, sizeof(grub_unres));
	defaults = grub_defaults(r, notes);

	if ((bls = bls_entry(r, release, where, sizeof(where)))) {
		/* BLS options may name grubenv's variables ($kernelopts, $tuned_params) */
		char unres[128] = "", *x = expand_vars(bls, env, unres, sizeof(unres));

		free(bls);
		bls = x;
		if (!bls || *unres) {
			json_array_append_new(
			    notes, json_sprintf("%s uses $%s, which neither grubenv nor the entry "
			                        "sets: the command line is unknown",
			                        where, *unres ? unres : "(a value too long)"));
			goto done; /* the entry is the boot's: no other source stands in */
		}
	}
	if (grub && *grub_unres) {
		json_array_append_new(notes,
		                      json_sprintf("boot/grub/grub.cfg's entry uses $%s, which "
		                                   "grub.cfg does not set (grub sets it at boot): "
		                                   "the command line is unknown",
		                                   grub_unres));
		free(grub);
		grub = NULL;
		grub_unknown = true;
	}
	if (bls) {
		take(out, bls, where);
		if (kcmd && strcmp(kcmd, bls)) {
			json_array_append_new(
			    notes, json_sprintf("etc/kernel/cmdline (\"%s\") differs from "
			                        "the entry: the entries were not refreshed "
			                        "(proxmox-boot-tool refresh, or kernel-install)",
			                        kcmd));
			json_object_set_new(out, "stale", json_true());
		}
	} else if (kcmd && pbt) {
		take(out, kcmd, "etc/kernel/cmdline");
		json_array_append_new(notes,
		                      json_string("proxmox-boot-tool writes the boot entries "
		                                  "on the ESPs from etc/kernel/cmdline"));
	} else if (grub_unknown) {
		/* said above: the entry exists, what it passes is not known */
	} else if (grub) {
		char *miss = defaults ? missing_tokens(defaults, grub) : NULL;

		take(out, grub, "boot/grub/grub.cfg");
		if (miss) {
			json_array_append_new(
			    notes,
			    json_sprintf("boot/grub/grub.cfg lacks \"%s\" that etc/default/grub "
			                 "asks for: it was generated before that edit (run "
			                 "update-grub)",
			                 miss));
			json_object_set_new(out, "stale", json_true());
		}
		free(miss);
	} else if (kcmd) {
		take(out, kcmd, "etc/kernel/cmdline");
	} else if (defaults) {
		take(out, defaults, "etc/default/grub");
		if (cfg) {
			json_array_append_new(
			    notes,
			    json_sprintf("boot/grub/grub.cfg has no entry for %s yet: taken "
			                 "from etc/default/grub as update-grub will write it",
			                 release));
			json_object_set_new(out, "stale", json_true());
		}
	}
done:
	free(bls);
	free(kcmd);
	free(cfg);
	free(grub);
	free(defaults);
	json_decref(env);
	return out;
}
