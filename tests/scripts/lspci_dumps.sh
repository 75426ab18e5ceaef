#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0-or-later
# Every real lspci -xxxx dump through --lspci-dump: ACS, FLR and link fields must agree with what
# lspci itself decodes from the same dump, and the snapshot must validate against the schema.
. "$(dirname "$0")/lib.bash"
mkdir -p "$T/empty"
for dump in "$DATA"/pciutils/*; do
	name=$(basename "$dump")
	if ! "$PCISNAP" collect --root "$T/empty" --lspci-dump "$dump" -o "$T/$name.json"; then
		not_ok "$name: collect"; continue
	fi
	check "$name: schema" $VALIDATE "$SNAP_SOURCE_DIR/schema/snapshot.v1.schema.json" "$T/$name.json"
	check "$name: agrees with lspci -vvv" python3 "$SNAP_SOURCE_DIR/tests/tools/lspci_compare.py" \
		"$T/$name.json" "$dump"
done
# A dump that does not exist is a clean error, not libpci's exit(1).
set +e
"$PCISNAP" collect --root "$T/empty" --lspci-dump "$T/nope" >"$T/out" 2>"$T/err"
rc=$?
set -e
check "missing dump: exit 2" test "$rc" = 2
check "missing dump: one pcisnap: line" grep -qx 'pcisnap: .*' "$T/err"
check "missing dump: no output" test ! -s "$T/out"
finish
