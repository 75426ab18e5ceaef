/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * Reports as a terminal user expects them and as a script needs them: wrapped to the terminal's
 * width with hanging indents, coloured on a terminal only (--color, NO_COLOR), through a pager
 * as git does (PCISNAP_PAGER, PAGER, --no-pager); a pipe gets whole, plain lines.
 */
#include <errno.h>
#include <signal.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/wait.h>
#include <unistd.h>

#include "cmd.h"

struct cli_output cli_out = {CLI_COLOR_AUTO, 1};

int cli_set_color(const char *when)
{
	if (!when || !strcmp(when, "always"))
		cli_out.color = CLI_COLOR_ALWAYS;
	else if (!strcmp(when, "never"))
		cli_out.color = CLI_COLOR_NEVER;
	else if (!strcmp(when, "auto"))
		cli_out.color = CLI_COLOR_AUTO;
	else
		return cli_error("--color: '%s' is not auto, always or never", when);
	return CLI_OK;
}

/* The width to wrap to: COLUMNS when set, else the terminal's; 0 (no wrapping) off a terminal. */
static size_t wrap_width(void)
{
	const char *cols = getenv("COLUMNS");
	struct winsize ws;

	if (cols && *cols) {
		long v = strtol(cols, NULL, 10);

		if (v >= 20 && v <= 1000)
			return (size_t)v;
	}
	if (isatty(STDOUT_FILENO) && ioctl(STDOUT_FILENO, TIOCGWINSZ, &ws) == 0 && ws.ws_col >= 20)
		return ws.ws_col;
	return 0;
}

static int use_color(void)
{
	const char *term = getenv("TERM");

	if (cli_out.color != CLI_COLOR_AUTO)
		return cli_out.color == CLI_COLOR_ALWAYS;
	if (getenv("NO_COLOR") && *getenv("NO_COLOR"))
		return 0; /* https://no-color.org */
	return isatty(STDOUT_FILENO) && !(term && !strcmp(term, "dumb"));
}

/*
 * Where a wrapped line goes on: under the message of "FAIL  id  message", four columns in from
 * the marker of "  [kind] " and "  -> [kind] ", after "  Next: ", after the label column of
 * "label     value".
 */
static size_t hanging_indent(const char *line, size_t len)
{
	size_t i = 0, j;

	while (i < len && line[i] == ' ')
		i++;
	if (len - i > 6 && (!strncmp(line + i, "FAIL  ", 6) || !strncmp(line + i, "WARN  ", 6) ||
	                    !strncmp(line + i, "PASS  ", 6))) {
		for (j = i + 6; j < len && line[j] != ' '; j++)
			;
		while (j < len && line[j] == ' ')
			j++;
		return j;
	}
	/* "  [kind] ..." and "    -> [kind] ...": four columns in from the marker */
	if (len - i > 3 && !strncmp(line + i, "-> ", 3))
		return i + 7;
	if (i < len && line[i] == '[')
		return i + 4;
	if (len - i > 6 && !strncmp(line + i, "Next: ", 6))
		return i + 6;
	for (j = i; j + 1 < len && j < 24; j++)
		if (line[j] != ' ' && line[j + 1] == ' ' && j + 2 < len && line[j + 2] == ' ') {
			for (j += 1; j < len && line[j] == ' '; j++)
				;
			return j < 40 ? j : i + 4;
		}
	return i + 4;
}

/* characters (UTF-8) of s[0, len) */
static size_t chars_of(const char *s, size_t len)
{
	size_t n = 0;

	for (size_t i = 0; i < len; i++)
		n += ((unsigned char)s[i] & 0xc0) != 0x80;
	return n;
}

/* the byte offset of character k of s[0, len) (len when there are fewer) */
static size_t byte_of(const char *s, size_t len, size_t k)
{
	size_t i = 0;

	for (size_t n = 0; i < len; i++) {
		if (((unsigned char)s[i] & 0xc0) != 0x80 && n++ == k)
			return i;
	}
	return len;
}

#define TABLE_COLS 16

/*
 * A table's header line (util/table.c): after its indent, three or more words of capitals two
 * or more spaces apart. starts[]: each column's first character; the count, 0 if not one.
 */
