/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * `pcisnap fleet`: every host of the store against the majority configuration of its hardware
 * model, so a canary that drifted from its peers stands out. Scales by reading commit messages
 * (model, check, inventory and config fingerprints recorded at commit time) and loading
 * snapshots only for hosts that differ from their baseline, one at a time.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <git2.h>
#include <nettle/sha2.h>

#include "analyse/analyse.h"
#include "render/render.h"
#include "snap/diff.h"
#include "snap/fleet.h"
#include "store/store_internal.h"

/* One host's row. */
struct row {
	char host[256];      /* branch name */
	char model[300];     /* "board_vendor board_name / product_name" */
	char inv[17];        /* inventory fingerprint */
	char cfg[17];        /* config fingerprint */
	char check[8];       /* PASS, WARN, FAIL or ? */
	char kernel[128];    /* kernel release, from the commit */
	char bios[256];      /* "vendor version (date)", from the commit */
	git_oid tip;         /* latest snapshot */
	int64_t time;        /* its collection time */
	const char *verdict; /* against the baseline; static string */
	bool baseline;       /* this host is its model's baseline */
	size_t group;        /* index of its model group */
};

static int check_rank(const char *check)
{
	return !strcmp(check, "PASS") ? 0 : !strcmp(check, "WARN") ? 1 : 2;
}

static int cmp_row(const void *a, const void *b)
{
	const struct row *x = a, *y = b;
	int c = strcmp(x->model, y->model);

	if (!c)
		c = strcmp(x->inv, y->inv);
	return c ? c : strcmp(x->host, y->host);
}

/* How bad a host is: its verdict against the baseline first, then its check. */
static int host_rank(const json_t *h)
{
	int v = 0;

	for (int k = 0; k < SNAP_CLASS_COUNT; k++)
		if (!strcmp(snap_json__str(h, "verdict"), snap_class_name((snap_class)k)))
			v = k;
	return v * 4 + check_rank(snap_json__str(h, "check"));
}

static void model_key(char *buf, size_t n, const json_t *o)
{
	snprintf(buf, n, "%s\n%s", snap_json__str(o, "model"), snap_json__str(o, "inventory"));
}

/* models by their worst host (the ranks, model key -> rank, computed once), then by name */
static int cmp_worst_model(const void *a, const void *b, void *ranks)
{
	const json_t *x = *(json_t *const *)a, *y = *(json_t *const *)b;
	char kx[700], ky[700];
	int d;

	model_key(kx, sizeof(kx), x);
	model_key(ky, sizeof(ky), y);
	d = (int)(json_integer_value(json_object_get(ranks, ky)) -
	          json_integer_value(json_object_get(ranks, kx)));
	if (d)
		return d;
	if ((d = strcmp(snap_json__str(x, "model"), snap_json__str(y, "model"))))
		return d;
	return strcmp(snap_json__str(x, "inventory"), snap_json__str(y, "inventory"));
}

/* Sort a JSON array of objects with cmp. */
static void sort_array(json_t *arr, int (*cmp)(const void *, const void *, void *), void *arg)
{
	size_t n = json_array_size(arr), i;
	json_t **v = n ? malloc(n * sizeof(*v)) : NULL;

	if (!v)
		return; /* out of memory: left in name order */
	for (i = 0; i < n; i++)
		v[i] = json_incref(json_array_get(arr, i));
	qsort_r(v, n, sizeof(*v), cmp, arg);
	json_array_clear(arr);
	for (i = 0; i < n; i++)
		json_array_append_new(arr, v[i]);
	free(v);
}

/* a host with its rank, computed once, not at each of the sort's n log n comparisons */
struct ranked {
	int rank;
	const char *host;
	json_t *h;
};

static int cmp_ranked(const void *a, const void *b)
{
	const struct ranked *x = a, *y = b;
	int d = y->rank - x->rank;

	return d ? d : strcmp(x->host, y->host);
}

static void sort_hosts(json_t *arr)
{
	size_t n = json_array_size(arr), i;
	struct ranked *v = n ? malloc(n * sizeof(*v)) : NULL;

	if (!v)
		return; /* out of memory: left in name order */
	for (i = 0; i < n; i++) {
		v[i].h = json_incref(json_array_get(arr, i));
		v[i].rank = host_rank(v[i].h);
		v[i].host = snap_json__str(v[i].h, "host");
	}
	qsort(v, n, sizeof(*v), cmp_ranked);
	json_array_clear(arr);
	for (i = 0; i < n; i++)
		json_array_append_new(arr, v[i].h);
	free(v);
}

