/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * `pcisnap canary`: an updated host against its references, always as NEW (docs/interface.md
 * "Canary comparisons"): its own snapshot from before the change, and each healthy peer of its
 * hardware model (or the peers named). One verdict, the worst of the comparisons; conclusive
 * only when every comparison is and there was at least one.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <git2.h>

#include "analyse/check.h"
#include "analyse/diff.h"
#include "snap/fleet.h"
#include "snap/policy.h"
#include "store/store_internal.h"

#define BEFORE_MAX_DEPTH 64 /* snapshots of the canary's history searched for "before" */

struct ref {
	char rev[320];     /* as the user would type it: "web-03~2", "web-07" */
	char host[256];    /* the snapshot's hostname */
	char kernel[128];  /* its kernel release */
	const char *role;  /* "before" or "peer"; static */
	const char *check; /* its own check result; static */
	char note[400];    /* why it was skipped, or what to know about it; "" when nothing */
	bool skipped;      /* not compared */
	snap_diff *d;      /* NULL when skipped */
};

struct snap_canary {
	char host[256];
	char kernel[128];
	const char *check; /* the canary's own check result; static */
	struct ref *refs;
	size_t n, cap;
	unsigned classes;
	bool conclusive;
	size_t compared;
	char note[512];      /* how "before" was chosen, or why there is none */
	snap_policy *policy; /* the store's accepted deviations, or NULL */
};

static const char *str_or(const char *s, const char *dflt)
{
	return s ? s : dflt;
}

static struct ref *ref_add(snap_canary *c, const char *rev, const char *role)
{
	struct ref *r;

	if (c->n == c->cap) {
		size_t cap = c->cap ? c->cap * 2 : 8;
		struct ref *nr = realloc(c->refs, cap * sizeof(*nr));

		if (!nr)
			return NULL;
		c->refs = nr;
		c->cap = cap;
	}
	r = &c->refs[c->n++];
	memset(r, 0, sizeof(*r));
	snprintf(r->rev, sizeof(r->rev), "%s", rev);
	r->role = role;
	r->check = "?";
	return r;
}

static const char *check_of(const snap_snapshot *s, const snap_policy *policy)
{
	snap_check *chk = NULL;
	const char *name = "?";

	if (snap_check_run(&chk, s, NULL) == 0 && snap_check_accept(chk, policy, s) >= 0)
		name = snap_check__status_name(snap_check_verdict(chk));
	snap_check_free(chk);
	return name;
}

static void facts(char *host, size_t hn, char *kernel, size_t kn, const snap_snapshot *s)
{
	snprintf(host, hn, "%s",
	         str_or(snap_json__str(json_object_get(s->root, "host"), "hostname"), "?"));
	snprintf(kernel, kn, "%s",
	         str_or(snap_json__str(json_object_get(s->root, "kernel"), "release"), "unknown"));
}

/* Compare the reference s (OLD) with the canary (NEW); s is freed. */
static int compare(snap_canary *c, struct ref *r, snap_snapshot *s, const snap_snapshot *canary,
                   snap_error *err)
{
	int error;

	facts(r->host, sizeof(r->host), r->kernel, sizeof(r->kernel), s);
	r->check = check_of(s, c->policy);
	if (!strcmp(r->role, "peer") && !strcmp(r->check, "FAIL")) {
		/* a broken peer hides the same breakage in the canary */
		r->skipped = true;
		snprintf(r->note, sizeof(r->note),
		         "skipped: its own check FAILs, so it proves nothing (pcisnap check %s)",
		         r->rev);
		snap_snapshot_free(s);
		return 0;
	}
	error = snap_diff_compute(&r->d, s, canary, err);
	snap_snapshot_free(s);
	if (error < 0)
		return error;
	snap_diff_accept(r->d, c->policy, canary); /* accepted deviations fail nothing */
	c->classes |= snap_diff_classes(r->d);
	c->conclusive = c->conclusive && snap_diff_conclusive(r->d);
	c->compared++;
	return 0;
}

/* Did the update happen between the two snapshots: kernel, command line or firmware? */
static bool changed(const snap_snapshot *a, const snap_snapshot *b)
{
	static const char *const keys[][2] = {
	    {"kernel", "release"},     {"kernel", "cmdline"},       {"firmware", "bios_version"},
	    {"firmware", "bios_date"}, {"firmware", "bios_vendor"},
	};

	for (size_t i = 0; i < SNAP_ARRAY_SIZE(keys); i++) {
		const char *x = snap_json__str(json_object_get(a->root, keys[i][0]), keys[i][1]);
		const char *y = snap_json__str(json_object_get(b->root, keys[i][0]), keys[i][1]);

		if ((x == NULL) != (y == NULL) || (x && strcmp(x, y)))
			return true;
	}
	return false;
}

