/* SPDX-License-Identifier: GPL-2.0-or-later */
/* Helpers shared by the pcisnap commands: messages, loading snapshots, output. */
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "cmd.h"

int cli_error(const char *fmt, ...)
{
	va_list ap;

	fputs("pcisnap: ", stderr);
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputc('\n', stderr);
	return CLI_ERROR;
}

int cli_snap_error(const snap_error *err)
{
	return cli_error("%s", err->message[0] ? err->message : "unknown error");
}

void cli_print_warnings(const snap_snapshot *s)
{
	for (size_t i = 0; i < snap_snapshot_warning_count(s); i++)
		fprintf(stderr, "pcisnap: warning: %s\n", snap_snapshot_warning(s, i));
}

int cli_load_snapshot(snap_snapshot **out, const char *spec)
{
	snap_error err = {0};

	if (snap_snapshot_load_file(out, spec, &err) < 0)
		return cli_snap_error(&err);
	return CLI_OK;
}

int cli_write_stdout(const char *text)
{
	if (fputs(text, stdout) == EOF || fflush(stdout) == EOF)
		return cli_error("cannot write to standard output");
	return CLI_OK;
}
