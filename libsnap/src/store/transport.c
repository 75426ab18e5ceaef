/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * How push and pull reach a remote: credentials (SSH keys from ssh-agent, user names and
 * passwords from the caller, pcisnap's asking git's credential helpers), SSH host keys checked
 * against known_hosts as ssh does (an unknown or changed key is refused), and every ref a push
 * or pull moves reported to the caller.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <git2.h>
#include <nettle/base64.h>
#include <nettle/hmac.h>

#include "store/store_internal.h"

int snap_store_credential_rejected(const snap_store *st)
{
	return st->credential_rejected;
}

void snap_store_set_transport(snap_store *st, snap_store_credential_fn cred,
                              snap_store_ref_fn on_ref, void *payload)
{
	st->cred = cred;
	st->on_ref = on_ref;
	st->transport_payload = payload;
}

static int on_credentials(git_credential **out, const char *url, const char *user_from_url,
                          unsigned int allowed, void *payload)
{
	struct snap_transport *t = payload;

	/* each kind once: libgit2 asks again after a refusal, which would loop */
	if ((allowed & GIT_CREDENTIAL_SSH_KEY) && !t->tried_agent) {
		t->tried_agent = true;
		return git_credential_ssh_key_from_agent(out,
		                                         user_from_url ? user_from_url : "git");
	}
	/* asked again after a password was given: the remote refused it */
	if ((allowed & GIT_CREDENTIAL_USERPASS_PLAINTEXT) && t->tried_password)
		t->st->credential_rejected = true;
	if ((allowed & GIT_CREDENTIAL_USERPASS_PLAINTEXT) && t->st->cred && !t->tried_password) {
		char *user = NULL, *password = NULL;
		int rc;

		t->tried_password = true;
		if (t->st->cred(&user, &password, url, user_from_url, t->st->transport_payload) <
		        0 ||
		    !user || !password) {
			free(user);
			free(password);
			return GIT_PASSTHROUGH;
		}
		rc = git_credential_userpass_plaintext_new(out, user, password);
		free(user);
		if (password)
			memset(password, 0, strlen(password));
		free(password);
		return rc;
	}
	if ((allowed & GIT_CREDENTIAL_USERNAME) && !t->tried_username) {
		t->tried_username = true;
		return git_credential_username_new(out, user_from_url ? user_from_url : "git");
	}
	git_error_set_str(GIT_ERROR_NET, "no credentials were accepted (ssh-agent, git's "
	                                 "credential helpers)");
	return GIT_EAUTH;
}

/* ssh's host patterns: '*' and '?' are wildcards, everything else ('[' too) is itself */
static bool wildcard(const char *pat, const char *s)
{
	for (; *pat; pat++, s++) {
		if (*pat == '*') {
			for (; *s; s++)
				if (wildcard(pat + 1, s))
					return true;
			return wildcard(pat + 1, s);
		}
		if (!*s || (*pat != '?' && *pat != *s))
			return false;
	}
	return !*s;
}

static size_t b64_decode(uint8_t *dst, size_t cap, const char *src)
{
	struct base64_decode_ctx ctx;
	size_t n = cap;

	if (BASE64_DECODE_LENGTH(strlen(src)) > cap)
		return 0;
	base64_decode_init(&ctx);
	if (!base64_decode_update(&ctx, &n, dst, strlen(src), src) || !base64_decode_final(&ctx))
		return 0;
	return n;
}

/* Does one known_hosts host field ("a,b,[h]:2222", "|1|salt|hash", "*.example") name host? */
static bool host_matches(const char *field, const char *host)
{
	if (!strncmp(field, "|1|", 3)) {
		char salt64[128], *bar;
		uint8_t salt[96], want[SHA1_DIGEST_SIZE + 8], got[SHA1_DIGEST_SIZE];
		size_t sl, wl;
		struct hmac_sha1_ctx ctx;

		snprintf(salt64, sizeof(salt64), "%s", field + 3);
		if (!(bar = strchr(salt64, '|')))
			return false;
		*bar = '\0';
		if (!(sl = b64_decode(salt, sizeof(salt), salt64)) ||
		    (wl = b64_decode(want, sizeof(want), field + 3 + (bar - salt64) + 1)) !=
		        SHA1_DIGEST_SIZE)
			return false;
		hmac_sha1_set_key(&ctx, sl, salt);
		hmac_sha1_update(&ctx, strlen(host), (const uint8_t *)host);
		hmac_sha1_digest(&ctx, sizeof(got), got);
		return !memcmp(got, want, sizeof(got));
	}
	{
		char *dup = strdup(field), *save = NULL, *pat;
		bool yes = false, no = false;

		for (pat = dup ? strtok_r(dup, ",", &save) : NULL; pat;
		     pat = strtok_r(NULL, ",", &save)) {
			bool neg = pat[0] == '!';

			if (wildcard(pat + neg, host))
				*(neg ? &no : &yes) = true;
		}
		free(dup);
		return yes && !no;
	}
}

