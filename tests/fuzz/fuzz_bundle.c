/* SPDX-License-Identifier: GPL-2.0-or-later */
/* Fuzz target: any bytes as a bundle (.tar, then as .tar.gz), read and verified, with a key. */
#include <fcntl.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "fuzz_main.h"
#include "snap/bundle.h"
#include "snap/snap.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static const char *const suffixes[] = {".tar", ".tar.gz"};
	static const unsigned char key[] = "pcisnap fuzz key, 32 bytes long";

	for (size_t i = 0; i < 2; i++) {
		char path[64];
		snap_snapshot *s = NULL, *old = NULL;
		snap_bundle_verified how;
		int fd;
		FILE *f;

		snprintf(path, sizeof(path), "/tmp/pcisnap-fuzz-%d%s", (int)getpid(), suffixes[i]);
		if ((fd = open(path, O_WRONLY | O_CREAT | O_TRUNC, 0600)) < 0 ||
		    !(f = fdopen(fd, "wb")))
			return 0;
		fwrite(data, 1, size, f);
		fclose(f);
		if (snap_bundle_read_keyed(&s, &old, path, i ? key : NULL, i ? sizeof(key) - 1 : 0,
		                           &how, NULL) == 0) {
			snap_snapshot_free(s);
			snap_snapshot_free(old);
		}
		unlink(path);
	}
	return 0;
}
