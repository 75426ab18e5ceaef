#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0-or-later
# Reports on a terminal and in a pipe: wrapping (COLUMNS, the terminal's width), colour only on
# a terminal or when asked (--color, NO_COLOR), a pager on a terminal (PCISNAP_PAGER, PAGER,
# --no-pager); a pipe gets whole plain lines, and JSON is never touched.
. "$(dirname "$0")/lib.bash"
cd "$T"
$MKROOT pve-intel a
$MKROOT kernel-no-vfio b
"$PCISNAP" collect --root a -o a.json
"$PCISNAP" collect --root b -o b.json
unset COLUMNS NO_COLOR
set +e
"$PCISNAP" diff a.json b.json >plain.txt
COLUMNS=60 "$PCISNAP" diff a.json b.json >w60.txt
COLUMNS=60 "$PCISNAP" diff --format json a.json b.json >w60.json
"$PCISNAP" diff --format json a.json b.json >plain.json
"$PCISNAP" --color=always diff a.json b.json >color.txt
"$PCISNAP" diff --color=always a.json b.json >color2.txt
NO_COLOR=1 "$PCISNAP" diff a.json b.json >nocolor.txt
"$PCISNAP" diff --color=never a.json b.json >never.txt
set -e
check "a pipe gets whole lines (no wrapping without a terminal or COLUMNS)" \
	test "$(awk 'length > 100' plain.txt | wc -l)" -gt 0
check "COLUMNS=60: no line longer than 60 but unbreakable words" \
	test -z "$(awk 'length > 60 && $0 ~ / [^ ]+ /' w60.txt)"
check "wrapping keeps every word" test "$(tr -s ' \n' '\n\n' <plain.txt | grep -c .)" = "$(tr -s ' \n' '\n\n' <w60.txt | grep -c .)"
check "wrapped lines hang under their change" grep -q "^      [a-z]" w60.txt
check "JSON is never wrapped" cmp -s w60.json plain.json
check "--color=always before the command colours" grep -q $'\e\[1;31mbinding_regression' color.txt
check "--color=always after it too" cmp -s color.txt color2.txt
check "off a terminal: no colour" sh -c "! grep -q \$'\\e' plain.txt"
check "--color=never: no colour" sh -c "! grep -q \$'\\e' never.txt"
check "NO_COLOR: no colour" sh -c "! grep -q \$'\\e' nocolor.txt"
expect_err() { # expect_err DESCRIPTION ARGS...
	local what=$1; shift
	set +e
	"$PCISNAP" "$@" >/dev/null 2>err; local rc=$?
	set -e
	check "$what" sh -c "test $rc = 2 && grep -q '^pcisnap: ' err"
}
expect_err "--color=sometimes is refused" --color=sometimes diff a.json b.json
expect_err "diff --color=sometimes is refused" diff --color=sometimes a.json b.json

# on a terminal (a pty): the pager runs, and colour is on by itself; --no-pager and NO_COLOR
cat >ptyrun.py <<'PY'
import os, pty, sys
pid, fd = pty.fork()
if pid == 0:
    os.execvp(sys.argv[1], sys.argv[1:])
out = b""
while True:
    try:
        data = os.read(fd, 65536)
    except OSError:
        break
    if not data:
        break
    out += data
os.waitpid(pid, 0)
sys.stdout.buffer.write(out)
PY
PCISNAP_PAGER="cat >paged.txt" python3 ptyrun.py "$PCISNAP" diff a.json b.json >tty.txt
check "a terminal gets the pager (PCISNAP_PAGER)" grep -q '^verdict: ' paged.txt
check "colour on a terminal by itself" grep -q $'\e\[' paged.txt
rm -f paged.txt
PCISNAP_PAGER="cat >paged.txt" python3 ptyrun.py "$PCISNAP" --no-pager diff a.json b.json >tty2.txt
check "--no-pager: no pager" sh -c "test ! -e paged.txt && grep -q 'verdict: ' tty2.txt"
PAGER="cat >paged.txt" PCISNAP_PAGER= python3 ptyrun.py "$PCISNAP" diff a.json b.json >tty3.txt
check "PCISNAP_PAGER empty: no pager, whatever PAGER says" test ! -e paged.txt
PAGER="cat >paged.txt" NO_COLOR=1 python3 ptyrun.py "$PCISNAP" check a.json >tty4.txt
check "PAGER when PCISNAP_PAGER is unset" grep -q '^pcisnap check: ' paged.txt
check "NO_COLOR on a terminal: no colour" sh -c "! grep -q \$'\\e' paged.txt"

# A hostile string in a snapshot reaches no terminal as a control: C0 controls, DEL and the C1
# controls (CSI in UTF-8) each print as '?', the rest of the text as it is.
python3 - a.json evil.json <<'PY'
import json, sys
d = json.load(open(sys.argv[1]))
d["host"]["hostname"] = "ev\u001b[2Jil\u009b31m\u007fh\u00e9st"
json.dump(d, open(sys.argv[2], "w"))
PY
"$PCISNAP" show evil.json >evil.txt 2>&1 || true
check "controls in a snapshot print as '?', the rest as it is" python3 -c "
import sys
assert b'ev?[2Jil?31m?h\xc3\xa9st' in open(sys.argv[1], 'rb').read()
" evil.txt
check "and no ESC, DEL or C1 byte reaches the output" python3 -c "
import sys
b = open(sys.argv[1], 'rb').read()
assert not any(c in b for c in (b'\x1b', b'\x7f', b'\xc2\x9b')), b
" evil.txt
finish
