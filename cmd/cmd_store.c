/* SPDX-License-Identifier: GPL-2.0-or-later */
/* pcisnap log, hosts, label, push, pull: browse and share the snapshot store. */
#include <errno.h>
#include <pwd.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "cmd.h"
#include "snap/fleet.h"
#include "snap/store.h"

/*
 * Parse "--store DIR" and "--help" for a store command; the remaining arguments must number
 * between min and max. Returns -1 to go on (the operands from argv[optind]), or an exit status.
 */
static int parse_store_args(int argc, char **argv, const char *usage, int min, int max,
                            const char **store)
{
	struct cli_args args = {.usage = usage, .cmd = argv[0]};
	int rc = cli_parse_args(&args, argc, argv);

	if (rc != CLI_OK)
		return rc == CLI_DONE ? CLI_OK : rc;
	*store = args.store;
	if (args.operands < min || args.operands > max)
		return cli_error("%s: wrong number of arguments; see '%s --help'", argv[0],
		                 argv[0]);
	optind = args.first;
	return -1;
}

struct log_args {
	snap_log_options o;
};

static int log_option(int key, const char *arg, void *payload)
{
	snap_log_options *o = &((struct log_args *)payload)->o;
	char *end = NULL;

	switch (key) {
	case 'n':
		errno = 0;
		o->max_count = strtol(arg, &end, 10);
		if (errno || end == arg || *end || o->max_count < 0)
			return cli_error("log: -n needs a number of snapshots, not '%s'", arg);
		return CLI_OK;
	case 's':
		return cli_parse_time(&o->since, "--since", arg, 0);
	case 'u':
		return cli_parse_time(&o->until, "--until", arg, 1);
	}
	return CLI_ERROR;
}

int cmd_log(int argc, char **argv)
{
	static const char usage[] =
	    "usage: pcisnap log [HOST] [-n N] [--since TIME] [--until TIME]\n"
	    "                   [--format text|json|jsonl] [--store DIR]\n"
	    "\n"
	    "A table, one row per snapshot, newest first: host, time, commit, labels, kernel,\n"
	    "BIOS, check result and the diff verdict against the previous snapshot (on a\n"
	    "terminal the widest cells are cut to its width, ending in '...').\n"
	    "\n"
	    "  -n, --max-count N  at most N snapshots of each host\n"
	    "  --since TIME       collected at or after TIME: 2026-01-31T12:00:00Z, 2026-01-31\n"
	    "                     (that day's start, UTC) or @SECONDS since the epoch\n"
	    "  --until TIME       collected at or before TIME (a date: that day's end)\n"
	    "  --format FORMAT    text, json (schema pcisnap.log/1) or jsonl (one object per "
	    "line)\n";
	static const char *const formats[] = {"text", "json", "jsonl", NULL};
	static const struct option extra[] = {
	    {"max-count", required_argument, NULL, 'n'},
	    {"since", required_argument, NULL, 's'},
	    {"until", required_argument, NULL, 'u'},
	    {NULL, 0, NULL, 0},
	};
	struct log_args la = {SNAP_LOG_OPTIONS_INIT};
	struct cli_args args = {.usage = usage,
	                        .cmd = "log",
	                        .formats = formats,
	                        .extra = extra,
	                        .shortopts = "n:",
	                        .on_option = log_option,
	                        .payload = &la};
	snap_store *st = NULL;
	snap_error err = {0};
	char *text = NULL;
	int rc;

	if ((rc = cli_parse_args(&args, argc, argv)) != CLI_OK)
		return rc == CLI_DONE ? CLI_OK : rc;
	if (args.operands > 1)
		return cli_error("log: wrong number of arguments; see 'pcisnap log --help'");
	la.o.format = (snap_list_format)args.format;
	if ((rc = cli_open_store(&st, args.store, 0)) != CLI_OK)
		return rc;
	if (snap_store_log_ext(&text, st, args.operands ? argv[args.first] : NULL, &la.o, &err) < 0)
		rc = cli_snap_error(&err);
	else
		rc =
		    la.o.format == SNAP_LIST_TEXT ? cli_write_report(text) : cli_write_stdout(text);
	free(text);
	cli_store_close(st);
	return rc;
}

