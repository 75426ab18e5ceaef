/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * pcisnap boot start|stop|last-words: what pcisnap-boot.service runs. start, once udev has
 * bound the drivers and before any VM starts: collect into the store, keep what survived the
 * previous boot (pstore, its kernel messages), diff against the previous boot's snapshot, log
 * the verdict to the journal, write the metrics, and (gate) fail on a regression so VMs do not
 * start. stop, at shutdown: record that this boot ended cleanly.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <jansson.h>

#include "cmd.h"
#include "snap/collect.h"
#include "snap/diff.h"
#include "snap/policy.h"
#include "snap/store.h"

static const char usage_text[] =
    "usage: pcisnap boot start [--root DIR] [--host NAME] [--store DIR] [--gate POLICY]\n"
    "                          [--textfile DIR] [--journal FILE] [--pci-ids FILE]\n"
    "       pcisnap boot stop [--root DIR] [--host NAME] [--store DIR] [--journal FILE]\n"
    "       pcisnap boot last-words [REV] [--store DIR] [--format text|json]\n"
    "\n"
    "start: collect this boot's snapshot into the store; keep the previous boot's last words\n"
    "(pstore records, its kernel messages about the IOMMU, AER, vfio, resets, lockups) with\n"
    "it; diff it against the previous boot's snapshot (or HOST@BASELINE, pcisnap.conf's\n"
    "baseline); log the verdict to the journal (a regression at priority err, with the\n"
    "report); write pcisnap.prom. stop: record that this boot ended cleanly; a boot without\n"
    "that record ended in a crash, a power loss or a hard lockup, and the next start says so.\n"
    "last-words: what was kept of the boot before REV's (default: this host's newest).\n"
    "\n"
    "  --gate POLICY   none, regression (a binding, grouping or isolation regression fails\n"
    "                  the unit: exit 1) or isolation (isolation_loss only); default:\n"
    "                  pcisnap.conf's gate, else none\n"
    "  --textfile DIR  node_exporter's textfile directory (default: pcisnap.conf's textfile)\n"
    "  --journal FILE  append the journal records to FILE as systemd-cat --level-prefix reads\n"
    "                  them (<3>line), instead of sending them to the journal\n"
    "\n"
    "Exit status: 0 ok, 1 the gate failed, 2 error.\n";

struct boot_args {
	const char *root, *host, *journal, *textfile, *pci_ids;
	int gate;             /* -1: from the configuration */
	const char *bad_gate; /* a --gate that is no policy: the gate is then regression */
};

static int boot_option(int key, const char *arg, void *payload)
{
	struct boot_args *a = payload;

	switch (key) {
	case 'r':
		a->root = arg;
		break;
	case 'H':
		a->host = arg;
		break;
	case 'j':
		a->journal = arg;
		break;
	case 'T':
		a->textfile = arg;
		break;
	case 'i':
		a->pci_ids = arg;
		break;
	case 'g':
		/* a misspelt gate never turns the gate off: its strictest meaning, said at start */
		if ((a->gate = cli_gate_policy(arg)) < 0) {
			a->gate = CLI_GATE_REGRESSION;
			a->bad_gate = arg;
		}
		break;
	}
	return CLI_OK;
}

/* One journal record: to FILE with a <N> prefix on each line, or through sd-journal. A record
 * that cannot be written goes to stderr (which systemd also journals): never an error. */
static void journal_send(const struct boot_args *a, int priority, const char *host,
                         const char *verdict, const char *message)
{
	if (a->journal) {
		FILE *f = fopen(a->journal, "ae");
		const char *p = message;

		if (!f) {
			fprintf(stderr, "pcisnap: cannot write %s: %s\n%s\n", a->journal,
			        strerror(errno), message);
			return;
		}
		while (*p) {
			const char *e = strchr(p, '\n');
			int n = e ? (int)(e - p) : (int)strlen(p);

			fprintf(f, "<%d>%.*s\n", priority, n, p);
			p += n + (e ? 1 : 0);
		}
		if (fclose(f) != 0)
			fprintf(stderr, "pcisnap: cannot write %s: %s\n", a->journal,
			        strerror(errno));
		return;
	}
	if (snap_boot_journal_send(priority, host ? host : "", verdict, message) < 0)
		/* no journal (a container, a test): the message goes to stderr instead */
		fprintf(stderr, "%s\n", message);
}

