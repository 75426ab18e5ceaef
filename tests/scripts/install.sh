#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0-or-later
# cmake --install puts the binary, both libraries, the headers, a pkg-config file naming the
# installed directories, the man pages and the completion where GNUInstallDirs says; a program
# builds against the installed libsnap with pkg-config, shared and static.
. "$(dirname "$0")/lib.bash"
build=$(dirname "$PCISNAP")
check "cmake --install into a prefix" sh -c "cmake --install '$build' --prefix '$T/p' >/dev/null"
libdir=$(find "$T/p" -name libsnap.so.0 -printf '%h\n' | head -1)
check "the shared library with its soname link" test -L "$libdir/libsnap.so.0" -a -L "$libdir/libsnap.so"
check "the static library" test -f "$libdir/libsnap.a"
check "the binary" "$T/p/bin/pcisnap" --version
check "the headers" test -f "$T/p/include/snap/snap.h" -a -f "$T/p/include/snap/fleet.h"
check "a man page per command" test "$(ls "$T/p/share/man/man1" | wc -l)" -ge 14
check "the bash completion" test -f "$T/p/share/bash-completion/completions/pcisnap"
check "preflight's hooks: kernel postinst.d, initramfs post-update.d, kernel-install" \
	test -x "$T/p/etc/kernel/postinst.d/zz-pcisnap" -a -x "$T/p/etc/initramfs/post-update.d/pcisnap" \
	-a -x "$T/p/lib/kernel/install.d/90-pcisnap.install" -a -x "$T/p/share/pcisnap/pcisnap-preflight-hook"
check "the boot unit, its gate drop-in and pcisnap.conf" \
	test -f "$T/p/lib/systemd/system/pcisnap-boot.service" -a -f "$T/p/share/pcisnap/systemd/pcisnap-gate.conf" \
	-a -f "$T/p/etc/pcisnap/pcisnap.conf" -a -f "$T/p/share/man/man5/pcisnap.conf.5"
check "the unit runs the installed binary" grep -qx "ExecStart=$(grep -o '^ExecStart=[^ ]*' "$T/p/lib/systemd/system/pcisnap-boot.service" | cut -d= -f2) boot start" "$T/p/lib/systemd/system/pcisnap-boot.service"
pc="$libdir/pkgconfig/libsnap.pc"
check "libsnap.pc names the installed libdir" test "$(realpath "$(PKG_CONFIG_PATH="$libdir/pkgconfig" pkg-config --variable=libdir libsnap)")" = "$(realpath "$libdir")"
cat >"$T/x.c" <<'C'
#include <stdio.h>
#include "snap/snap.h"
int main(void)
{
	puts(snap_version());
	return 0;
}
C
san=
if nm "$libdir/libsnap.a" 2>/dev/null | grep -c __asan_ >/dev/null; then san="-fsanitize=address,undefined"; fi # -c: no SIGPIPE under pipefail
export PKG_CONFIG_PATH="$libdir/pkgconfig"
check "cc x.c \$(pkg-config --cflags --libs libsnap) links (shared)" \
	sh -c "cc $san '$T/x.c' \$(pkg-config --cflags --libs libsnap) -o '$T/x'"
check "and runs against the installed libsnap.so.0" sh -c "LD_LIBRARY_PATH='$libdir' '$T/x' | grep -qx '$("$PCISNAP" --version | cut -d' ' -f2)'"
check "static: libsnap.a with pkg-config --static" \
	sh -c "cc $san '$T/x.c' \$(pkg-config --cflags libsnap) '$libdir/libsnap.a' \$(pkg-config --static --libs libsnap | sed 's/-lsnap//') -o '$T/xs'"
check "the static program needs no libsnap.so" sh -c "! ldd '$T/xs' | grep -q libsnap && '$T/xs' >/dev/null"
finish
