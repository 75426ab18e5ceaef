/* SPDX-License-Identifier: GPL-2.0-or-later */
/* pcisnap show: report on one snapshot. */
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
	static const char *const formats[] = {"text", "tree", "json", NULL};
	struct cli_args args = {.usage = usage_text, .cmd = "show", .formats = formats};
	snap_snapshot *s = NULL;
	snap_error err = {0};
	char *text = NULL;
	int rc;

	if ((rc = cli_parse_args(&args, argc, argv)) != CLI_OK)
		return rc == CLI_DONE ? CLI_OK : rc;
	if (args.operands != 1)
		return cli_error("show: expected one SNAP argument; see 'pcisnap show --help'");
	if ((rc = cli_load_snapshot_as(&s, argv[args.first], args.store,
	                               cli_operand_spec(&args, 0))) != CLI_OK)
		return rc;
	if (snap_report_render(&text, s, (snap_report_format)args.format, &err) < 0)
		rc = cli_snap_error(&err);
	else
		rc = args.format == SNAP_REPORT_JSON ? cli_write_stdout(text)
		                                     : cli_write_report(text);
	free(text);
	snap_snapshot_free(s);
	return rc;
}
