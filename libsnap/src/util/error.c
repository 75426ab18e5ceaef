/* SPDX-License-Identifier: GPL-2.0-or-later */
/* Error records. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "util/util.h"

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

// END