/*
 * The canary's own reference: before given, that revision; else the newest earlier snapshot
 * of its host taken before its kernel, command line or firmware last changed; else (the change
 * was elsewhere: an initramfs, a module option) the snapshot before its latest.
 */
static int own_before(snap_canary *c, snap_store *st, const char *host, const char *before,
                      const snap_snapshot *canary, snap_error *err)
{
	snap_snapshot *first = NULL;
	char rev[320];
	struct ref *r;
	int error;

	if (before) {
		snap_snapshot *s = NULL;

		if ((error = snap_store_load(&s, st, before, err)) < 0)
			return error;
		if (!(r = ref_add(c, before, "before"))) {
			snap_snapshot_free(s);
			return snap_error__set(err, SNAP_ENOMEM, "out of memory");
		}
		snprintf(c->note, sizeof(c->note), "before the change: %s, as named", before);
		return compare(c, r, s, canary, err);
	}
	for (int depth = 1; depth <= BEFORE_MAX_DEPTH; depth++) {
		snap_snapshot *s = NULL;

		snprintf(rev, sizeof(rev), "%s~%d", host, depth);
		error = snap_store_load(&s, st, rev, err);
		if (error == SNAP_ENOTFOUND)
			break;
		if (error < 0) {
			snap_snapshot_free(first);
			return error;
		}
		if (changed(s, canary)) {
			snap_snapshot_free(first);
			if (!(r = ref_add(c, rev, "before"))) {
				snap_snapshot_free(s);
				return snap_error__set(err, SNAP_ENOMEM, "out of memory");
			}
			snprintf(c->note, sizeof(c->note),
			         "before the change: %s, its newest snapshot with another kernel, "
			         "command line or firmware",
			         rev);
			return compare(c, r, s, canary, err);
		}
		if (depth == 1)
			first = s;
		else
			snap_snapshot_free(s);
	}
	if (err) /* the end of the history is no error */
		memset(err, 0, sizeof(*err));
	if (!first) {
		snprintf(c->note, sizeof(c->note),
		         "no snapshot of %s before its latest: compared with peers only", host);
		return 0;
	}
	snprintf(rev, sizeof(rev), "%s~1", host);
	if (!(r = ref_add(c, rev, "before"))) {
		snap_snapshot_free(first);
		return snap_error__set(err, SNAP_ENOMEM, "out of memory");
	}
	snprintf(c->note, sizeof(c->note),
	         "before the change: %s, its previous snapshot (same kernel, command line and "
	         "firmware; --before REV names another)",
	         rev);
	return compare(c, r, first, canary, err);
}

/*
 * "model inventory" of a commit: its recorded summary, re-derived from the snapshot when the
 * commit has none (a store written without one, or by an older pcisnap).
 */
static int model_key(char *key, size_t n, snap_store *st, const git_oid *id, snap_error *err)
{
	git_commit *commit = NULL;
	char model[300] = "", inv[17] = "", cfg[17];
	int error = 0;

	if (git_commit_lookup(&commit, st->repo, id) < 0)
		return snap_store__git_fail(err, SNAP_ERROR, "cannot read commit",
		                            git_oid_tostr_s(id));
	snap_store__msg_field(model, sizeof(model), git_commit_message(commit), "model");
	snap_store__msg_field(inv, sizeof(inv), git_commit_message(commit), "inventory");
	git_commit_free(commit);
	if (!*model || !*inv) {
		snap_snapshot *s = NULL;
		snap_store_fields f = {SNAP_BUF_INIT};

		if ((error = snap_store__load_commit(&s, st, id, err)) < 0)
			return error;
		if (snap_fleet_summary(&f, s, NULL, NULL, NULL) < 0 || !f.b.ptr) {
			error = snap_error__set(err, SNAP_ENOMEM, "out of memory");
		} else {
			snap_store__msg_field(model, sizeof(model), f.b.ptr, "model");
			snap_fingerprint__compute(inv, cfg, s);
		}
		snap_buf__release(&f.b);
		snap_snapshot_free(s);
		if (error < 0)
			return error;
	}
	snprintf(key, n, "%s\t%s", model, inv);
	return 0;
}

static int add_peer(snap_canary *c, snap_store *st, const char *rev, const char *note,
                    const snap_snapshot *canary, snap_error *err)
{
	snap_snapshot *s = NULL;
	struct ref *r;
	int error;

	if ((error = snap_store_load(&s, st, rev, err)) < 0)
		return error;
	if (!(r = ref_add(c, rev, "peer"))) {
		snap_snapshot_free(s);
		return snap_error__set(err, SNAP_ENOMEM, "out of memory");
	}
	snprintf(r->note, sizeof(r->note), "%s", note);
	return compare(c, r, s, canary, err);
}

