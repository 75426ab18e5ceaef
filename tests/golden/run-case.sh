#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0-or-later
# run-case.sh CASE_DIR: run one golden case and compare with its expected files.
#
# A case directory holds:
#   cmd              bash run with $PCISNAP, $MKROOT, $DATA, $WORK, $CASE set; only the output
#                    of its LAST line's command is what is compared (earlier lines set up)
#   expected.stdout  standard output, with $WORK replaced by <WORK>
#   expected.rc      exit status of the last command
#   expected.stderr  (optional) standard error, normalised the same way
#   assert           (optional) bash run after the comparison with $OUT = the stdout file:
#                    extra checks (classes present/absent) that must hold whatever the text says
# JSON outputs (snapshots, diffs) are validated against schema/. UPDATE_GOLDEN=1 rewrites the
# expected files: review `git diff` before committing them.
set -euo pipefail
CASE=$(cd "$1" && pwd)
SRC=$(cd "$(dirname "$0")/../.." && pwd)
: "${PCISNAP:?PCISNAP must name the pcisnap binary}"
export LC_ALL=C TZ=UTC SOURCE_DATE_EPOCH=0 CASE PCISNAP
unset COLUMNS NO_COLOR PCISNAP_PAGER # reports as a pipe gets them
export MKROOT="python3 $SRC/tests/gen/mkroot.py" DATA="$SRC/tests/data" SHARED="$SRC/../shared"
WORK=$(mktemp -d "${TMPDIR:-/tmp}/pcisnap-golden.XXXXXX")
export WORK
# never the machine's own store
export PCISNAP_STORE="$WORK/default-store" HOME="$WORK/home" PCISNAP_CONFIG=
trap 'rm -rf "$WORK"' EXIT

setup=$(sed '$d' "$CASE/cmd")
last=$(tail -n 1 "$CASE/cmd")
(cd "$WORK" && eval "$setup") >"$WORK/setup.log" 2>&1 || { cat "$WORK/setup.log"; echo "setup failed"; exit 1; }
set +e
(cd "$WORK" && eval "$last") >"$WORK/stdout.raw" 2>"$WORK/stderr.raw"
rc=$?
set -e
sed "s|$WORK|<WORK>|g" "$WORK/stdout.raw" >"$WORK/stdout"
sed "s|$WORK|<WORK>|g" "$WORK/stderr.raw" >"$WORK/stderr"

if [ "${UPDATE_GOLDEN:-0}" = 1 ]; then
	cp "$WORK/stdout" "$CASE/expected.stdout"
	echo "$rc" >"$CASE/expected.rc"
	[ -f "$CASE/expected.stderr" ] && cp "$WORK/stderr" "$CASE/expected.stderr"
fi

fail=0
if ! diff -u "$CASE/expected.stdout" "$WORK/stdout"; then
	echo "FAIL: stdout differs"; fail=1
fi
want_rc=$(cat "$CASE/expected.rc")
if [ "$rc" != "$want_rc" ]; then
	echo "FAIL: exit status $rc, expected $want_rc"; cat "$WORK/stderr"; fail=1
fi
if [ -f "$CASE/expected.stderr" ] && ! diff -u "$CASE/expected.stderr" "$WORK/stderr"; then
	echo "FAIL: stderr differs"; fail=1
fi
schema=$(python3 - "$WORK/stdout" <<'PY'
import json, sys
try:
    doc = json.load(open(sys.argv[1]))
except Exception:
    sys.exit(0)
s = doc.get("schema", "") if isinstance(doc, dict) else ""
print({"pcisnap.snapshot/1": "snapshot.v1", "pcisnap.diff/1": "diff.v1",
       "pcisnap.check/1": "check.v1"}.get(s, ""))
PY
)
if [ -n "$schema" ]; then
	python3 "$SRC/tests/tools/validate.py" "$SRC/schema/$schema.schema.json" "$WORK/stdout" || {
		echo "FAIL: output does not validate against schema/$schema.schema.json"; fail=1; }
fi
if [ -f "$CASE/assert" ]; then
	(cd "$WORK" && OUT="$WORK/stdout" RC=$rc TOOLS="$SRC/tests/tools" bash -euo pipefail "$CASE/assert") || { echo "FAIL: assert"; fail=1; }
fi
exit $fail
