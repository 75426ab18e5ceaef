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
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include <git2.h>
#include <nettle/md5.h>

#include "analyse/analyse.h"
#include "analyse/check.h"
#include "render/render.h"
#include "snap/diff.h"
#include "snap/fleet.h"
#include "snap/policy.h"
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

/* src into a field of n bytes, cut to fit (what snprintf("%s") did, at a tenth of its cost:
 * eight per host, 10,000 hosts) */
static void set_field(char *dst, size_t n, const char *src)
{
	size_t len = strnlen(src, n - 1);

	memcpy(dst, src, len);
	dst[len] = '\0';
}

/*
 * The rows of earlier runs, keyed by tip commit: <git dir>/pcisnap/fleet.cache, one line per
 * host, "oid time model check kernel bios inventory config host" separated by tabs. A commit
 * never changes, so an entry whose oid is the host's tip is that host's row as the commit
 * gives it, however old the file: it is never stale, only short of new tips. It is a cache,
 * not store content: never pushed, rebuilt when absent or unreadable, written only when a run
 * read a commit it lacked (to a temporary file renamed over it, so readers see one whole).
 * Its last line is the MD5 of the lines before it: a damaged file is not read at all.
 */
#define FLEET_CACHE_MAGIC "pcisnap-fleet-cache 2\n" /* 2: check is passthrough health */

static char *cache_path(snap_store *st)
{
	const char *gitdir = git_repository_path(st->repo);
	size_t len = strlen(gitdir) + sizeof("pcisnap/fleet.cache");
	char *p = malloc(len);

	if (p)
		snprintf(p, len, "%spcisnap/fleet.cache", gitdir);
	return p;
}

/* fields[9] of one line, split in place; false when it is not a well-formed entry */
static bool cache_fields(char *line, char *fields[9])
{
	for (int i = 0; i < 9; i++) {
		fields[i] = line;
		line += strcspn(line, "\t");
		if ((i < 8) != (*line == '\t'))
			return false;
		*line++ = '\0';
	}
	return strlen(fields[0]) == GIT_OID_HEXSZ && *fields[8];
}

/*
 * "md5 HEX\n" of data[0, len): a check against damage (a cut or flipped file), not against an
 * adversary, who could as well write the store beside it; MD5 reads 10,000 rows in a fifth of
 * SHA-256's instructions.
 */
static void cache_sum(char line[80], const char *data, size_t len)
{
	struct md5_ctx ctx;
	uint8_t d[MD5_DIGEST_SIZE];
	int k = snprintf(line, 80, "md5 ");

	md5_init(&ctx);
	md5_update(&ctx, len, (const uint8_t *)data);
	md5_digest(&ctx, sizeof(d), d);
	for (size_t i = 0; i < sizeof(d); i++)
		k += snprintf(line + k, 80 - (size_t)k, "%02x", d[i]);
	snprintf(line + k, 80 - (size_t)k, "\n");
}

/* the last line is the sum of the rest; *len is cut to the rest */
static bool cache_sum_ok(const char *data, size_t *len)
{
	char want[80];
	const char *last;

	if (*len < 2 || data[*len - 1] != '\n')
		return false;
	for (last = data + *len - 2; last > data && last[-1] != '\n'; last--)
		;
	cache_sum(want, data, (size_t)(last - data));
	if (strlen(want) != (size_t)(data + *len - last) || memcmp(want, last, strlen(want)))
		return false;
	*len = (size_t)(last - data);
	return true;
}

/* The cache as read: its lines split in place, and host -> line index. */
struct cache {
	char *data;        /* owned: the file */
	char *(*lines)[9]; /* owned: each line's fields, pointing into data */
	size_t n;          /* lines */
	json_t *byhost;    /* owned: host -> index into lines */
};

static void cache_free(struct cache *k)
{
	free(k->data);
	free(k->lines);
	json_decref(k->byhost);
}

