#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0-or-later
# The groups pcisnap derives from topology and ACS alone must equal the kernel's groups on every
# scenario host whose groups follow the hardware (no pcie_acs_override, IOMMU on).
. "$(dirname "$0")/lib.bash"
for host in pve-intel amd-epyc consumer-noacs acs-hidden bios-gpu-functions nic-added bus-shift; do
	$MKROOT "$host" "$T/$host"
	"$PCISNAP" collect --root "$T/$host" -o "$T/$host.json"
	"$PCISNAP" check --format json "$T/$host.json" >"$T/$host.check" || true
	check "$host: implied groups equal kernel groups" python3 - "$T/$host.json" "$T/$host.check" <<'PY'
import json, sys
snap = json.load(open(sys.argv[1]))
chk = json.load(open(sys.argv[2]))
kernel = {frozenset(g["devices"]) for g in snap["groups"]}
grouped = {b for g in snap["groups"] for b in g["devices"]}
implied = {frozenset(b for b in g["devices"] if b in grouped) for g in chk["implied_groups"]}
implied.discard(frozenset())
if kernel != implied:
    print("kernel only:", sorted(map(sorted, kernel - implied)))
    print("implied only:", sorted(map(sorted, implied - kernel)))
    sys.exit(1)
PY
done
# The benchmark generator's large host: the collector reads it, check passes, and its groups are
# the ones the kernel's rules give.
python3 "$SNAP_SOURCE_DIR/bench/genhost.py" 300 "$T/large" >/dev/null
"$PCISNAP" collect --root "$T/large" -o "$T/large.json"
set +e
"$PCISNAP" check --format json "$T/large.json" >"$T/large.check"; rc=$?
set -e
check "generated large host: check has no FAIL" test "$rc" = 0
check "generated large host: implied groups equal kernel groups" python3 - "$T/large.json" "$T/large.check" <<'PY'
import json, sys
snap = json.load(open(sys.argv[1]))
chk = json.load(open(sys.argv[2]))
assert len(snap["devices"]) == 300, len(snap["devices"])
kernel = {frozenset(g["devices"]) for g in snap["groups"]}
grouped = {b for g in snap["groups"] for b in g["devices"]}
implied = {frozenset(b for b in g["devices"] if b in grouped) for g in chk["implied_groups"]}
implied.discard(frozenset())
assert kernel == implied, (sorted(map(sorted, kernel - implied))[:3], sorted(map(sorted, implied - kernel))[:3])
PY
# With the override, the kernel's groups are finer than the hardware's: check must say so.
$MKROOT acs-override "$T/ovr"
"$PCISNAP" collect --root "$T/ovr" -o "$T/ovr.json"
set +e
"$PCISNAP" check "$T/ovr.json" >"$T/ovr.txt"
rc=$?
set -e
check "acs-override: check fails" test "$rc" = 1
check "acs-override: names asserted isolation" grep -q 'isolation asserted, not enforced' "$T/ovr.txt"
finish
