/* SPDX-License-Identifier: GPL-2.0-or-later */
/**
 * @file policy.h
 * Accepted deviations: findings the operator accepted, per host or hardware model, still
 * shown (marked accepted) and failing nothing (docs/interface.md "Canary comparisons").
 */
#ifndef SNAP_POLICY_H
#define SNAP_POLICY_H

#include <stddef.h>

#include "common.h"
#include "error.h"

#ifdef __cplusplus
extern "C" {
#endif

/** A parsed policy (opaque). */
typedef struct snap_policy snap_policy;

/**
 * Parse and validate a pcisnap.policy/1 document: {"schema": "pcisnap.policy/1", "accept":
 * [{"scope": "host"|"model", "match": the host name or the model ("board_vendor board_name /
 * product_name"), "what": a check id or a diff change kind, "subject": text the finding's
 * subject or message must contain (optional), "reason", "by", "at"}]}.
 * @param[out] out  new policy; free with snap_policy_free()
 * @return 0, SNAP_EINVALID or SNAP_ENOMEM
 */
SNAP_EXTERN int snap_policy_parse(snap_policy **out, const char *text, size_t len, snap_error *err);

/** An empty policy. @return 0 or SNAP_ENOMEM */
SNAP_EXTERN int snap_policy_new(snap_policy **out, snap_error *err);

/**
 * Accept one more kind of finding: what (a check id, e.g. group_viable, or a diff change kind,
 * e.g. acs_lost) for scope "host" or "model" named match, where its subject or message contains
 * subject (NULL: everywhere), because reason; by (who) and the time are recorded.
 * @return 0, SNAP_EINVALID or SNAP_ENOMEM
 */
SNAP_EXTERN int snap_policy_add(snap_policy *p, const char *scope, const char *match,
                                const char *what, const char *subject, const char *reason,
                                const char *by, snap_error *err);

/** Remove entry n (1-based, as listed). @return 0 or SNAP_EINVALID */
SNAP_EXTERN int snap_policy_remove(snap_policy *p, size_t n, snap_error *err);

/** The entries as numbered lines, or (json) the pcisnap.policy/1 document. free() *out. */
SNAP_EXTERN int snap_policy_render(char **out, const snap_policy *p, int json, snap_error *err);

/** Free a policy. NULL is a no-op. */
SNAP_EXTERN void snap_policy_free(snap_policy *p);

#ifdef __cplusplus
}
#endif

#endif
