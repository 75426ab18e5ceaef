#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0-or-later
# 8 concurrent collectors x 25 snapshots into one store lose nothing; a collector killed at any
# point leaves a valid store whose branch still names a complete snapshot.
. "$(dirname "$0")/lib.bash"
S=$T/store
$MKROOT amd-epyc "$T/root"
"$PCISNAP" collect --root "$T/root" -o "$T/base.json"
writer() { # writer ID: 25 snapshots, half of them as host "shared", half as its own host
	local id=$1 i
	for i in $(seq 1 25); do
		if [ $((i % 2)) = 0 ]; then h=shared; else h=w$id; fi
		SOURCE_DATE_EPOCH=$((id * 1000 + i)) "$PCISNAP" collect --root "$T/root" --host "$h" \
			--store "$S" >/dev/null || echo "writer $id snapshot $i failed" >>"$T/failures"
	done
}
"$PCISNAP" collect --root "$T/root" --host seed --store "$S" >/dev/null # create it once
for id in 1 2 3 4 5 6 7 8; do writer "$id" & done
wait
check "no collector failed" test ! -s "$T/failures"
total=0
for ref in $(git -C "$S" for-each-ref --format='%(refname)' refs/heads); do
	total=$((total + $(git -C "$S" rev-list --count "$ref")))
done
check "all 200 snapshots present (+1 seed)" test "$total" = 201
check "shared host has all 96 of its snapshots" test "$(git -C "$S" rev-list --count refs/heads/shared)" = 96
check "fsck clean after concurrency" git -C "$S" fsck --no-progress

# kill collectors at random points
for round in $(seq 1 12); do
	SOURCE_DATE_EPOCH=$((90000 + round)) "$PCISNAP" collect --root "$T/root" --host killed \
		--store "$S" >/dev/null 2>&1 &
	pid=$!
	sleep "0.0$((RANDOM % 10))"
	kill -9 "$pid" 2>/dev/null || true
	wait "$pid" 2>/dev/null || true
done
check "fsck clean after kills" git -C "$S" fsck --no-progress
if git -C "$S" rev-parse -q --verify refs/heads/killed >/dev/null; then
	check "the killed host's tip is a complete snapshot" "$PCISNAP" show --store "$S" killed
fi
rm -f "$S"/refs/heads/*.lock
SOURCE_DATE_EPOCH=99999 "$PCISNAP" collect --root "$T/root" --host killed --store "$S" >/dev/null
check "store usable after kills" "$PCISNAP" show --store "$S" killed

# 8 first collects into a store that does not exist yet: one creates it, none loses its snapshot
for id in 1 2 3 4 5 6 7 8; do
	SOURCE_DATE_EPOCH=$((70000 + id)) "$PCISNAP" collect --root "$T/root" --host "first$id" \
		--store "$T/new/store" >/dev/null 2>>"$T/first.err" &
done
wait
check "concurrent first collects: none failed" test -z "$(grep -v "^stored " "$T/first.err")"
check "concurrent first collects: all 8 hosts stored" \
	test "$(git -C "$T/new/store" for-each-ref refs/heads | wc -l)" = 8
check "concurrent first collects: no temporary store left" \
	test "$(ls "$T/new" | grep -c creating)" = 0

# a collect killed while creating the store leaves no half store in its place
for round in $(seq 1 10); do
	rm -rf "$T/k"
	SOURCE_DATE_EPOCH=1 "$PCISNAP" collect --root "$T/root" --host k --store "$T/k/store" \
		>/dev/null 2>&1 &
	pid=$!
	sleep "0.00$((RANDOM % 10))"
	kill -9 "$pid" 2>/dev/null || true
	wait "$pid" 2>/dev/null || true
	SOURCE_DATE_EPOCH=2 "$PCISNAP" collect --root "$T/root" --host k --store "$T/k/store" \
		>/dev/null 2>>"$T/kill.err" || true
done
check "killed during creation: the next collect always works" test -z "$(grep -v "^stored " "$T/kill.err")"

# a store an older pcisnap left half made (repository, no marker, no refs) is completed
rm -rf "$T/half" && git init -q --bare "$T/half"
echo "pcisnap store: passthrough health snapshots, one branch per host" >"$T/half/description"
check "half-made store is completed" sh -c "\"$PCISNAP\" collect --root \"$T/root\" --host h --store \"$T/half\" >/dev/null"
finish
