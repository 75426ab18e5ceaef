#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0-or-later
# The fleet's column is passthrough health (issue 28): a stock host whose only WARNs are
# forensics readiness (no kdump, no netconsole) is green; commits record "passthrough:"; a
# commit an older pcisnap wrote without it is pulled, the verdict derived from its snapshot;
# a field this pcisnap does not derive is refused.
. "$(dirname "$0")/lib.bash"
cd "$T"
export GIT_AUTHOR_NAME=pcisnap GIT_AUTHOR_EMAIL=pcisnap@localhost GIT_COMMITTER_NAME=pcisnap GIT_COMMITTER_EMAIL=pcisnap@localhost
$MKROOT pve-intel r >/dev/null
$MKROOT canary-peer p >/dev/null
SOURCE_DATE_EPOCH=100 "$PCISNAP" collect --root r --store st >/dev/null 2>&1
SOURCE_DATE_EPOCH=200 "$PCISNAP" collect --root p --store st >/dev/null 2>&1
check "pve-intel: check WARN overall (forensics), passthrough PASS" sh -c "\"$PCISNAP\" check --store st pve-ws-01 | grep -q '^Passthrough health: PASS'"
check "the commit records passthrough: PASS" sh -c "git --git-dir=st log -1 --format=%B pve-ws-01 | grep -qx 'passthrough: PASS'"
set +e
SOURCE_DATE_EPOCH=1000 "$PCISNAP" fleet --store st >fleet.txt; rc=$?
set -e
check "a fleet of stock hosts is green: exit 0" test $rc = 0
check "its column is passthrough health" sh -c "grep -q 'PASSTHROUGH' fleet.txt && grep -q '^  pve-ws-01 .* PASS ' fleet.txt && ! grep -q ' WARN ' fleet.txt"
# an older pcisnap's commit: the same snapshot, no passthrough: line
git init -q --bare old.git
git --git-dir=st push -q old.git 'refs/heads/*:refs/heads/*'
tip=$(git --git-dir=old.git rev-parse pve-ws-02)
msg=$(git --git-dir=old.git log -1 --format=%B "$tip" | grep -v '^passthrough: ')
old=$(GIT_AUTHOR_DATE="@200 +0000" GIT_COMMITTER_DATE="@200 +0000" git --git-dir=old.git commit-tree "$tip^{tree}" -m "$msg")
git --git-dir=old.git update-ref refs/heads/pve-ws-02 "$old"
set +e
"$PCISNAP" pull --store new old.git 2>pull.err; rc_pull=$?
set -e
check "a commit without the passthrough field (an older pcisnap) is pulled" test $rc_pull = 0
check "fleet derives its passthrough health from the snapshot" sh -c "SOURCE_DATE_EPOCH=1000 \"$PCISNAP\" fleet --store new --format json | python3 -c 'import json,sys; h={x[\"host\"]: x for x in json.load(sys.stdin)[\"hosts\"]}; assert h[\"pve-ws-02\"][\"check\"] == \"PASS\", h'"
# a field no pcisnap derives: refused
git init -q --bare odd.git
git --git-dir=st push -q odd.git 'refs/heads/*:refs/heads/*'
msg=$(printf '%s\naccepted: everything\n' "$(git --git-dir=odd.git log -1 --format=%B pve-ws-02)")
odd=$(GIT_AUTHOR_DATE="@200 +0000" GIT_COMMITTER_DATE="@200 +0000" git --git-dir=odd.git commit-tree "$(git --git-dir=odd.git rev-parse pve-ws-02^{tree})" -m "$msg")
git --git-dir=odd.git update-ref refs/heads/pve-ws-02 "$odd"
set +e
"$PCISNAP" pull --store odd odd.git 2>odd.err; rc_odd=$?
set -e
check "a field this pcisnap does not derive is refused, named" sh -c "test $rc_odd = 2 && grep -q \"records 'accepted: \" odd.err"
finish
