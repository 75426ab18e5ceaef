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
#include <time.h>
#include <unistd.h>

#include <jansson.h>

#include "cmd.h"
#include "snap/check.h"
#include "snap/report.h"
#include "snap/store.h"

static int metrics_text(char **out, const snap_snapshot *s, const char *diff_verdict)
{
	snap_check *chk = NULL;
	snap_error err = {0};
	int rc = CLI_OK;

	if (snap_check_run(&chk, s, &err) < 0 ||
	    snap_metrics_render(out, s, chk, diff_verdict, (int64_t)time(NULL), &err) < 0)
		rc = cli_snap_error(&err);
	snap_check_free(chk);
	return rc;
}

int cli_write_textfile(const char *dir, const snap_snapshot *s, const char *diff_verdict)
{
	char *text = NULL, path[4096], tmp[4096];
	size_t len;
	int fd, rc;

	if ((rc = metrics_text(&text, s, diff_verdict)) != CLI_OK)
		return rc;
	len = strlen(text);
	/* node_exporter reads *.prom only: the temporary name is not one */
	if ((size_t)snprintf(path, sizeof(path), "%s/pcisnap.prom", dir) >= sizeof(path) ||
	    (size_t)snprintf(tmp, sizeof(tmp), "%s/.pcisnap.prom.%ld", dir, (long)getpid()) >=
	        sizeof(tmp)) {
		free(text);
		return cli_error("textfile directory name too long: %s", dir);
	}
	fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC | O_NOFOLLOW, 0644);
	if (fd < 0) {
		rc = cli_error("cannot write %s: %s", tmp, strerror(errno));
		free(text);
		return rc;
	}
	if (write(fd, text, len) != (ssize_t)len || fsync(fd) < 0) {
		rc = cli_error("cannot write %s: %s", tmp, strerror(errno));
		close(fd);
		unlink(tmp);
	} else if (close(fd) < 0 || rename(tmp, path) < 0) {
		rc = cli_error("cannot write %s: %s", path, strerror(errno));
		unlink(tmp);
	}
	free(text);
	return rc;
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