/* The cache of earlier runs; empty when there is none or it is damaged. */
static void cache_load(struct cache *k, snap_store *st)
{
	char *path = cache_path(st), *line, *next;
	size_t len = 0, cap = 0;
	FILE *f = path ? fopen(path, "re") : NULL;

	memset(k, 0, sizeof(*k));
	k->byhost = json_object();
	free(path);
	if (!f)
		return;
	{
		snap_buf b = SNAP_BUF_INIT;
		char chunk[65536];
		size_t got;

		while ((got = fread(chunk, 1, sizeof(chunk), f)) > 0)
			snap_buf__put(&b, chunk, got);
		if (!ferror(f) && (k->data = snap_buf__detach(&b)))
			len = strlen(k->data);
		snap_buf__release(&b);
		fclose(f);
	}
	if (!k->data || len < strlen(FLEET_CACHE_MAGIC) ||
	    memcmp(k->data, FLEET_CACHE_MAGIC, strlen(FLEET_CACHE_MAGIC)) ||
	    !cache_sum_ok(k->data, &len))
		return;
	k->data[len] = '\0';
	for (line = k->data + strlen(FLEET_CACHE_MAGIC); line < k->data + len && *line;
	     line = next) {
		char *nl = memchr(line, '\n', (size_t)(k->data + len - line));

		if (!nl)
			break; /* a cut last line: not an entry */
		*nl = '\0';
		next = nl + 1;
		if (k->n == cap) {
			char *(*nv)[9] =
			    realloc(k->lines, (cap = cap ? cap * 2 : 256) * sizeof(*nv));

			if (!nv)
				break;
			k->lines = nv;
		}
		if (!cache_fields(line, k->lines[k->n]))
			continue;
		json_object_set_new(k->byhost, k->lines[k->n][8], json_integer((json_int_t)k->n));
		k->n++;
	}
}

/* the row of r->host from the cache, when the cache has its tip */
static bool cache_row(const struct cache *k, struct row *r)
{
	const json_t *i = json_object_get(k->byhost, r->host);
	char oid[GIT_OID_HEXSZ + 1], *const *e, *end;
	long long t;

	if (!i)
		return false;
	e = k->lines[json_integer_value(i)];
	git_oid_tostr(oid, sizeof(oid), &r->tip);
	if (strcmp(e[0], oid))
		return false;
	t = strtoll(e[1], &end, 10);
	if (*end)
		return false;
	r->time = (int64_t)t;
	set_field(r->model, sizeof(r->model), e[2]);
	set_field(r->check, sizeof(r->check), e[3]);
	set_field(r->kernel, sizeof(r->kernel), e[4]);
	set_field(r->bios, sizeof(r->bios), e[5]);
	set_field(r->inv, sizeof(r->inv), e[6]);
	set_field(r->cfg, sizeof(r->cfg), e[7]);
	return *r->inv && *r->cfg && *r->check;
}

static bool cacheable(const char *v)
{
	return !strpbrk(v, "\t\n");
}

/* Best effort: a store the user may not write to is still read, only more slowly next time. */
static void cache_store(snap_store *st, const struct row *rows, size_t n)
{
	char *path = cache_path(st), *tmp = NULL;
	snap_buf b = SNAP_BUF_INIT;
	int fd = -1;

	if (!path)
		return;
	snap_buf__puts(&b, FLEET_CACHE_MAGIC);
	for (size_t i = 0; i < n; i++) {
		const struct row *r = &rows[i];
		char oid[GIT_OID_HEXSZ + 1];

		if (!cacheable(r->model) || !cacheable(r->kernel) || !cacheable(r->bios) ||
		    !cacheable(r->check) || !cacheable(r->host))
			continue;
		git_oid_tostr(oid, sizeof(oid), &r->tip);
		snap_buf__printf(&b, "%s\t%lld\t%s\t%s\t%s\t%s\t%s\t%s\t%s\n", oid,
		                 (long long)r->time, r->model, r->check, r->kernel, r->bios, r->inv,
		                 r->cfg, r->host);
	}
	{
		char *slash = strrchr(path, '/'), sum[80];

		cache_sum(sum, b.ptr ? b.ptr : "", b.len);
		snap_buf__puts(&b, sum);
		*slash = '\0';
		(void)mkdir(path, 0755);
		*slash = '/';
	}
	if (!b.oom && (tmp = malloc(strlen(path) + 8))) {
		sprintf(tmp, "%s.XXXXXX", path);
		if ((fd = mkstemp(tmp)) >= 0) {
			bool ok = write(fd, b.ptr, b.len) == (ssize_t)b.len;

			ok = close(fd) == 0 && ok;
			if (!ok || rename(tmp, path) < 0)
				unlink(tmp);
		}
	}
	free(tmp);
	free(path);
	snap_buf__release(&b);
}

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