int cmd_hosts(int argc, char **argv)
{
	static const char usage[] =
	    "usage: pcisnap hosts [--format text|json|jsonl] [--store DIR]\n"
	    "\n"
	    "One line per host: hardware model, latest snapshot time, its check result.\n";
	static const char *const formats[] = {"text", "json", "jsonl", NULL};
	struct cli_args args = {.usage = usage, .cmd = "hosts", .formats = formats};
	snap_store *st = NULL;
	snap_error err = {0};
	char *text = NULL;
	int rc;

	if ((rc = cli_parse_args(&args, argc, argv)) != CLI_OK)
		return rc == CLI_DONE ? CLI_OK : rc;
	if (args.operands)
		return cli_error("hosts: wrong number of arguments; see 'pcisnap hosts --help'");
	if ((rc = cli_open_store(&st, args.store, 0)) != CLI_OK)
		return rc;
	if (snap_store_hosts_ext(&text, st, (snap_list_format)args.format, &err) < 0)
		rc = cli_snap_error(&err);
	else
		rc = args.format ? cli_write_stdout(text) : cli_write_report(text);
	free(text);
	cli_store_close(st);
	return rc;
}

struct label_opts {
	int force, delete, history;
};

static int label_option(int key, const char *arg, void *payload)
{
	struct label_opts *o = payload;

	(void)arg;
	if (key == 'f')
		o->force = 1;
	else if (key == 'd')
		o->delete = 1;
	else
		o->history = 1;
	return CLI_OK;
}

int cmd_label(int argc, char **argv)
{
	static const char usage[] =
	    "usage: pcisnap label SNAP NAME [--store DIR]\n"
	    "       pcisnap label -f SNAP NAME     move NAME to SNAP (or set it)\n"
	    "       pcisnap label -d HOST@NAME     delete it\n"
	    "       pcisnap label --history        the moves and deletions, newest first\n"
	    "\n"
	    "Name a stored snapshot; it is then HOST@NAME. A label never moves by itself: -f and\n"
	    "-d are the fleet's decision, recorded (which label, from what, to what, by whom)\n"
	    "in the store's label journal, which push and pull carry with the labels.\n";
	static const struct option extra[] = {
	    {"force", no_argument, NULL, 'f'},
	    {"delete", no_argument, NULL, 'd'},
	    {"history", no_argument, NULL, 'H'},
	    {NULL, 0, NULL, 0},
	};
	struct label_opts o = {0};
	struct cli_args args = {.usage = usage,
	                        .cmd = "label",
	                        .extra = extra,
	                        .shortopts = "fd",
	                        .on_option = label_option,
	                        .payload = &o};
	snap_store *st = NULL;
	snap_error err = {0};
	char who[600];
	int rc = cli_parse_args(&args, argc, argv);
	int want;

	if (rc != CLI_OK)
		return rc == CLI_DONE ? CLI_OK : rc;
	want = o.history ? 0 : o.delete ? 1 : 2;
	if (o.force + o.delete + o.history > 1)
		return cli_error(
		    "label: -f, -d and --history go alone; see 'pcisnap label --help'");
	if (args.operands != want)
		return cli_error("label: wrong number of arguments; see 'pcisnap label --help'");
	if ((rc = cli_open_store(&st, args.store, 0)) != CLI_OK)
		return rc;
	cli_who(who, sizeof(who));
	if (o.history) {
		char *text = NULL;

		if (snap_store_label_history(&text, st, &err) < 0)
			rc = cli_snap_error(&err);
		else
			rc = cli_write_stdout(text);
		free(text);
	} else if (o.delete) {
		const char *spec = argv[args.first], *at = strchr(spec, '@');
		char host[256];

		if (!at || (size_t)(at - spec) >= sizeof(host)) {
			rc = cli_error("label -d: expected HOST@NAME, not '%s'", spec);
		} else {
			snprintf(host, sizeof(host), "%.*s", (int)(at - spec), spec);
			if (snap_store_label_delete(st, host, at + 1, who, &err) < 0)
				rc = cli_snap_error(&err);
		}
	} else if ((o.force
	                ? snap_store_label_move(st, argv[args.first], argv[args.first + 1], who,
	                                        &err)
	                : snap_store_label(st, argv[args.first], argv[args.first + 1], &err)) < 0) {
		rc = cli_snap_error(&err);
	}
	cli_store_close(st);
	return rc;
}

