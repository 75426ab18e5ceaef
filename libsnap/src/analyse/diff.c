/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * The diff engine: match devices by identity, run the rule families, and assemble the
 * pcisnap.diff/1 document, every change classified as docs/interface.md "Diff classes" defines.
 * Matching is diff_match.c, the rules diff_rules.c, the text and Markdown render/diff.c.
 */
#include <pthread.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "analyse/diff.h"

static const char *const class_names[] = {"harmless", "binding_regression", "grouping_regression",
                                          "isolation_loss"};

const char *snap_class_name(snap_class c)
{
	return (unsigned)c < SNAP_CLASS_COUNT ? class_names[c] : NULL;
}

int snap_class_parse_list(unsigned *out, const char *list, snap_error *err)
{
	char *dup = snap_mem__strdup(list), *save = NULL, *tok;
	unsigned mask = 0;
	bool named = false;

	if (!dup)
		return snap_error__set(err, SNAP_ENOMEM, "out of memory");
	for (tok = strtok_r(dup, ", ", &save); tok; tok = strtok_r(NULL, ", ", &save)) {
		unsigned c;

		named = true;
		if (!strcmp(tok, "all")) {
			mask |= SNAP_CLASS_REGRESSIONS;
			continue;
		}
		if (!strcmp(tok, "none"))
			continue;
		for (c = 0; c < SNAP_CLASS_COUNT; c++)
			if (!strcmp(tok, class_names[c]))
				break;
		if (c == SNAP_CLASS_COUNT) {
			snap_error__set(err, SNAP_EINVALID,
			                "unknown class '%s' (isolation_loss, grouping_regression, "
			                "binding_regression, harmless, all, none)",
			                tok);
			free(dup);
			return SNAP_EINVALID;
		}
		mask |= SNAP_CLASS_BIT(c);
	}
	free(dup);
	if (!named) /* "" or ",,," (an unset shell variable) must not turn the gate off */
		return snap_error__set(err, SNAP_EINVALID,
		                       "no class named in '%s' (say 'none' to fail on nothing)",
		                       list);
	*out = mask;
	return 0;
}

/* The next step of rule r with its words put in; buf when it has any. */
static const char *next_step(char *buf, size_t n, enum snap_diff_rule r, const char *w1,
                             const char *w2)
{
	const char *t = snap_diff__rules[r].next, *p;
	size_t len = 0;

	if (!t || !strchr(t, '{'))
		return t;
	for (p = t; *p && len + 1 < n; p++) {
		const char *w = NULL;

		if (p[0] == '{' && (p[1] == '1' || p[1] == '2') && p[2] == '}') {
			w = p[1] == '1' ? w1 : w2;
			p += 2;
			len += (size_t)snprintf(buf + len, n - len, "%s", w ? w : "");
			if (len >= n)
				len = n - 1;
			continue;
		}
		buf[len++] = *p;
	}
	buf[len] = '\0';
	return buf;
}

static void vadd(struct ctx *c, enum snap_diff_rule r, const char *w1, const char *w2,
                 const char *subject, json_t *oldv, json_t *newv, const char *fmt, va_list ap)
    __attribute__((format(printf, 8, 0)));

static void vadd(struct ctx *c, enum snap_diff_rule r, const char *w1, const char *w2,
                 const char *subject, json_t *oldv, json_t *newv, const char *fmt, va_list ap)
{
	char msg[1024], nbuf[512];
	const char *next = next_step(nbuf, sizeof(nbuf), r, w1, w2);

	vsnprintf(msg, sizeof(msg), fmt, ap);
	if (next && *next) {
		size_t len = strlen(msg);

		snprintf(msg + len, sizeof(msg) - len, " Next: %s", next);
	}
	json_array_append_new(c->changes,
	                      json_pack("{s:s, s:s, s:s, s:o, s:o, s:s, s:o}", "class",
	                                class_names[snap_diff__rules[r].cls], "kind",
	                                snap_diff__rules[r].kind, "subject", subject, "old",
	                                oldv ? oldv : json_null(), "new", newv ? newv : json_null(),
	                                "message", msg, "next_step", snap_json__str_or_null(next)));
}

