/* SPDX-License-Identifier: GPL-2.0-or-later */
/* The pcisnap commands and the helpers they share. */
#ifndef PCISNAP_CMD_H
#define PCISNAP_CMD_H

#include <getopt.h>
#include <stdint.h>
#include <stdio.h>

#include "snap/error.h"

#include "snap/snap.h"

/* Exit codes (docs/interface.md). */
#define CLI_OK           0 /* success; for diff/check nothing worse than harmless */
#define CLI_REGRESSION   1 /* diff/check found a regression named by --fail-on */
#define CLI_ERROR        2 /* usage, bad input, I/O or store error */
#define CLI_INCONCLUSIVE 3 /* no regression found, but evidence that decides one is unknown */

int cmd_collect(int argc, char **argv);
int cmd_show(int argc, char **argv);
int cmd_check(int argc, char **argv);
int cmd_diff(int argc, char **argv);
int cmd_log(int argc, char **argv);
int cmd_hosts(int argc, char **argv);
int cmd_label(int argc, char **argv);
int cmd_push(int argc, char **argv);
int cmd_pull(int argc, char **argv);
int cmd_export(int argc, char **argv);
int cmd_import(int argc, char **argv);
int cmd_fleet(int argc, char **argv);
int cmd_canary(int argc, char **argv);
int cmd_accept(int argc, char **argv);
int cmd_preflight(int argc, char **argv);
int cmd_boot(int argc, char **argv);

/* config.c: /etc/pcisnap/pcisnap.conf (PCISNAP_CONFIG), below the command line. */
enum { CLI_GATE_NONE = 0, CLI_GATE_REGRESSION, CLI_GATE_ISOLATION };
struct cli_config {
	const char *path; /* the file read, NULL when there was none */
	char *store;      /* store = DIR: the store without --store or PCISNAP_STORE */
	char *remote;     /* remote = URL: push and pull without REMOTE */
	char *baseline;   /* baseline = LABEL: boot start diffs against HOST@LABEL when it exists */
	char *textfile;   /* textfile = DIR: node_exporter's textfile directory for pcisnap.prom */
	int gate;         /* gate = none|regression|isolation: boot start fails on such a verdict */
	int gate_unreadable; /* the gate could not be read: gate is CLI_GATE_REGRESSION, said so */
	unsigned warnings;   /* lines ignored (unknown keys, malformed lines), each warned */
	char error[512];     /* why the file could not be read at all; "" when it could */
};
extern struct cli_config cli_conf;
/* CLI_OK, or CLI_ERROR with the message printed and in cli_conf.error (the file is not a regular
 * file, too large, has a NUL byte, cannot be read): then nothing of it applies but the gate,
 * which takes its strictest boot meaning. Unknown keys and malformed lines only warn. */
int cli_config_load(void);
int cli_gate_policy(const char *word); /* "none", "regression", "isolation": CLI_GATE_*; else -1 */
void cli_config_release(void);

/* metrics.c: DIR/pcisnap.prom, the snapshot's Prometheus metrics (its check run here;
 * diff_verdict may be NULL), atomically (write, fsync, rename); CLI_OK or CLI_ERROR. */
int cli_write_textfile(const char *dir, const snap_snapshot *s, const char *diff_verdict);
/* The same, the error in why (n bytes) instead of printed. */
int cli_write_textfile_msg(const char *dir, const snap_snapshot *s, const char *diff_verdict,
                           char *why, size_t n);
/* The class a commit message's "verdict" names ("harmless (against ...)"), else NULL. */
const char *cli_verdict_class(const char *verdict);
/* The class of the newest snapshot's verdict of host in st, NULL when unknown. */
struct snap_store;
const char *cli_store_last_verdict(struct snap_store *st, const char *host);

/*
 * The options every command parses the same way: --store DIR, --format NAME (when formats is
 * set) and -h/--help, beside the command's own (extra, shortopts), which go to on_option.
 */
struct cli_args {
	const char *usage;          /* for --help (stdout) and a usage error (stderr) */
	const char *cmd;            /* the command's name, for messages */
	const char *const *formats; /* --format names in enum order, NULL-terminated */
	const struct option *extra; /* the command's long options, NULL-terminated */
	const char *shortopts;      /* the command's short options ("o:"), or NULL */
	int (*on_option)(int key, const char *arg, void *payload); /* CLI_OK or CLI_ERROR */
	void *payload;
	/* results */
	int format;          /* index into formats; 0 unless --format */
	const char *store;   /* --store DIR, NULL unless given ("" is the default store) */
	int store_set;       /* --store was given */
	int first;           /* argv index of the first operand */
	int operands;        /* number of operands */
	int before_dashdash; /* operands before a "--" (revisions); -1: there was none */
};
#define CLI_DONE (-1) /* cli_parse_args(): --help printed, exit 0 */
/* Parse argv[1..]: CLI_OK to go on, CLI_DONE after --help, CLI_ERROR (message printed). */
int cli_parse_args(struct cli_args *a, int argc, char **argv);