/* Every other host whose latest snapshot is of the canary's model and device inventory. */
static int model_peers(snap_canary *c, snap_store *st, const char *host,
                       const snap_snapshot *canary, snap_error *err)
{
	json_t *names = NULL, *hn;
	char mine[400], theirs[400];
	git_oid id;
	size_t i;
	int error;

	if ((error = snap_store__resolve(&id, st, host, err)) < 0 ||
	    (error = model_key(mine, sizeof(mine), st, &id, err)) < 0 ||
	    (error = snap_store__host_names(&names, st, err)) < 0)
		return error;
	json_array_foreach (names, i, hn) {
		const char *name = snap_json__str(hn, "k");

		if (!strcmp(name, host))
			continue;
		if ((error = snap_store__resolve(&id, st, name, err)) < 0 ||
		    (error = model_key(theirs, sizeof(theirs), st, &id, err)) < 0)
			break;
		if (strcmp(mine, theirs) != 0) /* another model or inventory */
			continue;
		if ((error = add_peer(c, st, name, "", canary, err)) < 0)
			break;
	}
	json_decref(names);
	return error;
}

int snap_canary_run(snap_canary **out, snap_store *st, const char *host, const char *before,
                    const char *const *peers, size_t npeers, snap_error *err)
{
	snap_canary *c;
	snap_snapshot *canary = NULL;
	int error;

	SNAP_ASSERT_ARG(out && st && host && (peers || !npeers));
	if (!snap_store__valid_name(host))
		return snap_error__set(
		    err, SNAP_EINVALID,
		    "canary '%s' is not a host name: name the host, whose latest "
		    "snapshot is the one under test",
		    host);
	if (!(c = calloc(1, sizeof(*c))))
		return snap_error__set(err, SNAP_ENOMEM, "out of memory");
	c->conclusive = true;
	{
		char *text = NULL;

		/* a damaged policy accepts nothing (check and diff say so) */
		if (snap_store_policy_get(&text, st, NULL) == 0 && text &&
		    snap_policy_parse(&c->policy, text, strlen(text), NULL) < 0)
			c->policy = NULL;
		free(text);
	}
	if ((error = snap_store_load(&canary, st, host, err)) < 0)
		goto fail;
	snprintf(c->host, sizeof(c->host), "%s", host);
	facts((char[256]){0}, 256, c->kernel, sizeof(c->kernel), canary);
	c->check = check_of(canary, c->policy);
	if ((error = own_before(c, st, host, before, canary, err)) < 0)
		goto fail;
	if (npeers) {
		for (size_t i = 0; i < npeers; i++) {
			char mine[400], theirs[400];
			git_oid a, b;
			const char *note = "";

			if ((error = snap_store__resolve(&a, st, host, err)) < 0 ||
			    (error = snap_store__resolve(&b, st, peers[i], err)) < 0 ||
			    (error = model_key(mine, sizeof(mine), st, &a, err)) < 0 ||
			    (error = model_key(theirs, sizeof(theirs), st, &b, err)) < 0)
				goto fail;
			if (strcmp(mine, theirs))
				note =
				    "another hardware model or device inventory: every difference "
				    "in hardware shows";
			if ((error = add_peer(c, st, peers[i], note, canary, err)) < 0)
				goto fail;
		}
	} else if ((error = model_peers(c, st, host, canary, err)) < 0) {
		goto fail;
	}
	if (!c->compared)
		c->conclusive = false; /* nothing vouches for the canary */
	snap_snapshot_free(canary);
	*out = c;
	return 0;
fail:
	snap_snapshot_free(canary);
	snap_canary_free(c);
	return error;
}

unsigned snap_canary_classes(const snap_canary *c)
{
	return c->classes;
}

int snap_canary_conclusive(const snap_canary *c)
{
	return c->conclusive;
}

static snap_class worst(unsigned classes)
{
	for (int k = SNAP_CLASS_COUNT - 1; k > 0; k--)
		if (classes & SNAP_CLASS_BIT(k))
			return (snap_class)k;
	return SNAP_CLASS_HARMLESS;
}

/* The comparison to show whole: the first with the worst verdict, else the first inconclusive. */
static const struct ref *shown(const snap_canary *c)
{
	snap_class v = worst(c->classes);

	for (size_t i = 0; i < c->n; i++)
		if (c->refs[i].d && v != SNAP_CLASS_HARMLESS &&
		    snap_diff_verdict(c->refs[i].d) == v)
			return &c->refs[i];
	for (size_t i = 0; i < c->n; i++)
		if (c->refs[i].d && !snap_diff_conclusive(c->refs[i].d))
			return &c->refs[i];
	return NULL;
}