void snap_diff__add(struct ctx *c, enum snap_diff_rule r, const char *subject, json_t *oldv,
                    json_t *newv, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vadd(c, r, NULL, NULL, subject, oldv, newv, fmt, ap);
	va_end(ap);
}

void snap_diff__add_next(struct ctx *c, enum snap_diff_rule r, const char *w1, const char *w2,
                         const char *subject, json_t *oldv, json_t *newv, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vadd(c, r, w1, w2, subject, oldv, newv, fmt, ap);
	va_end(ap);
}

/* ---- assembly ---- */

static int cmp_change(const void *a, const void *b)
{
	json_t *x = *(json_t *const *)a, *y = *(json_t *const *)b;
	int cx = 0, cy = 0, r;

	for (int i = 0; i < SNAP_CLASS_COUNT; i++) {
		if (!strcmp(snap_json__str(x, "class"), class_names[i]))
			cx = i;
		if (!strcmp(snap_json__str(y, "class"), class_names[i]))
			cy = i;
	}
	if (cx != cy)
		return cy - cx; /* worst first */
	if ((r = strcmp(snap_json__str(x, "kind"), snap_json__str(y, "kind"))))
		return r;
	if ((r = strcmp(snap_json__str(x, "subject"), snap_json__str(y, "subject"))))
		return r;
	return strcmp(snap_json__str(x, "message"), snap_json__str(y, "message"));
}

static json_t *side(const json_t *root)
{
	const json_t *h = json_object_get(root, "host");

	return json_pack(
	    "{s:o, s:o, s:o}", "hostname", snap_diff__jdup(json_object_get(h, "hostname")),
	    "collected_at", snap_diff__jdup(json_object_get(h, "collected_at")), "kernel",
	    snap_diff__jdup(json_object_get(json_object_get(root, "kernel"), "release")));
}

/* NEW's topology, built beside OLD's: each reads only its own snapshot (jansson's reference
 * counts are atomic), and a snapshot diffed against itself is analysed once, before. */
struct topo_job {
	snap_analysis *a;
	snap_topo *t;
};

static void *topo_job_run(void *p)
{
	struct topo_job *j = p;

	j->t = snap_analysis__topo(j->a);
	return NULL;
}

