/* SPDX-License-Identifier: GPL-2.0-or-later */
/* pcisnap log, hosts, label, push, pull: browse and share the snapshot store. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

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

/* Run fn on an opened store and print what it returns. */
static int print_from_store(const char *store, const char *arg,
                            int (*fn)(char **, snap_store *, const char *, snap_error *))
{
	snap_store *st = NULL;
	snap_error err = {0};
	char *text = NULL;
	int rc;

	if ((rc = cli_open_store(&st, store, 0)) != CLI_OK)
		return rc;
	if (fn(&text, st, arg, &err) < 0)
		rc = cli_snap_error(&err);
	else
		rc = cli_write_stdout(text);
	free(text);
	snap_store_free(st);
	return rc;
}

int cmd_log(int argc, char **argv)
{
	static const char usage[] =
	    "usage: pcisnap log [HOST] [--store DIR]\n"
	    "\n"
	    "One line per snapshot, newest first: host, time, commit, labels, kernel, BIOS, check\n"
	    "result and the diff verdict against the previous snapshot.\n";
	const char *store = NULL;
	int rc = parse_store_args(argc, argv, usage, 0, 1, &store);

	if (rc >= 0)
		return rc;
	return print_from_store(store, optind < argc ? argv[optind] : NULL, snap_store_log);
}

static int hosts_fn(char **out, snap_store *st, const char *arg, snap_error *err)
{
	(void)arg;
	return snap_store_hosts(out, st, err);
}

int cmd_hosts(int argc, char **argv)
{
	static const char usage[] =
	    "usage: pcisnap hosts [--store DIR]\n"
	    "\n"
	    "One line per host: hardware model, latest snapshot time, its check result.\n";
	const char *store = NULL;
	int rc = parse_store_args(argc, argv, usage, 0, 0, &store);

	if (rc >= 0)
		return rc;
	return print_from_store(store, NULL, hosts_fn);
}

int cmd_label(int argc, char **argv)
{
	static const char usage[] = "usage: pcisnap label SNAP NAME [--store DIR]\n"
	                            "\n"
	                            "Name a stored snapshot; it is then HOST@NAME.\n";
	const char *store = NULL;
	snap_store *st = NULL;
	snap_error err = {0};
	int rc = parse_store_args(argc, argv, usage, 2, 2, &store);

	if (rc >= 0)
		return rc;
	if ((rc = cli_open_store(&st, store, 0)) != CLI_OK)
		return rc;
	if (snap_store_label(st, argv[optind], argv[optind + 1], &err) < 0)
		rc = cli_snap_error(&err);
	snap_store_free(st);
	return rc;
}

static int sync_cmd(int argc, char **argv, int push)
{
	static const char usage_push[] =
	    "usage: pcisnap push [REMOTE] [--store DIR]\n"
	    "\n"
	    "Publish every host branch and label to REMOTE (a remote configured in the store, a\n"
	    "URL or a path; default 'origin'). Nothing is forced: a host whose history diverged\n"
	    "on the remote is refused and reported.\n";
	static const char usage_pull[] =
	    "usage: pcisnap pull [REMOTE] [--store DIR]\n"
	    "\n"
	    "Fetch every host branch and label from REMOTE (default 'origin') into the store.\n";
	const char *store = NULL;
	snap_store *st = NULL;
	snap_error err = {0};
	int rc = parse_store_args(argc, argv, push ? usage_push : usage_pull, 0, 1, &store);
	const char *remote;

	if (rc >= 0)
		return rc;
	remote = optind < argc ? argv[optind] : "origin";
	if ((rc = cli_open_store(&st, store, !push)) != CLI_OK)
		return rc;
	if ((push ? snap_store_push(st, remote, &err) : snap_store_pull(st, remote, &err)) < 0)
		rc = cli_snap_error(&err);
	snap_store_free(st);
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
	else if ((rc = cli_write_stdout(text)) == CLI_OK && failing)
		rc = CLI_REGRESSION;
	free(text);
	snap_store_free(st);
	return rc;
}