/*
 * pcisnap's own trouble at boot (its configuration, store, textfile, journal, pstore): said at
 * priority err with what to do, and never a reason to hold the VMs (docs/interface.md, the boot
 * gate).
 */
static unsigned troubles; /* how many trouble() said */

static void trouble(const struct boot_args *a, const char *host, const char *problem,
                    const char *fix)
{
	char msg[2048];

	troubles++;
	snprintf(msg, sizeof(msg), "pcisnap: %s: %s; %s (the VMs are not held for this)",
	         host && *host ? host : "boot", problem, fix);
	journal_send(a, 3, host, NULL, msg);
}

/*
 * A file under the root that holds one line (boot_id, hostname): its text without the one
 * newline that ends it; a second line is kept, for the boot id's check to refuse. NULL when
 * unreadable or empty.
 */
static char *root_file(const char *root, const char *rel)
{
	char path[4096], buf[512];
	size_t n;
	FILE *f;

	snprintf(path, sizeof(path), "%s/%s", root && *root ? root : "", rel);
	if (!(f = fopen(path, "re")))
		return NULL;
	n = fread(buf, 1, sizeof(buf) - 1, f);
	fclose(f);
	buf[n] = '\0';
	if (n && buf[n - 1] == '\n')
		buf[n - 1] = '\0';
	return *buf ? strdup(buf) : NULL;
}

static int gate_of(const struct boot_args *a)
{
	return a->gate >= 0 ? a->gate : cli_conf.gate;
}

/* The previous boot's last words, read when it ended without its clean end; NULL when none. */
static char *read_last_words(const struct boot_args *a, snap_store *st, const snap_snapshot *s,
                             const snap_snapshot *prev_snap, const char *prev)
{
	snap_last_words_options o = SNAP_LAST_WORDS_OPTIONS_INIT;
	char **kept = NULL, *words = NULL;
	snap_error err = {0};
	size_t n = 0;

	o.root = a->root;
	o.previous_boot_id = prev;
	o.previous_started = prev_snap ? snap_snapshot_boot_started(prev_snap) : -1;
	/* records kept after an earlier crash are not this boot's last words */
	if (st && snap_store_last_words_kept(&kept, &n, st, snap_snapshot_hostname(s), &err) < 0) {
		trouble(a, snap_snapshot_hostname(s), err.message,
		        "pstore records kept before may be kept again");
		kept = NULL;
		n = 0;
	}
	o.kept = (const char *const *)kept;
	o.kept_count = n;
	if (snap_collect_last_words_ext(&words, &o, &err) < 0) {
		trouble(a, snap_snapshot_hostname(s), err.message,
		        "the previous boot's last words are not kept");
		words = NULL;
	}
	for (size_t i = 0; i < n; i++)
		free(kept[i]);
	free(kept);
	return words;
}