int snap_diff_compute(snap_diff **out, const snap_snapshot *old_snap, const snap_snapshot *new_snap,
                      snap_error *err)
{
	unsigned long oom = snap_mem__failures(); /* util.h: lost to memory is an error */
	struct ctx c = {0};
	snap_diff *d = NULL;
	json_t **v = NULL, *classes, *after = NULL;
	size_t n, i;
	int error = 0;

	SNAP_ASSERT_ARG(out && old_snap && new_snap);
	c.o = old_snap->root;
	c.n = new_snap->root;
	{
		snap_analysis *ao = snap_analysis__get(old_snap),
		              *an = snap_analysis__get(new_snap);
		struct topo_job job = {an, NULL};
		pthread_t t;
		bool threaded = ao && an && ao != an && !snap_analysis__has_topo(an) &&
		                snap_thread_start(&t, topo_job_run, &job) == 0;

		c.to = snap_analysis__topo(ao);
		if (threaded)
			pthread_join(t, NULL);
		else
			topo_job_run(&job);
		c.tn = job.t;
		c.pt = snap_analysis__passthrough(ao);
		c.cov_o = snap_analysis__covered(ao);
		c.cov_n = snap_analysis__covered(an);
	}
	c.o2n = malloc((c.to ? c.to->n + 1 : 1) * sizeof(int));
	c.n2o = malloc((c.tn ? c.tn->n + 1 : 1) * sizeof(int));
	c.changes = json_array();
	c.unknown = json_array();
	c.faults = json_array();
	d = calloc(1, sizeof(*d));
	if (!c.to || !c.tn || !c.o2n || !c.n2o || !c.changes || !c.pt || !c.cov_o || !c.cov_n ||
	    !d) {
		error = snap_error__set(err, SNAP_ENOMEM, "out of memory");
		goto done;
	}
	for (i = 0; i < c.to->n; i++)
		c.o2n[i] = -1;
	for (i = 0; i < c.tn->n; i++)
		c.n2o[i] = -1;
	c.same_host =
	    snap_diff__str_eq(snap_snapshot_hostname(old_snap), snap_snapshot_hostname(new_snap));
	snap_diff__match(&c);
	snap_diff__iommu(&c);
	snap_diff__vfio(&c);
	snap_diff__devices(&c);
	snap_diff__groups(&c);
	snap_diff__asserted(&c);
	snap_diff__vms(&c);
	snap_diff__host(&c);
	snap_diff__unknown(&c);

	n = json_array_size(c.changes);
	if (n && !(v = malloc(n * sizeof(*v)))) {
		error = snap_error__set(err, SNAP_ENOMEM, "out of memory");
		goto done;
	}
	for (i = 0; i < n; i++)
		v[i] = json_incref(json_array_get(c.changes, i));
	if (n)
		qsort(v, n, sizeof(*v), cmp_change);
	json_array_clear(c.changes);
	for (i = 0; i < n; i++) {
		const char *cls = snap_json__str(v[i], "class");

		for (int k = 0; k < SNAP_CLASS_COUNT; k++)
			if (!strcmp(cls, class_names[k])) {
				d->classes |= SNAP_CLASS_BIT(k);
				d->count[k]++;
			}
		json_array_append_new(c.changes, v[i]);
	}
	free(v);
	if (!(after =
	          snap_diff__explain(&c, c.changes, snap_diff_verdict(d) != SNAP_CLASS_HARMLESS))) {
		error = snap_error__set(err, SNAP_ENOMEM, "out of memory");
		goto done;
	}
	classes = json_array();
	for (int k = SNAP_CLASS_COUNT - 1; k >= 0; k--)
		if (d->classes & SNAP_CLASS_BIT(k))
			json_array_append_new(classes, json_string(class_names[k]));
	d->conclusive = json_array_size(c.unknown) == 0;
	d->doc = json_pack("{s:s, s:s, s:o, s:o, s:o, s:O, s:O, s:b, s:b, s:O, s:o}", "schema",
	                   "pcisnap.diff/1", "verdict", class_names[snap_diff_verdict(d)],
	                   "classes", classes, "old", side(c.o), "new", side(c.n), "faults",
	                   c.faults, "changes", c.changes, "same_host", c.same_host, "conclusive",
	                   d->conclusive, "unknown", c.unknown, "after", after);
	if (!d->doc || snap_mem__failures() != oom) {
		error = snap_error__set(err, SNAP_ENOMEM, "out of memory");
		goto done;
	}
	*out = d;
	d = NULL;
done:
	snap_diff_free(d);
	free(c.o2n);
	free(c.n2o);
	json_decref(c.changes);
	json_decref(c.unknown);
	json_decref(c.faults);
	return error;
}

size_t snap_diff_faults(const snap_diff *d)
{
	return json_array_size(json_object_get(d->doc, "faults"));
}

int snap_diff_conclusive(const snap_diff *d)
{
	return d->conclusive;
}

snap_class snap_diff_verdict(const snap_diff *d)
{
	for (int k = SNAP_CLASS_COUNT - 1; k > 0; k--)
		if (d->classes & SNAP_CLASS_BIT(k))
			return (snap_class)k;
	return SNAP_CLASS_HARMLESS;
}

unsigned snap_diff_classes(const snap_diff *d)
{
	return d->classes;
}

size_t snap_diff_count(const snap_diff *d, snap_class c)
{
	return (unsigned)c < SNAP_CLASS_COUNT ? d->count[c] : 0;
}

