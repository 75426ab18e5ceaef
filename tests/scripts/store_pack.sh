#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0-or-later
# The store packs itself: the stored snapshot is compact JSON (show still pretty-prints), loose
# objects past the threshold go into a pack after a commit (libgit2's packbuilder), many packs
# are merged into one, and git fsck, log and show are right all along.
. "$(dirname "$0")/lib.bash"
S=$T/store
$MKROOT pve-intel "$T/a"
SOURCE_DATE_EPOCH=1000 "$PCISNAP" collect --root "$T/a" --store "$S" 2>/dev/null
check "the stored snapshot is compact JSON" sh -c \
	"git -C '$S' cat-file -p pve-ws-01:snapshot.json | head -c 24 | grep -q '^{\"[a-z_]*\":[{n\[]'"
check "show --format json pretty-prints it" sh -c \
	"'$PCISNAP' show pve-ws-01 --store '$S' --format json | head -2 | tail -1 | grep -q '^  \"[a-z_]*\": [{n\[]'"
check "and means the same document" sh -c "python3 -c '
import json, subprocess, sys
a = json.loads(subprocess.run([\"git\", \"-C\", \"$S\", \"cat-file\", \"-p\", \"pve-ws-01:snapshot.json\"], capture_output=True).stdout)
b = json.loads(subprocess.run([\"$PCISNAP\", \"show\", \"pve-ws-01\", \"--store\", \"$S\", \"--format\", \"json\"], capture_output=True).stdout)
del b[\"host\"][\"collected_at\"]
sys.exit(a != b)'"

loose() { find "$S/objects" -path "$S/objects/pack" -prune -o -type f -name '[0-9a-f]*' -print | grep -c /[0-9a-f][0-9a-f]/ || true; }
packs() { ls "$S"/objects/pack/*.pack 2>/dev/null | wc -l; }
many_loose() { # N: write N loose blobs the way git does
	mkdir -p "$T/blobs"
	seq "$1" | sed "s|^|$T/blobs/$RANDOM-|" | while read -r f; do echo "$f" >"$f"; echo "$f"; done |
		git -C "$S" hash-object -w --stdin-paths >/dev/null
	rm -rf "$T/blobs"
}
many_loose 3000
check "3000 loose objects before" test "$(loose)" -ge 3000
SOURCE_DATE_EPOCH=2000 "$PCISNAP" collect --root "$T/a" --store "$S" 2>/dev/null
check "a commit packs them: no loose objects left" test "$(loose)" = 0
check "into one pack" test "$(packs)" = 1
check "git fsck is clean" sh -c "git -C '$S' fsck --no-progress --strict >/dev/null 2>&1"
check "log still lists both snapshots" test "$("$PCISNAP" log pve-ws-01 --store "$S" --format jsonl | wc -l)" = 2
check "show of the older one" sh -c "'$PCISNAP' show pve-ws-01~1 --store '$S' >/dev/null"

# many packs (more than SNAP_STORE_PACKS_MAX, 8): merged into one, everything reachable kept
for i in $(seq 17); do
	mkdir -p "$T/blobs"
	seq 20 | sed "s|^|$T/blobs/$i-|" | while read -r f; do echo "$i $f" >"$f"; echo "$f"; done |
		git -C "$S" hash-object -w --stdin-paths | git -C "$S" pack-objects -q "$S/objects/pack/pack" >/dev/null
	rm -rf "$T/blobs"
done
check "17 more packs made by git" test "$(packs)" -ge 17
many_loose 3000
SOURCE_DATE_EPOCH=3000 "$PCISNAP" collect --root "$T/a" --store "$S" --label after 2>/dev/null
check "past 8 packs: one pack" test "$(packs)" = 1
check "no loose objects" test "$(loose)" = 0
check "git fsck is clean after the merge" sh -c "git -C '$S' fsck --no-progress --strict >/dev/null 2>&1"
check "every snapshot still there" test "$("$PCISNAP" log pve-ws-01 --store "$S" --format jsonl | wc -l)" = 3
check "the label too" sh -c "'$PCISNAP' show pve-ws-01@after --store '$S' >/dev/null"
finish
