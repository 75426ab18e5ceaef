/* SPDX-License-Identifier: GPL-2.0-or-later */
/* Helpers shared by the pcisnap commands: messages, loading snapshots, output. */
#include <errno.h>
#include <pwd.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "cmd.h"
#include "snap/bundle.h"
#include "snap/fleet.h"
#include "snap/policy.h"
#include "snap/store.h"

int cli_error(const char *fmt, ...)
{
	va_list ap;

	fputs("pcisnap: ", stderr);
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputc('\n', stderr);
	return CLI_ERROR;
}

int cli_snap_error(const snap_error *err)
{
	return cli_error("%s", err->message[0] ? err->message : "unknown error");
}

void cli_print_warnings(const snap_snapshot *s)
{
	for (size_t i = 0; i < snap_snapshot_warning_count(s); i++)
		fprintf(stderr, "pcisnap: warning: %s\n", snap_snapshot_warning(s, i));
}

int cli_open_store_err(snap_store **out, const char *store_path, int create, snap_error *err)
{
	char *path = NULL;
	int rc = CLI_OK;

	if (store_path && !*store_path) /* --store "" is the default store */
		store_path = NULL;
	/* --store, then PCISNAP_STORE, then the configuration's store, then the built-in place */
	if (!store_path && !(getenv("PCISNAP_STORE") && *getenv("PCISNAP_STORE")) &&
	    cli_conf.store && *cli_conf.store)
		store_path = cli_conf.store;
	if (!store_path && snap_store_default_path(&path, err) < 0)
		return CLI_ERROR;
	if (snap_store_open(out, store_path ? store_path : path, create, err) < 0)
		rc = CLI_ERROR;
	else /* what every commit records for log, hosts and fleet */
		snap_store_set_summary(*out, snap_fleet_summary, NULL);
	free(path);
	return rc;
}

int cli_open_store(snap_store **out, const char *store_path, int create)
{
	snap_error err = {0};

	if (cli_open_store_err(out, store_path, create, &err) != CLI_OK)
		return cli_snap_error(&err);
	return CLI_OK;
}

void cli_store_close(snap_store *st)
{
	if (st && snap_store_warning(st))
		fprintf(stderr, "pcisnap: warning: %s\n", snap_store_warning(st));
	snap_store_free(st);
}

/* Does spec name a file rather than a store revision? */
static int looks_like_file(const char *spec)
{
	static const char *const suffixes[] = {".json", ".tar",    ".tar.gz",
	                                       ".tgz",  ".tar.xz", ".tar.zst"};
	size_t n = strlen(spec);
	struct stat sb;

	if (!strcmp(spec, "-") || strchr(spec, '/') || stat(spec, &sb) == 0)
		return 1;
	for (size_t i = 0; i < sizeof(suffixes) / sizeof(suffixes[0]); i++) {
		size_t k = strlen(suffixes[i]);

		if (n > k && !strcmp(spec + n - k, suffixes[i]))
			return 1;
	}
	return 0;
}

int cli_load_snapshot(snap_snapshot **out, const char *spec, const char *store_path)
{
	return cli_load_snapshot_as(out, spec, store_path, CLI_SPEC_AUTO);
}

enum cli_spec cli_operand_spec(const struct cli_args *a, int k)
{
	if (a->before_dashdash < 0)
		return CLI_SPEC_AUTO;
	return k < a->before_dashdash ? CLI_SPEC_REVISION : CLI_SPEC_FILE;
}

int cli_spec_is_revision(const char *spec, enum cli_spec kind)
{
	return kind == CLI_SPEC_REVISION || (kind == CLI_SPEC_AUTO && !looks_like_file(spec));
}

int cli_load_snapshot_as(snap_snapshot **out, const char *spec, const char *store_path,
                         enum cli_spec kind)
{
	snap_error err = {0};
	snap_store *st = NULL;
	char *path = NULL;
	int rc = CLI_OK;

	/* a path, an existing file or a *.json name is a file; anything else a store revision;
	 * "--" decides for those that could be both */
	if (kind == CLI_SPEC_FILE || (kind == CLI_SPEC_AUTO && looks_like_file(spec))) {
		if (snap_bundle_is_bundle_path(spec)) {
			/* PCISNAP_BUNDLE_KEY: bundles must be authenticated with that key */
			const char *kf = getenv("PCISNAP_BUNDLE_KEY");
			unsigned char key[CLI_KEY_MAX];
			size_t klen = 0;

			if (kf && *kf && cli_read_key(key, &klen, kf) != CLI_OK)
				return CLI_ERROR;
			if (snap_bundle_read_keyed(out, NULL, spec, klen ? key : NULL, klen, NULL,
			                           &err) < 0)
				return cli_snap_error(&err);
		} else if (snap_snapshot_load_file(out, spec, &err) < 0) {
			return cli_snap_error(&err);
		}
		return CLI_OK;
	}
	if (store_path && !*store_path)
		store_path = NULL;
	if (!store_path && snap_store_default_path(&path, &err) < 0)
		return cli_error("'%s' is not a file, and %s", spec, err.message);
	if (snap_store_open(&st, store_path ? store_path : path, 0, &err) < 0)
		rc = cli_error("'%s' is not a file, and %s", spec, err.message);
	else if (snap_store_load(out, st, spec, &err) < 0)
		rc = cli_snap_error(&err);
	snap_store_free(st);
	free(path);
	return rc;
}

