/* SPDX-License-Identifier: GPL-2.0-or-later */
/* pcisnap collect: read the host (or a captured root) and write a snapshot. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cmd.h"
#include "snap/store.h"

static const char usage_text[] =
    "usage: pcisnap collect [--root DIR] [--dmesg FILE] [--host NAME] [--lspci-dump FILE]\n"
    "                       [--pci-ids FILE] [-o FILE] [--store DIR] [--label NAME]\n"
    "                       [--textfile DIR]\n"
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
    "  --store DIR        commit the snapshot into this store (created on first use;\n"
    "                     \"\" is the default store)\n"
    "  --label NAME       also name it NAME (HOST@NAME); implies the default store\n"
    "  --textfile DIR     write DIR/pcisnap.prom (node_exporter's textfile collector),\n"
    "                     atomically; default: pcisnap.conf's textfile\n"
    "\n"
    "With a store, the snapshot's boot says how the previous boot ended (pcisnap boot).\n"
    "\n"
    "SOURCE_DATE_EPOCH, if set, pins the collection time.\n";

struct collect_args {
	snap_collect_options opts;
	const char *output, *label, *textfile;
};

static int collect_option(int key, const char *arg, void *payload)
{
	struct collect_args *a = payload;

	switch (key) {
	case 'r':
		a->opts.root = arg;
		break;
	case 'd':
		a->opts.dmesg_path = arg;
		break;
	case 'H':
		a->opts.hostname = arg;
		break;
	case 'D':
		a->opts.lspci_dump = arg;
		break;
	case 'i':
		a->opts.pci_ids = arg;
		break;
	case 'o':
		a->output = arg;
		break;
	case 'L':
		a->label = arg;
		break;
	case 'T':
		a->textfile = arg;
		break;
	}
	return CLI_OK;
}

int cmd_collect(int argc, char **argv)
{
	static const struct option extra[] = {
	    {"root", required_argument, NULL, 'r'},
	    {"dmesg", required_argument, NULL, 'd'},
	    {"host", required_argument, NULL, 'H'},
	    {"lspci-dump", required_argument, NULL, 'D'},
	    {"pci-ids", required_argument, NULL, 'i'},
	    {"output", required_argument, NULL, 'o'},
	    {"label", required_argument, NULL, 'L'},
	    {"textfile", required_argument, NULL, 'T'},
	    {NULL, 0, NULL, 0},
	};
	struct collect_args ca = {SNAP_COLLECT_OPTIONS_INIT, NULL, NULL, NULL};
	struct cli_args args = {.usage = usage_text,
	                        .cmd = "collect",
	                        .extra = extra,
	                        .shortopts = "o:",
	                        .on_option = collect_option,
	                        .payload = &ca};
	const char *output = NULL, *label = NULL;
	int use_store;
	snap_snapshot *s = NULL;
	snap_store *st = NULL;
	snap_error err = {0};
	int rc;

	if ((rc = cli_parse_args(&args, argc, argv)) != CLI_OK)
		return rc == CLI_DONE ? CLI_OK : rc;
	output = ca.output;
	label = ca.label;
	use_store = args.store_set || label; /* --label implies the default store */
	if (args.operands)
		return cli_error("collect: unexpected argument '%s'", argv[args.first]);
	{
		int64_t when;

		if ((rc = cli_source_date_epoch(&when)) < 0)
			return CLI_ERROR;
		if (rc)
			ca.opts.timestamp = when;
	}
	if (snap_snapshot_collect(&s, &ca.opts, &err) < 0)
		return cli_snap_error(&err);
	cli_print_warnings(s);
	rc = CLI_OK;
	if (use_store && (rc = cli_open_store(&st, args.store, 1)) == CLI_OK &&
	    snap_store_boot_previous(st, s, &err) < 0) /* the boot before this one, and its end */
		rc = cli_snap_error(&err);
	if (rc == CLI_OK && (output || !use_store) &&
	    snap_snapshot_write_file(s, output ? output : "-", &err) < 0)
		rc = cli_snap_error(&err);
	if (rc == CLI_OK && use_store) {
		snap_oid oid;

		if (snap_store_commit(&oid, st, s, label, &err) < 0)
			rc = cli_snap_error(&err);
		else
			/* status, not data: stdout may be the snapshot (-o -) */
			fprintf(stderr, "stored %s %s%s%s\n", snap_snapshot_hostname(s), oid.hex,
			        label ? " as " : "", label ? label : "");
	}
	/* node_exporter's textfile: --textfile, else pcisnap.conf's textfile */
	if (rc == CLI_OK && (ca.textfile || (cli_conf.textfile && *cli_conf.textfile)))
		rc = cli_write_textfile(ca.textfile ? ca.textfile : cli_conf.textfile, s,
		                        st ? cli_store_last_verdict(st, snap_snapshot_hostname(s))
		                           : NULL);
	cli_store_close(st);
	snap_snapshot_free(s);
	return rc;
}
