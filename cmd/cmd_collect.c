/* SPDX-License-Identifier: GPL-2.0-or-later */
/* pcisnap collect: read the host (or a captured root) and write a snapshot. */
#include <errno.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cmd.h"

static const char usage_text[] =
    "usage: pcisnap collect [--root DIR] [--dmesg FILE] [--host NAME] [--lspci-dump FILE]\n"
    "                       [--pci-ids FILE] [-o FILE]\n"
    "\n"
    "Read sysfs/procfs under DIR (default /) and config space through libpci, and write a\n"
    "snapshot (schema pcisnap.snapshot/1) to FILE (atomically) or standard output.\n"
    "\n"
    "  --root DIR         captured filesystem root to read instead of /\n"
    "  --dmesg FILE       kernel log to take IOMMU/DMAR/AMD-Vi/vfio lines from\n"
    "  --host NAME        host name to record (default: proc/sys/kernel/hostname)\n"
    "  --lspci-dump FILE  take config space from an `lspci -xxxx` dump (groups and drivers\n"
    "                     are then unknown)\n"
    "  --pci-ids FILE     pci.ids database for device names\n"
    "  -o, --output FILE  write here instead of standard output\n"
    "\n"
    "SOURCE_DATE_EPOCH, if set, pins the collection time.\n";

int cmd_collect(int argc, char **argv)
{
	static const struct option longopts[] = {
	    {"root", required_argument, NULL, 'r'},    {"dmesg", required_argument, NULL, 'd'},
	    {"host", required_argument, NULL, 'H'},    {"lspci-dump", required_argument, NULL, 'D'},
	    {"pci-ids", required_argument, NULL, 'i'}, {"output", required_argument, NULL, 'o'},
	    {"help", no_argument, NULL, 'h'},          {NULL, 0, NULL, 0},
	};
	snap_collect_options opts = SNAP_COLLECT_OPTIONS_INIT;
	const char *output = "-", *sde;
	snap_snapshot *s = NULL;
	snap_error err = {0};
	int c, rc;

	optind = 1;
	while ((c = getopt_long(argc, argv, "o:h", longopts, NULL)) != -1) {
		switch (c) {
		case 'r':
			opts.root = optarg;
			break;
		case 'd':
			opts.dmesg_path = optarg;
			break;
		case 'H':
			opts.hostname = optarg;
			break;
		case 'D':
			opts.lspci_dump = optarg;
			break;
		case 'i':
			opts.pci_ids = optarg;
			break;
		case 'o':
			output = optarg;
			break;
		case 'h':
			fputs(usage_text, stdout);
			return CLI_OK;
		default:
			fputs(usage_text, stderr);
			return CLI_ERROR;
		}
	}
	if (optind != argc)
		return cli_error("collect: unexpected argument '%s'", argv[optind]);
	if ((sde = getenv("SOURCE_DATE_EPOCH")) && *sde) {
		char *end;
		long long v;

		errno = 0;
		v = strtoll(sde, &end, 10);
		if (errno || *end || v < 0)
			return cli_error("SOURCE_DATE_EPOCH is not a number of seconds: '%s'", sde);
		opts.timestamp = v;
	}
	if (snap_snapshot_collect(&s, &opts, &err) < 0)
		return cli_snap_error(&err);
	cli_print_warnings(s);
	rc = CLI_OK;
	if (snap_snapshot_write_file(s, output, &err) < 0)
		rc = cli_snap_error(&err);
	snap_snapshot_free(s);
	return rc;
}
