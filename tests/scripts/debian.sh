#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0-or-later
# The Debian package: dpkg-buildpackage -us -uc -b builds pcisnap, libsnap0 and libsnap-dev from
# a copy of the tree; lintian has nothing to say at its default level (no error, no warning);
# the packages install on this machine with apt-get, run from the installed paths (--version,
# collect -o -, a program built with the installed pkg-config file), and purge cleanly.
# Changes the machine (installs, then purges): run by the release build's suite only.
. "$(dirname "$0")/lib.bash"
for tool in dpkg-buildpackage dh lintian; do
	command -v "$tool" >/dev/null || { not_ok "$tool not installed (Debian's dpkg-dev, debhelper, lintian)"; finish; exit; }
done
if [ "$(id -u)" != 0 ] && ! sudo -n true 2>/dev/null; then
	not_ok "installing the package needs root or sudo"; finish; exit
fi
SUDO=; [ "$(id -u)" = 0 ] || SUDO="sudo -n"
version=$(sed -n '1s/.*(\(.*\)).*/\1/p' "$SNAP_SOURCE_DIR/debian/changelog")
src="$T/pcisnap-$version"
mkdir "$src"
# the tracked files; a tree without git (a tarball): all of it but the build directories
if git -C "$SNAP_SOURCE_DIR" rev-parse --is-inside-work-tree >/dev/null 2>&1; then
	(cd "$SNAP_SOURCE_DIR" && git ls-files -z | xargs -0 cp --parents -t "$src")
else
	tar -C "$SNAP_SOURCE_DIR" --exclude='./build*' --exclude='./obj-*' -cf - . | tar -C "$src" -xf -
fi
check "the package version is the project's" grep -q "project(pcisnap VERSION $version " "$src/CMakeLists.txt"
check "dpkg-buildpackage -us -uc -b" sh -c \
	"cd '$src' && DEB_BUILD_OPTIONS='nocheck parallel=$(nproc)' dpkg-buildpackage -us -uc -b >'$T/build.log' 2>&1"
[ -f "$T/pcisnap_${version}_$(dpkg --print-architecture).deb" ] || tail -30 "$T/build.log"
arch=$(dpkg --print-architecture)
for p in pcisnap libsnap0 libsnap-dev; do
	check "$p built" test -f "$T/${p}_${version}_$arch.deb"
done
set +e
lintian --fail-on error,warning "$T/pcisnap_${version}_$arch.changes" >"$T/lintian.out" 2>&1; rc=$?
set -e
check "lintian: no error and no warning" test "$rc" = 0
[ "$rc" = 0 ] || cat "$T/lintian.out"
check "pcisnap: the binary, the unit, the configuration, the hooks" sh -c \
	"dpkg-deb -c '$T/pcisnap_${version}_$arch.deb' >'$T/contents' &&
	 grep -q ' ./usr/bin/pcisnap\$' '$T/contents' && grep -q ' ./lib/systemd/system/pcisnap-boot.service\$' '$T/contents' &&
	 grep -q ' ./etc/pcisnap/pcisnap.conf\$' '$T/contents' && grep -q ' ./etc/kernel/postinst.d/zz-pcisnap\$' '$T/contents' &&
	 grep -q ' ./usr/share/man/man5/pcisnap.conf.5.gz\$' '$T/contents'"
check "libsnap0: the shared library on the multiarch libdir" sh -c \
	"dpkg-deb -c '$T/libsnap0_${version}_$arch.deb' | grep -q ' ./usr/lib/$(dpkg-architecture -qDEB_HOST_MULTIARCH)/libsnap.so.0'"
check "pcisnap.conf is a conffile" sh -c "dpkg-deb -I '$T/pcisnap_${version}_$arch.deb' conffiles | grep -qx /etc/pcisnap/pcisnap.conf"
trap '$SUDO env DEBIAN_FRONTEND=noninteractive apt-get purge -y -qq pcisnap libsnap-dev libsnap0 >/dev/null 2>&1 || true; [ -n "${KEEP:-}" ] || rm -rf "$T"' EXIT
check "apt-get install ./pcisnap_*.deb (with libsnap0 and libsnap-dev)" sh -c \
	"cd '$T' && $SUDO env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq ./pcisnap_${version}_$arch.deb ./libsnap0_${version}_$arch.deb ./libsnap-dev_${version}_$arch.deb >'$T/install.log' 2>&1"
