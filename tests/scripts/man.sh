#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0-or-later
# Every man page renders without a troff warning (a line starting with '.' is a macro, ...).
. "$(dirname "$0")/lib.bash"
for page in "$SNAP_SOURCE_DIR"/docs/man/*.[15]; do
	man --warnings -l "$page" >/dev/null 2>"$T/w" || true
	check "$(basename "$page") renders without warnings" test ! -s "$T/w"
done
# a page for every command, each named in pcisnap(1); help prints the usage off a terminal
for cmd in $("$PCISNAP" --help | awk '/^commands:/ {on=1; next} on && /^  [a-z]/ {print $1}'); do
	[ "$cmd" = help ] && continue
	check "pcisnap-$cmd.1 exists" test -f "$SNAP_SOURCE_DIR/docs/man/pcisnap-$cmd.1"
	check "pcisnap.1 names $cmd" grep -q "^\.B $cmd\$" "$SNAP_SOURCE_DIR/docs/man/pcisnap.1"
	check "pcisnap.1 refers to pcisnap-$cmd(1)" grep -q "^\.BR pcisnap-$cmd (1)" "$SNAP_SOURCE_DIR/docs/man/pcisnap.1"
	"$PCISNAP" help "$cmd" >"$T/help" 2>&1
	"$PCISNAP" "$cmd" --help >"$T/usage" 2>&1
	check "help $cmd off a terminal prints its usage" cmp -s "$T/help" "$T/usage"
done
for var in PCISNAP_STORE PCISNAP_CONFIG SOURCE_DATE_EPOCH NO_COLOR PAGER; do
	check "pcisnap.1 ENVIRONMENT has $var" grep -q "$var" "$SNAP_SOURCE_DIR/docs/man/pcisnap.1"
done
set +e
"$PCISNAP" dif >/dev/null 2>"$T/dym"; rc=$?
set -e
check "an unknown command: did you mean" sh -c "test $rc = 2 && grep -q \"did you mean 'diff'\" '$T/dym'"
finish
