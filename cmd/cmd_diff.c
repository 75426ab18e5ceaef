/* SPDX-License-Identifier: GPL-2.0-or-later */
/* pcisnap diff: classify every change between two snapshots; exit 1 gates a rollout. */
#include <pthread.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cmd.h"
#include "snap/diff.h"
#include "snap/policy.h"
#include "snap/preflight.h"
#include "snap/store.h"

static const char usage_text[] =
    "usage: pcisnap diff OLD NEW [--format text|json|markdown] [--fail-on CLASSES]\n"
    "                    [--allow-inconclusive] [--store DIR]\n"
    "\n"
    "Match devices by identity (ids and upstream ports, not bus numbers), compare IOMMU\n"
    "groups by membership, and classify every change as isolation_loss,\n"
    "grouping_regression, binding_regression or harmless.\n"
    "\n"
    "  --fail-on CLASSES  comma-separated classes that make the exit status 1 (default:\n"
    "                     isolation_loss,grouping_regression,binding_regression; 'none');\n"
    "                     'faults' adds the faults section (hardware faults on a path)\n"
    "  --allow-inconclusive  exit 0, not 3, when NEW lacks evidence OLD had\n"
    "  --store DIR        store in which OLD and NEW name revisions (HOST, HOST~N,\n"
    "                     HOST@LABEL, commit id) when they are not files\n"
    "\n"
    "Exit status: 0 nothing in --fail-on, 1 a change in --fail-on, 2 error, 3 inconclusive:\n"
    "no regression found, but a fact that decides one (ACS, FLR, group of a passthrough\n"
    "device or a port on its path, interrupt remapping) is unknown in NEW (e.g. no root).\n";

struct diff_opts {
	unsigned fail_on;       /* --fail-on */
	int fail_on_faults;     /* --fail-on ...,faults: faults make the exit status 1 */
	int allow_inconclusive; /* --allow-inconclusive */
};

static int diff_option(int key, const char *arg, void *payload)
{
	struct diff_opts *o = payload;
	snap_error err = {0};

	if (key == 'I') {
		o->allow_inconclusive = 1;
		return CLI_OK;
	}
	/* 'F': classes, and "faults" (the faults section, not a class) */
	{
		char *rest = strdup(arg), *save = NULL, *tok;
		if (!rest)
			return cli_error("out of memory");
		o->fail_on_faults = 0;
		{
			char classes[1024] = "";

			for (tok = strtok_r(rest, ", ", &save); tok;
			     tok = strtok_r(NULL, ", ", &save)) {
				if (!strcmp(tok, "faults")) {
					o->fail_on_faults = 1;
					continue;
				}
				if (strlen(classes) + strlen(tok) + 2 < sizeof(classes))
					snprintf(classes + strlen(classes),
					         sizeof(classes) - strlen(classes), "%s%s",
					         *classes ? "," : "", tok);
			}
			free(rest);
			if (!*classes && o->fail_on_faults) {
				o->fail_on = 0; /* "faults" alone: no class */
				return CLI_OK;
			}
			if (snap_class_parse_list(&o->fail_on, *classes ? classes : arg, &err) < 0)
				return cli_snap_error(&err);
		}
	}
	return CLI_OK;
}

/* One operand loaded on a thread of its own: parsing is most of a diff's time, and two
 * snapshots parse side by side on two cores. */
struct load_job {
	snap_snapshot *s;
	const char *spec, *store;
	enum cli_spec kind;
	int rc;
};

static void *load_job_run(void *p)
{
	struct load_job *j = p;

	j->rc = cli_load_snapshot_as(&j->s, j->spec, j->store, j->kind);
	return NULL;
}

