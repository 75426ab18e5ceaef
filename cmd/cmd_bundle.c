/* SPDX-License-Identifier: GPL-2.0-or-later */
/* pcisnap export and import: change-ticket bundles. */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>
#include <sys/stat.h>
#include <unistd.h>

#include "cmd.h"
#include "snap/bundle.h"
#include "snap/store.h"

#define KEY_MAX CLI_KEY_MAX

/*
 * The key kept beside the store: <store>/pcisnap-redact.key, created with 32 random bytes on
 * first use. --store "" is the default store, as everywhere. The key is written to a temporary
 * file and linked into place, so two first exports never see a half-written key, and the one
 * that loses the race uses the winner's.
 */
static int store_key(unsigned char *key, size_t *len, const char *store)
{
	char *dir = NULL, path[4096], tmp[4200];
	snap_error err = {0};
	int fd, rc = CLI_OK;

	if (store && !*store)
		store = NULL;
	if (!store && snap_store_default_path(&dir, &err) < 0)
		return cli_snap_error(&err);
	snprintf(path, sizeof(path), "%s/pcisnap-redact.key", store ? store : dir);
	free(dir);
	{
		snap_store *st = NULL; /* make sure the store exists; the key lives beside it */

		if ((rc = cli_open_store(&st, store, 1)) != CLI_OK)
			return rc;
		cli_store_close(st);
	}
	if ((fd = open(path, O_RDONLY | O_CLOEXEC)) >= 0) {
		close(fd);
		return cli_read_key(key, len, path);
	}
	if (getrandom(key, 32, 0) != 32)
		return cli_error("cannot get random bytes for a redaction key");
	snprintf(tmp, sizeof(tmp), "%s.tmpXXXXXX", path);
	if ((fd = mkstemp(tmp)) < 0)
		return cli_error("cannot create redaction key '%s': %s", path, strerror(errno));
	if (fchmod(fd, 0600) < 0 || write(fd, key, 32) != 32 || fsync(fd) < 0) {
		rc = cli_error("cannot write redaction key '%s': %s", path, strerror(errno));
		close(fd);
		unlink(tmp);
		return rc;
	}
	close(fd);
	if (link(tmp, path) < 0) {
		int e = errno;

		unlink(tmp);
		if (e == EEXIST) /* another export made it first: use that one */
			return cli_read_key(key, len, path);
		return cli_error("cannot create redaction key '%s': %s", path, strerror(e));
	}
	unlink(tmp);
	*len = 32;
	return CLI_OK;
}

struct export_args {
	snap_export_options opts;
	const char *against, *keyfile, *authfile, *output;
};

static int export_option(int key, const char *arg, void *payload)
{
	struct export_args *a = payload;

	switch (key) {
	case 'a':
		a->against = arg;
		break;
	case 'K':
		a->authfile = arg;
		break;
	case 'r':
		a->opts.redact = 1;
		break;
	case 'k':
		a->keyfile = arg;
		a->opts.redact = 1;
		break;
	case 'o':
		a->output = arg;
		break;
	case 'C':
		a->opts.compression = arg;
		break;
	}
	return CLI_OK;
}

int cmd_export(int argc, char **argv)
{
	static const char usage[] =
	    "usage: pcisnap export SNAP [--against OLD] [--redact] [--redact-key FILE]\n"
	    "                      [--key FILE] [--compression NAME] [--store DIR] -o FILE\n"
	    "\n"
	    "Write a reproducible, checksummed tar bundle for a change ticket: snapshot.json,\n"
	    "report.md (show and check), with --against the old snapshot, diff.json and diff.md,\n"
	    "the raw evidence, MANIFEST.sha256 (sha256sum -c) and README.txt. Compression by\n"
	    "FILE's suffix: .tar, .tar.gz, .tar.xz, .tar.zst. '-o -' writes the bundle to\n"
	    "standard output, once it is complete; --compression names it there.\n"
	    "\n"
	    "  --compression NAME none, gzip, xz or zstd, whatever FILE is called\n"
	    "  --redact           replace host names, DMI serials and UUID, PCIe serial numbers,\n"
	    "                     MAC addresses and VM names by keyed pseudonyms\n"
	    "  --redact-key FILE  the key (default: pcisnap-redact.key kept in the store)\n"
	    "  --key FILE         authenticate the bundle (HMAC-SHA-256 of its manifest, in\n"
	    "                     MANIFEST.sha256.hmac) with this key; without one a bundle\n"
	    "                     detects corruption, not forgery\n";
	static const struct option extra[] = {
	    {"against", required_argument, NULL, 'a'},
	    {"key", required_argument, NULL, 'K'},
	    {"redact", no_argument, NULL, 'r'},
	    {"redact-key", required_argument, NULL, 'k'},
	    {"output", required_argument, NULL, 'o'},
	    {"compression", required_argument, NULL, 'C'},
	    {NULL, 0, NULL, 0},
	};
	struct export_args ea = {SNAP_EXPORT_OPTIONS_INIT, NULL, NULL, NULL, NULL};
	struct cli_args args = {.usage = usage,
	                        .cmd = "export",
	                        .extra = extra,
	                        .shortopts = "o:",
	                        .on_option = export_option,
	                        .payload = &ea};
	const char *output;
	snap_snapshot *s = NULL, *old = NULL;
	unsigned char key[KEY_MAX], auth[KEY_MAX];
	size_t keylen = 0, authlen = 0;
	snap_error err = {0};
	int rc;

	if ((rc = cli_parse_args(&args, argc, argv)) != CLI_OK)
		return rc == CLI_DONE ? CLI_OK : rc;
	output = ea.output;
	if (args.operands != 1 || !output)
		return cli_error("export: expected SNAP and -o FILE; see 'pcisnap export --help'");
	if (!strcmp(output, "-")) {
		if (!ea.opts.compression)
			return cli_error("export: -o - needs --compression (none, gzip, xz, zstd)");
		if (isatty(STDOUT_FILENO))
			return cli_error("export: not writing a bundle to a terminal: redirect "
			                 "standard output, or -o FILE");
	} else if (!ea.opts.compression && !snap_bundle_is_bundle_path(output)) {
		return cli_error("export: '%s' needs a .tar, .tar.gz, .tar.xz or .tar.zst suffix "
		                 "(or --compression)",
		                 output);
	}
	if ((rc = cli_load_snapshot_as(&s, argv[args.first], args.store,
	                               cli_operand_spec(&args, 0))) != CLI_OK)
		return rc;
	if (ea.against && (rc = cli_load_snapshot(&old, ea.against, args.store)) != CLI_OK)
		goto done;
	if (ea.opts.redact) {
		rc = ea.keyfile ? cli_read_key(key, &keylen, ea.keyfile)
		                : store_key(key, &keylen, args.store);
		if (rc != CLI_OK)
			goto done;
		ea.opts.redact_key = key;
		ea.opts.redact_key_len = keylen;
	}
	if (ea.authfile) {
		if ((rc = cli_read_key(auth, &authlen, ea.authfile)) != CLI_OK)
			goto done;
		ea.opts.auth_key = auth;
		ea.opts.auth_key_len = authlen;
	}
	ea.opts.against = old;
	if (snap_bundle_export(s, &ea.opts, output, &err) < 0)
		rc = cli_snap_error(&err);
done:
	snap_snapshot_free(s);
	snap_snapshot_free(old);
	return rc;
}

