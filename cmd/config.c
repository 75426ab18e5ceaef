/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * /etc/pcisnap/pcisnap.conf (PCISNAP_CONFIG names another): what an installed pcisnap does when
 * the command line does not say. "key = value" lines, '#' and ';' comments; command-line options
 * win, then the environment (PCISNAP_STORE), then this file.
 *
 * Read the way systemd reads its unit files: a key pcisnap does not know, or a line that is not
 * "key = value", is a warning naming FILE:LINE and is ignored, so a typo never stops a command
 * (or the boot gate). A gate value that cannot be read is not read as "none": the gate takes its
 * strictest boot meaning (regression) and says so. The file itself must be a regular file of at
 * most CONFIG_MAX bytes without NUL bytes (a FIFO, /dev/zero or a binary file is refused before a
 * byte is parsed); a file that is not there is no configuration.
 */
#include <ctype.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "cmd.h"

#define CONFIG_DEFAULT "/etc/pcisnap/pcisnap.conf"
#define CONFIG_MAX     (64 * 1024)

struct cli_config cli_conf;

static char *trim(char *s)
{
	char *e;

	while (isspace((unsigned char)*s))
		s++;
	e = s + strlen(s);
	while (e > s && isspace((unsigned char)e[-1]))
		*--e = '\0';
	return s;
}

static int set_string(char **slot, const char *v)
{
	free(*slot);
	*slot = strdup(v);
	return *slot ? 0 : -1;
}

static void warn(const char *path, unsigned lineno, const char *what)
{
	fprintf(stderr, "pcisnap: warning: %s:%u: %s\n", path, lineno, what);
	cli_conf.warnings++;
}

/* gate = LIST: the boot gate (none, regression, isolation) and preflight, which the kernel and
 * initramfs hooks read (contrib/hooks/pcisnap-preflight-hook). */
static void parse_gate(const char *path, unsigned lineno, char *value)
{
	char *save = NULL, *tok, msg[512];

	cli_conf.gate = CLI_GATE_NONE;
	cli_conf.gate_unreadable = 0;
	for (tok = strtok_r(value, ", \t", &save); tok; tok = strtok_r(NULL, ", \t", &save)) {
		if (!strcmp(tok, "none") || !strcmp(tok, "preflight"))
			continue;
		if (!strcmp(tok, "regression")) {
			cli_conf.gate = CLI_GATE_REGRESSION;
		} else if (!strcmp(tok, "isolation")) {
			if (cli_conf.gate != CLI_GATE_REGRESSION)
				cli_conf.gate = CLI_GATE_ISOLATION;
		} else {
			/* a misspelt gate must not turn the gate off: the strictest boot gate */
			snprintf(
			    msg, sizeof(msg),
			    "gate lists none, regression, isolation or preflight, not '%.64s': "
			    "the boot gate is 'regression' until this is fixed",
			    tok);
			warn(path, lineno, msg);
			cli_conf.gate_unreadable = 1;
		}
	}
	if (cli_conf.gate_unreadable) /* a misspelt gate never turns the gate off */
		cli_conf.gate = CLI_GATE_REGRESSION;
}

static int parse_line(const char *path, unsigned lineno, char *line)
{
	char *eq, *key, *value, msg[512];

	line = trim(line);
	if (!*line || *line == '#' || *line == ';')
		return CLI_OK;
	if (!(eq = strchr(line, '='))) {
		snprintf(msg, sizeof(msg), "expected 'key = value', not '%.64s': ignored", line);
		warn(path, lineno, msg);
		return CLI_OK;
	}
	*eq = '\0';
	key = trim(line);
	value = trim(eq + 1);
	/* a value in quotes, as in an environment file */
	if (strlen(value) >= 2 && (*value == '"' || *value == '\'') &&
	    value[strlen(value) - 1] == *value) {
		value[strlen(value) - 1] = '\0';
		value++;
	}
	if (!strcmp(key, "store"))
		return set_string(&cli_conf.store, value) ? CLI_ERROR : CLI_OK;
	if (!strcmp(key, "remote"))
		return set_string(&cli_conf.remote, value) ? CLI_ERROR : CLI_OK;
	if (!strcmp(key, "baseline"))
		return set_string(&cli_conf.baseline, value) ? CLI_ERROR : CLI_OK;
	if (!strcmp(key, "textfile"))
		return set_string(&cli_conf.textfile, value) ? CLI_ERROR : CLI_OK;
	if (!strcmp(key, "gate")) {
		parse_gate(path, lineno, value);
		return CLI_OK;
	}
	snprintf(msg, sizeof(msg),
	         "unknown setting '%.64s' (store, remote, baseline, textfile, gate): ignored", key);
	warn(path, lineno, msg);
	return CLI_OK;
}

