/* SPDX-License-Identifier: GPL-2.0-or-later */
/* pcisnap canary: an updated host against its own past and its peers, the references as OLD. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cmd.h"
#include "snap/diff.h"
#include "snap/fleet.h"
#include "snap/store.h"

static const char usage_text[] =
    "usage: pcisnap canary HOST [--before REV] [--peers HOST[,HOST...]]\n"
    "                      [--format text|json] [--fail-on CLASSES] [--allow-inconclusive]\n"
    "                      [--store DIR]\n"
    "\n"
    "The latest snapshot of HOST, the host under test, is NEW in every comparison; the\n"
    "references are OLD: HOST's own snapshot from before the change (the newest earlier\n"
    "one with another kernel, command line or firmware; else the one before its latest)\n"
    "and every other host of its hardware model and device inventory whose own check does\n"
    "not FAIL. One verdict, the worst found; the worst comparison whole; a table of all.\n"
    "\n"
    "  --before REV       HOST's reference snapshot (HOST~2, HOST@before-update, a commit)\n"
    "  --peers HOST,...   compare with these revisions instead of the model's hosts\n"
    "                     (repeatable)\n"
    "  --fail-on CLASSES  classes that make the exit status 1 (default: the three\n"
    "                     regression classes; 'none')\n"
    "  --allow-inconclusive  exit 0, not 3, when a comparison is inconclusive or there\n"
    "                     was nothing to compare with\n"
    "\n"
    "Exit status: 0 nothing in --fail-on, 1 a regression against a reference, 2 error,\n"
    "3 inconclusive: no regression, but a deciding fact was unknown, or no reference.\n";

struct canary_opts {
	const char *before;
	char **peers;
	size_t npeers;
	unsigned fail_on;
	int allow_inconclusive;
};

static int add_peers(struct canary_opts *o, const char *arg)
{
	char *dup = strdup(arg), *save = NULL, *tok;

	if (!dup)
		return cli_error("out of memory");
	for (tok = strtok_r(dup, ", ", &save); tok; tok = strtok_r(NULL, ", ", &save)) {
		char **np = realloc(o->peers, (o->npeers + 1) * sizeof(*np));

		if (!np || !(np[o->npeers] = strdup(tok))) {
			if (np)
				o->peers = np;
			free(dup);
			return cli_error("out of memory");
		}
		o->peers = np;
		o->npeers++;
	}
	free(dup);
	return CLI_OK;
}

static int canary_option(int key, const char *arg, void *payload)
{
	struct canary_opts *o = payload;
	snap_error err = {0};

	switch (key) {
	case 'B':
		o->before = arg;
		return CLI_OK;
	case 'P':
		return add_peers(o, arg);
	case 'I':
		o->allow_inconclusive = 1;
		return CLI_OK;
	default: /* 'F' */
		if (snap_class_parse_list(&o->fail_on, arg, &err) < 0)
			return cli_snap_error(&err);
		return CLI_OK;
	}
}

int cmd_canary(int argc, char **argv)
{
	static const char *const formats[] = {"text", "json", NULL};
	static const struct option extra[] = {
	    {"before", required_argument, NULL, 'B'},
	    {"peers", required_argument, NULL, 'P'},
	    {"fail-on", required_argument, NULL, 'F'},
	    {"allow-inconclusive", no_argument, NULL, 'I'},
	    {NULL, 0, NULL, 0},
	};
	struct canary_opts o = {.fail_on = SNAP_CLASS_REGRESSIONS};
	struct cli_args args = {.usage = usage_text,
	                        .cmd = "canary",
	                        .formats = formats,
	                        .extra = extra,
	                        .on_option = canary_option,
	                        .payload = &o};
	snap_store *st = NULL;
	snap_canary *c = NULL;
	snap_error err = {0};
	char *text = NULL;
	int rc;

	if ((rc = cli_parse_args(&args, argc, argv)) != CLI_OK)
		goto done;
	if (args.operands != 1) {
		rc = cli_error("canary: expected one HOST; see 'pcisnap canary --help'");
		goto done;
	}
	if ((rc = cli_open_store(&st, args.store, 0)) != CLI_OK)
		goto done;
	if (snap_canary_run(&c, st, argv[args.first], o.before, (const char *const *)o.peers,
	                    o.npeers, &err) < 0 ||
	    snap_canary_render(&text, c, args.format == 1, &err) < 0) {
		rc = cli_snap_error(&err);
		goto done;
	}
	if ((rc = args.format == 1 ? cli_write_json(text) : cli_write_report(text)) == CLI_OK) {
		if (snap_canary_classes(c) & o.fail_on)
			rc = CLI_REGRESSION; /* a regression found wins over inconclusive */
		else if (!snap_canary_conclusive(c) && !o.allow_inconclusive)
			rc = CLI_INCONCLUSIVE;
	}
done:
	if (rc == CLI_DONE)
		rc = CLI_OK;
	free(text);
	snap_canary_free(c);
	cli_store_close(st);
	for (size_t i = 0; i < o.npeers; i++)
		free(o.peers[i]);
	free(o.peers);
	return rc;
}
