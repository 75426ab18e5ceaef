#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0-or-later
# pcisnap canary: the host under test is NEW, its references OLD (CONTRACT.md "Canary
# comparisons"), whatever order the operator thinks in; diff warns when OLD looks like the
# updated host. The fleet: pve-ws-01 updated without vfio in its initramfs (kernel-no-vfio),
# pve-ws-02 a healthy peer not yet updated, bad-peer a peer already broken.
. "$(dirname "$0")/lib.bash"
cd "$T"
$MKROOT pve-intel a
$MKROOT kernel-no-vfio b
$MKROOT canary-peer p
$MKROOT amd-epyc e
SOURCE_DATE_EPOCH=1000 "$PCISNAP" collect --root a --store st 2>/dev/null >/dev/null
SOURCE_DATE_EPOCH=1500 "$PCISNAP" collect --root p --store st 2>/dev/null >/dev/null
SOURCE_DATE_EPOCH=1600 "$PCISNAP" collect --root b --store st --host bad-peer 2>/dev/null >/dev/null
SOURCE_DATE_EPOCH=1700 "$PCISNAP" collect --root e --store st 2>/dev/null >/dev/null
SOURCE_DATE_EPOCH=2000 "$PCISNAP" collect --root b --store st 2>/dev/null >/dev/null
# a second snapshot after the update: "before" is the one before the kernel changed, not ~1
SOURCE_DATE_EPOCH=2050 "$PCISNAP" collect --root b --store st 2>/dev/null >/dev/null
# a healthy update: 6.8.8 -> 6.8.12 with vfio in place
SOURCE_DATE_EPOCH=1100 "$PCISNAP" collect --root p --store st --host good 2>/dev/null >/dev/null
SOURCE_DATE_EPOCH=2100 "$PCISNAP" collect --root a --store st --host good 2>/dev/null >/dev/null
# (the EPYC host has no history and no peer of its model: nothing vouches for it)
epyc=$("$PCISNAP" hosts --store st --format json | python3 -c 'import json,sys; print([h["host"] for h in json.load(sys.stdin)["hosts"] if "PowerEdge" in h["model"]][0])')
set +e
"$PCISNAP" canary good --store st >good.txt 2>&1; rc_good=$?
"$PCISNAP" canary pve-ws-01 --store st >broken.txt 2>broken.err; rc_broken=$?
"$PCISNAP" canary pve-ws-01 --store st --format json >broken.json; rc_json=$?
"$PCISNAP" diff --store st pve-ws-01 pve-ws-02 >/dev/null 2>reversed.err; rc_rev=$?
"$PCISNAP" diff --store st pve-ws-02 pve-ws-01 >/dev/null 2>forward.err; rc_fwd=$?
"$PCISNAP" canary "$epyc" --store st >alone.txt 2>&1; rc_alone=$?
"$PCISNAP" canary "$epyc" --store st --allow-inconclusive >/dev/null 2>&1; rc_alone_ok=$?
"$PCISNAP" canary pve-ws-01 --store st --fail-on none >/dev/null 2>&1; rc_none=$?
"$PCISNAP" canary pve-ws-01 --store st --before pve-ws-01 --peers pve-ws-01 >same.txt 2>&1; rc_same=$?
"$PCISNAP" canary pve-ws-01 --store st --peers "$epyc" >other.txt 2>&1; rc_other=$?
"$PCISNAP" canary 'pve-ws-01~1' --store st >/dev/null 2>rev.err; rc_revname=$?
"$PCISNAP" canary nosuch --store st >/dev/null 2>nosuch.err; rc_nosuch=$?
"$PCISNAP" canary pve-ws-01 --store st --peers nosuch >/dev/null 2>nopeer.err; rc_nopeer=$?
set -e
check "a healthy update: harmless against its past and its peers, exit 0" sh -c "test $rc_good = 0 && head -1 good.txt | grep -q '^pcisnap canary good: harmless, against 2 of 4 reference' && grep -q '^  good~1  *before  6.8.8-2-pve .* harmless' good.txt && ! grep -q '^Next:' good.txt"
check "a canary that lost vfio: binding_regression, exit 1" sh -c "test $rc_broken = 1 && head -1 broken.txt | grep -q '^pcisnap canary pve-ws-01: binding_regression'"
check "cause first: the worst comparison whole, the missing module before its effects" sh -c "grep -n 'vfio_module_missing\|driver_changed' broken.txt | head -1 | grep -q vfio_module_missing"
check "its own reference: the snapshot before the kernel changed" grep -q '^  pve-ws-01~2  before  6.8.12-4-pve .* binding_regression' broken.txt
check "the healthy peer as OLD: binding_regression too" grep -q '^  pve-ws-02 .* peer .* binding_regression' broken.txt
check "a peer whose own check FAILs is skipped, named" grep -q '^  bad-peer .* skipped: its own check FAILs' broken.txt
check "another model is no peer" sh -c "! grep -q \"^  $epyc \" broken.txt"
check "Next: the diff in the right order" grep -qx 'Next: pcisnap diff pve-ws-01~2 pve-ws-01' broken.txt
check "JSON: exit 1 and the schema" sh -c "test $rc_json = 1 && $VALIDATE '$SNAP_SOURCE_DIR/schema/canary.v1.schema.json' broken.json"
check "JSON: each comparison's diff is a pcisnap.diff/1 document with the canary as NEW" python3 - broken.json "$SNAP_SOURCE_DIR/schema/diff.v1.schema.json" <<'PY'
import json, sys, jsonschema
d = json.load(open(sys.argv[1])); schema = json.load(open(sys.argv[2]))
assert d["verdict"] == "binding_regression" and d["conclusive"], d
refs = {r["rev"]: r for r in d["references"]}
assert set(refs) == {"pve-ws-01~2", "pve-ws-02", "bad-peer", "good"}, refs
assert refs["bad-peer"]["diff"] is None and refs["bad-peer"]["verdict"] is None
for r in ("pve-ws-01~2", "pve-ws-02", "good"):
    jsonschema.validate(refs[r]["diff"], schema)
    assert refs[r]["diff"]["verdict"] == "binding_regression", r
