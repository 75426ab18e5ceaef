#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0-or-later
# The kernel log's fault lines, attributed as Linux 6.1 prints them (issue 29): AER "error
# message received from <source>" (earlier 6.1: "error received: <source>") after the reporting port, DPC "containment event" on the port, DMAR and
# AMD-Vi IOMMU faults on the device. check FAILs a fatal or contained fault on a passthrough
# device's path and WARNs an IOMMU fault of the device; diff lists them in its faults section
# (not a class: the exit status follows the classes); a device off every path is not named.
. "$(dirname "$0")/lib.bash"
cd "$T"
$MKROOT pve-intel r >/dev/null
cat >fatal.log <<'LOG'
[  100.100000] pcieport 0000:00:01.0: AER: Uncorrected (Fatal) error received: 0000:01:00.0
[  100.200000] vfio-pci 0000:01:00.0: AER: can't recover (no error_detected callback)
[  120.000000] pcieport 0000:00:1c.0: AER: Corrected error received: 0000:05:00.0
LOG
cat >iommu.log <<'LOG'
[  200.300000] DMAR: [DMA Read NO_PASID] Request device [02:00.0] fault addr 0x1234000 [fault reason 0x06] PTE Read access is not set
LOG
cat >dpc.log <<'LOG'
[  300.000000] pcieport 0000:00:01.0: DPC: containment event, status:0x1f01 source:0x0000
LOG
# as Debian's 6.1.192 words it (aer_print_port_info()), seen in the real-kernel lab's injection
cat >fatal-61.log <<'LOG'
[   30.968594] pcieport 0000:00:01.0: AER: Uncorrected (Fatal) error message received from 0000:01:00.0
[   30.969170] vfio-pci 0000:01:00.0: AER: PCIe Bus Error: severity=Uncorrected (Fatal), type=Inaccessible, (Unregistered Agent ID)
[   33.030872] pcieport 0000:00:01.0: AER: device recovery failed
LOG
: >none.log
for l in none fatal fatal-61 iommu dpc; do
	SOURCE_DATE_EPOCH=100 "$PCISNAP" collect --root r --dmesg "$l.log" -o "$l.json" 2>/dev/null
done
set +e
"$PCISNAP" check fatal.json >fatal.txt; rc_fatal=$?
"$PCISNAP" check fatal-61.json >fatal-61.txt; rc_fatal61=$?
"$PCISNAP" check iommu.json >iommu.txt; rc_iommu=$?
"$PCISNAP" check dpc.json >dpc.txt; rc_dpc=$?
"$PCISNAP" check none.json >none.txt; rc_none=$?
"$PCISNAP" diff none.json fatal.json >diff.txt; rc_diff=$?
"$PCISNAP" diff --format json none.json fatal.json >diff.json
"$PCISNAP" diff --fail-on faults none.json fatal.json >/dev/null; rc_ff=$?
"$PCISNAP" diff --fail-on all,faults none.json fatal.json >/dev/null; rc_af=$?
"$PCISNAP" diff --fail-on faults none.json none.json >/dev/null; rc_nf=$?
set -e
check "a fatal AER error logged for the GPU: check FAIL fault_log, the device named" sh -c "test $rc_fatal = 1 && grep -q '^FAIL  fault_log .*the device 0000:01:00.0: 1 fatal' fatal.txt"
check "the same in Debian 6.1.192's words (\"error message received from\")" sh -c "test $rc_fatal61 = 1 && grep -q '^FAIL  fault_log .*the device 0000:01:00.0: 1 fatal' fatal-61.txt"
check "an IOMMU fault of the HBA: WARN, the VM's mapping named" sh -c "grep -q '^WARN  fault_log .*0000:02:00.0: 1 iommu.*memory its VM did not map' iommu.txt"
check "a DPC containment on the GPU's root port: FAIL" sh -c "test $rc_dpc = 1 && grep -q '^FAIL  fault_log .*port 0000:00:01.0: 1 contained' dpc.txt"
check "no fault lines: no fault_log" sh -c "! grep -q fault_log none.txt"
check "a corrected error off every passthrough path is not named" sh -c "! grep -q '0000:05:00.0' fatal.txt"
check "diff: the fault in its own section, named in the verdict line, exit as the classes" sh -c "test $rc_diff = 0 && grep -q '^faults' diff.txt && grep -q 'fatal fault line' diff.txt && head -3 diff.txt | grep -q fault"
check "--fail-on faults: the faults section fails the gate (exit 1), alone or with classes" sh -c "test $rc_ff = 1 && test $rc_af = 1 && test $rc_nf = 0"
check "diff JSON: kind log, the validating schema" python3 - diff.json "$SNAP_SOURCE_DIR/schema/diff.v1.schema.json" <<'PY'
import json, sys, jsonschema
d = json.load(open(sys.argv[1])); jsonschema.validate(d, json.load(open(sys.argv[2])))
f = [x for x in d["faults"] if x["kind"] == "log"]
assert f and f[0]["severity"] == "fatal" and f[0]["subject"] == "0000:01:00.0", d["faults"]
PY
finish
