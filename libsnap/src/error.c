/* SPDX-License-Identifier: GPL-2.0-or-later */
/* Error records and collection warnings. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "internal.h"

const char *snap_version(void)
{
	return SNAP_VERSION;
}

/* Record a failure in err (if any) and return code, so callers can `return snap_error__set(...)`.
 */
int snap_error__set(snap_error *err, int code, const char *fmt, ...)
{
	va_list ap;

	if (err) {
		err->code = code;
		va_start(ap, fmt);
		vsnprintf(err->message, sizeof(err->message), fmt, ap);
		va_end(ap);
	}
	return code;
}

/* Record errno as "cannot WHAT 'PATH': strerror"; ENOENT maps to SNAP_ENOTFOUND. */
int snap_error__errno(snap_error *err, const char *what, const char *path)
{
	int e = errno;
	int code = (e == ENOENT || e == ENOTDIR) ? SNAP_ENOTFOUND : SNAP_ERROR;

	return snap_error__set(err, code, "cannot %s '%s': %s", what, path, strerror(e));
}

/* Append a one-line collection warning. Best effort: a warning lost to ENOMEM is dropped. */
int snap_snapshot__warn(snap_snapshot *s, const char *fmt, ...)
{
	char line[512];
	char **nw;
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(line, sizeof(line), fmt, ap);
	va_end(ap);
	for (size_t i = 0; i < s->nwarnings; i++)
		if (!strcmp(s->warnings[i], line))
			return 0;
	nw = realloc(s->warnings, (s->nwarnings + 1) * sizeof(*nw));
	if (!nw)
		return SNAP_ENOMEM;
	s->warnings = nw;
	if (!(nw[s->nwarnings] = strdup(line)))
		return SNAP_ENOMEM;
	s->nwarnings++;
	return 0;
}
