/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * Metrics for node_exporter's textfile collector: pcisnap.prom written atomically (a temporary
 * file in the same directory, fsync, rename) so the exporter never reads half a file.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include <jansson.h>

#include "cmd.h"
#include "snap/check.h"
#include "snap/report.h"
#include "snap/store.h"

int cli_write_textfile_msg(const char *dir, const snap_snapshot *s, const char *diff_verdict,
                           char *why, size_t n)
{
	char *text = NULL, path[4096], tmp[4096];
	snap_check *chk = NULL;
	snap_error err = {0};
	size_t len;
	int fd = -1, rc = CLI_ERROR;

	if (snap_check_run(&chk, s, &err) < 0 ||
	    snap_metrics_render(&text, s, chk, diff_verdict, (int64_t)time(NULL), &err) < 0) {
		snprintf(why, n, "%s", err.message);
		goto done;
	}
	len = strlen(text);
	/* node_exporter reads *.prom only: the temporary name is not one. Its name is
	 * unpredictable and it is created with O_EXCL (mkostemp), so nothing planted at a name
	 * (a FIFO, a symbolic or hard link) is ever opened, let alone written through. */
	if ((size_t)snprintf(path, sizeof(path), "%s/pcisnap.prom", dir) >= sizeof(path) ||
	    (size_t)snprintf(tmp, sizeof(tmp), "%s/.pcisnap.prom.XXXXXX", dir) >= sizeof(tmp)) {
		snprintf(why, n, "textfile directory name too long: %.64s...", dir);
		goto done;
	}
	if ((fd = mkostemp(tmp, O_CLOEXEC)) < 0) {
		snprintf(why, n, "cannot write %s: %s", path, strerror(errno));
		goto done;
	}
	if (fchmod(fd, 0644) < 0 || write(fd, text, len) != (ssize_t)len || fsync(fd) < 0)
		snprintf(why, n, "cannot write %s: %s", tmp, strerror(errno ? errno : ENOSPC));
	else if (close(fd) < 0 || (fd = -1, rename(tmp, path) < 0))
		snprintf(why, n, "cannot write %s: %s", path, strerror(errno));
	else
		rc = CLI_OK;
	if (rc != CLI_OK)
		unlink(tmp);
done:
	if (fd >= 0)
		close(fd);
	snap_check_free(chk);
	free(text);
	return rc;
}

int cli_write_textfile(const char *dir, const snap_snapshot *s, const char *diff_verdict)
{
	char why[1024];

	if (cli_write_textfile_msg(dir, s, diff_verdict, why, sizeof(why)) != CLI_OK)
		return cli_error("%s", why);
	return CLI_OK;
}

const char *cli_verdict_class(const char *verdict)
{
	static const char *const classes[] = {"harmless", "binding_regression",
	                                      "grouping_regression", "isolation_loss"};

	for (size_t i = 0; verdict && i < sizeof(classes) / sizeof(classes[0]); i++) {
		size_t n = strlen(classes[i]);

		if (!strncmp(verdict, classes[i], n) && (!verdict[n] || verdict[n] == ' '))
			return classes[i];
	}
	return NULL;
}

const char *cli_store_last_verdict(struct snap_store *st, const char *host)
{
	snap_log_options o = SNAP_LOG_OPTIONS_INIT;
	snap_error err = {0};
	const char *cls = NULL;
	char *text = NULL;
	json_t *doc;

	o.max_count = 1;
	o.format = SNAP_LIST_JSON;
	if (snap_store_log_ext(&text, st, host, &o, &err) < 0)
		return NULL;
	doc = json_loads(text, 0, NULL);
	cls = cli_verdict_class(json_string_value(
	    json_object_get(json_array_get(json_object_get(doc, "snapshots"), 0), "verdict")));
	json_decref(doc);
	free(text);
	return cls;
}
