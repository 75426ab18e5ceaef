/* SPDX-License-Identifier: GPL-2.0-or-later */
/* pcisnap accept: the fleet's policy of accepted deviations, kept in the store. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "cmd.h"
#include "snap/policy.h"
#include "snap/store.h"

static const char usage_text[] =
    "usage: pcisnap accept (--host HOST | --model MODEL | --model-of SNAP) WHAT [SUBJECT]\n"
    "                      --reason TEXT [--store DIR]\n"
    "       pcisnap accept --list [--format text|json]\n"
    "       pcisnap accept --remove N\n"
    "\n"
    "Accept a deviation for one host or one hardware model: WHAT is a check id (group_viable,\n"
    "slot_functions, ...) or a diff change kind (acs_lost, group_grew, ...); SUBJECT, when\n"
    "given, is text the finding's subject or message must contain (a BDF, 'group 9').\n"
    "Accepted findings are still shown, marked accepted, and fail nothing: check, diff,\n"
    "canary, fleet and boot start apply the policy; push and pull carry it.\n"
    "\n"
    "  --host HOST        this host only\n"
    "  --model MODEL      every host of this model ('board_vendor board_name / product')\n"
    "  --model-of SNAP    the model of this snapshot\n"
    "  --reason TEXT      why it is accepted (recorded with who and when)\n"
    "  --list             the entries, numbered\n"
    "  --remove N         remove entry N\n";

struct accept_opts {
	const char *host, *model, *model_of, *reason;
	long remove;
	int list;
};

static int accept_option(int key, const char *arg, void *payload)
{
	struct accept_opts *o = payload;
	char *end = NULL;

	switch (key) {
	case 'H':
		o->host = arg;
		break;
	case 'M':
		o->model = arg;
		break;
	case 'O':
		o->model_of = arg;
		break;
	case 'r':
		o->reason = arg;
		break;
	case 'l':
		o->list = 1;
		break;
	default: /* 'x' */
		o->remove = strtol(arg, &end, 10);
		if (!*arg || *end || o->remove < 1)
			return cli_error("accept: --remove needs an entry number, not '%s'", arg);
	}
	return CLI_OK;
}

int cmd_accept(int argc, char **argv)
{
	static const char *const formats[] = {"text", "json", NULL};
	static const struct option extra[] = {
	    {"host", required_argument, NULL, 'H'},
	    {"model", required_argument, NULL, 'M'},
	    {"model-of", required_argument, NULL, 'O'},
	    {"reason", required_argument, NULL, 'r'},
	    {"list", no_argument, NULL, 'l'},
	    {"remove", required_argument, NULL, 'x'},
	    {NULL, 0, NULL, 0},
	};
	struct accept_opts o = {0};
	struct cli_args args = {.usage = usage_text,
	                        .cmd = "accept",
	                        .formats = formats,
	                        .extra = extra,
	                        .on_option = accept_option,
	                        .payload = &o};
	snap_store *st = NULL;
	snap_policy *p = NULL;
	snap_error err = {0};
	char *text = NULL, who[600], change[1200], model[800];
	int rc;

	if ((rc = cli_parse_args(&args, argc, argv)) != CLI_OK)
		return rc == CLI_DONE ? CLI_OK : rc;
	if (o.list + !!o.remove + !!(o.host || o.model || o.model_of || args.operands) != 1)
		return cli_error("accept: --list, --remove N or a deviation to accept; see "
		                 "'pcisnap accept --help'");
	if (!o.list && !o.remove &&
	    (!!o.host + !!o.model + !!o.model_of != 1 || args.operands < 1 || args.operands > 2 ||
	     !o.reason))
		return cli_error("accept: one of --host, --model, --model-of, then WHAT [SUBJECT] "
		                 "and --reason; see 'pcisnap accept --help'");
	if ((rc = cli_open_store(&st, args.store, !o.list)) != CLI_OK)
		return rc;
	if (snap_store_policy_get(&text, st, &err) < 0 ||
	    (text ? snap_policy_parse(&p, text, strlen(text), &err) : snap_policy_new(&p, &err)) <
	        0) {
		rc = cli_snap_error(&err);
		goto done;
	}
	free(text);
	text = NULL;
	if (o.list) {
		if (snap_policy_render(&text, p, args.format == 1, &err) < 0)
			rc = cli_snap_error(&err);
		else
			rc = args.format == 1 ? cli_write_json(text) : cli_write_stdout(text);
		goto done;
	}
	cli_who(who, sizeof(who));
	if (o.remove) {
		if (snap_policy_remove(p, (size_t)o.remove, &err) < 0) {
			rc = cli_snap_error(&err);
			goto done;
		}
		snprintf(change, sizeof(change), "removed entry %ld", o.remove);
	} else {
		const char *scope = o.host ? "host" : "model", *match = o.host ? o.host : o.model;

		if (o.model_of) {
			snap_snapshot *s = NULL;

			if ((rc = cli_load_snapshot(&s, o.model_of, args.store)) != CLI_OK)
				goto done;
			snap_snapshot_model(model, sizeof(model), s);
			snap_snapshot_free(s);
			match = model;
		}
		if (snap_policy_add(p, scope, match, argv[args.first],
		                    args.operands > 1 ? argv[args.first + 1] : NULL, o.reason, who,
		                    &err) < 0) {
			rc = cli_snap_error(&err);
			goto done;
		}
		snprintf(change, sizeof(change), "accept %s for %s %.900s", argv[args.first], scope,
		         match);
	}
	if (snap_policy_render(&text, p, 1, &err) < 0 ||
	    snap_store_policy_set(st, text, change, who, &err) < 0)
		rc = cli_snap_error(&err);
done:
	free(text);
	snap_policy_free(p);
	cli_store_close(st);
	return rc;
}
