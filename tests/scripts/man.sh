#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0-or-later
# Every man page renders without a troff warning (a line starting with '.' is a macro, ...).
. "$(dirname "$0")/lib.bash"
for page in "$SNAP_SOURCE_DIR"/docs/man/*.1; do
	man --warnings -l "$page" >/dev/null 2>"$T/w" || true
	check "$(basename "$page") renders without warnings" test ! -s "$T/w"
done
finish
