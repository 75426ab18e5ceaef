/* SPDX-License-Identifier: GPL-2.0-or-later */
/* Placeholders until the diff engine lands (issue 3); they fail loudly, never pretend. */
#include "cmd.h"

int cmd_check(int argc, char **argv)
{
	(void)argc;
	(void)argv;
	return cli_error("check: not implemented yet");
}

int cmd_diff(int argc, char **argv)
{
	(void)argc;
	(void)argv;
	return cli_error("diff: not implemented yet");
}
