#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0-or-later
# A fleet sharing one store: several simulated hosts push to a git daemon on loopback with
# libgit2 (no git CLI needed on the hosts); a fresh clone and a pcisnap pull see all of them.
. "$(dirname "$0")/lib.bash"
if ! git daemon --help >/dev/null 2>&1; then
	not_ok "git daemon not available (Debian's git package ships it)"; finish; exit
fi
git init -q --bare "$T/srv/fleet.git"
git -C "$T/srv/fleet.git" config pcisnap.store 1
port=$((20000 + RANDOM % 20000))
git daemon --reuseaddr --export-all --enable=receive-pack --base-path="$T/srv" \
	--listen=127.0.0.1 --port="$port" --pid-file="$T/daemon.pid" --detach "$T/srv"
trap 'kill "$(cat "$T/daemon.pid")" 2>/dev/null; rm -rf "$T"' EXIT
for i in 1 2 3 4 5; do [ -s "$T/daemon.pid" ] && break; sleep 0.2; done
url="git://127.0.0.1:$port/fleet.git"
$MKROOT pve-intel "$T/root"
for h in web-01 web-02 web-03; do
	SOURCE_DATE_EPOCH=100 "$PCISNAP" collect --root "$T/root" --host "$h" --store "$T/$h" >/dev/null
	SOURCE_DATE_EPOCH=200 "$PCISNAP" collect --root "$T/root" --host "$h" --store "$T/$h" --label ok >/dev/null
	check "$h pushes" "$PCISNAP" push --store "$T/$h" "$url"
done
git clone -q --mirror "$url" "$T/clone.git"
check "a fresh clone sees every host" test "$(git -C "$T/clone.git" for-each-ref --format='%(refname:short)' refs/heads | tr '\n' ' ')" = "web-01 web-02 web-03 "
check "and their labels" test "$(git -C "$T/clone.git" tag | wc -l)" = 3
check "pull into a new store" "$PCISNAP" pull --store "$T/central" "$url"
"$PCISNAP" hosts --store "$T/central" --format jsonl >"$T/hosts"
check "hosts lists all three" test "$(wc -l <"$T/hosts")" = 3
set +e
"$PCISNAP" diff --store "$T/central" web-01 web-02@ok >/dev/null; rc=$?
set -e
check "canary diff across pulled hosts works" test "$rc" = 0
# a host whose history diverged is refused, not forced
SOURCE_DATE_EPOCH=300 "$PCISNAP" collect --root "$T/root" --host web-01 --store "$T/web-01-other" >/dev/null
set +e
"$PCISNAP" push --store "$T/web-01-other" "$url" 2>"$T/err"; rc=$?
set -e
check "diverged push is refused (exit 2)" test "$rc" = 2
check "remote history kept" test "$(git -C "$T/srv/fleet.git" rev-list --count refs/heads/web-01)" = 2
finish