static json_t *render_json(const snap_canary *c)
{
	json_t *doc, *refs = json_array(), *classes = json_array();

	for (int k = SNAP_CLASS_COUNT - 1; k >= 0; k--)
		if (c->classes & SNAP_CLASS_BIT(k))
			json_array_append_new(classes, json_string(snap_class_name((snap_class)k)));
	for (size_t i = 0; i < c->n; i++) {
		const struct ref *r = &c->refs[i];

		json_array_append_new(
		    refs,
		    json_pack(
		        "{s:s, s:s, s:s, s:s, s:s, s:o, s:o, s:o, s:o}", "rev", r->rev, "host",
		        r->host, "role", r->role, "kernel", r->kernel, "check", r->check, "verdict",
		        r->d ? json_string(snap_class_name(snap_diff_verdict(r->d))) : json_null(),
		        "conclusive", r->d ? json_boolean(snap_diff_conclusive(r->d)) : json_null(),
		        "note", *r->note ? snap_json__string(r->note) : json_null(), "diff",
		        r->d ? json_incref(r->d->doc) : json_null()));
	}
	doc =
	    json_pack("{s:s, s:s, s:s, s:s, s:s, s:b, s:o, s:s, s:o}", "schema", "pcisnap.canary/1",
	              "canary", c->host, "kernel", c->kernel, "check", c->check, "verdict",
	              snap_class_name(worst(c->classes)), "conclusive", c->conclusive, "classes",
	              classes, "reference", c->note, "references", refs);
	return doc;
}

int snap_canary_render(char **out, const snap_canary *c, int json, snap_error *err)
{
	snap_buf b = SNAP_BUF_INIT;
	const struct ref *sh = shown(c);
	size_t wr = strlen("REFERENCE"), wk = strlen("KERNEL"), peers = 0;
	char *text = NULL;

	SNAP_ASSERT_ARG(out && c);
	if (json) {
		json_t *doc = render_json(c);
		int error;

		if (!doc)
			return snap_error__set(err, SNAP_ENOMEM, "out of memory");
		error = snap_json__dump(out, doc, err);
		json_decref(doc);
		return error;
	}
	for (size_t i = 0; i < c->n; i++) {
		peers += !strcmp(c->refs[i].role, "peer");
		if (strlen(c->refs[i].rev) > wr)
			wr = strlen(c->refs[i].rev);
		if (strlen(c->refs[i].kernel) > wk)
			wk = strlen(c->refs[i].kernel);
	}
	snap_buf__printf(&b, "pcisnap canary %s: %s%s, against %zu of %zu reference(s)", c->host,
	                 snap_class_name(worst(c->classes)), c->conclusive ? "" : " (inconclusive)",
	                 c->compared, c->n);
	snap_buf__printf(&b, " (kernel %s, check %s)\n", c->kernel, c->check);
	if (!c->compared)
		snap_buf__printf(
		    &b,
		    "No reference to compare with: no snapshot of %s before the change and "
		    "no healthy peer of its model. Name them: --before REV, --peers "
		    "HOST,...\n",
		    c->host);
	if (sh && snap_diff_render(&text, sh->d, SNAP_DIFF_TEXT, err) == 0) {
		snap_buf__printf(&b, "\nThe %s comparison, pcisnap diff %s %s:\n\n",
		                 c->classes & SNAP_CLASS_REGRESSIONS ? "worst" : "inconclusive",
		                 sh->rev, c->host);
		snap_buf__puts(&b, text);
		free(text);
	}
	snap_buf__printf(&b, "\nReferences (OLD) against %s (NEW); %s; %zu peer(s) of its model:\n",
	                 c->host, c->note, peers);
	snap_buf__printf(&b, "  %-*s  %-6s  %-*s  %-5s  %s\n", (int)wr, "REFERENCE", "ROLE",
	                 (int)wk, "KERNEL", "CHECK", "VERDICT");
	for (size_t i = 0; i < c->n; i++) {
		const struct ref *r = &c->refs[i];

		snap_buf__printf(&b, "  %-*s  %-6s  %-*s  %-5s  ", (int)wr, r->rev, r->role,
		                 (int)wk, r->kernel, r->check);
		if (r->d)
			snap_buf__printf(&b, "%s%s%s%s\n", snap_class_name(snap_diff_verdict(r->d)),
			                 snap_diff_conclusive(r->d) ? "" : " (inconclusive)",
			                 *r->note ? "; " : "", r->note);
		else
			snap_buf__printf(&b, "%s\n", r->note);
	}
	if (sh)
		snap_buf__printf(&b, "Next: pcisnap diff %s %s\n", sh->rev, c->host);
	if (!(*out = snap_buf__detach(&b)))
		return snap_error__set(err, SNAP_ENOMEM, "out of memory");
	return 0;
}

void snap_canary_free(snap_canary *c)
{
	if (!c)
		return;
	for (size_t i = 0; i < c->n; i++)
		snap_diff_free(c->refs[i].d);
	snap_policy_free(c->policy);
	free(c->refs);
	free(c);
}