dpkg -s pcisnap >/dev/null 2>&1 || tail -20 "$T/install.log"
check "the installed pcisnap --version" sh -c "/usr/bin/pcisnap --version | grep -qx 'pcisnap $version'"
check "it links the installed libsnap.so.0" sh -c "ldd /usr/bin/pcisnap | grep -Eq 'libsnap.so.0 => /(usr/)?lib/'"
/usr/bin/pcisnap collect -o - >"$T/installed.json" 2>/dev/null
check "the installed pcisnap collect -o -: a snapshot of this machine" $VALIDATE "$SNAP_SOURCE_DIR/schema/snapshot.v1.schema.json" "$T/installed.json"
check "libsnap0 depends on the libraries it links (from dpkg-shlibdeps, not by hand)" sh -c \
	"d=\$(dpkg-query -W -f='\${Depends}' libsnap0); for l in libgit2 libarchive libxml2 libsystemd0 libkmod2; do echo \"\$d\" | grep -q \$l || exit 1; done"
check "the installed pcisnap stores a snapshot and logs it" sh -c \
	"PCISNAP_CONFIG= /usr/bin/pcisnap collect --store '$T/st' >/dev/null 2>&1 && PCISNAP_CONFIG= /usr/bin/pcisnap log --store '$T/st' | grep -q ."
check "the installed units pass systemd-analyze verify" sh -c "systemd-analyze verify --man=no /lib/systemd/system/pcisnap-boot.service /lib/systemd/system/pcisnap-boot-end.service"
check "pcisnap-boot.service and pcisnap-boot-end.service enabled for the next boot" sh -c "test -L /etc/systemd/system/multi-user.target.wants/pcisnap-boot.service && test -L /etc/systemd/system/multi-user.target.wants/pcisnap-boot-end.service"
cat >"$T/x.c" <<'C'
#include <stdio.h>
#include <snap/snap.h>
int main(void)
{
	puts(snap_version());
	return 0;
}
C
check "cc x.c \$(pkg-config --cflags --libs libsnap) against libsnap-dev" sh -c \
	"cc '$T/x.c' \$(pkg-config --cflags --libs libsnap) -o '$T/x' && '$T/x' | grep -qx '$version'"
check "libsnap0 ships its symbols file" sh -c "dpkg-deb -I '$T/libsnap0_${version}_$arch.deb' symbols | grep -q '^ snap_snapshot_collect@LIBSNAP_0 '"
check "the documents the man pages cite are shipped" sh -c "test -f /usr/share/doc/pcisnap/classification.md* && test -f /usr/share/doc/pcisnap/boot.md* && test -f /usr/share/doc/pcisnap/README.Debian*"
check "no exit() in libsnap.so.0" sh -c "! nm -D --undefined-only /usr/lib/*/libsnap.so.0 | grep -qw exit"
check "apt-get remove (no purge): the hooks stay, as conffiles" sh -c "$SUDO env DEBIAN_FRONTEND=noninteractive apt-get remove -y -qq pcisnap >/dev/null 2>&1 && test -x /etc/kernel/postinst.d/zz-pcisnap"
check "and a kernel installation after it goes on (the hooks exit 0)" sh -c "/etc/kernel/postinst.d/zz-pcisnap 6.1.0-99-amd64 && /etc/initramfs/post-update.d/pcisnap 6.1.0-99-amd64 /boot/initrd.img-6.1.0-99-amd64"
check "apt-get purge" sh -c "$SUDO env DEBIAN_FRONTEND=noninteractive apt-get purge -y -qq pcisnap libsnap-dev libsnap0 >/dev/null 2>&1"
check "nothing left of the package" sh -c "! test -e /usr/bin/pcisnap && ! test -e /etc/pcisnap/pcisnap.conf && ! test -e /etc/systemd/system/multi-user.target.wants/pcisnap-boot.service && ! dpkg -s pcisnap >/dev/null 2>&1"
finish
