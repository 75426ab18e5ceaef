#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0-or-later
# check reads like diff (issue 28): the header counts what is shown, each cause once with its
# effects under it, two sections (passthrough health, forensics readiness) with a verdict each,
# and advice never hands vfio-pci a device the host runs on.
. "$(dirname "$0")/lib.bash"
cd "$T"
for h in kernel-no-vfio acs-hidden consumer-noacs nic-split-noacs pve-intel amd-epyc; do
	$MKROOT "$h" "$h" >/dev/null
	"$PCISNAP" collect --root "$h" -o "$h.json" 2>/dev/null
	set +e
	"$PCISNAP" check "$h.json" >"$h.txt"
	"$PCISNAP" check --verbose "$h.json" >"$h.v.txt"
	"$PCISNAP" check --format json "$h.json" >"$h.c.json"
	set -e
done
counts_match() { # the header's fail, warn and pass counts are the lines below it
	python3 - "$1" <<'PY'
import re, sys
lines = open(sys.argv[1]).read().splitlines()
m = re.match(r"pcisnap check: .*: (PASS|WARN|FAIL) \((\d+) fail, (\d+) warn, (\d+) pass\)$", lines[0])
assert m, lines[0]
fail, warn, pas = map(int, m.group(2, 3, 4))
def count(st):
    return sum(1 for l in lines[1:] if re.match(r"(  -> )?%s  " % st, l))
passed = sum(int(x.group(1)) for x in (re.match(r"(\d+) checks? passed", l) for l in lines) if x)
assert (count("FAIL"), count("WARN"), count("PASS") + passed) == (fail, warn, pas), (lines[0], count("FAIL"), count("WARN"), count("PASS"), passed)
PY
}
for h in kernel-no-vfio acs-hidden consumer-noacs nic-split-noacs pve-intel amd-epyc; do
	check "$h: the header counts the lines shown" counts_match "$h.txt"
	check "$h: --verbose too" counts_match "$h.v.txt"
	check "$h: two sections, passthrough first" sh -c "grep -n '^Passthrough health: \|^Forensics readiness: ' '$h.txt' | head -1 | grep -q Passthrough && grep -q '^Forensics readiness: WARN' '$h.txt'"
	check "$h: JSON validates, every check in a section" sh -c "$VALIDATE '$SNAP_SOURCE_DIR/schema/check.v1.schema.json' '$h.c.json' && python3 -c 'import json,sys; d=json.load(open(sys.argv[1])); assert all(c[\"section\"] in (\"passthrough\",\"forensics\") for c in d[\"checks\"]); assert d[\"sections\"][\"forensics\"]==\"WARN\"' '$h.c.json'"
done
check "kernel-no-vfio: the cause once, no symptom before it" sh -c "test \"\$(grep -c '^FAIL' kernel-no-vfio.txt)\" = 1 && grep -q '^FAIL  vfio_binding  *vfio-pci is not loaded' kernel-no-vfio.txt"
check "kernel-no-vfio: the group's state is an effect under the binding" sh -c "grep -A2 '^FAIL  vfio_binding' kernel-no-vfio.v.txt | grep -q '^  -> PASS  group_viable .* is viable only once 0000:01:00.1'"
check "kernel-no-vfio JSON: the effect names its cause" python3 -c '
import json, sys
d = json.load(open(sys.argv[1]))
assert [c for c in d["checks"] if c["id"] == "group_viable" and c.get("cause") == "vfio_binding"], d' kernel-no-vfio.c.json
check "acs-hidden: never bind the host's NVMe; the reason the group is shared is stated" sh -c "grep '^FAIL  group_viable' acs-hidden.txt | grep -q \"the group is shared because .*do not give vfio-pci the host's storage controller\" && ! grep -q 'bind them to vfio-pci' acs-hidden.txt"
check "consumer-noacs: the same for a GPU beside the host's NVMe" sh -c "grep -q \"do not give vfio-pci the host's storage controller\" consumer-noacs.txt"
check "nic-split-noacs: functions of one card: the whole card or another" sh -c "grep -q 'functions of the same card.*cannot be split between a VM and the host' nic-split-noacs.txt"
check "pve-intel: passthrough PASS apart from forensics" sh -c "grep -q '^Passthrough health: PASS' pve-intel.txt && grep -q '^Forensics readiness: WARN' pve-intel.txt"
finish