static int boot_start(struct boot_args *a, const char *store)
{
	snap_collect_options o = SNAP_COLLECT_OPTIONS_INIT;
	snap_snapshot *s = NULL, *base = NULL, *prev_snap = NULL;
	snap_store *st = NULL;
	snap_diff *d = NULL;
	snap_error err = {0};
	snap_oid oid, base_oid;
	char *words = NULL, *report = NULL, base_rev[512] = "", msg[2048], why[1024];
	const char *host, *prev = NULL, *verdict = NULL, *textfile;
	int rc, gated = 0, clean = -1, stored = 0;
	snap_policy *policy = NULL; /* the store's accepted deviations: gate nothing accepted */
	int64_t when;

	o.root = a->root;
	o.hostname = a->host;
	o.pci_ids = a->pci_ids;
	if ((rc = cli_source_date_epoch(&when)) < 0)
		trouble(a, a->host, "SOURCE_DATE_EPOCH is not a time",
		        "unset it in the unit's environment; the snapshot is dated now");
	else if (rc)
		o.timestamp = when;
	if (snap_snapshot_collect(&s, &o, &err) < 0) {
		snprintf(why, sizeof(why), "cannot collect this boot's snapshot: %s", err.message);
		trouble(a, a->host, why,
		        "nothing was stored or compared; fix the cause and run "
		        "'pcisnap boot start' again");
		return CLI_OK;
	}
	cli_print_warnings(s);
	host = snap_snapshot_hostname(s);
	if (a->bad_gate) {
		snprintf(why, sizeof(why), "--gate '%.64s' is none, regression or isolation",
		         a->bad_gate);
		trouble(a, host, why,
		        "fix the unit's command line; until then the gate is 'regression'");
	}
	if (cli_conf.error[0])
		trouble(a, host, cli_conf.error,
		        "fix or remove it (pcisnap.conf(5)); until then the boot gate is "
		        "'regression' and nothing else of the file applies");
	else if (cli_conf.gate_unreadable)
		trouble(a, host, "the gate setting of pcisnap.conf cannot be read",
		        "fix it (pcisnap.conf(5)); until then the boot gate is 'regression'");
	if (cli_open_store_err(&st, store, 1, &err) != CLI_OK) {
		snprintf(why, sizeof(why), "cannot open the store: %s", err.message);
		trouble(a, host, why,
		        "this boot is not stored and not compared; check the store with 'pcisnap "
		        "log', its owner and its free space");
		st = NULL;
	}
	/* a start in a boot that recorded its end (systemctl restart: stop, then start): the boot
	 * goes on, and only its last stop may say it ended */
	if (st && ((snap_snapshot_boot_id(s) &&
	            snap_store_boot_reopen(st, host, snap_snapshot_boot_id(s), &err) < 0) ||
	           snap_store_boot_previous(st, s, &err) < 0)) {
		snprintf(why, sizeof(why), "cannot read the previous boot's record: %s",
		         err.message);
		trouble(a, host, why, "this boot is compared with nothing older");
	}
	prev = snap_snapshot_previous_boot(s, &clean);
	/* what to compare with: HOST@BASELINE when that label exists, else the previous boot */
	if (st && cli_conf.baseline && *cli_conf.baseline) {
		snprintf(base_rev, sizeof(base_rev), "%s@%s", host, cli_conf.baseline);
		if (snap_store_load(&base, st, base_rev, &err) < 0) {
			base = NULL;
			*base_rev = '\0';
		}
	}
	if (st && prev && snap_store_boot_snapshot(&base_oid, st, host, prev, &err) == 0) {
		if (snap_store_load(&prev_snap, st, base_oid.hex, &err) < 0) {
			snprintf(why, sizeof(why), "cannot read the previous boot's snapshot: %s",
			         err.message);
			trouble(a, host, why, "check the store with 'pcisnap log'");
			prev_snap = NULL;
		} else if (!base) {
			snprintf(base_rev, sizeof(base_rev), "%s", base_oid.hex);
			base = prev_snap;
		}
	}
	/* the last words, only of a boot that did not record its clean end: read before the
	 * commit, kept with it */
	words = prev && clean == 0 ? read_last_words(a, st, s, prev_snap, prev) : NULL;
	if (st && snap_store_commit(&oid, st, s, NULL, &err) < 0) {
		snprintf(why, sizeof(why), "cannot store this boot's snapshot: %s", err.message);
		trouble(a, host, why,
		        "it is still compared below; fix the store and run "
		        "'pcisnap collect --store' once it is");
	} else if (st) {
		stored = 1;
	}
	if (st && snap_store_warning(st)) {
		snprintf(msg, sizeof(msg), "pcisnap: %s: warning: %s", host,
		         snap_store_warning(st));
		journal_send(a, 4, host, NULL, msg);
	}
	if (stored && words && snap_store_note_set(st, oid.hex, "last-words", words, &err) < 0) {
		snprintf(why, sizeof(why), "cannot keep the previous boot's last words: %s",
		         err.message);
		trouble(a, host, why,
		        "they are still in pstore and the journal until those rotate");
	}
	/* the previous boot's end */
	if (prev && clean == 0) {
		json_t *w = words ? json_loads(words, 0, NULL) : NULL;

		snprintf(msg, sizeof(msg),
		         "pcisnap: %s: the previous boot %s has no record of a clean end: it ended "
		         "in a crash, a power loss or a hard lockup; kept %zu pstore record(s) and "
		         "%zu kernel fault message(s) of it: pcisnap boot last-words %s",
		         host, prev, json_array_size(json_object_get(w, "pstore")),
		         json_array_size(json_object_get(w, "journal")), stored ? oid.hex : host);
		json_decref(w);
		journal_send(a, 4, host, NULL, msg);
	}
	if (!base) {
		snprintf(msg, sizeof(msg),
		         "pcisnap: %s: stored %.10s, the first boot pcisnap has of this host: "
		         "nothing to compare with",
		         host, stored ? oid.hex : "nothing");
		journal_send(a, 6, host, NULL, msg);
	} else if (snap_diff_compute(&d, base, s, &err) < 0 ||
	           (policy = cli_policy_of(st), snap_diff_accept(d, policy, s)) < 0 ||
	           snap_diff_render(&report, d, SNAP_DIFF_TEXT, &err) < 0) {
		snprintf(why, sizeof(why), "cannot compare with %.10s: %s", base_rev, err.message);
		trouble(a, host, why, "run 'pcisnap diff' by hand once the cause is fixed");
	} else {
		unsigned classes = snap_diff_classes(d);
		int regression = (classes & SNAP_CLASS_REGRESSIONS) != 0;
		char *text = NULL;

		verdict = snap_class_name(snap_diff_verdict(d));
		/* the one reason boot start fails: the verdict the configured gate names */
		gated = (gate_of(a) == CLI_GATE_REGRESSION && regression) ||
		        (gate_of(a) == CLI_GATE_ISOLATION &&
		         (classes & SNAP_CLASS_BIT(SNAP_CLASS_ISOLATION_LOSS)));
		if (asprintf(&text, "pcisnap: %s: %s against %.10s%s%s\n%s", host, verdict,
		             base_rev, regression ? "" : " (nothing to do)",
		             gated ? "; the boot gate holds the VMs back" : "", report) < 0)
			text = NULL;
		journal_send(a, regression ? 3 : 6, host, verdict, text ? text : verdict);
		free(text);
	}
	textfile = a->textfile ? a->textfile : cli_conf.textfile;
	if (textfile && *textfile &&
	    cli_write_textfile_msg(textfile, s, verdict, why, sizeof(why)) != CLI_OK)
		trouble(a, host, why,
		        "create the directory, free space in it, or set textfile in pcisnap.conf "
		        "to node_exporter's --collector.textfile.directory");
	if (!getenv("JOURNAL_STREAM"))
		fprintf(stderr, "pcisnap boot: %s: stored %.10s%s%s%s (%u problem(s) logged)\n",
		        host, stored ? oid.hex : "nothing", verdict ? ", " : "",
		        verdict ? verdict : "", gated ? ": gate failed" : "", troubles);
	/* the gate's rule: exit 1 for the gate's verdict, and for nothing else */
	rc = gated ? CLI_REGRESSION : CLI_OK;
	free(words);
	free(report);
	snap_diff_free(d);
	snap_policy_free(policy);
	if (prev_snap != base)
		snap_snapshot_free(prev_snap);
	snap_snapshot_free(base);
	snap_snapshot_free(s);
	snap_store_free(st); /* its warning was journalled above */
	return rc;
}

