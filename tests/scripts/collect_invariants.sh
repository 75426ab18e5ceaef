#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0-or-later
# The collector's promises: deterministic output, never writing under the root, unknown-not-absent
# without root, and a clean error with nothing written when it cannot proceed.
. "$(dirname "$0")/lib.bash"
$MKROOT pve-intel "$T/root"
fingerprint() { (cd "$1" && find . -printf '%p %y %m %s %T@ %l\n' | sort && find . -type f -exec sha256sum {} + | sort); }
fingerprint "$T/root" >"$T/before"
SOURCE_DATE_EPOCH=100 "$PCISNAP" collect --root "$T/root" --pci-ids "$DATA/pci.ids" -o "$T/a.json"
SOURCE_DATE_EPOCH=200 "$PCISNAP" collect --root "$T/root" --pci-ids "$DATA/pci.ids" -o "$T/b.json"
fingerprint "$T/root" >"$T/after"
check "collect never writes under the root" cmp -s "$T/before" "$T/after"
diff "$T/a.json" "$T/b.json" | grep '^[<>]' >"$T/delta" || true
check "two collections differ only in collected_at" test "$(grep -vc collected_at "$T/delta")" = 0
check "and they do differ there" test "$(grep -c collected_at "$T/delta")" = 2
check "sorted keys, 2-space indent, trailing newline" python3 -c "
import json, sys
text = open(sys.argv[1]).read()
assert text.endswith('}\n')
assert text == json.dumps(json.loads(text), indent=2, sort_keys=True, ensure_ascii=True, separators=(',', ': ')) + '\n'
" "$T/a.json"
check "no temporary files left beside -o" test "$(ls "$T" | grep -c tmp)" = 0

# Without root: 64-byte config -> acs/flr null, config_bytes 64, exactly one warning, exit 0.
$MKROOT pve-intel "$T/user" --unprivileged
"$PCISNAP" collect --root "$T/user" -o "$T/user.json" 2>"$T/user.err"
check "unprivileged: exit 0" true
check "unprivileged: one warning line" test "$(wc -l <"$T/user.err")" = 1
check "unprivileged: warning names reduced coverage" grep -q 'reduced coverage' "$T/user.err"
check "unprivileged: unknown is null, never false" python3 -c "
import json, sys
d = json.load(open(sys.argv[1]))
assert all(x['config_bytes'] == 64 and x['acs'] is None and x['flr'] is None for x in d['devices'])
" "$T/user.json"

# Cannot write: exit 2, one line, nothing left behind.
set +e
"$PCISNAP" collect --root "$T/root" -o "$T/no/such/dir/s.json" 2>"$T/err"
rc=$?
set -e
check "unwritable output: exit 2" test "$rc" = 2
check "unwritable output: one pcisnap: line" test "$(grep -c '^pcisnap: ' "$T/err")" = 1
finish
