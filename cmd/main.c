/* SPDX-License-Identifier: GPL-2.0-or-later */
/* pcisnap: PCI passthrough health snapshots. The command table. */
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

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
    {"canary", cmd_canary, "an updated host against its own past and its peers"},
    {"accept", cmd_accept, "accept a deviation for a host or model (the fleet's policy)"},
    {"preflight", cmd_preflight, "predict what the next kernel, initramfs and cmdline do"},
    {"boot", cmd_boot,
     "at boot: collect, compare with the last boot, log; at shutdown: mark the end"},
    {NULL, NULL, NULL},
};

static void usage(FILE *f)
{
	fputs("usage: pcisnap <command> [options]\n\ncommands:\n", f);
	for (const struct cmd_spec *c = commands; c->name; c++)
		fprintf(f, "  %-9s %s\n", c->name, c->help);
	fprintf(f, "  %-9s %s\n", "help", "a command's manual page (pcisnap help diff)");
	fputs(
	    "\n'pcisnap help <command>' opens its manual page, 'pcisnap <command> --help' prints\n"
	    "its usage. Exit status: 0 ok, 1 regression found (diff/check), 2 error, 3\n"
	    "inconclusive (diff).\n",
	    f);
}

/* The command nearest to a mistyped one (at most two edits away), or NULL. */
static const char *nearest(const char *name)
{
	const char *best = NULL;
	size_t dist = 3;

	for (const struct cmd_spec *c = commands; c->name; c++) {
		size_t d = snap_edit_distance(name, c->name);

		if (d < dist) {
			dist = d;
			best = c->name;
		}
	}
	return best;
}

/*
 * pcisnap help CMD: its manual page on a terminal (man pcisnap-CMD, as git help does), else,
 * or when the page is not installed, its usage, which CMD --help prints.
 */
static int help(const char *name)
{
	const struct cmd_spec *c;

	for (c = commands; c->name && strcmp(c->name, name); c++)
		;
	if (!c->name) {
		const char *near = nearest(name);

		return cli_error("no command '%s'%s%s%s", name, near ? "; did you mean '" : "",
		                 near ? near : "", near ? "'?" : "");
	}
	if (isatty(STDOUT_FILENO) && !getenv("PCISNAP_NO_MAN")) {
		char page[64];
		pid_t pid;
		int status;

		snprintf(page, sizeof(page), "pcisnap-%s", c->name);
		/* is the page installed? man -w says so without showing it */
		if ((pid = fork()) == 0) {
			int devnull = open("/dev/null", O_WRONLY);

			if (devnull >= 0) {
				dup2(devnull, STDOUT_FILENO);
				dup2(devnull, STDERR_FILENO);
			}
			execlp("man", "man", "-w", page, (char *)NULL);
			_exit(127);
		}
		if (pid > 0 && waitpid(pid, &status, 0) == pid && WIFEXITED(status) &&
		    WEXITSTATUS(status) == 0) {
			execlp("man", "man", page, (char *)NULL);
			/* no man after all: print the usage */
		}
	}
	{
		char *args[] = {(char *)c->name, (char *)"--help", NULL};

		return c->fn(2, args);
	}
}

int main(int argc, char **argv)
{
	/* options before the command, as git takes them: --no-pager, --color[=WHEN] */
	while (argc >= 2 && !strncmp(argv[1], "--", 2) &&
	       (!strcmp(argv[1], "--no-pager") || !strncmp(argv[1], "--color", 7))) {
		if (!strcmp(argv[1], "--no-pager"))
			cli_out.pager = 0;
		else if (!strcmp(argv[1], "--color"))
			cli_set_color(NULL);
		else if (argv[1][7] != '=' || cli_set_color(argv[1] + 8) != CLI_OK)
			return argv[1][7] == '=' ? CLI_ERROR
			                         : cli_error("unknown option '%s'", argv[1]);
		argv[1] = argv[0];
		argv++;
		argc--;
	}
	if (argc < 2) {
		cli_error("no command given");
		usage(stderr);
		return CLI_ERROR;
	}
	if (!strcmp(argv[1], "-h") || !strcmp(argv[1], "--help") ||
	    (!strcmp(argv[1], "help") && argc == 2)) {
		usage(stdout);
		return CLI_OK;
	}
	if (!strcmp(argv[1], "--version") || !strcmp(argv[1], "version")) {
		printf("pcisnap %s\n", snap_version());
		return CLI_OK;
	}
	if (!strcmp(argv[1], "help") && argc >= 3)
		return help(argv[2]);
	for (const struct cmd_spec *c = commands; c->name; c++)
		if (!strcmp(argv[1], c->name)) {
			int rc = cli_config_load();

			/* boot start goes on without its configuration: it logs the error at
			 * priority err and never holds the VMs for pcisnap's own trouble */
			if (rc == CLI_OK || !strcmp(c->name, "boot"))
				rc = c->fn(argc - 1, argv + 1);
			cli_config_release();
			return rc;
		}
	{
		const char *near = nearest(argv[1]);

		if (near)
			cli_error("unknown command '%s'; did you mean '%s'?", argv[1], near);
		else
			cli_error("unknown command '%s'; see 'pcisnap --help'", argv[1]);
	}
	return CLI_ERROR;
}