static int import_option(int key, const char *arg, void *payload)
{
	(void)key; /* 'K' */
	*(const char **)payload = arg;
	return CLI_OK;
}

int cmd_import(int argc, char **argv)
{
	static const char usage[] =
	    "usage: pcisnap import FILE [--key FILE] [--store DIR]\n"
	    "\n"
	    "Verify a bundle completely (paths, member types, sizes, every checksum) and add its\n"
	    "snapshot(s) to the store under their host, all or none. A hostile or corrupt bundle\n"
	    "is refused and nothing is written. Checksums detect corruption, not forgery: only a\n"
	    "bundle authenticated with a key (export --key) is proven unaltered.\n"
	    "\n"
	    "  --key FILE  require the bundle to be authenticated with this key (export --key);\n"
	    "              PCISNAP_BUNDLE_KEY names a key file for every command reading bundles\n";
	static const struct option extra[] = {
	    {"key", required_argument, NULL, 'K'},
	    {NULL, 0, NULL, 0},
	};
	const char *keyfile = getenv("PCISNAP_BUNDLE_KEY");
	struct cli_args args = {.usage = usage,
	                        .cmd = "import",
	                        .extra = extra,
	                        .on_option = import_option,
	                        .payload = &keyfile};
	const char *store;
	snap_snapshot *s = NULL, *old = NULL;
	snap_bundle_verified how = SNAP_BUNDLE_CHECKSUMS;
	unsigned char key[KEY_MAX];
	size_t keylen = 0;
	snap_store *st = NULL;
	snap_error err = {0};
	snap_oid oid;
	int rc;

	if ((rc = cli_parse_args(&args, argc, argv)) != CLI_OK)
		return rc == CLI_DONE ? CLI_OK : rc;
	store = args.store;
	if (args.operands != 1)
		return cli_error("import: expected one FILE; see 'pcisnap import --help'");
	if (keyfile && *keyfile && (rc = cli_read_key(key, &keylen, keyfile)) != CLI_OK)
		return rc;
	if (snap_bundle_read_keyed(&s, &old, argv[args.first], keylen ? key : NULL, keylen, &how,
	                           &err) < 0)
		return cli_snap_error(&err);
	if ((rc = cli_open_store(&st, store, 1)) != CLI_OK)
		goto done;
	/* everything checked before anything is written: a bundle is imported whole or not */
	if ((old && snap_store_check_commit(st, old, &err) < 0) ||
	    snap_store_check_commit(st, s, &err) < 0) {
		rc = cli_snap_error(&err);
		goto done;
	}
	if (old) {
		snap_oid before, mine;
		int had = snap_store_tip(&before, st, snap_snapshot_hostname(old), NULL) == 0;

		if (snap_store_import(&mine, st, old, &err) < 0) {
			rc = cli_snap_error(&err);
			goto done;
		}
		if (snap_store_import(&oid, st, s, &err) < 0) {
			/* the second could not be written: take the first back (if still the tip)
			 */
			snap_error ignored = {0};

			if (!had || strcmp(before.hex, mine.hex))
				snap_store_undo_commit(st, snap_snapshot_hostname(old),
				                       had ? &before : NULL, &mine, &ignored);
			rc = cli_snap_error(&err);
			goto done;
		}
		fprintf(stderr, "imported %s %s (%s)\n", snap_snapshot_hostname(old), mine.hex,
		        how == SNAP_BUNDLE_AUTHENTICATED ? "authenticated" : "checksums only");
	} else if (snap_store_import(&oid, st, s, &err) < 0) {
		rc = cli_snap_error(&err);
		goto done;
	}
	fprintf(stderr, "imported %s %s (%s)\n", snap_snapshot_hostname(s), oid.hex,
	        how == SNAP_BUNDLE_AUTHENTICATED ? "authenticated" : "checksums only");
done:
	cli_store_close(st);
	snap_snapshot_free(s);
	snap_snapshot_free(old);
	return rc;
}
