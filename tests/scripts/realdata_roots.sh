#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0-or-later
# Captured /sys trees from real machines (hwloc, ghw): collect must succeed and validate. hwloc
# cut config to 64 bytes, so ACS/FLR must come out unknown (null), never false.
. "$(dirname "$0")/lib.bash"
for tarball in "$DATA"/realdata/*.tar.*; do
	name=$(basename "$tarball")
	mkdir -p "$T/$name"
	tar -xf "$tarball" -C "$T/$name" 2>/dev/null || { not_ok "$name: extract"; continue; }
	root=$T/$name
	[ -d "$root/sys" ] || root=$(dirname "$(find "$T/$name" -maxdepth 2 -type d -name sys | head -n 1)")
	if "$PCISNAP" collect --root "$root" -o "$T/$name.json" 2>"$T/$name.err"; then
		ok "$name: collect"
	else
		not_ok "$name: collect: $(cat "$T/$name.err")"; continue
	fi
	check "$name: schema" $VALIDATE "$SNAP_SOURCE_DIR/schema/snapshot.v1.schema.json" "$T/$name.json"
	check "$name: found devices" python3 -c "
import json, sys
d = json.load(open(sys.argv[1]))
assert len(d['devices']) > 0
for x in d['devices']:
    if x['config_bytes'] < 256:
        assert x['acs'] is None and x['flr'] is None, x['bdf']
" "$T/$name.json"
	"$PCISNAP" show "$T/$name.json" >/dev/null && "$PCISNAP" show --format tree "$T/$name.json" >/dev/null &&
		ok "$name: show" || not_ok "$name: show"
done
finish