/* Worst hosts first, and the models holding them. */
static void worst_first(json_t *doc)
{
	json_t *ranks = json_object(), *h;
	size_t i;

	sort_hosts(json_object_get(doc, "hosts"));
	/* hosts are worst first now: a model's first host gives its rank */
	json_array_foreach (json_object_get(doc, "hosts"), i, h) {
		char key[700];

		model_key(key, sizeof(key), h);
		if (!json_object_get(ranks, key))
			json_object_set_new(ranks, key, json_integer(host_rank(h)));
	}
	sort_array(json_object_get(doc, "models"), cmp_worst_model, ranks);
	json_decref(ranks);
}

static void age(char *buf, size_t n, int64_t secs)
{
	if (secs < 0)
		secs = 0;
	if (secs < 3600)
		snprintf(buf, n, "%lldm", (long long)(secs / 60));
	else if (secs < 172800)
		snprintf(buf, n, "%lldh", (long long)(secs / 3600));
	else
		snprintf(buf, n, "%lldd", (long long)(secs / 86400));
}

int snap_store_fleet(char **out, size_t *failing, snap_store *st, snap_fleet_format format,
                     int64_t now, snap_error *err)
{
	json_t *names = NULL, *hn;
	struct row *rows = NULL;
	size_t n = 0, cap = 0, bad = 0, counts[SNAP_CLASS_COUNT] = {0}, hi_;
	snap_buf b = SNAP_BUF_INIT;
	json_t *doc = NULL;
	int error = 0;

	SNAP_ASSERT_ARG(out && st);
	if ((error = snap_store__host_names(&names, st, err)) < 0)
		return error;
	json_array_foreach (names, hi_, hn) {
		const char *name = snap_json__str(hn, "k");
		char ref[300];
		git_commit *c = NULL;
		struct row *r;

		if (n == cap) {
			struct row *nr = realloc(rows, (cap = cap ? cap * 2 : 64) * sizeof(*nr));

			if (!nr) {
				error = snap_error__set(err, SNAP_ENOMEM, "out of memory");
				goto done;
			}
			rows = nr;
		}
		r = &rows[n];
		memset(r, 0, sizeof(*r));
		snprintf(r->host, sizeof(r->host), "%s", name);
		snprintf(ref, sizeof(ref), "refs/heads/%s", name);
		/* the tip the listing read, else (a symbolic ref) the ref resolved */
		if ((git_oid_fromstr(&r->tip, snap_json__str(hn, "tip")) < 0 &&
		     git_reference_name_to_id(&r->tip, st->repo, ref) < 0) ||
		    git_commit_lookup(&c, st->repo, &r->tip) < 0) {
			error = snap_error__set(err, SNAP_ERROR,
			                        "corrupt store: cannot read host '%s'", r->host);
			goto done;
		}
		snap_store__msg_field(r->model, sizeof(r->model), git_commit_message(c), "model");
		snap_store__msg_field(r->check, sizeof(r->check), git_commit_message(c), "check");
		snap_store__msg_field(r->kernel, sizeof(r->kernel), git_commit_message(c),
		                      "kernel");
		snap_store__msg_field(r->bios, sizeof(r->bios), git_commit_message(c), "bios");
		snap_store__msg_field(r->inv, sizeof(r->inv), git_commit_message(c), "inventory");
		snap_store__msg_field(r->cfg, sizeof(r->cfg), git_commit_message(c), "config");
		r->time = (int64_t)git_commit_time(c);
		git_commit_free(c);
		if (!*r->inv || !*r->cfg) { /* stored before fingerprints existed: compute them */
			snap_snapshot *s = NULL;

			if ((error = snap_store__load_commit(&s, st, &r->tip, err)) < 0)
				goto done;
			snap_fingerprint__compute(r->inv, r->cfg, s);
			snap_snapshot_free(s);
		}
		if (!*r->check)
			snprintf(r->check, sizeof(r->check), "?");
		n++;
	}
	if (n)
		qsort(rows, n, sizeof(*rows), cmp_row);
	doc = json_pack("{s:s, s:[], s:[]}", "schema", "pcisnap.fleet/1", "models", "hosts");
	/* per model: the majority configuration is the baseline */
	for (size_t lo = 0, hi; lo < n; lo = hi) {
		const char *maj = NULL;
		size_t best = 0, bi = lo, mcounts[SNAP_CLASS_COUNT] = {0};
		snap_snapshot *base = NULL;
		json_t *model;

		for (hi = lo; hi < n && !strcmp(rows[hi].model, rows[lo].model) &&
		              !strcmp(rows[hi].inv, rows[lo].inv);
		     hi++)
			;
		/* hosts per configuration, counted once (a model of n hosts costs n, not n^2) */
		json_t *per_cfg = json_object();

		for (size_t i = lo; i < hi; i++) {
			json_t *v = json_object_get(per_cfg, rows[i].cfg);

			json_object_set_new(per_cfg, rows[i].cfg,
			                    json_integer(v ? json_integer_value(v) + 1 : 1));
		}
		for (size_t i = lo; i < hi; i++) {
			size_t c =
			    (size_t)json_integer_value(json_object_get(per_cfg, rows[i].cfg));

			/* most hosts; on a tie the better check result, then the smaller
			 * fingerprint */
			if (c > best ||
			    (c == best &&
			     (check_rank(rows[i].check) < check_rank(rows[bi].check) ||
			      (check_rank(rows[i].check) == check_rank(rows[bi].check) &&
			       strcmp(rows[i].cfg, maj) < 0)))) {
				best = c;
				maj = rows[i].cfg;
				bi = i;
			}
		}
		json_decref(per_cfg);
		rows[bi].baseline = true;
		for (size_t i = lo; i < hi; i++) {
			struct row *r = &rows[i];

			if (!strcmp(r->cfg, maj)) {
				r->verdict = snap_class_name(SNAP_CLASS_HARMLESS);
			} else {
				snap_snapshot *s = NULL;
				snap_diff *d = NULL;

				if (!base && (error = snap_store__load_commit(
				                  &base, st, &rows[bi].tip, err)) < 0)
					goto done;
				if ((error = snap_store__load_commit(&s, st, &r->tip, err)) < 0 ||
				    (error = snap_diff_compute(&d, base, s, err)) < 0) {
					snap_snapshot_free(s);
					snap_snapshot_free(base);
					goto done;
				}
				r->verdict = snap_class_name(snap_diff_verdict(d));
				snap_diff_free(d);
				snap_snapshot_free(s);
			}
			for (int k = 0; k < SNAP_CLASS_COUNT; k++)
				if (!strcmp(r->verdict, snap_class_name((snap_class)k))) {
					mcounts[k]++;
					counts[k]++;
				}
			if (strcmp(r->verdict, "harmless") || !strcmp(r->check, "FAIL"))
				bad++;
			{
				/* what to run next: the diff against the baseline, or the check */
				char next[600] = "";

				if (strcmp(r->verdict, "harmless"))
					snprintf(next, sizeof(next), "pcisnap diff %s %s",
					         rows[bi].host, r->host);
				else if (!strcmp(r->check, "FAIL"))
					snprintf(next, sizeof(next), "pcisnap check %s", r->host);
				json_array_append_new(
				    json_object_get(doc, "hosts"),
				    json_pack(
				        "{s:s, s:s, s:s, s:s, s:s, s:I, s:s, s:s, s:b, s:s, s:s, "
				        "s:o}",
				        "host", r->host, "model", r->model, "inventory", r->inv,
				        "config", r->cfg, "baseline", rows[bi].host, "age_seconds",
				        (json_int_t)(now - r->time), "check", r->check, "verdict",
				        r->verdict, "is_baseline", r->baseline, "kernel", r->kernel,
				        "bios", r->bios, "next",
				        *next ? json_string(next) : json_null()));
			}
		}
		snap_snapshot_free(base);
		model = json_pack("{s:s, s:s, s:I, s:s, s:s, s:{}}", "model", rows[lo].model,
		                  "inventory", rows[lo].inv, "hosts", (json_int_t)(hi - lo),
		                  "baseline", rows[bi].host, "config", maj, "counts");
		for (int k = 0; k < SNAP_CLASS_COUNT; k++)
			json_object_set_new(json_object_get(model, "counts"),
			                    snap_class_name((snap_class)k),
			                    json_integer((json_int_t)mcounts[k]));
		json_array_append_new(json_object_get(doc, "models"), model);
	}
	{
		json_t *c = json_object();

		for (int k = 0; k < SNAP_CLASS_COUNT; k++)
			json_object_set_new(c, snap_class_name((snap_class)k),
			                    json_integer((json_int_t)counts[k]));
		json_object_set_new(doc, "counts", c);
		json_object_set_new(doc, "failing_hosts", json_integer((json_int_t)bad));
	}
	worst_first(doc);
	if (format == SNAP_FLEET_JSON) {
		error = snap_json__dump(out, doc, err);
		goto done;
	}
	snap_buf__printf(&b,
	                 "%spcisnap fleet: %zu host(s), %zu model(s); %zu failing (a regression "
	                 "against the model's baseline, or check FAIL)\n",
	                 format == SNAP_FLEET_MARKDOWN ? "## " : "", n,
	                 json_array_size(json_object_get(doc, "models")), bad);
	{
		size_t i, wk = 6, wb = 4;
		json_t *m, *h;

		/* the kernel and BIOS columns as wide as their widest value */
		json_array_foreach (json_object_get(doc, "hosts"), i, h) {
			if (strlen(snap_json__str(h, "kernel")) > wk)
				wk = strlen(snap_json__str(h, "kernel"));
			if (strlen(snap_json__str(h, "bios")) > wb)
				wb = strlen(snap_json__str(h, "bios"));
		}
		json_array_foreach (json_object_get(doc, "models"), i, m) {
			size_t k;

			snap_buf__printf(&b,
			                 "\n%s%s  [inventory %s]: %" JSON_INTEGER_FORMAT
			                 " host(s), baseline %s (config %s)\n",
			                 format == SNAP_FLEET_MARKDOWN ? "### " : "",
			                 snap_json__str(m, "model"), snap_json__str(m, "inventory"),
			                 json_integer_value(json_object_get(m, "hosts")),
			                 snap_json__str(m, "baseline"),
			                 snap_json__str(m, "config"));
			if (format == SNAP_FLEET_MARKDOWN)
				snap_buf__puts(&b,
				               "\n| host | age | check | kernel | BIOS | verdict "
				               "against baseline |\n"
				               "|---|---|---|---|---|---|\n");
			json_array_foreach (json_object_get(doc, "hosts"), k, h) {
				char a[32];

				if (strcmp(snap_json__str(h, "model"),
				           snap_json__str(m, "model")) ||
				    strcmp(snap_json__str(h, "inventory"),
				           snap_json__str(m, "inventory")))
					continue;
				age(a, sizeof(a),
				    json_integer_value(json_object_get(h, "age_seconds")));
				if (format == SNAP_FLEET_MARKDOWN) {
					snap_buf__printf(&b, "| %s | %s | %s | ",
					                 snap_json__str(h, "host"), a,
					                 snap_json__str(h, "check"));
					snap_render__md_cell(&b, snap_json__str(h, "kernel"));
					snap_buf__puts(&b, " | ");
					snap_render__md_cell(&b, snap_json__str(h, "bios"));
					snap_buf__printf(
					    &b, " | %s%s |\n", snap_json__str(h, "verdict"),
					    json_is_true(json_object_get(h, "is_baseline"))
					        ? " (baseline)"
					        : "");
				} else {
					snap_buf__printf(
					    &b, "  %-24s %6s  %-5s %-*s  %-*s  %s%s\n",
					    snap_json__str(h, "host"), a,
					    snap_json__str(h, "check"), (int)wk,
					    snap_json__str(h, "kernel"), (int)wb,
					    snap_json__str(h, "bios"), snap_json__str(h, "verdict"),
					    json_is_true(json_object_get(h, "is_baseline"))
					        ? " (baseline)"
					        : "");
				}
			}
		}
	}
	{
		/* the commands to run next, worst host first */
		size_t i, listed = 0;
		json_t *h;

		json_array_foreach (json_object_get(doc, "hosts"), i, h) {
			const char *next = snap_json__str(h, "next");

			if (!next)
				continue;
			if (!listed++)
				snap_buf__printf(&b, "\n%snext:\n",
				                 format == SNAP_FLEET_MARKDOWN ? "### " : "");
			snap_buf__printf(&b,
			                 format == SNAP_FLEET_MARKDOWN ? "- `%s` (%s, check %s)\n"
			                                               : "  %-44s # %s, check %s\n",
			                 next, snap_json__str(h, "verdict"),
			                 snap_json__str(h, "check"));
		}
	}
	snap_buf__puts(&b, "\nsummary:");
	for (int k = SNAP_CLASS_COUNT - 1; k >= 0; k--)
		snap_buf__printf(&b, " %s %zu%s", snap_class_name((snap_class)k), counts[k],
		                 k ? "," : "\n");
	if (!(*out = snap_buf__detach(&b)))
		error = snap_error__set(err, SNAP_ENOMEM, "out of memory");
done:
	if (!error && failing)
		*failing = bad;
	snap_buf__release(&b);
	json_decref(doc);
	json_decref(names);
	free(rows);
	return error;
}
