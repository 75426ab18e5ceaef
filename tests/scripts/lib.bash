# SPDX-License-Identifier: GPL-2.0-or-later
# Shared by the script tests: a scratch directory, counters and the closing line.
set -euo pipefail
: "${PCISNAP:?}" "${SNAP_SOURCE_DIR:?}"
export LC_ALL=C TZ=UTC
unset COLUMNS NO_COLOR PCISNAP_PAGER # reports as a pipe gets them, whatever the caller's terminal
T=$(mktemp -d "${TMPDIR:-/tmp}/pcisnap-test.XXXXXX")
trap '[ -n "${KEEP:-}" ] || rm -rf "$T"' EXIT
export PCISNAP_STORE="$T/default-store" HOME="$T/home" # never the machine's own store
export PCISNAP_CONFIG= # nor its /etc/pcisnap/pcisnap.conf
MKROOT="python3 $SNAP_SOURCE_DIR/tests/gen/mkroot.py"
DATA="$SNAP_SOURCE_DIR/tests/data"
VALIDATE="python3 $SNAP_SOURCE_DIR/tests/tools/validate.py"
passed=0 failed=0
ok() { passed=$((passed + 1)); echo "ok: $*"; }
not_ok() { failed=$((failed + 1)); echo "FAIL: $*"; }
check() { # check DESCRIPTION COMMAND...
	local what=$1; shift
	if "$@"; then ok "$what"; else not_ok "$what"; fi
}
finish() {
	echo "$passed passed, $failed failed"
	[ "$failed" = 0 ]
}
