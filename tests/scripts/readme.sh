#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0-or-later
# The README's output excerpts are the golden outputs, byte for byte
# (python3 tests/tools/readme_excerpts.py README.md --update regenerates them).
. "$(dirname "$0")/lib.bash"
check "README excerpts match the golden runs" python3 "$SNAP_SOURCE_DIR/tests/tools/readme_excerpts.py" "$SNAP_SOURCE_DIR/README.md"
sed 's/verdict: isolation_loss/verdict: harmless/' "$SNAP_SOURCE_DIR/README.md" >"$T/README.md"
ln -s "$SNAP_SOURCE_DIR/tests" "$T/tests"
check "an edited excerpt is caught" sh -c "! python3 '$SNAP_SOURCE_DIR/tests/tools/readme_excerpts.py' '$T/README.md' >/dev/null"
finish
