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

# data on stdout, status on stderr
$MKROOT pve-intel "$T/r"
"$PCISNAP" collect --root "$T/r" --store "$T/st" -o - >"$T/pure.json" 2>"$T/pure.err"
check "collect --store -o -: stdout is the snapshot alone" python3 -m json.tool "$T/pure.json" >/dev/null
check "collect --store -o -: the commit is said on stderr" grep -Eq '^stored pve-ws-01 [0-9a-f]{40}$' "$T/pure.err"
"$PCISNAP" export "$T/pure.json" --compression gzip -o - >"$T/b.tgz" 2>"$T/b.err"
check "export -o - --compression gzip: a gzip tar on stdout" tar -tzf "$T/b.tgz" >/dev/null
check "export -o -: nothing on stderr" test ! -s "$T/b.err"
"$PCISNAP" export "$T/pure.json" --compression none -o "$T/b.bin"
check "--compression names the format whatever the file is called" tar -tf "$T/b.bin" >/dev/null
"$PCISNAP" import "$T/b.tgz" --store "$T/st2" >"$T/imp.out" 2>"$T/imp.err"
check "import: status on stderr, nothing on stdout" sh -c "test ! -s '$T/imp.out' && grep -q '^imported pve-ws-01' '$T/imp.err'"
expect2 "export -o - without --compression" export "$T/pure.json" -o -
expect2 "export with an unknown compression" export "$T/pure.json" --compression lz5 -o "$T/x.tar"
finish
