#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0-or-later
# Accepted deviations (CONTRACT.md "Canary comparisons", issue 28): the policy lives in the
# store, travels with push and pull, and check, diff, canary and fleet apply it: accepted
# findings are still shown, marked accepted, and fail nothing; everything else still does.
. "$(dirname "$0")/lib.bash"
cd "$T"
$MKROOT consumer-noacs desk >/dev/null
$MKROOT pve-intel r >/dev/null
$MKROOT acs-override o >/dev/null
SOURCE_DATE_EPOCH=100 "$PCISNAP" collect --root desk --host desk-01 --store st >/dev/null 2>&1
SOURCE_DATE_EPOCH=110 "$PCISNAP" collect --root desk --host desk-02 --store st >/dev/null 2>&1
SOURCE_DATE_EPOCH=200 "$PCISNAP" collect --root r --store st >/dev/null 2>&1
SOURCE_DATE_EPOCH=300 "$PCISNAP" collect --root o --store st >/dev/null 2>&1
# an entry for another host covers nothing here
"$PCISNAP" accept --store st --host desk-99 group_viable --reason "another host"
set +e
"$PCISNAP" check --store st desk-01 >before.txt; rc_before=$?
SOURCE_DATE_EPOCH=1000 "$PCISNAP" fleet --store st >/dev/null; rc_fleet_before=$?
"$PCISNAP" diff --store st pve-ws-01~1 pve-ws-01 >/dev/null; rc_diff_before=$?
set -e
check "before: the consumer board FAILs group_viable, the fleet fails, the override is a loss" sh -c "test $rc_before = 1 && test $rc_fleet_before = 1 && test $rc_diff_before = 1"
"$PCISNAP" accept --store st --model-of desk-01 group_viable --reason "chipset ports without ACS: the NVMe stays with the host"
"$PCISNAP" accept --store st --host pve-ws-01 acs_override --reason "lab host, risk accepted"
"$PCISNAP" accept --store st --host pve-ws-01 isolation_asserted --reason "lab host, risk accepted"
"$PCISNAP" accept --store st --host pve-ws-01 isolation_enforced --reason "lab host, risk accepted"
set +e
"$PCISNAP" check --store st desk-01 >after.txt; rc_after=$?
"$PCISNAP" check --store st desk-01 --format json >after.json
"$PCISNAP" diff --store st pve-ws-01~1 pve-ws-01 >diff.txt; rc_diff=$?
"$PCISNAP" diff --store st --format json pve-ws-01~1 pve-ws-01 >diff.json
SOURCE_DATE_EPOCH=1000 "$PCISNAP" fleet --store st >fleet.txt; rc_fleet=$?
set -e
check "check: the accepted FAILs fail nothing (exit 0)" test $rc_after = 0
check "check: still shown, marked with the reason, counted apart" sh -c "grep -q '^ACPT  group_viable .*\[accepted: chipset ports without ACS' after.txt && head -1 after.txt | grep -q '2 accepted)'"
check "check JSON: the finding keeps its status, says accepted; the verdict follows the rest" python3 - after.json "$SNAP_SOURCE_DIR/schema/check.v1.schema.json" <<'PY'
import json, sys, jsonschema
d = json.load(open(sys.argv[1])); jsonschema.validate(d, json.load(open(sys.argv[2])))
acc = [c for c in d["checks"] if c.get("accepted")]
assert acc and all(c["status"] == "FAIL" and c["id"] == "group_viable" for c in acc), acc
assert d["verdict"] != "FAIL" and d["sections"]["passthrough"] != "FAIL", d["verdict"]
PY
check "metrics: the accepted findings are 0, the section passes" sh -c "\"$PCISNAP\" check --store st desk-01 --format prometheus | grep -q 'pcisnap_check_status{host=\"desk-01\",check=\"group_viable\",subject=\"0000:01:00.0\"} 0' && \"$PCISNAP\" check --store st desk-01 --format prometheus | grep -q 'section=\"passthrough\"} 0'"
check "diff: the accepted override fails nothing (exit 0), listed as accepted" sh -c "test $rc_diff = 0 && grep -q '\[acs_override\] \[accepted: lab host, risk accepted\]' diff.txt"
check "diff JSON: accepted, with its class kept beside it" python3 - diff.json "$SNAP_SOURCE_DIR/schema/diff.v1.schema.json" <<'PY'
import json, sys, jsonschema
d = json.load(open(sys.argv[1])); jsonschema.validate(d, json.load(open(sys.argv[2])))
acc = [c for c in d["changes"] if c.get("accepted")]
assert acc and acc[0]["kind"] == "acs_override" and acc[0]["accepted_class"] == "isolation_loss" and acc[0]["class"] == "harmless", acc
assert d["verdict"] != "isolation_loss", d["verdict"]
PY
check "fleet: the consumer boards and the accepted lab host no longer fail it (exit 0)" test $rc_fleet = 0
check "the policy is listed, numbered, with who" sh -c "\"$PCISNAP\" accept --store st --list | grep -q '^2. model .* group_viable, because chipset ports' && \"$PCISNAP\" accept --store st --list | grep -q '^3. host pve-ws-01: acs_override'"
# push and pull carry it
git init -q --bare remote.git && git -C remote.git config pcisnap.store 1
"$PCISNAP" push --store st remote.git 2>/dev/null
"$PCISNAP" pull --store b remote.git 2>/dev/null
check "pull brings the policy" sh -c "\"$PCISNAP\" accept --store b --list | grep -q 'acs_override'"
check "and the pulled store applies it" sh -c "\"$PCISNAP\" check --store b desk-01 >/dev/null"
"$PCISNAP" accept --store st --remove 2
check "--remove: the entry is gone, the FAIL is back" sh -c "! \"$PCISNAP\" accept --store st --list | grep -q 'chipset ports' && ! \"$PCISNAP\" check --store st desk-01 >/dev/null"
check "the change travels" sh -c "\"$PCISNAP\" push --store st remote.git 2>/dev/null && \"$PCISNAP\" pull --store b remote.git 2>/dev/null && ! \"$PCISNAP\" accept --store b --list | grep -q 'chipset ports'"
set +e
"$PCISNAP" accept --store st --host x group_viable >/dev/null 2>noreason.err; rc_noreason=$?
set -e
check "no --reason: exit 2, one line" sh -c "test $rc_noreason = 2 && test \$(wc -l <noreason.err) = 1"
# a damaged policy accepts nothing, says so, and fails nothing by itself
export GIT_AUTHOR_NAME=x GIT_AUTHOR_EMAIL=x@x GIT_COMMITTER_NAME=x GIT_COMMITTER_EMAIL=x@x
blob=$(printf '{not json' | git --git-dir=st hash-object -w --stdin)
tree=$(printf '100644 blob %s\tpolicy.json\n' "$blob" | git --git-dir=st mktree)
git --git-dir=st update-ref refs/pcisnap/policy "$(git --git-dir=st commit-tree "$tree" -m broken)"
set +e
"$PCISNAP" check --store st pve-ws-01~1 >/dev/null 2>damaged.err; rc_damaged=$?
set -e
check "a damaged policy: a warning, the check as without it" sh -c "grep -q 'policy of accepted deviations is ignored' damaged.err && test $rc_damaged = 0"
finish