/* 1: key is host's in file, 0: host not in it, -1: host in it with another key */
static int known_in(const char *file, const char *host, const uint8_t *key, size_t len)
{
	FILE *f = fopen(file, "re");
	char line[16384];
	int found = 0;

	if (!f)
		return 0;
	while (found != 1 && fgets(line, sizeof(line), f)) {
		char *save = NULL, *hosts, *type, *b64;
		uint8_t blob[8192];
		size_t bl;

		if (!(hosts = strtok_r(line, " \t\r\n", &save)) || hosts[0] == '#' ||
		    hosts[0] == '@' || !(type = strtok_r(NULL, " \t\r\n", &save)) ||
		    !(b64 = strtok_r(NULL, " \t\r\n", &save)) || !host_matches(hosts, host))
			continue;
		bl = b64_decode(blob, sizeof(blob), b64);
		if (bl == len && !memcmp(blob, key, len))
			found = 1;
		else
			found = -1; /* keep looking: a host can have several keys */
	}
	fclose(f);
	return found;
}

static int on_certificate(git_cert *cert, int valid, const char *host, void *payload)
{
	struct snap_transport *t = payload;
	const git_cert_hostkey *hk = (const git_cert_hostkey *)cert;
	char name[600], user_file[4200];
	const char *home = getenv("HOME");
	int in_user, in_system;

	if (cert->cert_type != GIT_CERT_HOSTKEY_LIBSSH2)
		return valid ? 0 : GIT_PASSTHROUGH; /* TLS: libgit2's own verification */
	if (!(hk->type & GIT_CERT_SSH_RAW)) {
		git_error_set_str(GIT_ERROR_SSH, "the SSH host key cannot be checked");
		return GIT_ECERTIFICATE;
	}
	/* known_hosts names a host on another port than 22 as [host]:port */
	if (t->port && t->port != 22)
		snprintf(name, sizeof(name), "[%s]:%d", host, t->port);
	else
		snprintf(name, sizeof(name), "%s", host);
	snprintf(user_file, sizeof(user_file), "%s/.ssh/known_hosts", home ? home : "/nonexistent");
	in_user = known_in(user_file, name, (const uint8_t *)hk->hostkey, hk->hostkey_len);
	in_system = in_user == 1 ? 1
	                         : known_in("/etc/ssh/ssh_known_hosts", name,
	                                    (const uint8_t *)hk->hostkey, hk->hostkey_len);
	if (in_user == 1 || in_system == 1)
		return 0;
	git_error_set(GIT_ERROR_SSH,
	              in_user < 0 || in_system < 0
	                  ? "the SSH host key of %s is not the one known_hosts has: refusing it "
	                    "(man-in-the-middle, or a reinstalled host: check, then fix "
	                    "known_hosts)"
	                  : "the SSH host key of %s is not in known_hosts: connect once with "
	                    "ssh(1) to check and record it",
	              name);
	return GIT_ECERTIFICATE;
}

/* The remote's answer per ref: a refusal is collected, an update reported as planned. */
static int on_push_ref(const char *refname, const char *status, void *payload)
{
	struct snap_transport *t = payload;
	const json_t *plan = json_object_get(t->planned, refname);

	if (status)
		snap_buf__printf(&t->rejected, "%s%s (%s)", t->rejected.len ? ", " : "", refname,
		                 status);
	else if (plan && t->st->on_ref)
		t->st->on_ref(refname, snap_json__str(plan, "old"), snap_json__str(plan, "new"),
		              t->st->transport_payload);
	return 0;
}

/* What the push will ask the remote for, ref by ref (old and new commit). */
static int on_push_plan(const git_push_update **u, size_t n, void *payload)
{
	struct snap_transport *t = payload;

	for (size_t i = 0; i < n; i++) {
		char o[GIT_OID_HEXSZ + 1], d[GIT_OID_HEXSZ + 1];

		git_oid_tostr(o, sizeof(o), &u[i]->src);
		git_oid_tostr(d, sizeof(d), &u[i]->dst);
		json_object_set_new(
		    t->planned, u[i]->dst_refname,
		    json_pack("{s:s, s:s}", "old", git_oid_is_zero(&u[i]->src) ? "" : o, "new", d));
	}
	return 0;
}

void snap_store__callbacks(git_remote_callbacks *cb, struct snap_transport *t, snap_store *st,
                           const char *url)
{
	const char *p;

	memset(t, 0, sizeof(*t));
	t->st = st;
	st->credential_rejected = false;
	t->rejected = (snap_buf)SNAP_BUF_INIT;
	t->planned = json_object();
	/* ssh://[user@]host:port/path: the port, for known_hosts */
	if (url && !strncmp(url, "ssh://", 6) && (p = strchr(url + 6, '/'))) {
		const char *colon = memchr(url + 6, ':', (size_t)(p - (url + 6)));

		if (colon)
			t->port = atoi(colon + 1);
	}
	cb->credentials = on_credentials;
	cb->certificate_check = on_certificate;
	cb->push_update_reference = on_push_ref;
	cb->push_negotiation = on_push_plan;
	cb->payload = t;
}

void snap_store__report_ref(snap_store *st, const char *ref, const git_oid *old, const git_oid *now)
{
	char o[GIT_OID_HEXSZ + 1] = "", n[GIT_OID_HEXSZ + 1];

	if (!st->on_ref)
		return;
	if (old)
		git_oid_tostr(o, sizeof(o), old);
	git_oid_tostr(n, sizeof(n), now);
	st->on_ref(ref, o, n, st->transport_payload);
}

void snap_store__callbacks_release(struct snap_transport *t)
{
	snap_buf__release(&t->rejected);
	json_decref(t->planned);
	t->planned = NULL;
}
