/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * The boot loader's command line as preflight builds it (preflight/bootcmd.c): the input is
 * split at NUL bytes into grub.cfg, /etc/default/grub, grubenv, a BLS entry and
 * /etc/kernel/cmdline, written below a scratch root, and the next kernel's command line asked
 * for. Variables, expansions and sizes must stay bounded whatever the files say.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "fuzz_main.h"
#include "preflight/preflight.h"
#include "util/fsroot.h"

static char dir[] = "/tmp/pcisnap-fuzz-bootcmd-XXXXXX";

static void put(const char *rel, const uint8_t *data, size_t len)
{
	char path[256];
	FILE *f;

	snprintf(path, sizeof(path), "%s/%s", dir, rel);
	if ((f = fopen(path, "wb"))) {
		fwrite(data, 1, len, f);
		fclose(f);
	}
}

static void cleanup(void)
{
	static const char *const files[] = {"boot/grub/grub.cfg", "etc/default/grub",
	                                    "boot/grub/grubenv", "boot/loader/entries/e.conf",
	                                    "etc/kernel/cmdline"};
	char path[256];

	for (size_t k = 0; k < sizeof(files) / sizeof(*files); k++) {
		snprintf(path, sizeof(path), "%s/%s", dir, files[k]);
		unlink(path);
	}
	for (const char *d = "boot/loader/entries\0boot/loader\0boot/grub\0boot\0etc/default\0"
	                     "etc/kernel\0etc\0lib/modules/6.1.0-13-amd64\0lib/modules\0lib\0";
	     *d; d += strlen(d) + 1) {
		snprintf(path, sizeof(path), "%s/%s", dir, d);
		rmdir(path);
	}
	rmdir(dir);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static const char *const files[] = {"boot/grub/grub.cfg", "etc/default/grub",
	                                    "boot/grub/grubenv", "boot/loader/entries/e.conf",
	                                    "etc/kernel/cmdline"};
	static int ready;
	size_t part = 0, start = 0;
	snap_root r;

	if (!ready) {
		char path[256];

		if (!mkdtemp(dir))
			return 0;
		for (const char *d = "boot\0boot/grub\0boot/loader\0boot/loader/entries\0etc\0"
		                     "etc/default\0etc/kernel\0lib\0lib/modules\0"
		                     "lib/modules/6.1.0-13-amd64\0";
		     *d; d += strlen(d) + 1) {
			snprintf(path, sizeof(path), "%s/%s", dir, d);
			mkdir(path, 0755);
		}
		atexit(cleanup);
		ready = 1;
	}
	for (size_t k = 0; k < sizeof(files) / sizeof(*files); k++)
		put(files[k], (const uint8_t *)"", 0);
	for (size_t i = 0; i <= size && part < sizeof(files) / sizeof(*files); i++)
		if (i == size || data[i] == 0) {
			put(files[part++], data + start, i - start);
			start = i + 1;
		}
	if (snap_root__open(&r, dir, NULL) == 0) {
		json_decref(snap_bootcmd__next(&r, "6.1.0-13-amd64"));
		snap_root__close(&r);
	}
	return 0;
}
