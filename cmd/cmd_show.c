/* SPDX-License-Identifier: GPL-2.0-or-later */
/* pcisnap show: report on one snapshot. */
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cmd.h"

static const char usage_text[] =
    "usage: pcisnap show SNAP [--format text|json|tree] [--store DIR]\n"
    "\n"
    "Report on one snapshot. text: kernel, firmware, IOMMU and interrupt remapping with\n"
    "evidence, risky command-line flags, passthrough devices and their groups. tree: the\n"
    "PCIe topology with group, driver, ACS and FLR marks. json: the snapshot.\n";

int cmd_show(int argc, char **argv)
{
	static const struct option longopts[] = {
	    {"format", required_argument, NULL, 'f'},
	    {"store", required_argument, NULL, 'S'},
	    {"help", no_argument, NULL, 'h'},
	    {NULL, 0, NULL, 0},
	};
	snap_report_format fmt = SNAP_REPORT_TEXT;
	snap_snapshot *s = NULL;
	snap_error err = {0};
	char *text = NULL;
	int c, rc;
	const char *store = NULL;

	optind = 1;
	while ((c = getopt_long(argc, argv, "f:h", longopts, NULL)) != -1) {
		switch (c) {
		case 'f': {
			static const char *const names[] = {"text", "tree", "json", NULL};
			int f;

			if (cli_parse_format(&f, "show", optarg, names) != CLI_OK)
				return CLI_ERROR;
			fmt = (snap_report_format)f;
			break;
		}
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
	if (optind + 1 != argc)
		return cli_error("show: expected one SNAP argument; see 'pcisnap show --help'");
	if ((rc = cli_load_snapshot(&s, argv[optind], store)) != CLI_OK)
		return rc;
	if (snap_report_render(&text, s, fmt, &err) < 0)
		rc = cli_snap_error(&err);
	else
		rc = cli_write_stdout(text);
	free(text);
	snap_snapshot_free(s);
	return rc;
}
