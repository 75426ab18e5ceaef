/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * Shared by the fuzz targets. Built with clang -fsanitize=fuzzer (SNAP_FUZZ), libFuzzer drives
 * LLVMFuzzerTestOneInput; otherwise the main below replays every file of the corpus
 * directories given, so the ordinary (and the sanitizer) test run exercises every input found.
 */
#ifndef SNAP_FUZZ_MAIN_H
#define SNAP_FUZZ_MAIN_H

#include <dirent.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#ifndef SNAP_FUZZ
static int replay_dir(const char *d)
{
	struct dirent *de;
	DIR *dir = opendir(d);
	int n = 0;

	if (!dir)
		return -1;
	while ((de = readdir(dir))) {
		char path[4096];
		FILE *f;
		long len;
		uint8_t *buf;

		if (de->d_name[0] == '.')
			continue;
		snprintf(path, sizeof(path), "%s/%s", d, de->d_name);
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
	return n;
}

/* Replay every file of the corpus directories given. */
int main(int argc, char **argv)
{
	int total = 0;

	if (argc < 2) {
		fprintf(stderr, "usage: %s CORPUS_DIR...\n", argv[0]);
		return 2;
	}
	for (int i = 1; i < argc; i++) {
		int n = replay_dir(argv[i]);

		if (n < 0) {
			fprintf(stderr, "%s: cannot open '%s'\n", argv[0], argv[i]);
			return 2;
		}
		total += n;
	}
	printf("replayed %d inputs\n", total);
	return total > 0 ? 0 : 1;
}
#endif

#endif