/*
 * OLD looks like the host under test: collected after NEW, on a newer kernel (strverscmp, the
 * order of "6.1.0-9" < "6.1.0-18" and "6.8.8" < "6.8.12"). In a canary comparison the
 * reference is OLD (docs/interface.md "Canary comparisons"); the other way round a host that lost
 * vfio-pci reads as one that gained it, harmless.
 */
int snap_diff_order_suspect(char *why, size_t n, const snap_snapshot *old_snap,
                            const snap_snapshot *new_snap)
{
	const json_t *oh = json_object_get(old_snap->root, "host");
	const json_t *nh = json_object_get(new_snap->root, "host");
	const char *ok = snap_json__str(json_object_get(old_snap->root, "kernel"), "release");
	const char *nk = snap_json__str(json_object_get(new_snap->root, "kernel"), "release");
	const char *ot = snap_json__str(oh, "collected_at"),
	           *nt = snap_json__str(nh, "collected_at");
	int64_t t_old = ot ? snap_time__parse(ot) : -1, t_new = nt ? snap_time__parse(nt) : -1;

	if (t_old < 0 || t_new < 0 || t_old <= t_new || !ok || !nk || strverscmp(ok, nk) <= 0)
		return 0;
	if (why && n)
		snprintf(
		    why, n,
		    "OLD (%s, %s, kernel %s) was collected after NEW (%s, %s, kernel %s) and "
		    "runs the newer kernel: the reference belongs in OLD, the updated host in NEW",
		    snap_json__str(oh, "hostname") ? snap_json__str(oh, "hostname") : "?", ot, ok,
		    snap_json__str(nh, "hostname") ? snap_json__str(nh, "hostname") : "?", nt, nk);
	return 1;
}

int snap_diff_accept(snap_diff *d, const struct snap_policy *p, const snap_snapshot *new_snap)
{
	json_t *changes, *ch, *classes;
	size_t i;
	int accepted = 0;

	if (!d || !p || !new_snap)
		return 0;
	changes = json_object_get(d->doc, "changes");
	d->classes = 0;
	memset(d->count, 0, sizeof(d->count));
	json_array_foreach (changes, i, ch) {
		const char *cls = snap_json__str(ch, "class");
		const char *why =
		    strcmp(cls, "harmless")
		        ? snap_policy__accepts(p, new_snap->root, snap_json__str(ch, "kind"),
		                               snap_json__str(ch, "subject"),
		                               snap_json__str(ch, "message"))
		        : NULL;

		if (why) { /* still listed, marked, its class kept beside it; fails nothing */
			char *msg = NULL;

			if (asprintf(&msg, "[accepted: %s] %s", why,
			             snap_json__str(ch, "message")) >= 0)
				json_object_set_new(ch, "message", json_string(msg));
			free(msg);
			json_object_set_new(ch, "accepted", json_string(why));
			json_object_set_new(ch, "accepted_class", json_string(cls));
			json_object_set_new(ch, "class", json_string("harmless"));
			json_object_del(ch, "next_step");
			cls = "harmless";
			accepted++;
		}
		for (int k = 0; k < SNAP_CLASS_COUNT; k++)
			if (!strcmp(cls, class_names[k])) {
				d->classes |= SNAP_CLASS_BIT(k);
				d->count[k]++;
			}
	}
	classes = json_array();
	for (int k = SNAP_CLASS_COUNT - 1; k >= 0; k--)
		if (d->classes & SNAP_CLASS_BIT(k))
			json_array_append_new(classes, json_string(class_names[k]));
	json_object_set_new(d->doc, "classes", classes);
	json_object_set_new(d->doc, "verdict", json_string(class_names[snap_diff_verdict(d)]));
	return accepted;
}

void snap_diff_free(snap_diff *d)
{
	if (!d)
		return;
	json_decref(d->doc);
	free(d);
}