/* {class: count}, the classes in sorted order */
static json_t *counts_object(const size_t counts[SNAP_CLASS_COUNT])
{
	json_t *c = json_object();
	bool done[SNAP_CLASS_COUNT] = {false};

	for (int n = 0; n < SNAP_CLASS_COUNT; n++) {
		int next = -1;

		for (int k = 0; k < SNAP_CLASS_COUNT; k++)
			if (!done[k] && (next < 0 || strcmp(snap_class_name((snap_class)k),
			                                    snap_class_name((snap_class)next)) < 0))
				next = k;
		done[next] = true;
		json_object_set_new(c, snap_class_name((snap_class)next),
		                    json_integer((json_int_t)counts[next]));
	}
	return c;
}

/* Has the policy an entry for this host or model? */
static bool policy_names(const snap_policy *p, const char *host, const char *model)
{
	const json_t *e;
	size_t i;

	json_array_foreach (json_object_get(snap_policy__doc(p), "accept"), i, e)
		if (!strcmp(snap_json__str(e, "match"),
		            !strcmp(snap_json__str(e, "scope"), "host") ? host : model))
			return true;
	return false;
}

/* The row of host hn of the listing: from the cache, else from its tip commit's message, and
 * what an older pcisnap did not record there derived from the snapshot (never guessed). */
static int host_row(struct row *r, snap_store *st, const json_t *hn, const struct cache *cache,
                    size_t *missed, snap_error *err)
{
	const char *name = snap_json__str(hn, "k");
	char ref[300];
	git_commit *c = NULL;

	memset(r, 0, sizeof(*r));
	set_field(r->host, sizeof(r->host), name);
	snprintf(ref, sizeof(ref), "refs/heads/%s", name);
	/* the tip the listing read, else (a symbolic ref) the ref resolved */
	if (git_oid_fromstr(&r->tip, snap_json__str(hn, "tip")) < 0 &&
	    git_reference_name_to_id(&r->tip, st->repo, ref) < 0)
		return snap_error__set(err, SNAP_ERROR, "corrupt store: cannot read host '%s'",
		                       r->host);
	if (cache_row(cache, r))
		return 0;
	(*missed)++;
	if (git_commit_lookup(&c, st->repo, &r->tip) < 0)
		return snap_error__set(err, SNAP_ERROR, "corrupt store: cannot read host '%s'",
		                       r->host);
	snap_store__msg_field(r->model, sizeof(r->model), git_commit_message(c), "model");
	snap_store__msg_field(r->check, sizeof(r->check), git_commit_message(c), "passthrough");
	snap_store__msg_field(r->kernel, sizeof(r->kernel), git_commit_message(c), "kernel");
	snap_store__msg_field(r->bios, sizeof(r->bios), git_commit_message(c), "bios");
	snap_store__msg_field(r->inv, sizeof(r->inv), git_commit_message(c), "inventory");
	snap_store__msg_field(r->cfg, sizeof(r->cfg), git_commit_message(c), "config");
	r->time = (int64_t)git_commit_time(c);
	git_commit_free(c);
	if (!*r->inv || !*r->cfg || !*r->check) {
		/* stored by an older pcisnap, before fingerprints or the passthrough
		 * verdict were recorded: derived here, never guessed */
		snap_snapshot *s = NULL;
		snap_check *chk = NULL;

		int error = snap_store__load_commit(&s, st, &r->tip, err);

		if (error < 0)
			return error;
		if (!*r->inv || !*r->cfg)
			snap_fingerprint__compute(r->inv, r->cfg, s);
		if (!*r->check && snap_check_run(&chk, s, NULL) == 0)
			set_field(r->check, sizeof(r->check), snap_check__passthrough(chk));
		snap_check_free(chk);
		snap_snapshot_free(s);
	}
	if (!*r->check)
		snprintf(r->check, sizeof(r->check), "?");
	return 0;
}

/* One host of the document, its keys in sorted order: written as it is, with no sort
 * (util/json.c); set one by one: json_pack() would parse its format 10,000 times. */
static json_t *host_json(const struct row *r, const char *baseline, const char *next, int64_t now)
{
	json_t *h = json_object();

	json_object_set_new_nocheck(h, "age_seconds", json_integer((json_int_t)(now - r->time)));
	json_object_set_new_nocheck(h, "baseline", snap_json__string(baseline));
	json_object_set_new_nocheck(h, "bios", snap_json__string(r->bios));
	json_object_set_new_nocheck(h, "check", snap_json__string(r->check));
	json_object_set_new_nocheck(h, "config", snap_json__string(r->cfg));
	json_object_set_new_nocheck(h, "host", snap_json__string(r->host));
	json_object_set_new_nocheck(h, "inventory", snap_json__string(r->inv));
	json_object_set_new_nocheck(h, "is_baseline", json_boolean(r->baseline));
	json_object_set_new_nocheck(h, "kernel", snap_json__string(r->kernel));
	json_object_set_new_nocheck(h, "model", snap_json__string(r->model));
	json_object_set_new_nocheck(h, "next", *next ? snap_json__string(next) : json_null());
	json_object_set_new_nocheck(h, "verdict", snap_json__string(r->verdict));
	return h;
}

