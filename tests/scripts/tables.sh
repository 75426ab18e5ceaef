#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0-or-later
# Tables (issue 28): log, hosts and fleet print a header and aligned columns; on a terminal
# (a pty of 60 and 100 columns) every line fits, the widest cells cut with "…"; in a pipe and
# in --format json they stay whole and plain.
. "$(dirname "$0")/lib.bash"
cd "$T"
$MKROOT pve-intel r >/dev/null
$MKROOT amd-epyc e >/dev/null
SOURCE_DATE_EPOCH=100 "$PCISNAP" collect --root r --host a-very-long-host-name-of-the-fleet-01 --store st >/dev/null 2>&1
SOURCE_DATE_EPOCH=200 "$PCISNAP" collect --root r --host web-02 --store st >/dev/null 2>&1
SOURCE_DATE_EPOCH=300 "$PCISNAP" collect --root e --host db-01 --store st >/dev/null 2>&1
on_tty() { # COLUMNS OUT CMD...: CMD on a pty that wide, its output in OUT
	local cols=$1 out=$2
	shift 2
	python3 - "$cols" "$out" "$@" <<'PY'
import fcntl, os, pty, struct, sys, termios
cols, out, cmd = int(sys.argv[1]), sys.argv[2], sys.argv[3:]
pid, fd = pty.fork()
if pid == 0:
    os.environ.pop("COLUMNS", None)
    os.environ["PCISNAP_PAGER"] = "cat"
    os.environ["NO_COLOR"] = "1"
    os.execvp(cmd[0], cmd)
fcntl.ioctl(fd, termios.TIOCSWINSZ, struct.pack("HHHH", 40, cols, 0, 0))
data = b""
while True:
    try:
        chunk = os.read(fd, 65536)
    except OSError:
        break
    if not chunk:
        break
    data += chunk
os.waitpid(pid, 0)
open(out, "wb").write(data.replace(b"\r\n", b"\n"))
PY
}
fits() { # WIDTH FILE: every line at most WIDTH characters
	python3 -c 'import sys; w=int(sys.argv[1]); bad=[l for l in open(sys.argv[2], encoding="utf-8").read().splitlines() if len(l) > w]; sys.exit(1 if bad else 0)' "$1" "$2"
}
for cmd in log hosts fleet; do
	SOURCE_DATE_EPOCH=1000 "$PCISNAP" "$cmd" --store st >"$cmd.pipe"
	for w in 60 100; do
		SOURCE_DATE_EPOCH=1000 on_tty "$w" "$cmd.$w" "$PCISNAP" "$cmd" --store st
		check "$cmd on a terminal of $w columns: every line fits" fits "$w" "$cmd.$w"
	done
	check "$cmd on a terminal: the header kept, a cell cut with …" sh -c "grep -q 'HOST ' '$cmd.60' && grep -q '…' '$cmd.60'"
	check "$cmd in a pipe: a header, whole cells, no …" sh -c "grep -q '^ *HOST  ' '$cmd.pipe' && ! grep -q '…' '$cmd.pipe' && grep -q 'a-very-long-host-name-of-the-fleet-01' '$cmd.pipe'"
done
check "hosts in a pipe: aligned columns (MODEL starts at the same column on every line)" python3 - hosts.pipe <<'PY'
import sys
lines = open(sys.argv[1]).read().splitlines()
col = lines[0].index("MODEL")
assert all(l[col - 2:col] == "  " and l[col] != " " for l in lines[1:]), lines
PY
check "log in a pipe: one header, then one line per snapshot" test "$(wc -l <log.pipe)" = 4
check "log --format json: no header, the schema" sh -c "\"$PCISNAP\" log --store st --format json | $VALIDATE '$SNAP_SOURCE_DIR/schema/log.v1.schema.json' /dev/stdin"
check "an empty log: nothing, not a lone header" test -z "$("$PCISNAP" log --store st -n 0)"
finish
