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
set +e
"$PCISNAP" collect --root "$T/user" -o "$T/user.json" 2>"$T/user.err"
rc=$?
set -e
check "unprivileged: exit 0" test "$rc" = 0
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

# Device nodes planted in a captured root are never opened: a character device as proc/cmdline
# (here /dev/zero: it would read as a megabyte of NULs) and as a device's vendor attribute
# (/dev/kmsg would hand out this machine's log) read as unknown. mknod needs root.
if [ "$(id -u)" = 0 ]; then
	$MKROOT pve-intel "$T/nodes"
	rm "$T/nodes/proc/cmdline" && mknod "$T/nodes/proc/cmdline" c 1 5
	v=$(readlink -f "$T/nodes/sys/bus/pci/devices/0000:01:00.0")
	rm "$v/vendor" && mknod "$v/vendor" c 1 11
	rm -f "$v/reset_method" && mknod "$v/reset_method" c 1 5 # read, it would give "" (a list)
	"$PCISNAP" collect --root "$T/nodes" -o "$T/nodes.json" 2>/dev/null
	check "device node as proc/cmdline: cmdline unknown" python3 -c "
import json, sys
d = json.load(open(sys.argv[1]))
assert d['kernel']['cmdline'] is None, d['kernel']['cmdline']
dev = [x for x in d['devices'] if x['bdf'] == '0000:01:00.0'][0]
assert dev['vendor'] == '10de', dev['vendor']  # from config space, not from the node
assert dev['reset_methods'] is None, dev['reset_methods']  # never opened: unknown
" "$T/nodes.json"
else
	not_ok "device nodes in a root: needs root to mknod (run the suite as root, as CI does)"
fi
finish