static size_t table_header(const char *line, size_t len, size_t *starts)
{
	size_t n = 0, i = 0;

	while (i < len && line[i] == ' ')
		i++;
	while (i < len) {
		size_t w = i;

		if (n == TABLE_COLS)
			return 0;
		while (w < len && ((line[w] >= 'A' && line[w] <= 'Z') || line[w] == '_'))
			w++;
		if (w == i || (w < len && line[w] != ' ') || (w + 1 < len && line[w + 1] != ' ') ||
		    (w + 1 == len && line[w] == ' '))
			return 0;
		starts[n++] = i;
		for (i = w; i < len && line[i] == ' '; i++)
			;
	}
	return n >= 3 ? n : 0;
}

/*
 * A table at p (its header line) cut to width: the columns found by the header, the widest
 * shrunk a character at a time until the lines fit, a cut cell ending in "…". Returns the
 * bytes of text it took (the header and the rows under it), 0 when p is no table or fits.
 */
static size_t table(FILE *out, const char *p, size_t width)
{
	const char *nl = strchr(p, '\n');
	size_t hlen = nl ? (size_t)(nl - p) : strlen(p), starts[TABLE_COLS], w[TABLE_COLS];
	size_t n = table_header(p, hlen, starts), indent, total, longest = 0;
	const char *end = p, *line;

	if (!n || !width)
		return 0;
	indent = starts[0];
	/* the block: the header and the lines under it with its indent */
	for (line = p; *line;) {
		const char *e = strchr(line, '\n');
		size_t len = e ? (size_t)(e - line) : strlen(line);

		if (line != p && (len <= indent || strspn(line, " ") != indent))
			break;
		if (chars_of(line, len) > longest)
			longest = chars_of(line, len);
		line += len + (e ? 1 : 0);
		end = line;
	}
	if (longest <= width)
		return 0;
	for (size_t c = 0; c < n; c++)
		w[c] = c + 1 < n ? starts[c + 1] - starts[c] - 2 : longest - starts[c];
	for (total = longest; total > width;) {
		size_t widest = 0;

		for (size_t c = 1; c < n; c++)
			if (w[c] > w[widest])
				widest = c;
		if (w[widest] <= 4)
			break;
		w[widest]--;
		total--;
	}
	for (line = p; line < end;) {
		const char *e = strchr(line, '\n');
		size_t len = e ? (size_t)(e - line) : strlen(line);

		fprintf(out, "%*s", (int)indent, "");
		for (size_t c = 0; c < n; c++) {
			size_t from = byte_of(line, len, starts[c]);
			size_t to = c + 1 < n ? byte_of(line, len, starts[c + 1]) : len, k;

			while (to > from && line[to - 1] == ' ')
				to--;
			k = chars_of(line + from, to - from);
			if (k > w[c]) {
				fwrite(line + from, 1, byte_of(line + from, to - from, w[c] - 1),
				       out);
				fputs("\u2026", out);
				k = w[c];
			} else {
				fwrite(line + from, 1, to - from, out);
			}
			if (c + 1 < n)
				fprintf(out, "%*s", (int)(w[c] - k + 2), "");
		}
		fputc('\n', out);
		line += len + (e ? 1 : 0);
	}
	return (size_t)(end - p);
}

/* text with every line longer than width broken at spaces, continued under its indent; a
 * table (a header of capitals) is cut cell by cell instead */
static void wrap(FILE *out, const char *text, size_t width)
{
	const char *p = text;

	while (*p) {
		const char *nl = strchr(p, '\n');
		size_t len = nl ? (size_t)(nl - p) : strlen(p);
		size_t indent = hanging_indent(p, len), start = 0, took;
		bool first = true;

		if ((took = table(out, p, width))) {
			p += took;
			continue;
		}
		if (!width || len <= width || indent + 20 > width) {
			fwrite(p, 1, len, out);
		} else {
			while (start < len) {
				size_t room = width - (first ? 0 : indent), end = start + room, cut;

				if (len - start <= room) {
					cut = len;
				} else {
					for (cut = end; cut > start && p[cut] != ' '; cut--)
						;
					if (cut ==
					    start) /* one word longer than the line: let it be */
						for (cut = end; cut < len && p[cut] != ' '; cut++)
							;
				}
				if (!first)
					fprintf(out, "\n%*s", (int)indent, "");
				fwrite(p + start, 1, cut - start, out);
				start = cut;
				while (start < len && p[start] == ' ')
					start++;
				first = false;
			}
		}
		if (nl)
			fputc('\n', out);
		p += len + (nl ? 1 : 0);
	}
}