/* OLD is a stored snapshot with a prediction kept (preflight --record): say whether it held */
static void annotate_prediction(char **text, int format, const char *rev, const char *store,
                                const snap_snapshot *after)
{
	snap_store *st = NULL;
	snap_error err = {0};
	char *pred = NULL;

	if (cli_open_store(&st, store, 0) != CLI_OK)
		return;
	if (snap_store_note_get(&pred, st, rev, "preflight", &err) == 0 &&
	    snap_preflight_annotate(text, format, NULL, pred, after, &err) < 0)
		fprintf(stderr, "pcisnap: warning: the prediction kept with %s: %s\n", rev,
		        err.message);
	free(pred);
	cli_store_close(st);
}

int cmd_diff(int argc, char **argv)
{
	static const char *const formats[] = {"text", "json", "markdown", NULL};
	static const struct option extra[] = {
	    {"fail-on", required_argument, NULL, 'F'},
	    {"allow-inconclusive", no_argument, NULL, 'I'},
	    {NULL, 0, NULL, 0},
	};
	struct diff_opts o = {SNAP_CLASS_REGRESSIONS, 0, 0};
	struct cli_args args = {.usage = usage_text,
	                        .cmd = "diff",
	                        .formats = formats,
	                        .extra = extra,
	                        .on_option = diff_option,
	                        .payload = &o};
	snap_snapshot *a = NULL, *b = NULL;
	snap_diff *d = NULL;
	snap_error err = {0};
	char *text = NULL;
	int rc;

	if ((rc = cli_parse_args(&args, argc, argv)) != CLI_OK)
		return rc == CLI_DONE ? CLI_OK : rc;
	if (args.operands != 2)
		return cli_error("diff: expected OLD and NEW; see 'pcisnap diff --help'");
	{
		struct load_job ja = {NULL, argv[args.first], args.store,
		                      cli_operand_spec(&args, 0), CLI_OK};
		struct load_job jb = {NULL, argv[args.first + 1], args.store,
		                      cli_operand_spec(&args, 1), CLI_OK};
		pthread_t t;
		bool threaded = strcmp(ja.spec, "-") && strcmp(jb.spec, "-") &&
		                snap_thread_start(&t, load_job_run, &jb) == 0;

		load_job_run(&ja);
		if (threaded)
			pthread_join(t, NULL);
		else if (ja.rc == CLI_OK)
			load_job_run(&jb);
		a = ja.s;
		b = jb.s;
		/* OLD's error first, as when they were loaded one after the other */
		if ((rc = ja.rc != CLI_OK ? ja.rc : jb.rc) != CLI_OK)
			goto done;
	}
	{
		char why[700];

		/* a canary given as OLD reads its regressions as repairs: say so, run as asked */
		if (snap_diff_order_suspect(why, sizeof(why), a, b))
			fprintf(stderr,
			        "pcisnap: warning: %s; did you mean 'pcisnap diff %s %s'?\n", why,
			        argv[args.first + 1], argv[args.first]);
	}
	if (snap_diff_compute(&d, a, b, &err) < 0) {
		rc = cli_snap_error(&err);
		goto done;
	}
	{
		snap_policy *policy = cli_policy(args.store); /* accepted deviations */

		snap_diff_accept(d, policy, b);
		snap_policy_free(policy);
	}
	if (snap_diff_render(&text, d, (snap_diff_format)args.format, &err) < 0) {
		rc = cli_snap_error(&err);
		goto done;
	}
	if (cli_spec_is_revision(argv[args.first], cli_operand_spec(&args, 0)))
		annotate_prediction(&text, args.format, argv[args.first], args.store, b);
	if ((rc = args.format == SNAP_DIFF_TEXT ? cli_write_report(text)
	                                        : cli_write_stdout(text)) == CLI_OK) {
		if ((snap_diff_classes(d) & o.fail_on) || (o.fail_on_faults && snap_diff_faults(d)))
			rc = CLI_REGRESSION; /* a regression found wins over inconclusive */
		else if (!snap_diff_conclusive(d) && !o.allow_inconclusive)
			rc = CLI_INCONCLUSIVE;
	}
done:
	free(text);
	snap_diff_free(d);
	snap_snapshot_free(a);
	snap_snapshot_free(b);
	return rc;
}