int cli_gate_policy(const char *word)
{
	static const char *const names[] = {"none", "regression", "isolation"};

	for (int i = 0; i < (int)(sizeof(names) / sizeof(names[0])); i++)
		if (!strcmp(word, names[i]))
			return i; /* CLI_GATE_NONE, CLI_GATE_REGRESSION, CLI_GATE_ISOLATION */
	return -1;
}

/* The file's text (NUL-terminated, no NUL inside), or CLI_ERROR with cli_conf.error set. */
static int read_file(char **out, const char *path, int *missing)
{
	struct stat sb;
	char *text = NULL;
	size_t len = 0;
	ssize_t n;
	int fd;

	*missing = 0;
	/* O_NONBLOCK: opening a FIFO must not wait for a writer */
	if ((fd = open(path, O_RDONLY | O_CLOEXEC | O_NONBLOCK | O_NOCTTY)) < 0) {
		*missing = errno == ENOENT;
		snprintf(cli_conf.error, sizeof(cli_conf.error), "cannot read %s: %s", path,
		         strerror(errno));
		return CLI_ERROR;
	}
	if (fstat(fd, &sb) < 0 || !S_ISREG(sb.st_mode)) {
		snprintf(cli_conf.error, sizeof(cli_conf.error), "cannot read %s: %s", path,
		         S_ISREG(sb.st_mode) ? strerror(errno) : "not a regular file");
		goto fail;
	}
	if (sb.st_size > CONFIG_MAX || !(text = malloc(CONFIG_MAX + 2)))
		goto too_big;
	while ((n = read(fd, text + len, CONFIG_MAX + 1 - len)) > 0)
		if ((len += (size_t)n) > CONFIG_MAX)
			goto too_big;
	if (n < 0) {
		snprintf(cli_conf.error, sizeof(cli_conf.error), "cannot read %s: %s", path,
		         strerror(errno));
		goto fail;
	}
	if (memchr(text, '\0', len)) {
		const char *nul = memchr(text, '\0', len);
		unsigned line = 1;

		for (const char *p = text; p < nul; p++)
			line += *p == '\n';
		snprintf(cli_conf.error, sizeof(cli_conf.error),
		         "%s:%u: a NUL byte: not a configuration file", path, line);
		goto fail;
	}
	text[len] = '\0';
	close(fd);
	*out = text;
	return CLI_OK;
too_big:
	snprintf(cli_conf.error, sizeof(cli_conf.error), "%s: larger than %d bytes", path,
	         CONFIG_MAX);
fail:
	free(text);
	close(fd);
	return CLI_ERROR;
}

int cli_config_load(void)
{
	const char *env = getenv("PCISNAP_CONFIG");
	const char *path = env && *env ? env : CONFIG_DEFAULT;
	char *text = NULL, *line, *next;
	unsigned lineno = 0;
	int missing, rc = CLI_OK;

	if (env && !*env) /* PCISNAP_CONFIG="": no configuration file at all */
		return CLI_OK;
	if (read_file(&text, path, &missing) != CLI_OK) {
		if (missing && !env) {
			cli_conf.error[0] = '\0';
			return CLI_OK;
		}
		/* what the file says is unknown, the gate included: its strictest boot meaning */
		cli_conf.gate = CLI_GATE_REGRESSION;
		cli_conf.gate_unreadable = 1;
		return cli_error("%s", cli_conf.error);
	}
	cli_conf.path = path;
	for (line = text; rc == CLI_OK && line; line = next) {
		if ((next = strchr(line, '\n')))
			*next++ = '\0';
		lineno++;
		rc = parse_line(path, lineno, line);
	}
	free(text);
	if (rc != CLI_OK)
		return cli_error("out of memory");
	return CLI_OK;
}

void cli_config_release(void)
{
	free(cli_conf.store);
	free(cli_conf.remote);
	free(cli_conf.baseline);
	free(cli_conf.textfile);
	memset(&cli_conf, 0, sizeof(cli_conf));
}
