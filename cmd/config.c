/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * /etc/pcisnap/pcisnap.conf (PCISNAP_CONFIG names another): what an installed pcisnap does when
 * the command line does not say. "key = value" lines, '#' comments; command-line options win,
 * then the environment (PCISNAP_STORE), then this file. A file that is not there is no
 * configuration; one that cannot be read, or says what pcisnap does not know, is an error: a
 * boot gate must not run on settings it misread.
 */
#include <ctype.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

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

static int parse_line(const char *path, unsigned lineno, char *line)
{
	char *eq, *key, *value;

	line = trim(line);
	if (!*line || *line == '#' || *line == ';')
		return CLI_OK;
	if (!(eq = strchr(line, '=')))
		return cli_error("%s:%u: expected 'key = value', not '%s'", path, lineno, line);
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
		/* a list: the boot gate (none, regression, isolation) and preflight, which the
		 * kernel and initramfs hooks read (contrib/hooks/pcisnap-preflight-hook) */
		char *save = NULL, *tok;

		cli_conf.gate = CLI_GATE_NONE;
		for (tok = strtok_r(value, ", \t", &save); tok;
		     tok = strtok_r(NULL, ", \t", &save)) {
			if (!strcmp(tok, "none") || !strcmp(tok, "preflight"))
				continue;
			if (!strcmp(tok, "regression"))
				cli_conf.gate = CLI_GATE_REGRESSION;
			else if (!strcmp(tok, "isolation") && cli_conf.gate != CLI_GATE_REGRESSION)
				cli_conf.gate = CLI_GATE_ISOLATION;
			else if (strcmp(tok, "isolation"))
				return cli_error("%s:%u: gate lists none, regression, isolation or "
				                 "preflight, not '%s'",
				                 path, lineno, tok);
		}
		return CLI_OK;
	}
	return cli_error("%s:%u: unknown setting '%s' (store, remote, baseline, textfile, gate)",
	                 path, lineno, key);
}

int cli_gate_policy(const char *word)
{
	static const char *const names[] = {"none", "regression", "isolation"};

	for (int i = 0; i < (int)(sizeof(names) / sizeof(names[0])); i++)
		if (!strcmp(word, names[i]))
			return i; /* CLI_GATE_NONE, CLI_GATE_REGRESSION, CLI_GATE_ISOLATION */
	return -1;
}

int cli_config_load(void)
{
	const char *env = getenv("PCISNAP_CONFIG");
	const char *path = env && *env ? env : CONFIG_DEFAULT;
	char line[4096];
	unsigned lineno = 0;
	size_t total = 0;
	FILE *f;
	int rc = CLI_OK;

	if (env && !*env) /* PCISNAP_CONFIG="": no configuration file at all */
		return CLI_OK;
	if (!(f = fopen(path, "re"))) {
		if (errno == ENOENT && !env)
			return CLI_OK;
		return cli_error("cannot read %s: %s", path, strerror(errno));
	}
	cli_conf.path = path;
	while (rc == CLI_OK && fgets(line, sizeof(line), f)) {
		size_t n = strlen(line);

		lineno++;
		total += n;
		if (total > CONFIG_MAX)
			rc = cli_error("%s: larger than %d bytes", path, CONFIG_MAX);
		else if (n == sizeof(line) - 1 && line[n - 1] != '\n')
			rc = cli_error("%s:%u: line too long", path, lineno);
		else
			rc = parse_line(path, lineno, line);
	}
	if (rc == CLI_OK && ferror(f))
		rc = cli_error("cannot read %s: %s", path, strerror(errno));
	fclose(f);
	return rc;
}

void cli_config_release(void)
{
	free(cli_conf.store);
	free(cli_conf.remote);
	free(cli_conf.baseline);
	free(cli_conf.textfile);
	memset(&cli_conf, 0, sizeof(cli_conf));
}
