/* SPDX-License-Identifier: GPL-2.0-or-later */
/* Times as snapshots, commits and bundles write them: RFC 3339 in UTC, to the second. */
#include <stdio.h>
#include <time.h>

#include "util/util.h"

void snap_time__format(char *buf, size_t n, int64_t t, bool basic)
{
	time_t tt = (time_t)t;
	struct tm tm;

	if (!gmtime_r(&tt, &tm) ||
	    !strftime(buf, n, basic ? "%Y%m%dT%H%M%SZ" : "%Y-%m-%dT%H:%M:%SZ", &tm))
		snprintf(buf, n, "?");
}

int64_t snap_time__parse(const char *s)
{
	struct tm tm = {0};
	const char *end;

	if (!s || !(end = strptime(s, "%Y-%m-%dT%H:%M:%SZ", &tm)) || *end)
		return -1;
	return (int64_t)timegm(&tm);
}