static int boot_stop(struct boot_args *a, const char *store)
{
	char *id = root_file(a->root, "proc/sys/kernel/random/boot_id");
	char *host = a->host ? strdup(a->host) : root_file(a->root, "proc/sys/kernel/hostname");
	snap_store *st = NULL;
	snap_error err = {0};
	snap_oid at;
	char msg[512];
	int rc = CLI_OK;

	if (!id || !host) {
		rc = cli_error("boot stop: cannot read %s", id ? "the host name" : "the boot id");
	} else if ((rc = cli_open_store(&st, store, 0)) == CLI_OK) {
		if (snap_store_boot_end(st, host, id, &at, &err) < 0) {
			rc = cli_snap_error(&err);
		} else {
			snprintf(msg, sizeof(msg),
			         "pcisnap: %s: boot %s ended cleanly (recorded on %.10s)", host, id,
			         at.hex);
			journal_send(a, 6, host, NULL, msg);
		}
		cli_store_close(st);
	}
	free(id);
	free(host);
	return rc;
}

static int last_words(int argc, char **argv, const char *store, int json, const char *root)
{
	snap_store *st = NULL;
	snap_error err = {0};
	char *text = NULL, *host = NULL;
	const char *rev = argc ? argv[0] : NULL;
	int rc;

	if (!rev && !(rev = host = root_file(root, "proc/sys/kernel/hostname")))
		return cli_error("boot last-words: no REV and no host name");
	if ((rc = cli_open_store(&st, store, 0)) != CLI_OK)
		goto done;
	if (snap_store_note_get(&text, st, rev, "last-words", &err) < 0) {
		rc = err.code == SNAP_ENOTFOUND
		         ? cli_error("%s: nothing kept of the boot before it (it followed a clean "
		                     "end, or pcisnap boot start did not run)",
		                     rev)
		         : cli_snap_error(&err);
		goto done;
	}
	if (json) {
		rc = cli_write_stdout(text);
	} else {
		json_t *doc = json_loads(text, 0, NULL), *x;
		char *out = NULL;
		size_t len = 0, i;
		FILE *f = open_memstream(&out, &len);

		if (!doc || !f) {
			rc = cli_error("%s: the last words kept are not readable", rev);
			if (f)
				fclose(f);
			json_decref(doc);
			free(out);
			goto done;
		}
		json_t *left = json_object_get(doc, "left_out");
		json_int_t older = json_integer_value(json_object_get(left, "pstore_older"));
		json_int_t before = json_integer_value(json_object_get(left, "pstore_kept_before"));

		fprintf(f, "Last words of boot %s\n\npstore: %zu record(s)",
		        json_string_value(json_object_get(doc, "previous_boot")),
		        json_array_size(json_object_get(doc, "pstore")));
		if (older || before)
			fprintf(f, " (not repeated: %lld of older boots, %lld kept before)",
			        (long long)older, (long long)before);
		fputc('\n', f);
		json_array_foreach (json_object_get(doc, "pstore"), i, x) {
			const char *t = json_string_value(json_object_get(x, "text"));
			json_int_t cut = json_integer_value(json_object_get(x, "cut"));
			size_t n = t ? strlen(t) : 0;

			fprintf(f, "--- %s", json_string_value(json_object_get(x, "path")));
			if (cut > 0)
				fprintf(f, " (its last %lld bytes; %lld before them not kept)",
				        (long long)(json_integer_value(json_object_get(x, "size")) -
				                    cut),
				        (long long)cut);
			fprintf(f, "\n%s%s", t ? t : "(unreadable)",
			        n && t[n - 1] == '\n' ? "" : "\n");
		}
		if (json_is_array(json_object_get(doc, "journal"))) {
			const json_t *last = json_object_get(doc, "last_message");

			fprintf(
			    f,
			    "\ntimeline of that boot: %zu fault line(s) and passthrough event(s)",
			    json_array_size(json_object_get(doc, "journal")));
			if (json_integer_value(json_object_get(left, "journal_lines")))
				fprintf(f, " (%lld other messages left out)",
				        (long long)json_integer_value(
				            json_object_get(left, "journal_lines")));
			fputc('\n', f);
			json_array_foreach (json_object_get(doc, "journal"), i, x) {
				const char *kind = json_string_value(json_object_get(x, "kind"));
				const char *vm = json_string_value(json_object_get(x, "vm"));
				char tag[80];

				snprintf(tag, sizeof(tag), "%s%s%s", kind ? kind : "fault",
				         vm ? " " : "", vm ? vm : "");
				fprintf(f, "%s  %-14s %s\n",
				        json_string_value(json_object_get(x, "at")), tag,
				        json_string_value(json_object_get(x, "message")));
			}
			json_array_foreach (json_object_get(doc, "vm_faults"), i, x)
				fprintf(
				    f, "VM %s started %s; the first fault came %.1f s later (%s)\n",
				    json_string_value(json_object_get(x, "vm")),
				    json_string_value(json_object_get(x, "started")),
				    json_real_value(json_object_get(x, "seconds")),
				    json_string_value(json_object_get(x, "first_fault")));
			if (json_is_object(last))
				fprintf(f, "last kernel message: %s  %s\n",
				        json_string_value(json_object_get(last, "at")),
				        json_string_value(json_object_get(last, "message")));
		} else {
			fprintf(f, "\nno journal of that boot: %s\n",
			        json_string_value(json_object_get(doc, "journal_error")));
		}
		fclose(f);
		json_decref(doc);
		rc = cli_write_report(out);
		free(out);
	}
done:
	free(text);
	free(host);
	cli_store_close(st);
	return rc;
}

