/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * Accepted deviations (docs/interface.md "Canary comparisons"): a policy the operator writes once,
 * kept in the store (store/policy.c) and carried by push and pull. Each entry accepts one kind
 * of finding, a check id or a diff change kind, for one host or one hardware model, optionally
 * only where its subject or message contains a text; with its reason, who and when. Accepted
 * findings are still shown, marked accepted, and fail nothing: check, diff, canary, fleet and
 * the boot gate apply the policy the same way, through snap_policy__accepts().
 *
 * pcisnap.policy/1: {"schema": "pcisnap.policy/1", "accept": [{"scope": "host"|"model",
 * "match": str, "what": str, "subject": str|null, "reason": str, "by": str, "at": str}]}
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "analyse/analyse.h"
#include "analyse/check.h"
#include "analyse/diff.h"
#include "snap/policy.h"

#define POLICY_MAX  (1u << 20) /* bytes of a policy document */
#define ENTRIES_MAX 10000u

struct snap_policy {
	json_t *doc; /* owned, validated */
};

void snap_policy__model(char *buf, size_t n, const json_t *root)
{
	snap_snapshot__model(buf, n, root);
}

static bool is_str(const json_t *e, const char *key, bool may_be_null)
{
	const json_t *v = json_object_get(e, key);

	return json_is_string(v) ? json_string_length(v) > 0 && json_string_length(v) < 1024
	                         : may_be_null && (!v || json_is_null(v));
}

int snap_policy_parse(snap_policy **out, const char *text, size_t len, snap_error *err)
{
	json_error_t je;
	json_t *doc, *accept, *e;
	size_t i;
	snap_policy *p;

	SNAP_ASSERT_ARG(out && (text || !len));
	if (len > POLICY_MAX)
		return snap_error__set(err, SNAP_EINVALID, "the policy is %zu bytes, more than %u",
		                       len, POLICY_MAX);
	if (!(doc = json_loadb(text, len, JSON_REJECT_DUPLICATES, &je)))
		return snap_error__set(err, SNAP_EINVALID, "the policy is not JSON: %s (line %d)",
		                       je.text, je.line);
	accept = json_object_get(doc, "accept");
	if (strcmp(snap_json__str(doc, "schema") ? snap_json__str(doc, "schema") : "",
	           "pcisnap.policy/1") ||
	    !json_is_array(accept) || json_array_size(accept) > ENTRIES_MAX) {
		json_decref(doc);
		return snap_error__set(err, SNAP_EINVALID,
		                       "the policy is not a pcisnap.policy/1 document with an "
		                       "'accept' list");
	}
	json_array_foreach (accept, i, e) {
		const char *scope = snap_json__str(e, "scope");

		if (!json_is_object(e) || !scope ||
		    (strcmp(scope, "host") && strcmp(scope, "model")) ||
		    !is_str(e, "match", false) || !is_str(e, "what", false) ||
		    !is_str(e, "reason", false) || !is_str(e, "subject", true)) {
			json_decref(doc);
			return snap_error__set(err, SNAP_EINVALID,
			                       "policy entry %zu: scope host or model, match, what "
			                       "and reason are needed",
			                       i + 1);
		}
	}
	if (!(p = calloc(1, sizeof(*p)))) {
		json_decref(doc);
		return snap_error__set(err, SNAP_ENOMEM, "out of memory");
	}
	p->doc = doc;
	*out = p;
	return 0;
}

void snap_policy_free(snap_policy *p)
{
	if (!p)
		return;
	json_decref(p->doc);
	free(p);
}

const json_t *snap_policy__doc(const snap_policy *p)
{
	return p ? p->doc : NULL;
}

/*
 * The reason an entry of p accepts the finding what (a check id or a change kind) about
 * subject with message, on the host and model of the snapshot root; NULL when none does.
 */
const char *snap_policy__accepts(const snap_policy *p, const json_t *root, const char *what,
                                 const char *subject, const char *message)
{
	const char *host = snap_json__str(json_object_get(root, "host"), "hostname");
	char model[800];
	const json_t *e;
	size_t i;

	if (!p || !what)
		return NULL;
	snap_policy__model(model, sizeof(model), root);
	json_array_foreach (json_object_get(p->doc, "accept"), i, e) {
		const char *scope = snap_json__str(e, "scope"), *match = snap_json__str(e, "match");
		const char *sub = snap_json__str(e, "subject");

		if (strcmp(snap_json__str(e, "what"), what))
			continue;
		if (!strcmp(scope, "host") ? !host || strcmp(match, host) : strcmp(match, model))
			continue;
		if (sub && !(subject && strstr(subject, sub)) && !(message && strstr(message, sub)))
			continue;
		return snap_json__str(e, "reason");
	}
	return NULL;
}

