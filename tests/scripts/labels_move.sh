#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0-or-later
# Labels move (issue 28): label -f and -d are the fleet's decision, recorded in the label
# journal (which label, from what, to what, by whom) and carried by push and pull as a decision,
# not refused as a conflict; a plain label still never moves, and a pull never takes a moved
# label that no journal vouches for.
. "$(dirname "$0")/lib.bash"
cd "$T"
$MKROOT pve-intel r >/dev/null
git init -q --bare remote.git && git -C remote.git config pcisnap.store 1
for t in 100 200 300; do
	SOURCE_DATE_EPOCH=$t "$PCISNAP" collect --root r --host web-07 --store a >/dev/null 2>&1
done
"$PCISNAP" label --store a web-07~2 baseline
"$PCISNAP" push --store a remote.git 2>/dev/null
"$PCISNAP" pull --store b remote.git 2>/dev/null
at() { git --git-dir="$1" log -1 --format=%at "refs/tags/$2" 2>/dev/null || echo none; }
export -f at
export PCISNAP
set +e
"$PCISNAP" label --store a web-07~1 baseline 2>exists.err; rc_exists=$?
set -e
check "a plain label does not move: exit 2, -f named" sh -c "test $rc_exists = 2 && grep -q \"label -f' moves it\" exists.err"
SUDO_USER=alice "$PCISNAP" label --store a -f web-07~1 baseline
check "label -f moves it" test "$(at a web-07/baseline)" = 200
check "the move is recorded: label, from, to, by whom" sh -c "\"$PCISNAP\" label --store a --history | grep -q 'web-07/baseline .* -> .*by alice@'"
set +e
"$PCISNAP" pull --store a remote.git 2>behind.err; rc_behind=$?
set -e
check "a pull before the push: the remote's label is the old place, kept here, no error" sh -c "test $rc_behind = 0 && test \"\$(git --git-dir=a log -1 --format=%at refs/tags/web-07/baseline)\" = 200"
check "the journal is a ref of the store" sh -c "git --git-dir=a rev-parse -q --verify refs/pcisnap/labels >/dev/null"
set +e
"$PCISNAP" push --store a remote.git 2>push.err; rc_push=$?
set -e
check "push carries the move: exit 0" test $rc_push = 0
check "the remote's label moved" test "$(at remote.git web-07/baseline)" = 200
set +e
"$PCISNAP" pull --store b remote.git 2>pull.err; rc_pull=$?
set -e
check "pull takes the move the journal vouches for: exit 0" test $rc_pull = 0
check "the pulling store's label moved" test "$(at b web-07/baseline)" = 200
"$PCISNAP" label --store a -d web-07@baseline
check "label -d deletes it" test "$(at a web-07/baseline)" = none
"$PCISNAP" push --store a remote.git 2>/dev/null
check "push deletes it there" test "$(at remote.git web-07/baseline)" = none
"$PCISNAP" pull --store b remote.git 2>/dev/null
check "pull deletes it here" test "$(at b web-07/baseline)" = none
"$PCISNAP" label --store a web-07 baseline
check "set again after a deletion: recorded, pushed, pulled" bash -c "\"$PCISNAP\" push --store a remote.git 2>/dev/null && \"$PCISNAP\" pull --store b remote.git 2>/dev/null && test \"\$(at b web-07/baseline)\" = 300"
# a label moved with git, with no journal entry: pull refuses it, named, the rest goes on
git -C remote.git update-ref refs/tags/web-07/baseline "$(git -C remote.git rev-parse web-07~2)"
set +e
"$PCISNAP" pull --store b remote.git 2>forged.err; rc_forged=$?
set -e
check "a label moved with no journal: refused, named" bash -c "test $rc_forged = 2 && grep -q \"refusing to pull label 'web-07/baseline'\" forged.err && test \"\$(at b web-07/baseline)\" = 300"
# two stores moved the same label: the second push is refused, named, pull first
"$PCISNAP" pull --store c remote.git 2>/dev/null || true
git -C remote.git update-ref refs/tags/web-07/baseline "$(git --git-dir=a rev-parse refs/tags/web-07/baseline)"
"$PCISNAP" label --store a -f web-07~1 baseline && "$PCISNAP" push --store a remote.git 2>/dev/null
"$PCISNAP" label --store b -f web-07~2 baseline
set +e
"$PCISNAP" push --store b remote.git 2>both.err; rc_both=$?
set -e
check "labels moved in two stores: push refuses the journal, says pull first" bash -c "test $rc_both = 2 && grep -q 'the label journal (labels were moved there too: pull first)' both.err && test \"\$(at remote.git web-07/baseline)\" = 200"
finish