PY
check "diff with the updated host as OLD: a warning that names the right order, verdict as asked" sh -c "test $rc_rev = 0 && grep -q \"did you mean 'pcisnap diff pve-ws-02 pve-ws-01'\" reversed.err"
check "diff in the right order: the regression, no warning" sh -c "test $rc_fwd = 1 && ! grep -q 'did you mean' forward.err"
check "nothing to compare with: inconclusive, exit 3, says how to name references" sh -c "test $rc_alone = 3 && grep -q 'No reference to compare with' alone.txt && grep -q -- '--before REV' alone.txt"
check "--allow-inconclusive: exit 0" test $rc_alone_ok = 0
check "--fail-on none: exit 0" test $rc_none = 0
check "--before and --peers name the references" sh -c "test $rc_same = 0 && grep -q '^  pve-ws-01  *before' same.txt && grep -q '^  pve-ws-01  *peer' same.txt"
check "a named peer of another model is compared, and said to be one" sh -c "test $rc_other = 1 && grep -q \"^  $epyc .*another hardware model\" other.txt && ! grep -q '^  pve-ws-02 ' other.txt"
check "a revision is not a canary: exit 2, one line" sh -c "test $rc_revname = 2 && test \$(wc -l <rev.err) = 1 && grep -q '^pcisnap: ' rev.err"
check "an unknown canary: exit 2" sh -c "test $rc_nosuch = 2 && grep -q '^pcisnap: ' nosuch.err"
check "an unknown peer: exit 2" sh -c "test $rc_nopeer = 2 && grep -q '^pcisnap: ' nopeer.err"
finish
