/* SPDX-License-Identifier: GPL-2.0-or-later */
/* pcisnap check: passthrough health of one snapshot; exit 1 on any FAIL. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "cmd.h"
#include "snap/check.h"
#include "snap/policy.h"
#include "snap/report.h"
#include "snap/store.h"

static const char usage_text[] =
    "usage: pcisnap check SNAP [--format text|json|prometheus] [--verbose] [--store DIR]\n"
    "\n"
    "Run the passthrough playbook on one snapshot: IOMMU active, interrupt remapping, no\n"
    "unsafe interrupts or no-IOMMU mode, ACS override and asserted isolation, and for each\n"
    "passthrough device: group viable, slot functions bound together, a reset method, not\n"
    "the boot VGA, vfio loaded and its ID list covering it. PASS/WARN/FAIL per check:\n"
    "the problems first, FAIL then WARN, then a count of the passes.\n"
    "\n"
    "  -v, --verbose  list the passing checks too\n"
    "  --format prometheus  metrics for node_exporter's textfile collector: a gauge per\n"
    "                 check and subject (0 pass, 1 warn, 2 fail), the verdicts, passthrough\n"
    "                 devices, the previous boot's end, the snapshot's age\n"
    "\n"
    "Exit status: 0 no FAIL, 1 at least one FAIL, 2 error.\n";

static int set_flag(int key, const char *arg, void *payload)
{
	(void)key; /* 'v' */
	(void)arg;
	*(int *)payload = 1;
	return CLI_OK;
}

int cmd_check(int argc, char **argv)
{
	static const char *const formats[] = {"text", "json", "prometheus", NULL};
	static const struct option extra[] = {
	    {"verbose", no_argument, NULL, 'v'},
	    {NULL, 0, NULL, 0},
	};
	int verbose = 0;
	struct cli_args args = {.usage = usage_text,
	                        .cmd = "check",
	                        .formats = formats,
	                        .extra = extra,
	                        .shortopts = "v",
	                        .on_option = set_flag,
	                        .payload = &verbose};
	snap_snapshot *s = NULL;
	snap_check *chk = NULL;
	snap_policy *policy = NULL;
	snap_error err = {0};
	char *text = NULL;
	int rc;

	if ((rc = cli_parse_args(&args, argc, argv)) != CLI_OK)
		return rc == CLI_DONE ? CLI_OK : rc;
	if (args.operands != 1)
		return cli_error("check: expected one SNAP argument; see 'pcisnap check --help'");
	policy = cli_policy(args.store); /* the store's accepted deviations, when there is one */
	if ((rc = cli_load_snapshot_as(&s, argv[args.first], args.store,
	                               cli_operand_spec(&args, 0))) != CLI_OK)
		return rc;
	if (args.format == 2) { /* prometheus: metrics; the exit status as for text */
		const char *verdict = NULL;
		struct snap_store *st = NULL;

		/* HOST names its newest snapshot: the store's verdict of it is the last diff's */
		if (cli_spec_is_revision(argv[args.first], cli_operand_spec(&args, 0)) &&
		    snap_snapshot_hostname(s) &&
		    !strcmp(argv[args.first], snap_snapshot_hostname(s)) &&
		    cli_open_store(&st, args.store, 0) == CLI_OK)
			verdict = cli_store_last_verdict(st, snap_snapshot_hostname(s));
		cli_store_close(st);
		if (snap_check_run(&chk, s, &err) < 0 || snap_check_accept(chk, policy, s) < 0 ||
		    snap_metrics_render(&text, s, chk, verdict, (int64_t)time(NULL), &err) < 0)
			rc = cli_snap_error(&err);
		else if ((rc = cli_write_stdout(text)) == CLI_OK &&
		         snap_check_verdict(chk) == SNAP_CHECK_FAIL)
			rc = CLI_REGRESSION;
		goto done;
	}
	if (snap_check_run(&chk, s, &err) < 0 || snap_check_accept(chk, policy, s) < 0 ||
	    (args.format ? snap_check_render(&text, chk, 1, &err)
	                 : snap_check_render_text(&text, chk, verbose, &err)) < 0) {
		rc = cli_snap_error(&err);
		goto done;
	}
	if ((rc = args.format ? cli_write_stdout(text) : cli_write_report(text)) == CLI_OK &&
	    snap_check_verdict(chk) == SNAP_CHECK_FAIL)
		rc = CLI_REGRESSION;
done:
	free(text);
	snap_check_free(chk);
	snap_policy_free(policy);
	snap_snapshot_free(s);
	return rc;
}
