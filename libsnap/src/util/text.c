/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * Small text helpers every layer may use: trimming, strict numbers, base names and making
 * bytes valid UTF-8 for JSON. No I/O; unit-tested in tests/unit/test_parse.c.
 */
#include <ctype.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "util/util.h"

char *snap_parse__trim(char *s)
{
	char *e;

	while (*s && isspace((unsigned char)*s))
		s++;
	e = s + strlen(s);
	while (e > s && isspace((unsigned char)e[-1]))
		*--e = '\0';
	return s;
}

int snap_parse__hex_attr(unsigned long *out, const char *s)
{
	char *end;
	unsigned long v;

	while (isspace((unsigned char)*s))
		s++;
	if (!isxdigit((unsigned char)*s))
		return -1;
	errno = 0;
	v = strtoul(s, &end, 16); /* accepts the optional 0x prefix */
	if (errno || end == s)
		return -1;
	while (isspace((unsigned char)*end))
		end++;
	if (*end)
		return -1;
	*out = v;
	return 0;
}

int snap_parse__int(long *out, const char *s)
{
	char *end;
	long v;

	while (isspace((unsigned char)*s))
		s++;
	if (!*s)
		return -1;
	errno = 0;
	v = strtol(s, &end, 10);
	if (errno || end == s)
		return -1;
	while (isspace((unsigned char)*end))
		end++;
	if (*end)
		return -1;
	*out = v;
	return 0;
}

/*
 * sysfs has printed link speeds as "8 GT/s" (before 5.3) and "8.0 GT/s PCIe" (after), and
 * "Unknown" (or "Unknown speed") when the link is down. Normalise to "8.0 GT/s".
 */
long snap_parse__tenths(const char *s, const char **end)
{
	long v = 0;
	int frac = -1; /* digits seen after the point */

	/* by hand, not strtod(): a program that set a locale with a decimal comma gets the same */
	for (; *s; s++) {
		if (*s >= '0' && *s <= '9') {
			if (frac < 0) {
				if (v > 100000)
					return -1;
				v = v * 10 + (*s - '0');
			} else if (frac++ == 0) {
				v = v * 10 + (*s - '0');
			} /* further decimals: below a tenth, dropped */
		} else if (*s == '.' && frac < 0) {
			frac = 0;
		} else {
			break;
		}
	}
	if (end)
		*end = s;
	if (frac <= 0)
		v *= 10; /* "8" and "8." are 8.0 */
	return v;
}

char *snap_parse__basename_dup(const char *path)
{
	const char *slash;
	size_t len = strlen(path);

	while (len > 1 && path[len - 1] == '/')
		len--;
	slash = memrchr(path, '/', len);
	if (slash)
		return strndup(slash + 1, len - (size_t)(slash + 1 - path));
	return strndup(path, len);
}

/* Length of the valid UTF-8 sequence at s (RFC 3629: no overlongs, surrogates or > U+10FFFF);
 * 0 when the bytes there are not one. */
static size_t utf8_seq(const unsigned char *s)
{
	if (s[0] < 0x80)
		return 1;
	if (s[0] >= 0xc2 && s[0] <= 0xdf)
		return (s[1] & 0xc0) == 0x80 ? 2 : 0;
	if (s[0] >= 0xe0 && s[0] <= 0xef) {
		unsigned lo = s[0] == 0xe0 ? 0xa0 : 0x80, hi = s[0] == 0xed ? 0x9f : 0xbf;

		return s[1] >= lo && s[1] <= hi && (s[2] & 0xc0) == 0x80 ? 3 : 0;
	}
	if (s[0] >= 0xf0 && s[0] <= 0xf4) {
		unsigned lo = s[0] == 0xf0 ? 0x90 : 0x80, hi = s[0] == 0xf4 ? 0x8f : 0xbf;

		return s[1] >= lo && s[1] <= hi && (s[2] & 0xc0) == 0x80 && (s[3] & 0xc0) == 0x80
		           ? 4
		           : 0;
	}
	return 0;
}

int snap_parse__utf8_escape(char **text)
{
	const unsigned char *p = (const unsigned char *)*text;
	snap_buf b = SNAP_BUF_INIT;
	size_t n;

	for (; *p; p += n)
		if (!(n = utf8_seq(p)))
			break;
	if (!*p)
		return 0; /* valid as it is: unchanged */
	for (p = (const unsigned char *)*text; *p; p += n) {
		n = utf8_seq(p);
		if (!n || *p == '\\') {
			snap_buf__printf(&b, "\\x%02x", *p);
			n = 1;
		} else {
			snap_buf__put(&b, (const char *)p, n);
		}
	}
	{
		char *out = snap_buf__detach(&b);

		if (!out)
			return -1;
		free(*text);
		*text = out;
	}
	return 1;
}

size_t snap_edit_distance(const char *a, const char *b)
{
	size_t la = strlen(a), lb = strlen(b), row[65], i, j;

	if (lb > 64 || la > 64)
		return (size_t)-1; /* names are short; a long one is near nothing */
	for (j = 0; j <= lb; j++)
		row[j] = j;
	for (i = 1; i <= la; i++) {
		size_t diag = row[0], next;

		row[0] = i;
		for (j = 1; j <= lb; j++) {
			size_t best = diag + (a[i - 1] != b[j - 1]);

			next = row[j];
			if (row[j] + 1 < best)
				best = row[j] + 1;
			if (row[j - 1] + 1 < best)
				best = row[j - 1] + 1;
			row[j] = best;
			diag = next;
		}
	}
	return row[lb];
}
