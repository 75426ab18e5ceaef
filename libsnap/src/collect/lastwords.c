/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * The last words of the previous boot: what survived it, kept in the store beside the first
 * snapshot of the next boot. The pstore records (sys/fs/pstore, and var/lib/systemd/pstore/
 * where systemd-pstore moves them at boot) and the previous boot's kernel messages about the
 * IOMMU, DMAR and AMD-Vi faults, AER, vfio and resets, read from the persistent journal through
 * sd-journal (never by running journalctl).
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "collect/collector.h"
#include "util/lazy.h"

#define PSTORE_RECORD_MAX  (1u << 20) /* a pstore record: a few kB; a moved dmesg.txt: more */
#define PSTORE_RECORDS_MAX 64
#define JOURNAL_LINES_MAX  400 /* the last of them: the ones nearest the end */

static void add_record(struct collector *c, json_t *records, const char *rel, const char *name)
{
	char *text = NULL;
	size_t len = 0;

	if (json_array_size(records) >= PSTORE_RECORDS_MAX ||
	    snap_root__read(&text, &len, &c->r, rel, PSTORE_RECORD_MAX) < 0)
		return;
	text = snap_collect__utf8(c, text, rel);
	json_array_append_new(
	    records, json_pack("{s:s, s:s, s:s?}", "path", rel, "name", name, "text", text));
	free(text);
}

static json_t *pstore_records(struct collector *c)
{
	json_t *records = json_array();
	char **names = NULL, **sub = NULL;
	size_t n = 0, m = 0;

	if (snap_root__list(&names, &n, &c->r, "sys/fs/pstore") == 0)
		for (size_t i = 0; i < n; i++) {
			char rel[512];

			snprintf(rel, sizeof(rel), "sys/fs/pstore/%s", names[i]);
			add_record(c, records, rel, names[i]);
		}
	snap_strv__free(names, n);
	names = NULL;
	n = 0;
	if (snap_root__list(&names, &n, &c->r, "var/lib/systemd/pstore") == 0)
		for (size_t i = 0; i < n; i++) {
			char dir[512];

			snprintf(dir, sizeof(dir), "var/lib/systemd/pstore/%s", names[i]);
			if (snap_root__list(&sub, &m, &c->r, dir) < 0) {
				add_record(c, records, dir, names[i]); /* a file, not a directory */
				continue;
			}
			for (size_t k = 0; k < m; k++) {
				char rel[1024];

				snprintf(rel, sizeof(rel), "%s/%s", dir, sub[k]);
				add_record(c, records, rel, sub[k]);
			}
			snap_strv__free(sub, m);
			sub = NULL;
			m = 0;
		}
	snap_strv__free(names, n);
	return records;
}

/* A kernel message an on-call engineer reads after a passthrough host died. */
static bool relevant(const char *msg, size_t len)
{
	static const char *const words[] = {
	    "IOMMU",          "iommu",          "DMAR",     "AMD-Vi", "AER",   "vfio", "reset",
	    "PCIe Bus Error", "Hardware Error", "watchdog", "lockup", "panic", "Oops", "MCE"};

	for (size_t i = 0; i < SNAP_ARRAY_SIZE(words); i++)
		if (memmem(msg, len, words[i], strlen(words[i])))
			return true;
	return false;
}

/*
 * The previous boot's kernel messages from the journal under the root (var/log/journal, the
 * live journal when the root is /); null when there is no journal to read.
 */
static json_t *journal_lines(struct collector *c, const char *root, const char *boot_id,
                             json_t **error)
{
	sd_journal *j = NULL;
	char match[128];
	json_t *lines = json_array();
	int r;

	if (c->r.is_slash)
		r = sd_journal_open(&j, SD_JOURNAL_LOCAL_ONLY | SD_JOURNAL_SYSTEM);
	else /* a captured root: its var/log/journal and run/log/journal */
		r = sd_journal_open_directory(&j, root, SD_JOURNAL_OS_ROOT);
	if (r < 0) {
		*error = json_sprintf("cannot open the journal: %s", strerror(-r));
		json_decref(lines);
		return json_null();
	}
	/* the journal keeps a boot id as 32 hex digits, /proc's boot_id has dashes */
	{
		size_t k = strlen("_BOOT_ID=");

		memcpy(match, "_BOOT_ID=", k);
		for (const char *p = boot_id; *p && k < sizeof(match) - 1; p++)
			if (*p != '-')
				match[k++] = *p;
		match[k] = '\0';
	}
	if ((r = sd_journal_add_match(j, match, 0)) < 0 ||
	    (r = sd_journal_add_match(j, "_TRANSPORT=kernel", 0)) < 0) {
		*error = json_sprintf("cannot read the journal: %s", strerror(-r));
		sd_journal_close(j);
		json_decref(lines);
		return json_null();
	}
	SD_JOURNAL_FOREACH(j)
	{
		const void *data;
		size_t len;
		uint64_t usec = 0;

		if (sd_journal_get_data(j, "MESSAGE", &data, &len) < 0 || len < 8)
			continue;
		data = (const char *)data + 8;
		len -= 8;
		if (!relevant(data, len))
			continue;
		sd_journal_get_realtime_usec(j, &usec);
		{
			char when[32], *text = strndup(data, len);

			if (!text)
				continue;
			text = snap_collect__utf8(c, text, "journal");
			snap_time__format(when, sizeof(when), (int64_t)(usec / 1000000), false);
			json_array_append_new(
			    lines, json_pack("{s:s, s:s?}", "at", when, "message", text));
			free(text);
		}
		if (json_array_size(lines) > JOURNAL_LINES_MAX)
			json_array_remove(lines, 0);
	}
	sd_journal_close(j);
	return lines;
}

int snap_collect_last_words(char **out, const char *root, const char *previous_boot_id,
                            snap_error *err)
{
	static const snap_collect_options defaults = SNAP_COLLECT_OPTIONS_INIT;
	struct collector c = {0};
	json_t *doc, *records, *lines = json_null(), *jerr = NULL;
	int error;

	SNAP_ASSERT_ARG(out);
	c.o = &defaults;
	if ((error = snap_root__open(&c.r, root ? root : "/", err)) < 0)
		return error;
	c.escaped = json_array();
	records = pstore_records(&c);
	if (previous_boot_id) {
		json_decref(lines);
		lines = journal_lines(&c, root ? root : "/", previous_boot_id, &jerr);
	}
	doc = json_pack("{s:s, s:o, s:o, s:o, s:o*}", "schema", "pcisnap.last-words/1",
	                "previous_boot", snap_json__str_or_null(previous_boot_id), "pstore",
	                records, "journal", lines, "journal_error", jerr);
	snap_root__close(&c.r);
	json_decref(c.escaped);
	if (!doc)
		return snap_error__set(err, SNAP_ENOMEM, "out of memory");
	error = snap_json__dump(out, doc, err);
	json_decref(doc);
	return error;
}