int snap_policy_new(snap_policy **out, snap_error *err)
{
	static const char empty[] = "{\"schema\": \"pcisnap.policy/1\", \"accept\": []}";

	return snap_policy_parse(out, empty, sizeof(empty) - 1, err);
}

/* A check id (snap_check__defs[]) or the kind of a diff rule (snap_diff__rules[]). */
static bool known_what(const char *what)
{
	if (snap_check__def_named(what))
		return true;
	for (int r = 0; r < SNAP_RULE_COUNT; r++)
		if (!strcmp(snap_diff__rules[r].kind, what))
			return true;
	return false;
}

int snap_policy_add(snap_policy *p, const char *scope, const char *match, const char *what,
                    const char *subject, const char *reason, const char *by, snap_error *err)
{
	char at[32];
	json_t *e;

	SNAP_ASSERT_ARG(p && scope && match && what && reason);
	if ((strcmp(scope, "host") && strcmp(scope, "model")) || !*match || !*what || !*reason ||
	    strlen(match) >= 1024 || strlen(what) >= 1024 || strlen(reason) >= 1024 ||
	    (subject && (!*subject || strlen(subject) >= 1024)))
		return snap_error__set(err, SNAP_EINVALID,
		                       "an accepted deviation needs --host or --model, what is "
		                       "accepted and --reason (each under 1024 bytes)");
	if (!known_what(what)) /* a typo would accept nothing, silently */
		return snap_error__set(err, SNAP_EINVALID,
		                       "'%s' is neither a check id nor a diff change kind (the "
		                       "ids are in pcisnap-check(1), the kinds in pcisnap-diff(1))",
		                       what);
	if (json_array_size(json_object_get(p->doc, "accept")) >= ENTRIES_MAX)
		return snap_error__set(err, SNAP_EINVALID, "the policy has %u entries already",
		                       ENTRIES_MAX);
	snap_time__format(at, sizeof(at), (int64_t)time(NULL), false);
	e = json_pack("{s:s, s:s, s:s, s:o, s:s, s:s, s:s}", "scope", scope, "match", match, "what",
	              what, "subject", subject ? json_string(subject) : json_null(), "reason",
	              reason, "by", by && *by ? by : "unknown", "at", at);
	if (!e || json_array_append_new(json_object_get(p->doc, "accept"), e) < 0)
		return snap_error__set(err, SNAP_ENOMEM, "out of memory");
	return 0;
}

int snap_policy_remove(snap_policy *p, size_t n, snap_error *err)
{
	SNAP_ASSERT_ARG(p);
	if (n < 1 || n > json_array_size(json_object_get(p->doc, "accept")))
		return snap_error__set(err, SNAP_EINVALID,
		                       "the policy has no entry %zu (pcisnap "
		                       "accept --list)",
		                       n);
	json_array_remove(json_object_get(p->doc, "accept"), n - 1);
	return 0;
}

int snap_policy_render(char **out, const snap_policy *p, int json, snap_error *err)
{
	snap_buf b = SNAP_BUF_INIT;
	const json_t *e;
	size_t i;

	SNAP_ASSERT_ARG(out && p);
	if (json)
		return snap_json__dump(out, p->doc, err);
	json_array_foreach (json_object_get(p->doc, "accept"), i, e)
		snap_buf__printf(
		    &b, "%zu. %s %s: %s%s%s%s, because %s (by %s, %s)\n", i + 1,
		    snap_json__str(e, "scope"), snap_json__str(e, "match"),
		    snap_json__str(e, "what"), snap_json__str(e, "subject") ? " of '" : "",
		    snap_json__str(e, "subject") ? snap_json__str(e, "subject") : "",
		    snap_json__str(e, "subject") ? "'" : "", snap_json__str(e, "reason"),
		    snap_json__str(e, "by") ? snap_json__str(e, "by") : "?",
		    snap_json__str(e, "at") ? snap_json__str(e, "at") : "?");
	if (!i)
		snap_buf__puts(&b, "no accepted deviations\n");
	if (!(*out = snap_buf__detach(&b)))
		return snap_error__set(err, SNAP_ENOMEM, "out of memory");
	return 0;
}
