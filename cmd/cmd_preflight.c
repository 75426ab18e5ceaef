/* SPDX-License-Identifier: GPL-2.0-or-later */
/* pcisnap preflight: what the next boot will do to passthrough, from the files on disk. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cmd.h"
#include "snap/preflight.h"
#include "snap/store.h"

static const char usage_text[] =
    "usage: pcisnap preflight [SNAP] [--kernel VER] [--initramfs FILE] [--root DIR]\n"
    "                         [--cmdline STRING] [--record] [--format text|json]\n"
    "                         [--allow-inconclusive] [--list-files] [--store DIR]\n"
    "\n"
    "Predict, before the reboot, what the kernel that boots next does to the passthrough\n"
    "devices of SNAP (default: the state now, collected from --root): which driver claims\n"
    "each one, built in, from its initramfs (read through libarchive, never unpacked) or\n"
    "after the switch to the root file system (libkmod over lib/modules/VER and\n"
    "modprobe.d), and whether the IOMMU options of its command line (boot loader entry,\n"
    "/etc/kernel/cmdline, grub.cfg or /etc/default/grub) are still there.\n"
    "\n"
    "  --kernel VER       the release that boots next (default: the newest installed)\n"
    "  --initramfs FILE   its image (default: DIR/boot/initrd.img-VER)\n"
    "  --root DIR         the root whose /boot, /lib/modules and /etc are read (default /)\n"
    "  --cmdline STRING   the next command line, instead of the boot loader's\n"
    "  --record           keep the prediction in the store with the snapshot it was made\n"
    "                     against (SNAP when it is a revision, else the state now, stored);\n"
    "                     a later 'pcisnap diff' from that snapshot says whether it held\n"
    "  --allow-inconclusive  exit 0, not 3, when an input could not be read\n"
    "  --list-files       also list the root the initramfs unpacks to, as the kernel's\n"
    "                     init/initramfs.c leaves it: each name, its type, a file's size\n"
    "\n"
    "Exit status: 0 no predicted regression, 1 a FAIL (a passthrough device that the host\n"
    "driver will claim, or an IOMMU option gone), 2 error, 3 inconclusive (an initramfs or\n"
    "modules index that could not be read, an unknown command line).\n";

struct pf_args {
	snap_preflight_options opts;
	int record, allow_inconclusive;
};

static int pf_option(int key, const char *arg, void *payload)
{
	struct pf_args *a = payload;

	switch (key) {
	case 'k':
		a->opts.kernel = arg;
		break;
	case 'i':
		a->opts.initramfs = arg;
		break;
	case 'r':
		a->opts.root = arg;
		break;
	case 'c':
		a->opts.cmdline = arg;
		break;
	case 'R':
		a->record = 1;
		break;
	case 'L':
		a->opts.list_files = 1;
		break;
	default: /* 'I' */
		a->allow_inconclusive = 1;
		break;
	}
	return CLI_OK;
}

int cmd_preflight(int argc, char **argv)
{
	static const char *const formats[] = {"text", "json", NULL};
	static const struct option extra[] = {
	    {"kernel", required_argument, NULL, 'k'},
	    {"initramfs", required_argument, NULL, 'i'},
	    {"root", required_argument, NULL, 'r'},
	    {"cmdline", required_argument, NULL, 'c'},
	    {"record", no_argument, NULL, 'R'},
	    {"allow-inconclusive", no_argument, NULL, 'I'},
	    {"list-files", no_argument, NULL, 'L'},
	    {NULL, 0, NULL, 0},
	};
	struct pf_args pa = {SNAP_PREFLIGHT_OPTIONS_INIT, 0, 0};
	struct cli_args args = {.usage = usage_text,
	                        .cmd = "preflight",
	                        .formats = formats,
	                        .extra = extra,
	                        .on_option = pf_option,
	                        .payload = &pa};
	snap_collect_options co = SNAP_COLLECT_OPTIONS_INIT;
	snap_snapshot *s = NULL;
	snap_preflight *p = NULL;
	snap_store *st = NULL;
	snap_error err = {0};
	char *text = NULL, *doc = NULL, rev[128] = "";
	const char *spec = NULL;
	int rc;

	if ((rc = cli_parse_args(&args, argc, argv)) != CLI_OK)
		return rc == CLI_DONE ? CLI_OK : rc;
	if (args.operands > 1)
		return cli_error("preflight: expected at most one SNAP argument; see 'pcisnap "
		                 "preflight --help'");
	if (args.operands == 1) {
		spec = argv[args.first];
		if (pa.record && !cli_spec_is_revision(spec, cli_operand_spec(&args, 0)))
			return cli_error("preflight: --record keeps the prediction with a stored "
			                 "snapshot: '%s' is a file",
			                 spec);
		if ((rc = cli_load_snapshot_as(&s, spec, args.store, cli_operand_spec(&args, 0))) !=
		    CLI_OK)
			return rc;
		snprintf(rev, sizeof(rev), "%s", spec);
	} else {
		co.root = pa.opts.root;
		co.live_kernel_log = 1;
		if (snap_snapshot_collect(&s, &co, &err) < 0)
			return cli_snap_error(&err);
		cli_print_warnings(s);
	}
	if (snap_preflight_run(&p, s, &pa.opts, &err) < 0 ||
	    snap_preflight_render(&text, p, args.format == 1, &err) < 0) {
		rc = cli_snap_error(&err);
		goto done;
	}
	if (pa.record) {
		/* everything is checked before anything is written: the store gets the snapshot
		 * and its prediction, or (on an error) nothing new but a snapshot that is true */
		if ((rc = cli_open_store(&st, args.store, !spec)) != CLI_OK)
			goto done;
		if (!spec) {
			snap_oid oid;

			if (snap_store_commit(&oid, st, s, NULL, &err) < 0) {
				rc = cli_snap_error(&err);
				goto done;
			}
			snprintf(rev, sizeof(rev), "%s", oid.hex);
			fprintf(stderr, "stored %s %s\n", snap_snapshot_hostname(s), oid.hex);
		}
		if (snap_preflight_render(&doc, p, 1, &err) < 0 ||
		    snap_store_note_set(st, rev, "preflight", doc, &err) < 0) {
			rc = cli_snap_error(&err);
			goto done;
		}
		fprintf(stderr, "recorded the prediction with %s\n", rev);
	}
	if ((rc = args.format ? cli_write_stdout(text) : cli_write_report(text)) != CLI_OK)
		goto done;
	if (snap_preflight_verdict(p) == SNAP_CHECK_FAIL)
		rc = CLI_REGRESSION;
	else if (!snap_preflight_conclusive(p) && !pa.allow_inconclusive)
		rc = CLI_INCONCLUSIVE;
done:
	free(text);
	free(doc);
	cli_store_close(st);
	snap_preflight_free(p);
	snap_snapshot_free(s);
	return rc;
}