/* Whether a host's FAIL is one the policy accepts: the check again, with it. */
static int recheck(struct row *r, snap_store *st, const snap_policy *policy, snap_error *err)
{
	snap_snapshot *s = NULL;
	snap_check *chk = NULL;
	int error;

	if ((error = snap_store__load_commit(&s, st, &r->tip, err)) < 0)
		return error;
	if (snap_check_run(&chk, s, NULL) == 0 && snap_check_accept(chk, policy, s) >= 0)
		set_field(r->check, sizeof(r->check), snap_check__passthrough(chk));
	snap_check_free(chk);
	snap_snapshot_free(s);
	return 0;
}

/* The verdict of host r against its model's baseline snapshot (loaded at the first need). */
static int against_baseline(struct row *r, snap_store *st, snap_snapshot **base,
                            const git_oid *base_tip, const snap_policy *policy, snap_error *err)
{
	snap_snapshot *s = NULL;
	snap_diff *d = NULL;
	int error;

	if (!*base && (error = snap_store__load_commit(base, st, base_tip, err)) < 0)
		return error;
	if ((error = snap_store__load_commit(&s, st, &r->tip, err)) < 0 ||
	    (error = snap_diff_compute(&d, *base, s, err)) < 0) {
		snap_snapshot_free(s);
		return error;
	}
	snap_diff_accept(d, policy, s); /* accepted deviations fail nothing */
	r->verdict = snap_class_name(snap_diff_verdict(d));
	snap_diff_free(d);
	snap_snapshot_free(s);
	return 0;
}

/* The baseline of rows[lo..hi) (one model and inventory): the configuration most hosts have;
 * on a tie the better check result, then the smaller fingerprint. Counted once per
 * configuration (a model of n hosts costs n, not n^2). */
static size_t baseline_of(const struct row *rows, size_t lo, size_t hi)
{
	json_t *per_cfg = json_object();
	const char *maj = NULL;
	size_t best = 0, bi = lo;

	for (size_t i = lo; i < hi; i++) {
		json_t *v = json_object_get(per_cfg, rows[i].cfg);

		json_object_set_new(per_cfg, rows[i].cfg,
		                    json_integer(v ? json_integer_value(v) + 1 : 1));
	}
	for (size_t i = lo; i < hi; i++) {
		size_t c = (size_t)json_integer_value(json_object_get(per_cfg, rows[i].cfg));

		if (c > best ||
		    (c == best && (check_rank(rows[i].check) < check_rank(rows[bi].check) ||
		                   (check_rank(rows[i].check) == check_rank(rows[bi].check) &&
		                    strcmp(rows[i].cfg, maj) < 0)))) {
			best = c;
			maj = rows[i].cfg;
			bi = i;
		}
	}
	json_decref(per_cfg);
	return bi;
}

/* Every host of one model (rows[lo..hi)) against its baseline: its verdict, its check with the
 * policy, its entry in hosts, the counts; the model's entry in models. */
static int judge_model(struct row *rows, size_t lo, size_t hi, snap_store *st,
                       const snap_policy *policy, json_t *doc, size_t counts[SNAP_CLASS_COUNT],
                       size_t *bad, int64_t now, snap_error *err)
{
	size_t bi = baseline_of(rows, lo, hi), mcounts[SNAP_CLASS_COUNT] = {0};
	snap_snapshot *base = NULL;
	int error = 0;

	rows[bi].baseline = true;
	for (size_t i = lo; i < hi && !error; i++) {
		struct row *r = &rows[i];
		char next[600] = "";

		if (!strcmp(r->cfg, rows[bi].cfg))
			r->verdict = snap_class_name(SNAP_CLASS_HARMLESS);
		else if ((error = against_baseline(r, st, &base, &rows[bi].tip, policy, err)) < 0)
			break;
		for (int k = 0; k < SNAP_CLASS_COUNT; k++)
			if (!strcmp(r->verdict, snap_class_name((snap_class)k))) {
				mcounts[k]++;
				counts[k]++;
			}
		if (!strcmp(r->check, "FAIL") && policy_names(policy, r->host, r->model) &&
		    (error = recheck(r, st, policy, err)) < 0)
			break;
		if (strcmp(r->verdict, "harmless") || !strcmp(r->check, "FAIL"))
			(*bad)++;
		/* what to run next: the diff against the baseline, or the check */
		if (strcmp(r->verdict, "harmless"))
			snprintf(next, sizeof(next), "pcisnap diff %s %s", rows[bi].host, r->host);
		else if (!strcmp(r->check, "FAIL"))
			snprintf(next, sizeof(next), "pcisnap check %s", r->host);
		json_array_append_new(json_object_get(doc, "hosts"),
		                      host_json(r, rows[bi].host, next, now));
	}
	snap_snapshot_free(base);
	if (!error)
		json_array_append_new(json_object_get(doc, "models"),
		                      json_pack("{s:s, s:s, s:o, s:I, s:s, s:s}", "baseline",
		                                rows[bi].host, "config", rows[bi].cfg, "counts",
		                                counts_object(mcounts), "hosts",
		                                (json_int_t)(hi - lo), "inventory", rows[lo].inv,
		                                "model", rows[lo].model));
	return error;
}