int cli_parse_args(struct cli_args *a, int argc, char **argv)
{
	enum { MAX_OPTS = 32 };
	struct option longopts[MAX_OPTS + 6];
	char shortopts[64];
	size_t n = 0;
	int c;

	longopts[n++] = (struct option){"store", required_argument, NULL, 'S'};
	longopts[n++] = (struct option){"help", no_argument, NULL, 'h'};
	longopts[n++] = (struct option){"color", optional_argument, NULL, 1001};
	longopts[n++] = (struct option){"no-pager", no_argument, NULL, 1002};
	if (a->formats)
		longopts[n++] = (struct option){"format", required_argument, NULL, 'f'};
	for (const struct option *o = a->extra; o && o->name && n < MAX_OPTS + 5; o++)
		longopts[n++] = *o;
	longopts[n] = (struct option){NULL, 0, NULL, 0};
	snprintf(shortopts, sizeof(shortopts), "h%s%s", a->formats ? "f:" : "",
	         a->shortopts ? a->shortopts : "");
	enum { MAX_ARGS = 256 };
	char *orig[MAX_ARGS];
	int norig = argc < MAX_ARGS ? argc : MAX_ARGS;

	/* getopt permutes argv and drops "--": remember where each argument stood */
	for (int i = 0; i < norig; i++)
		orig[i] = argv[i];
	a->format = 0;
	a->store = NULL;
	a->store_set = 0;
	a->before_dashdash = -1;
	optind = 1;
	while ((c = getopt_long(argc, argv, shortopts, longopts, NULL)) != -1) {
		switch (c) {
		case 'S':
			a->store = optarg;
			a->store_set = 1;
			break;
		case 1001:
			if (cli_set_color(optarg) != CLI_OK)
				return CLI_ERROR;
			break;
		case 1002:
			cli_out.pager = 0;
			break;
		case 'f':
			if (a->formats) {
				if (cli_parse_format(&a->format, a->cmd, optarg, a->formats) !=
				    CLI_OK)
					return CLI_ERROR;
				break;
			}
			/* a command's own -f */
			__attribute__((fallthrough));
		default:
			if (c != '?' && c != 'h' && a->on_option) {
				if (a->on_option(c, optarg, a->payload) != CLI_OK)
					return CLI_ERROR;
				break;
			}
			if (c == 'h') {
				fputs(a->usage, stdout);
				return CLI_DONE;
			}
			fputs(a->usage, stderr);
			return CLI_ERROR;
		}
	}
	a->first = optind;
	a->operands = argc - optind;
	if (optind > 1 && !strcmp(argv[optind - 1], "--")) {
		int p = -1;

		for (int i = 1; i < norig; i++)
			if (orig[i] == argv[optind - 1])
				p = i;
		a->before_dashdash = 0;
		for (int k = optind; k < argc; k++)
			for (int i = 1; i < p; i++)
				if (orig[i] == argv[k])
					a->before_dashdash++;
	}
	return CLI_OK;
}

int cli_parse_format(int *out, const char *cmd, const char *arg, const char *const names[])
{
	char list[256] = "";

	for (int i = 0; names[i]; i++) {
		if (!strcmp(arg, names[i])) {
			*out = i;
			return CLI_OK;
		}
		snprintf(list + strlen(list), sizeof(list) - strlen(list), "%s%s", i ? ", " : "",
		         names[i]);
	}
	return cli_error("%s: unknown format '%s' (%s)", cmd, arg, list);
}

/*
 * Reports carry strings from snapshots, which may come from anywhere (an imported bundle, a
 * pulled store). Written as text, a control character would reach the terminal: an ANSI escape
 * can rewrite what the operator sees. Every C0 control but newline and tab, DEL, and the C1
 * controls (U+0080 to U+009F, C2 80 to C2 9F in UTF-8) are written as '?'.
 */