/* Print "pcisnap: <message>" to stderr; returns CLI_ERROR. */
int cli_error(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
/* Print the libsnap error; returns CLI_ERROR. */
int cli_snap_error(const snap_error *err);
/* Print "pcisnap: warning: ..." for each collection warning. */
void cli_print_warnings(const snap_snapshot *s);
/*
 * Load SNAP: "-" or an existing file is a snapshot file; anything else is a store revision
 * (HOST, HOST~N, HOST@LABEL, commit id) in store_path (NULL: the default store).
 * CLI_OK, or CLI_ERROR with the message printed.
 */
int cli_load_snapshot(snap_snapshot **out, const char *spec, const char *store_path);
/* What an operand names: decided by its form, or by which side of "--" it stood on. */
enum cli_spec { CLI_SPEC_AUTO, CLI_SPEC_REVISION, CLI_SPEC_FILE };
enum cli_spec cli_operand_spec(const struct cli_args *a, int k); /* k-th operand */
int cli_load_snapshot_as(snap_snapshot **out, const char *spec, const char *store_path,
                         enum cli_spec kind);
/* Does the operand name a store revision (not a file or a bundle)? */
int cli_spec_is_revision(const char *spec, enum cli_spec kind);
/* Open store_path (NULL: the default); CLI_OK or CLI_ERROR with the message printed. */
struct snap_store;
int cli_open_store(struct snap_store **out, const char *store_path, int create);
/* The store's policy of accepted deviations (snap/policy.h): NULL when there is none, or no
 * store, or (warned) when it cannot be read. Free with snap_policy_free(). */
struct snap_policy;
struct snap_policy *cli_policy(const char *store_path);
/* "user@machine" (SUDO_USER, else the user) for what the store records of a decision */
void cli_who(char *buf, size_t n);
struct snap_policy *cli_policy_of(struct snap_store *st);
/* Free st, first printing what its writer lock said (stale locks taken over) as a warning. */
void cli_store_close(struct snap_store *st);
/* The same, the error in err instead of printed (boot start logs it to the journal). */
int cli_open_store_err(struct snap_store **out, const char *store_path, int create,
                       snap_error *err);
/*
 * Map a --format argument to its index in names (a NULL-terminated list in the order of the
 * format enum). CLI_OK, or CLI_ERROR with "CMD: unknown format 'X' (a, b, c)" printed.
 */
int cli_parse_format(int *out, const char *cmd, const char *arg, const char *const names[]);
/* How reports reach a terminal: --color, --no-pager (output.c). */
enum { CLI_COLOR_NEVER = 0, CLI_COLOR_ALWAYS = 1, CLI_COLOR_AUTO = 2 };
struct cli_output {
	int color; /* CLI_COLOR_* */
	int pager; /* a terminal gets a pager */
};
extern struct cli_output cli_out;
int cli_set_color(const char *when); /* "auto", "always", "never", NULL: always */
/*
 * A text report to stdout: control characters made '?', then wrapped to the terminal's width
 * (COLUMNS), coloured on a terminal (NO_COLOR, --color) and paged there (PCISNAP_PAGER, PAGER).
 * Data (JSON, Markdown) goes through cli_write_stdout, as it is.
 */
int cli_write_report(const char *text);
/* The control-character filter of cli_write_stdout, into f. */
void cli_filter_controls(FILE *f, const char *text);
/* Write text to stdout, checking for errors; CLI_OK or CLI_ERROR. */
/* Reports to stdout: control characters from snapshots (ANSI escapes) are written as '?'. */
int cli_write_stdout(const char *text);
/* A JSON document libsnap wrote (ASCII, escaped) to stdout as it is: cli_write_stdout()'s bytes,
 * without its scan of every byte. */
int cli_write_json(const char *text);
/* SOURCE_DATE_EPOCH into *out: 1 when set, 0 when not, -1 (message printed) when it is not a
 * number of seconds. */
int cli_source_date_epoch(int64_t *out);

/*
 * A time for --since/--until: RFC 3339 in UTC (2026-01-31T12:00:00Z), a date (its first
 * second, or with end_of_day its last) or @SECONDS. CLI_OK, or CLI_ERROR with a message.
 */
int cli_parse_time(int64_t *out, const char *opt, const char *arg, int end_of_day);

/*
 * credential.c: git's credential helpers for push and pull over HTTP(S), a
 * snap_store_credential_fn. What a helper gave is approved (or rejected) afterwards.
 */
struct cli_credential {
	char *given; /* the description and what was given, for approve/reject */
};
int cli_credential(char **username, char **password, const char *url, const char *url_username,
                   void *payload);
void cli_credential_done(struct cli_credential *c, int worked);

#define CLI_KEY_MAX 4096
/* A key file (redaction or bundle authentication): 16 to CLI_KEY_MAX bytes. */
int cli_read_key(unsigned char *key, size_t *len, const char *path);

#endif