int snap_store_fleet(char **out, size_t *failing, snap_store *st, snap_fleet_format format,
                     int64_t now, snap_error *err)
{
	json_t *names = NULL, *hn;
	struct row *rows = NULL;
	size_t n = 0, cap = 0, bad = 0, counts[SNAP_CLASS_COUNT] = {0}, hi_;
	snap_buf b = SNAP_BUF_INIT;
	json_t *doc = NULL;
	struct cache cache;
	snap_policy *policy = NULL;
	size_t missed = 0;
	int error = 0;
	bool arena;

	SNAP_ASSERT_ARG(out && st);
	/* the listing and the document die together, at the end: cut from chunks (util/jarena.c)
	 * until the document is written, whose text the caller frees */
	snap_json__arena_begin();
	arena = true;
	if ((error = snap_store__host_names(&names, st, err)) < 0) {
		snap_json__arena_end();
		return error;
	}
	cache_load(&cache, st);
	{
		char *text = NULL;

		/* the accepted deviations: a damaged policy accepts nothing */
		if (snap_store_policy_get(&text, st, NULL) == 0 && text &&
		    snap_policy_parse(&policy, text, strlen(text), NULL) < 0)
			policy = NULL;
		free(text);
	}
	json_array_foreach (names, hi_, hn) {
		if (n == cap) {
			struct row *nr = realloc(rows, (cap = cap ? cap * 2 : 64) * sizeof(*nr));

			if (!nr) {
				error = snap_error__set(err, SNAP_ENOMEM, "out of memory");
				goto done;
			}
			rows = nr;
		}
		if ((error = host_row(&rows[n], st, hn, &cache, &missed, err)) < 0)
			goto done;
		n++;
	}
	if (missed || cache.n != n)
		cache_store(st, rows, n);
	if (n)
		qsort(rows, n, sizeof(*rows), cmp_row);
	/* keys in sorted order (the counts are set at the end, in their place) */
	doc = json_pack("{s:{}, s:i, s:[], s:[], s:s}", "counts", "failing_hosts", 0, "hosts",
	                "models", "schema", "pcisnap.fleet/1");
	/* per model and inventory: the majority configuration is the baseline */
	for (size_t lo = 0, hi; lo < n; lo = hi) {
		for (hi = lo; hi < n && !strcmp(rows[hi].model, rows[lo].model) &&
		              !strcmp(rows[hi].inv, rows[lo].inv);
		     hi++)
			;
		if ((error = judge_model(rows, lo, hi, st, policy, doc, counts, &bad, now, err)) <
		    0)
			goto done;
	}
	json_object_set_new(doc, "counts", counts_object(counts));
	json_object_set_new(doc, "failing_hosts", json_integer((json_int_t)bad));
	worst_first(doc);
	snap_json__arena_end();
	arena = false;
	if (format == SNAP_FLEET_JSON) {
		/* the hosts (nearly all of it) written on two threads, the same text */
		error = snap_json__dump_split(out, doc, "hosts", err);
		goto done;
	}
	snap_render__fleet(&b, doc, format == SNAP_FLEET_MARKDOWN);
	if (!(*out = snap_buf__detach(&b)))
		error = snap_error__set(err, SNAP_ENOMEM, "out of memory");
done:
	if (arena)
		snap_json__arena_end();
	if (!error && failing)
		*failing = bad;
	snap_buf__release(&b);
	json_decref(doc);
	json_decref(names);
	cache_free(&cache);
	snap_policy_free(policy);
	free(rows);
	return error;
}
