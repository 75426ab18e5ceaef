/* SPDX-License-Identifier: GPL-2.0-or-later */
/* pcisnap: PCI passthrough health snapshots. The command table. */
#include <stdio.h>
#include <string.h>

#include "cmd.h"
#include "snap/common.h"

struct cmd_spec {
	const char *name;                 /* the verb */
	int (*fn)(int argc, char **argv); /* its entry point */
	const char *help;                 /* one line for the usage */
};

static const struct cmd_spec commands[] = {
    {"collect", cmd_collect, "collect a snapshot of this host (or a captured root)"},
    {"show", cmd_show, "report on one snapshot: text, tree or json"},
    {"check", cmd_check, "passthrough health of one snapshot, PASS/WARN/FAIL per check"},
    {"diff", cmd_diff, "classify every change between two snapshots"},
    {"log", cmd_log, "list a host's stored snapshots"},
    {"hosts", cmd_hosts, "list the hosts in the store"},
    {"label", cmd_label, "name a stored snapshot"},
    {"push", cmd_push, "publish the store to a git remote"},
    {"pull", cmd_pull, "fetch other hosts' snapshots from a git remote"},
    {"export", cmd_export, "write a checksummed ticket bundle (tar)"},
    {"import", cmd_import, "verify a bundle and add its snapshots to the store"},
    {"fleet", cmd_fleet, "every host against its hardware model's baseline"},
    {NULL, NULL, NULL},
};

static void usage(FILE *f)
{
	fputs("usage: pcisnap <command> [options]\n\ncommands:\n", f);
	for (const struct cmd_spec *c = commands; c->name; c++)
		fprintf(f, "  %-8s %s\n", c->name, c->help);
	fputs("\n'pcisnap <command> --help' describes a command. Exit status: 0 ok, 1 regression "
	      "found (diff/check), 2 error.\n",
	      f);
}

int main(int argc, char **argv)
{
	if (argc < 2) {
		cli_error("no command given");
		usage(stderr);
		return CLI_ERROR;
	}
	if (!strcmp(argv[1], "-h") || !strcmp(argv[1], "--help") || !strcmp(argv[1], "help")) {
		usage(stdout);
		return CLI_OK;
	}
	if (!strcmp(argv[1], "--version") || !strcmp(argv[1], "version")) {
		printf("pcisnap %s\n", snap_version());
		return CLI_OK;
	}
	for (const struct cmd_spec *c = commands; c->name; c++)
		if (!strcmp(argv[1], c->name))
			return c->fn(argc - 1, argv + 1);
	cli_error("unknown command '%s'; see 'pcisnap --help'", argv[1]);
	return CLI_ERROR;
}