void cli_filter_controls(FILE *f, const char *text)
{
	/* the bytes that may begin what a terminal would act on (and the end): C0 controls but
	 * newline and tab, DEL, and 0xc2, which begins a C1 control in UTF-8 */
	static const unsigned char stop[256] = {
	    [0x00 ... 0x08] = 1,
	    [0x0b ... 0x1f] = 1,
	    [0x7f] = 1,
	    [0xc2] = 1,
	};
	const unsigned char *p = (const unsigned char *)text, *run = p;

	/* runs of harmless bytes in one fwrite(): a fleet of 10,000 hosts is megabytes */
	for (;; p++) {
		unsigned char ch;
		size_t skip;

		while (!stop[*p])
			p++;
		ch = *p;
		if (ch == 0xc2 && !(p[1] >= 0x80 && p[1] <= 0x9f))
			continue;
		fwrite(run, 1, (size_t)(p - run), f);
		if (!ch)
			return;
		/* a C0 control or DEL, or a C1 control (CSI and friends) in UTF-8: one '?' */
		skip = ch == 0xc2 ? 1 : 0;
		putc('?', f);
		p += skip;
		run = p + 1;
	}
}

int cli_write_stdout(const char *text)
{
	cli_filter_controls(stdout, text);
	if (fflush(stdout) == EOF || ferror(stdout))
		return cli_error("cannot write to standard output");
	return CLI_OK;
}

int cli_write_json(const char *text)
{
	size_t len = strlen(text);

	/* jansson's text under JSON_ENSURE_ASCII (every document libsnap writes): no byte of 0x80
	 * or above, no control but its own newlines, all escaped. DEL it leaves as it is: a text
	 * with one goes through the filter, so the bytes are what cli_write_stdout() writes */
	if (memchr(text, 0x7f, len))
		return cli_write_stdout(text);
	fwrite(text, 1, len, stdout);
	if (fflush(stdout) == EOF || ferror(stdout))
		return cli_error("cannot write to standard output");
	return CLI_OK;
}

int cli_source_date_epoch(int64_t *out)
{
	const char *sde = getenv("SOURCE_DATE_EPOCH");
	char *end;
	long long v;

	if (!sde || !*sde)
		return 0;
	errno = 0;
	v = strtoll(sde, &end, 10);
	if (errno || *end || v < 0) {
		cli_error("SOURCE_DATE_EPOCH is not a number of seconds: '%s'", sde);
		return -1;
	}
	*out = (int64_t)v;
	return 1;
}

int cli_read_key(unsigned char *key, size_t *len, const char *path)
{
	FILE *f = fopen(path, "rb");
	size_t n;

	if (!f)
		return cli_error("cannot open key '%s': %s", path, strerror(errno));
	n = fread(key, 1, CLI_KEY_MAX, f);
	fclose(f);
	if (n < 16)
		return cli_error("key '%s' is shorter than 16 bytes", path);
	*len = n;
	return CLI_OK;
}

int cli_parse_time(int64_t *out, const char *opt, const char *arg, int end_of_day)
{
	struct tm tm = {0};
	const char *end;
	char *e = NULL;

	if (arg[0] == '@') {
		long long v;

		errno = 0;
		v = strtoll(arg + 1, &e, 10);
		if (!errno && e != arg + 1 && !*e) {
			*out = (int64_t)v;
			return CLI_OK;
		}
	} else if ((end = strptime(arg, "%Y-%m-%dT%H:%M:%SZ", &tm)) && !*end) {
		*out = (int64_t)timegm(&tm);
		return CLI_OK;
	} else if (memset(&tm, 0, sizeof(tm)) && (end = strptime(arg, "%Y-%m-%d", &tm)) && !*end) {
		*out = (int64_t)timegm(&tm) + (end_of_day ? 86399 : 0);
		return CLI_OK;
	}
	return cli_error("%s: '%s' is not a time (2026-01-31T12:00:00Z, 2026-01-31 or @SECONDS)",
	                 opt, arg);
}

snap_policy *cli_policy_of(snap_store *st)
{
	snap_policy *p = NULL;
	snap_error err = {0};
	char *text = NULL;

	if (!st)
		return NULL;
	if (snap_store_policy_get(&text, st, &err) < 0 ||
	    (text && snap_policy_parse(&p, text, strlen(text), &err) < 0)) {
		/* a damaged policy accepts nothing: said, never a reason to fail */
		fprintf(
		    stderr,
		    "pcisnap: warning: the store's policy of accepted deviations is ignored: %s "
		    "(pcisnap accept --list)\n",
		    err.message);
		p = NULL;
	}
	free(text);
	return p;
}

snap_policy *cli_policy(const char *store_path)
{
	snap_store *st = NULL;
	snap_error err = {0};
	snap_policy *p;

	/* only a store that is there: a policy is never a reason to create or fail one */
	if (cli_open_store_err(&st, store_path, 0, &err) != CLI_OK)
		return NULL;
	p = cli_policy_of(st);
	snap_store_free(st);
	return p;
}

void cli_who(char *buf, size_t n)
{
	const char *user = getenv("SUDO_USER");
	struct passwd *pw;
	char host[256] = "";

	if (!user || !*user)
		user = (pw = getpwuid(getuid())) ? pw->pw_name : "unknown";
	if (gethostname(host, sizeof(host) - 1) < 0 || !*host)
		snprintf(host, sizeof(host), "unknown");
	snprintf(buf, n, "%s@%s", user, host);
}
