#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0-or-later
# The collector's postcondition as a property (issue 30): every root of the test suite, the real
# captures, a 1,200-device host and seeded damaged roots: collect writes what every reader
# loads, or refuses with one line and writes nothing; a root Linux lays out is never refused.
. "$(dirname "$0")/lib.bash"
if python3 "$SNAP_SOURCE_DIR/tests/tools/collect_property.py" "$PCISNAP" "$SNAP_SOURCE_DIR" "$T/work" --seeds 8 >"$T/out" 2>&1; then
	ok "collect -> load holds for $(grep -c '^ok' "$T/out") roots"
else
	grep -v '^ok' "$T/out" | head -20
	not_ok "collect -> load"
fi
finish