int cmd_boot(int argc, char **argv)
{
	static const char *const formats[] = {"text", "json", NULL};
	static const struct option extra[] = {
	    {"root", required_argument, NULL, 'r'},
	    {"host", required_argument, NULL, 'H'},
	    {"journal", required_argument, NULL, 'j'},
	    {"textfile", required_argument, NULL, 'T'},
	    {"gate", required_argument, NULL, 'g'},
	    {"pci-ids", required_argument, NULL, 'i'},
	    {NULL, 0, NULL, 0},
	};
	struct boot_args ba = {NULL, NULL, NULL, NULL, NULL, -1, NULL};
	struct cli_args args = {.usage = usage_text,
	                        .cmd = "boot",
	                        .formats = formats,
	                        .extra = extra,
	                        .on_option = boot_option,
	                        .payload = &ba};
	const char *what;
	int rc;

	if ((rc = cli_parse_args(&args, argc, argv)) != CLI_OK) {
		/* boot start's command line is the unit's: a typo there must not hold the VMs */
		for (int i = 1; rc == CLI_ERROR && i < argc; i++)
			if (!strcmp(argv[i], "start")) {
				snap_boot_journal_send(
				    3, "", NULL,
				    "pcisnap: boot start: its command line cannot be "
				    "read (see the line before); fix the unit (the VMs "
				    "are not held for this)");
				return CLI_OK;
			}
		return rc == CLI_DONE ? CLI_OK : rc;
	}
	if (!args.operands)
		return cli_error(
		    "boot: expected start, stop or last-words; see 'pcisnap boot --help'");
	what = argv[args.first];
	if (!strcmp(what, "last-words"))
		return args.operands > 2 ? cli_error("boot last-words: one REV at most")
		                         : last_words(args.operands - 1, argv + args.first + 1,
		                                      args.store, args.format == 1, ba.root);
	if (args.operands > 1)
		return cli_error("boot %s: unexpected argument '%s'", what, argv[args.first + 1]);
	if (!strcmp(what, "start"))
		return boot_start(&ba, args.store);
	if (!strcmp(what, "stop"))
		return boot_stop(&ba, args.store);
	return cli_error("boot: no '%s'; expected start, stop or last-words", what);
}
