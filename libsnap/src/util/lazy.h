/* SPDX-License-Identifier: GPL-2.0-or-later */
#ifndef SNAP_UTIL_LAZY_H
#define SNAP_UTIL_LAZY_H
/*
 * libgit2, libarchive, libxml2, libsystemd and libkmod, loaded on first use.
 *
 * Linked as usual, these five bring 33 more shared libraries into every process (mbedTLS,
 * libssh2, Kerberos and OpenSSL's libcrypto with libgit2; ICU and libstdc++ with libxml2;
 * libcrypto, libzstd and liblzma with libkmod, for module signatures and compression), which
 * the dynamic linker maps and relocates before main(): about 6 ms and 5 MB of every run, most
 * of which (collect -o, check, diff of two files) use none of them. Here each is dlopen()ed by
 * its soname when the first of its functions is called, and each function is taken by dlsym()
 * once. The code calls the libraries as always: this header, included instead of theirs, makes
 * each name it uses (lazy_syms.h) a call through its slot, typed by the library's own
 * declaration, so the compiler checks every call as before.
 *
 * Configure with -DSNAP_LAZY_LOAD=OFF to link the libraries instead (lazy_syms.py reads such a
 * build). A library that cannot be loaded ends the process with exit status 2 and one line: a
 * broken installation, as the dynamic linker would have refused to start the program.
 */
#include <archive.h>
#include <archive_entry.h>
#include <git2.h>
#include <libkmod.h>
#include <libxml/parser.h>
#include <libxml/tree.h>
#include <systemd/sd-journal.h>

#ifdef SNAP_LAZY_LOAD
enum snap_lazy_lib {
	SNAP_LAZY_GIT2,
	SNAP_LAZY_ARCHIVE,
	SNAP_LAZY_XML2,
	SNAP_LAZY_SYSTEMD,
	SNAP_LAZY_KMOD,
};

extern void *snap_lazy__slots[];
void *snap_lazy__resolve(enum snap_lazy_lib lib, int slot, const char *name);

static inline void *snap_lazy__get(enum snap_lazy_lib lib, int slot, const char *name)
{
	void *p = __atomic_load_n(&snap_lazy__slots[slot], __ATOMIC_ACQUIRE);

	return p ? p : snap_lazy__resolve(lib, slot, name);
}

/* name's own declaration types the slot: a function, or a variable (libxml2's xmlFree) */
#define SNAP_LAZY(lib, slot, name) (*(__typeof__(&name))snap_lazy__get(lib, slot, #name))
#include "util/lazy_syms.h"
#endif

#endif
