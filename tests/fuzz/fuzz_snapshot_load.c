/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * Fuzz target: load any bytes as a snapshot; when it loads, render every report, check it and
 * diff it against itself. Built with clang -fsanitize=fuzzer when SNAP_FUZZ is on; otherwise a
 * standalone main replays tests/fuzz/corpus/ so the gcc test run exercises the same path.
 */
#include <dirent.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "snap/check.h"
#include "snap/diff.h"
#include "snap/snap.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	snap_snapshot *s = NULL;
	snap_error err = {0};
	char *text = NULL;

	if (snap_snapshot_load_buffer(&s, (const char *)data, size, &err) < 0)
		return 0;
	for (int f = SNAP_REPORT_TEXT; f <= SNAP_REPORT_JSON; f++) {
		if (snap_report_render(&text, s, (snap_report_format)f, &err) == 0)
			free(text);
		text = NULL;
	}
	{
		snap_check *c = NULL;
		snap_diff *d = NULL;

		if (snap_check_run(&c, s, &err) == 0 && snap_check_render(&text, c, 1, &err) == 0)
			free(text);
		snap_check_free(c);
		text = NULL;
		if (snap_diff_compute(&d, s, s, &err) == 0 &&
		    snap_diff_render(&text, d, SNAP_DIFF_TEXT, &err) == 0)
			free(text);
		snap_diff_free(d);
	}
	snap_snapshot_free(s);
	return 0;
}

#ifndef SNAP_FUZZ
/* Replay every file of the corpus directory given as argv[1]. */
int main(int argc, char **argv)
{
	struct dirent *de;
	DIR *dir;
	int n = 0;

	if (argc != 2 || !(dir = opendir(argv[1]))) {
		fprintf(stderr, "usage: %s CORPUS_DIR\n", argv[0]);
		return 2;
	}
	while ((de = readdir(dir))) {
		char path[4096];
		FILE *f;
		long len;
		uint8_t *buf;

		if (de->d_name[0] == '.')
			continue;
		snprintf(path, sizeof(path), "%s/%s", argv[1], de->d_name);
		if (!(f = fopen(path, "rb")))
			continue;
		fseek(f, 0, SEEK_END);
		len = ftell(f);
		rewind(f);
		buf = malloc(len > 0 ? (size_t)len : 1);
		if (buf && fread(buf, 1, (size_t)len, f) == (size_t)len)
			LLVMFuzzerTestOneInput(buf, (size_t)len);
		free(buf);
		fclose(f);
		n++;
	}
	closedir(dir);
	printf("replayed %d inputs\n", n);
	return n > 0 ? 0 : 1;
}
#endif
