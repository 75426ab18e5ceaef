/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * The libraries libsnap loads on first use (util/lazy.h): dlopen() by soname, once per library,
 * dlsym() once per function, under one lock; the slots are read without it.
 */
#include "util/lazy.h"

#ifdef SNAP_LAZY_LOAD
#include <dlfcn.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>

void *snap_lazy__slots[SNAP_LAZY_NSYMS];

/* the sonames the build was configured with (CMakeLists.txt reads them off the libraries) */
static const char *const sonames[] = {
    [SNAP_LAZY_GIT2] = SNAP_SONAME_GIT2, [SNAP_LAZY_ARCHIVE] = SNAP_SONAME_ARCHIVE,
    [SNAP_LAZY_XML2] = SNAP_SONAME_XML2, [SNAP_LAZY_SYSTEMD] = SNAP_SONAME_SYSTEMD,
    [SNAP_LAZY_KMOD] = SNAP_SONAME_KMOD,
};
static void *handles[sizeof(sonames) / sizeof(sonames[0])];
static pthread_mutex_t lock = PTHREAD_MUTEX_INITIALIZER;

void *snap_lazy__resolve(enum snap_lazy_lib lib, int slot, const char *name)
{
	void *p;

	pthread_mutex_lock(&lock);
	if (!handles[lib] && !(handles[lib] = dlopen(sonames[lib], RTLD_NOW | RTLD_LOCAL))) {
		fprintf(stderr, "pcisnap: cannot load %s: %s\n", sonames[lib], dlerror());
		exit(2);
	}
	if (!(p = dlsym(handles[lib], name))) {
		fprintf(stderr, "pcisnap: %s has no %s: %s\n", sonames[lib], name, dlerror());
		exit(2);
	}
	__atomic_store_n(&snap_lazy__slots[slot], p, __ATOMIC_RELEASE);
	pthread_mutex_unlock(&lock);
	return p;
}
#endif
