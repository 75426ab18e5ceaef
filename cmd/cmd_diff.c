/* SPDX-License-Identifier: GPL-2.0-or-later */
/* pcisnap diff: classify every change between two snapshots; exit 1 gates a rollout. */
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cmd.h"
#include "snap/diff.h"

static const char usage_text[] =
    "usage: pcisnap diff OLD NEW [--format text|json|markdown] [--fail-on CLASSES]\n"
    "                    [--allow-inconclusive] [--store DIR]\n"
    "\n"
    "Match devices by identity (ids and upstream ports, not bus numbers), compare IOMMU\n"
    "groups by membership, and classify every change as isolation_loss,\n"
    "grouping_regression, binding_regression or harmless.\n"
    "\n"
    "  --fail-on CLASSES  comma-separated classes that make the exit status 1 (default:\n"
    "                     isolation_loss,grouping_regression,binding_regression; 'none')\n"
    "  --allow-inconclusive  exit 0, not 3, when NEW lacks evidence OLD had\n"
    "  --store DIR        store in which OLD and NEW name revisions (HOST, HOST~N,\n"
    "                     HOST@LABEL, commit id) when they are not files\n"
    "\n"
    "Exit status: 0 nothing in --fail-on, 1 a change in --fail-on, 2 error, 3 inconclusive:\n"
    "no regression found, but a fact that decides one (ACS, FLR, group of a passthrough\n"
    "device or a port on its path, interrupt remapping) is unknown in NEW (e.g. no root).\n";

int cmd_diff(int argc, char **argv)
{
	static const struct option longopts[] = {
	    {"format", required_argument, NULL, 'f'},
	    {"fail-on", required_argument, NULL, 'F'},
	    {"allow-inconclusive", no_argument, NULL, 'I'},
	    {"store", required_argument, NULL, 'S'},
	    {"help", no_argument, NULL, 'h'},
	    {NULL, 0, NULL, 0},
	};
	snap_diff_format fmt = SNAP_DIFF_TEXT;
	unsigned fail_on = SNAP_CLASS_REGRESSIONS;
	int allow_inconclusive = 0;
	snap_snapshot *a = NULL, *b = NULL;
	snap_diff *d = NULL;
	snap_error err = {0};
	char *text = NULL;
	int c, rc;
	const char *store = NULL;

	optind = 1;
	while ((c = getopt_long(argc, argv, "f:h", longopts, NULL)) != -1) {
		switch (c) {
		case 'f': {
			static const char *const names[] = {"text", "json", "markdown", NULL};
			int f;

			if (cli_parse_format(&f, "diff", optarg, names) != CLI_OK)
				return CLI_ERROR;
			fmt = (snap_diff_format)f;
			break;
		}
		case 'F':
			if (snap_class_parse_list(&fail_on, optarg, &err) < 0)
				return cli_snap_error(&err);
			break;
		case 'I':
			allow_inconclusive = 1;
			break;
		case 'S':
			store = optarg;
			break;
		case 'h':
			fputs(usage_text, stdout);
			return CLI_OK;
		default:
			fputs(usage_text, stderr);
			return CLI_ERROR;
		}
	}
	if (optind + 2 != argc)
		return cli_error("diff: expected OLD and NEW; see 'pcisnap diff --help'");
	if ((rc = cli_load_snapshot(&a, argv[optind], store)) != CLI_OK)
		return rc;
	if ((rc = cli_load_snapshot(&b, argv[optind + 1], store)) != CLI_OK)
		goto done;
	if (snap_diff_compute(&d, a, b, &err) < 0 || snap_diff_render(&text, d, fmt, &err) < 0) {
		rc = cli_snap_error(&err);
		goto done;
	}
	if ((rc = cli_write_stdout(text)) == CLI_OK) {
		if (snap_diff_classes(d) & fail_on)
			rc = CLI_REGRESSION; /* a regression found wins over inconclusive */
		else if (!snap_diff_conclusive(d) && !allow_inconclusive)
			rc = CLI_INCONCLUSIVE;
	}
done:
	free(text);
	snap_diff_free(d);
	snap_snapshot_free(a);
	snap_snapshot_free(b);
	return rc;
}