/* The words a report's reader looks for, coloured: red the regressions, yellow the doubts. */
static const struct {
	const char *word, *sgr;
} colours[] = {
    {"FAIL", "1;31"},
    {"isolation_loss", "1;31"},
    {"grouping_regression", "1;31"},
    {"binding_regression", "1;31"},
    {"WARN", "33"},
    {"inconclusive", "33"},
    {"PASS", "32"},
    {"harmless", "32"},
    {"Next:", "36"},
};

static void colourise(FILE *out, const char *text)
{
	const char *p = text;

	while (*p) {
		bool done = false;

		/* whole words only: at the start or after a space or '(' */
		if (p == text || p[-1] == ' ' || p[-1] == '\n' || p[-1] == '(')
			for (size_t i = 0; i < sizeof(colours) / sizeof(colours[0]); i++) {
				size_t n = strlen(colours[i].word);
				char after;

				if (strncmp(p, colours[i].word, n))
					continue;
				after = p[n]; /* p has the word's n bytes, then at least its NUL */
				if (after == ' ' || after == '\n' || after == ')' || after == ',' ||
				    after == ':' || after == '\0') {
					fprintf(out, "\033[%sm%.*s\033[m", colours[i].sgr, (int)n,
					        p);
					p += n;
					done = true;
					break;
				}
			}
		if (!done)
			fputc(*p++, out);
	}
}

/* The pager, as git runs it: PCISNAP_PAGER, else PAGER, else less (LESS=FRX unless set). */
static FILE *open_pager(pid_t *pid)
{
	const char *pager = getenv("PCISNAP_PAGER");
	int fds[2];

	if (!pager)
		pager = getenv("PAGER");
	if (!pager)
		pager = "less";
	if (!*pager || !strcmp(pager, "cat") || pipe(fds) < 0)
		return NULL;
	if ((*pid = fork()) < 0) {
		close(fds[0]);
		close(fds[1]);
		return NULL;
	}
	if (*pid == 0) {
		dup2(fds[0], STDIN_FILENO);
		close(fds[0]);
		close(fds[1]);
		setenv("LESS", getenv("LESS") ? getenv("LESS") : "FRX", 1);
		execl("/bin/sh", "sh", "-c", pager, (char *)NULL);
		_exit(127);
	}
	close(fds[0]);
	return fdopen(fds[1], "w");
}

int cli_write_report(const char *text)
{
	size_t width = wrap_width();
	int color = use_color();
	char *plain = NULL, *wrapped = NULL;
	size_t plen = 0, wlen = 0;
	FILE *mem, *out = stdout;
	pid_t pid = -1;
	int rc = CLI_OK;

	/* the report made safe first (cli_write_stdout's rule), then shaped */
	if (!(mem = open_memstream(&plain, &plen)))
		return cli_write_stdout(text);
	cli_filter_controls(mem, text);
	fclose(mem);
	if (!(mem = open_memstream(&wrapped, &wlen))) {
		free(plain);
		return cli_write_stdout(text);
	}
	wrap(mem, plain, width);
	fclose(mem);
	free(plain);
	if (cli_out.pager && isatty(STDOUT_FILENO)) {
		signal(SIGPIPE, SIG_IGN); /* the reader may quit the pager early */
		if (!(out = open_pager(&pid)))
			out = stdout;
	}
	if (color)
		colourise(out, wrapped);
	else
		fputs(wrapped, out);
	if (out != stdout) {
		int status;

		fclose(out);
		waitpid(pid, &status, 0);
	} else if (fflush(stdout) == EOF || ferror(stdout)) {
		rc = cli_error("cannot write to standard output");
	}
	free(wrapped);
	return rc;
}
