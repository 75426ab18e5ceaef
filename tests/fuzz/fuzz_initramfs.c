/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * Fuzz target: an initramfs image read as init/initramfs.c unpacks it (preflight/initramfs.c
 * and rootfs.c): any bytes, as a file; the reader must end, bounded, and leave nothing behind.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/mman.h>
#include <unistd.h>

#include "fuzz_main.h"
#include "preflight/preflight.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct snap_initramfs ir;
	snap_error err = {0};
	int fd = memfd_create("initramfs", MFD_CLOEXEC);

	if (fd < 0)
		return 0;
	if (write(fd, data, size) == (ssize_t)size &&
	    snap_initramfs__read(&ir, fd, "fuzz", &err) == 0)
		snap_initramfs__release(&ir);
	close(fd);
	return 0;
}
