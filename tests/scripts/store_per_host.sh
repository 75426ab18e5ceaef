#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0-or-later
# One host's trouble stays on that host (issue 28): push and pull go through for every other
# host, name the one refused and how to resolve it, and exit 2 (partial); the recovery that
# docs/store.md gives for a reinstalled host works.
. "$(dirname "$0")/lib.bash"
cd "$T"
$MKROOT pve-intel r >/dev/null
git init -q --bare remote.git && git -C remote.git config pcisnap.store 1
SOURCE_DATE_EPOCH=100 "$PCISNAP" collect --root r --host web-01 --store a >/dev/null 2>&1
SOURCE_DATE_EPOCH=100 "$PCISNAP" collect --root r --host web-02 --store a >/dev/null 2>&1
"$PCISNAP" push --store a remote.git 2>/dev/null
# web-01 reinstalled: a fresh store with its own first snapshot, and a new host web-03
SOURCE_DATE_EPOCH=300 "$PCISNAP" collect --root r --host web-01 --store b >/dev/null 2>&1
SOURCE_DATE_EPOCH=200 "$PCISNAP" collect --root r --host web-03 --store b >/dev/null 2>&1
set +e
"$PCISNAP" push --store b remote.git 2>push.err; rc_push=$?
set -e
check "push: exit 2, partial" test $rc_push = 2
check "push: the diverged host named, with where to read the recovery" sh -c "grep -q \"refused 1: web-01 (its history there is not this store's\" push.err && grep -q 'A host whose history diverged' push.err && test \$(grep -c '^pcisnap: ' push.err) = 1"
check "push: the other host went through" sh -c "git -C remote.git rev-parse -q --verify refs/heads/web-03 >/dev/null"
check "push: the diverged host's remote history is untouched" test "$(git -C remote.git rev-parse web-01)" = "$(git --git-dir=a rev-parse web-01)"
# pull into the reinstalled host's store: web-02 comes, web-01 is refused and named
set +e
"$PCISNAP" pull --store b remote.git 2>pull.err; rc_pull=$?
set -e
check "pull: exit 2, partial" test $rc_pull = 2
check "pull: the diverged host named" grep -q "refusing to pull 'web-01': the remote history does not continue the local one" pull.err
check "pull: the others came" test "$(git --git-dir=b rev-parse web-02)" = "$(git -C remote.git rev-parse web-02)"
check "pull: the refused host's local history is untouched" test "$(git --git-dir=b log --format=%at -1 web-01)" = 300
# the recovery of docs/store.md: keep the remote's history, put the new snapshot on top of it
"$PCISNAP" export --store b web-01 -o web-01.tar.gz 2>/dev/null
git --git-dir=b update-ref -d refs/heads/web-01
"$PCISNAP" pull --store b remote.git 2>/dev/null
"$PCISNAP" import --store b web-01.tar.gz >/dev/null 2>&1
set +e
"$PCISNAP" push --store b remote.git 2>/dev/null; rc_again=$?
set -e
check "recovery: push succeeds" test $rc_again = 0
check "recovery: the remote's web-01 is its old history and the new snapshot on top" test "$(git -C remote.git log --format=%at web-01 | tr '\n' ' ')" = "300 100 "
finish
