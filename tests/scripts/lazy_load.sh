#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0-or-later
# libgit2, libarchive, libxml2, libsystemd and libkmod are loaded on first use
# (libsnap/src/util/lazy.h): a collect without a store maps none but libkmod, and that only
# for a host with modprobe.d to read; check and diff map none; the store loads libgit2; a
# library that cannot be loaded is one line and exit status 2, and the store is not begun.
. "$(dirname "$0")/lib.bash"
$MKROOT pve-intel "$T/root"
lazy='libgit2\.so|libarchive\.so|libxml2\.so|libsystemd\.so'
check "the binary names none of the five (ldd)" sh -c "! ldd '$PCISNAP' | grep -Eq '$lazy|libkmod\.so'"
LD_DEBUG=files "$PCISNAP" collect --root "$T/root" --pci-ids "$DATA/pci.ids" -o "$T/a.json" 2>"$T/files"
check "collect -o loads none of the four" sh -c "! grep -Eq 'file=($lazy)' '$T/files'"
check "and libkmod, for the host's modprobe.d" \
	grep -Eq 'file=libkmod\.so.*dynamically loaded' "$T/files"
check "and wrote its snapshot" test -s "$T/a.json"
rm -r "$T/root/etc/modprobe.d"
LD_DEBUG=files "$PCISNAP" collect --root "$T/root" --pci-ids "$DATA/pci.ids" -o "$T/b.json" \
	2>"$T/files-b"
check "without modprobe.d, not libkmod either" sh -c "! grep -Eq 'file=libkmod' '$T/files-b'"
LD_DEBUG=files "$PCISNAP" check "$T/a.json" >/dev/null 2>"$T/files-check" || true
LD_DEBUG=files "$PCISNAP" diff "$T/a.json" "$T/b.json" >/dev/null 2>"$T/files-diff" || true
check "check and diff load none of the five" \
	sh -c "! grep -Eq 'file=($lazy|libkmod\.so)' '$T/files-check' '$T/files-diff'"
LD_DEBUG=files "$PCISNAP" collect --root "$T/root" --pci-ids "$DATA/pci.ids" --store "$T/st" \
	>/dev/null 2>"$T/files-store"
check "collect --store loads libgit2" grep -Eq 'file=libgit2\.so.*dynamically loaded' "$T/files-store"
check "and not libarchive, libxml2 or libsystemd" \
	sh -c "! grep -Eq 'file=(libarchive|libxml2|libsystemd)\.so' '$T/files-store'"
# a libgit2 the dynamic linker finds first and cannot load
mkdir "$T/broken"
so=$(sed -n 's/.*file=\(libgit2\.so[^ ]*\) .*dynamically loaded.*/\1/p' "$T/files-store" | head -1)
: >"$T/broken/${so:-libgit2.so.1.5}"
set +e
LD_LIBRARY_PATH="$T/broken" "$PCISNAP" collect --root "$T/root" --pci-ids "$DATA/pci.ids" \
	--store "$T/st2" >/dev/null 2>"$T/err"
rc=$?
set -e
check "a library that cannot be loaded: exit 2" test "$rc" = 2
check "one line naming it" sh -c "test \$(wc -l <'$T/err') = 1 && grep -q '^pcisnap: cannot load libgit2' '$T/err'"
check "the store is not begun" test ! -e "$T/st2/HEAD"
finish
