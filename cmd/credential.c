/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * User names and passwords for push and pull over HTTP(S), from git's credential helpers
 * (credential.helper in git's configuration: cache, store, libsecret, ...) as git itself asks
 * them: `git credential fill`, then `approve` when the remote took them or `reject` when it
 * did not. Without git, or with no helper that knows the URL, there are none.
 */
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "cmd.h"

/* protocol=, host=, path= of url, as git credential reads them */
static void describe(FILE *f, const char *url)
{
	const char *sep = strstr(url, "://"), *host, *slash, *at;

	if (!sep) {
		fprintf(f, "url=%s\n", url);
		return;
	}
	fprintf(f, "protocol=%.*s\n", (int)(sep - url), url);
	host = sep + 3;
	slash = strchr(host, '/');
	at = memchr(host, '@', slash ? (size_t)(slash - host) : strlen(host));
	if (at)
		host = at + 1; /* the user name goes as username= */
	fprintf(f, "host=%.*s\n", slash ? (int)(slash - host) : (int)strlen(host), host);
	if (slash && slash[1])
		fprintf(f, "path=%s\n", slash + 1);
}

/* Run `git credential ACTION` with input; its output (fill) into *out (malloc'd). */
static int run_git_credential(const char *action, const char *input, char **out)
{
	int in[2], res[2];
	pid_t pid;
	int status;

	if (out)
		*out = NULL;
	if (pipe(in) < 0)
		return -1;
	if (pipe(res) < 0) {
		close(in[0]);
		close(in[1]);
		return -1;
	}
	if ((pid = fork()) < 0)
		return -1;
	if (pid == 0) {
		dup2(in[0], STDIN_FILENO);
		dup2(res[1], STDOUT_FILENO);
		close(in[0]), close(in[1]), close(res[0]), close(res[1]);
		/* never prompt on a terminal: a rollout gate has nobody to answer */
		setenv("GIT_TERMINAL_PROMPT", "0", 1);
		execlp("git", "git", "credential", action, (char *)NULL);
		_exit(127);
	}
	close(in[0]);
	close(res[1]);
	{
		size_t len = strlen(input), off = 0;
		void (*old)(int) = signal(SIGPIPE, SIG_IGN);

		while (off < len) {
			ssize_t w = write(in[1], input + off, len - off);

			if (w <= 0 && errno != EINTR)
				break;
			if (w > 0)
				off += (size_t)w;
		}
		signal(SIGPIPE, old);
	}
	close(in[1]);
	{
		char buf[4096];
		size_t n = 0;
		ssize_t r;
		char *text = NULL;

		while ((r = read(res[0], buf, sizeof(buf))) > 0 || (r < 0 && errno == EINTR)) {
			char *nt;

			if (r <= 0)
				continue;
			if (!(nt = realloc(text, n + (size_t)r + 1)))
				break;
			text = nt;
			memcpy(text + n, buf, (size_t)r);
			n += (size_t)r;
			text[n] = '\0';
		}
		close(res[0]);
		if (out)
			*out = text;
		else
			free(text);
	}
	while (waitpid(pid, &status, 0) < 0 && errno == EINTR)
		;
	return WIFEXITED(status) && WEXITSTATUS(status) == 0 ? 0 : -1;
}

static char *field(const char *text, const char *key)
{
	size_t kl = strlen(key);

	for (const char *p = text; p && *p; p = strchr(p, '\n') ? strchr(p, '\n') + 1 : NULL)
		if (!strncmp(p, key, kl) && p[kl] == '=')
			return strndup(p + kl + 1, strcspn(p + kl + 1, "\n"));
	return NULL;
}

int cli_credential(char **username, char **password, const char *url, const char *url_username,
                   void *payload)
{
	struct cli_credential *c = payload;
	char *input = NULL, *out = NULL;
	size_t ilen = 0;
	FILE *f = open_memstream(&input, &ilen);

	if (!f)
		return -1;
	describe(f, url);
	if (url_username)
		fprintf(f, "username=%s\n", url_username);
	fputs("\n", f);
	fclose(f);
	if (run_git_credential("fill", input, &out) < 0 || !out) {
		free(input);
		free(out);
		return -1;
	}
	*username = field(out, "username");
	*password = field(out, "password");
	/* kept to approve or reject afterwards: the description, then what was given */
	if (c && *username && *password) {
		free(c->given);
		if (asprintf(&c->given, "%.*susername=%s\npassword=%s\n\n", (int)(ilen - 1), input,
		             *username, *password) < 0)
			c->given = NULL;
	}
	free(input);
	if (out)
		memset(out, 0, strlen(out));
	free(out);
	return *username && *password ? 0 : -1;
}

void cli_credential_done(struct cli_credential *c, int worked)
{
	if (!c->given)
		return;
	run_git_credential(worked ? "approve" : "reject", c->given, NULL);
	memset(c->given, 0, strlen(c->given));
	free(c->given);
	c->given = NULL;
}
