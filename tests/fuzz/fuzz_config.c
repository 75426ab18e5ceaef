/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * pcisnap.conf as cmd/config.c reads it: the input is written to a file PCISNAP_CONFIG names
 * and loaded. Whatever it holds, loading is bounded (a 64 KiB file at most, NUL bytes refused),
 * never fails on a key it does not know, and an unreadable gate is the strictest one.
 */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <unistd.h>

#include "cmd.h"
#include "fuzz_main.h"

/* cmd/output.c's, which the target does not link: an error line is a return value here */
int cli_error(const char *fmt, ...)
{
	(void)fmt;
	return CLI_ERROR;
}

static char path[] = "/tmp/pcisnap-fuzz-config-XXXXXX";

static void cleanup(void)
{
	unlink(path);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static int fd = -1;
	FILE *f;

	if (fd < 0) {
		if ((fd = mkstemp(path)) < 0)
			return 0;
		close(fd);
		setenv("PCISNAP_CONFIG", path, 1);
		atexit(cleanup);
	}
	if (!(f = fopen(path, "wb")))
		return 0;
	fwrite(data, 1, size, f);
	fclose(f);
	(void)cli_config_load();
	if (cli_conf.gate_unreadable && cli_conf.gate != CLI_GATE_REGRESSION)
		abort(); /* an unreadable file gates on the strictest meaning */
	cli_config_release();
	return 0;
}
