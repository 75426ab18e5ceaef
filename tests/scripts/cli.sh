#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0-or-later
# Command-line conventions: --help everywhere, usage errors exit 2 with one pcisnap: line.
. "$(dirname "$0")/lib.bash"
for c in collect show check diff log hosts label push pull export import fleet; do
	check "$c --help exits 0" "$PCISNAP" "$c" --help
done
check "--help exits 0" "$PCISNAP" --help
expect2() { # expect2 DESCRIPTION ARGS...
	local what=$1; shift
	set +e
	"$PCISNAP" "$@" >"$T/out" 2>"$T/err"
	local rc=$?
	set -e
	if [ "$rc" = 2 ] && [ "$(wc -l <"$T/err")" -ge 1 ] && grep -q '^pcisnap: ' "$T/err"; then
		ok "$what"
	else
		not_ok "$what (rc $rc: $(head -c 200 "$T/err"))"
	fi
}
expect2 "no command" 
expect2 "unknown command" frobnicate
expect2 "show without argument" show
expect2 "show missing file" show "$T/nope.json"
expect2 "show unknown format" show --format yaml "$T/nope.json"
expect2 "collect stray argument" collect extra
SOURCE_DATE_EPOCH=yesterday expect2 "collect bad SOURCE_DATE_EPOCH" collect --root "$T"
finish