/* every ref a push or pull moved, on stderr: status, not data */
static void print_ref(const char *ref, const char *old_hex, const char *new_hex, void *payload)
{
	(void)payload;
	if (*old_hex)
		fprintf(stderr, "updated %s %.10s..%.10s\n", ref, old_hex, new_hex);
	else
		fprintf(stderr, "new     %s %.10s\n", ref, new_hex);
}

static int sync_cmd(int argc, char **argv, int push)
{
	static const char usage_push[] =
	    "usage: pcisnap push [REMOTE] [--store DIR]\n"
	    "\n"
	    "Publish every host branch and label to REMOTE (a remote configured in the store, a\n"
	    "URL or a path; default: pcisnap.conf's remote, else 'origin'). Nothing is forced: a "
	    "host whose history diverged\n"
	    "on the remote is refused and reported.\n";
	static const char usage_pull[] =
	    "usage: pcisnap pull [REMOTE] [--store DIR]\n"
	    "\n"
	    "Fetch every host branch and label from REMOTE (default 'origin') into the store.\n";
	struct cli_credential cred = {NULL};
	const char *store = NULL;
	snap_store *st = NULL;
	snap_error err = {0};
	int rc = parse_store_args(argc, argv, push ? usage_push : usage_pull, 0, 1, &store);
	const char *remote;

	if (rc >= 0)
		return rc;
	remote = optind < argc                         ? argv[optind]
	         : cli_conf.remote && *cli_conf.remote ? cli_conf.remote
	                                               : "origin";
	if ((rc = cli_open_store(&st, store, !push)) != CLI_OK)
		return rc;
	snap_store_set_transport(st, cli_credential, print_ref, &cred);
	if ((push ? snap_store_push(st, remote, &err) : snap_store_pull(st, remote, &err)) < 0)
		rc = cli_snap_error(&err);
	/* a helper's password the remote did not take is forgotten, as git does */
	cli_credential_done(&cred, !snap_store_credential_rejected(st));
	cli_store_close(st);
	return rc;
}

int cmd_push(int argc, char **argv)
{
	return sync_cmd(argc, argv, 1);
}

int cmd_pull(int argc, char **argv)
{
	return sync_cmd(argc, argv, 0);
}

int cmd_fleet(int argc, char **argv)
{
	static const char usage[] =
	    "usage: pcisnap fleet [--format text|json|markdown] [--store DIR]\n"
	    "\n"
	    "Every host in the store, grouped by hardware model (DMI board and product plus the\n"
	    "device inventory). Each model's majority configuration is its baseline; per host:\n"
	    "the latest snapshot's age, its check result and its diff verdict against the\n"
	    "baseline. Exit 1 if a host regressed against its baseline or fails check.\n"
	    "SOURCE_DATE_EPOCH, if set, is 'now' for the ages.\n";
	static const char *const formats[] = {"text", "json", "markdown", NULL};
	struct cli_args args = {.usage = usage, .cmd = "fleet", .formats = formats};
	snap_store *st = NULL;
	snap_error err = {0};
	size_t failing = 0;
	char *text = NULL;
	int rc;
	int64_t now = (int64_t)time(NULL);

	if ((rc = cli_parse_args(&args, argc, argv)) != CLI_OK)
		return rc == CLI_DONE ? CLI_OK : rc;
	if (args.operands)
		return cli_error("fleet: unexpected argument '%s'", argv[args.first]);
	if (cli_source_date_epoch(&now) < 0)
		return CLI_ERROR;
	if ((rc = cli_open_store(&st, args.store, 0)) != CLI_OK)
		return rc;
	if (snap_store_fleet(&text, &failing, st, (snap_fleet_format)args.format, now, &err) < 0)
		rc = cli_snap_error(&err);
	else if ((rc = args.format == SNAP_FLEET_JSON ? cli_write_json(text)
	               : args.format                  ? cli_write_stdout(text)
	                                              : cli_write_report(text)) == CLI_OK &&
	         failing)
		rc = CLI_REGRESSION;
	free(text);
	cli_store_close(st);
	return rc;
}
