#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0-or-later
# pcisnap never holds the VMs for its own trouble (CONTRACT.md, the boot gate; issue 26): boot
# start exits 1 only for the verdict of the configured gate; a broken configuration, store or
# textfile directory is an err line with its fix and exit 0. Hostile configuration files never
# hang a command. Boot ids are accepted only as the kernel writes them. A writer killed with
# kill -9, or a power loss, never locks the store for good. Last words are kept only after an
# unclean end, only the dead boot's records, their tails, fault lines only.
. "$(dirname "$0")/lib.bash"
cd "$T"
export SOURCE_DATE_EPOCH=100000
boot_id() { printf '%s\n' "$2" >"$1/proc/sys/kernel/random/boot_id"; }
try() { set +e; "$@"; rc=$?; set -e; } # run, its exit status in $rc
$MKROOT pve-intel a
$MKROOT kernel-no-vfio b
echo "50.00 100.00" >a/proc/uptime
echo "50.00 100.00" >b/proc/uptime

# --- the gate's rule: pcisnap's own trouble never fails the unit
S=$T/s1
boot_id a 11111111-1111-4111-8111-111111111111
"$PCISNAP" boot start --root a --store "$S" --journal j0 2>/dev/null
"$PCISNAP" boot stop --root a --store "$S" --journal j0
boot_id a 22222222-2222-4222-8222-222222222222
set +e
SOURCE_DATE_EPOCH=100100 "$PCISNAP" boot start --root a --store "$S" --journal j1 --gate regression \
	--textfile "$T/no/such/dir" 2>/dev/null
rc=$?
set -e
check "textfile directory missing, gate = regression, no regression: exit 0" test "$rc" = 0
check "and an err line names the file and the fix" \
	grep -q "^<3>pcisnap: pve-ws-01: cannot write $T/no/such/dir/pcisnap.prom: .*create the directory.*VMs are not held" j1
check "and the snapshot was still stored" test "$("$PCISNAP" log --store "$S" pve-ws-01 --format jsonl | wc -l)" = 2
"$PCISNAP" boot stop --root a --store "$S" --journal j1

# a store that cannot be opened: a file where the store should be
echo not-a-store >notastore
boot_id a 33333333-3333-4333-8333-333333333333
mkdir prom
set +e
"$PCISNAP" boot start --root a --store "$T/notastore" --journal j2 --gate regression --textfile prom 2>/dev/null
rc=$?
set -e
check "a store that is not one: exit 0 with the gate on" test "$rc" = 0
check "and an err line says why and what to do" grep -q '^<3>pcisnap: pve-ws-01: cannot open the store: .*check the store' j2
check "and the metrics are still written" test -s prom/pcisnap.prom

# hostile textfile directories: a FIFO at the temporary name pcisnap once used, a hard link as
# pcisnap.prom: never opened, never written through
mkdir hostile && mkfifo hostile/.pcisnap.prom.XXXXXX
echo victim >victim && ln victim hostile/pcisnap.prom
set +e
timeout 20 "$PCISNAP" collect --root a -o /dev/null --textfile hostile 2>/dev/null
rc=$?
set -e
check "a FIFO planted in the textfile directory: no hang, pcisnap.prom written" sh -c "test $rc = 0 && grep -q '^pcisnap_' hostile/pcisnap.prom"
check "a hard link planted as pcisnap.prom: the linked file untouched" sh -c "test \"\$(cat victim)\" = victim"
check "nothing left behind but the FIFO" test "$(ls -A hostile | wc -l)" = 2

# the gate's own verdict still holds the VMs, whatever else goes wrong at the same time
boot_id b 44444444-4444-4444-8444-444444444444
set +e
"$PCISNAP" boot start --root b --store "$S" --journal j3 --gate regression --textfile "$T/no/dir" 2>/dev/null
rc=$?
set -e
check "a binding regression with gate = regression: exit 1 even with the textfile broken" test "$rc" = 1
check "the regression at err, the textfile at err" sh -c "grep -q '^<3>pcisnap: pve-ws-01: binding_regression' j3 && grep -q '^<3>.*pcisnap.prom' j3"
"$PCISNAP" boot stop --root b --store "$S" --journal j3

# --- the configuration: warnings, never a silent gate off, never a hang
boot_id a 55555555-5555-4555-8555-555555555555
"$PCISNAP" boot start --root a --store "$S" --journal j4a 2>/dev/null
"$PCISNAP" boot stop --root a --store "$S" --journal j4a
printf 'gate = regresion\n' >typo.conf
boot_id b 56565656-5656-4565-8565-565656565656
set +e
PCISNAP_CONFIG=$T/typo.conf "$PCISNAP" boot start --root b --store "$S" --journal j4 2>err4
rc=$?
set -e
check "a misspelt gate is the strictest gate: a regression fails the unit (exit 1)" test "$rc" = 1
check "and says so at err" grep -q "^<3>pcisnap: pve-ws-01: the gate setting of pcisnap.conf cannot be read" j4
check "and warns with file and line" grep -q "typo.conf:1: gate lists none, regression, isolation or preflight, not 'regresion'" err4
"$PCISNAP" boot stop --root b --store "$S" --journal j4
# the same misspelling on the unit's command line (--gate): the strictest gate too
boot_id a 58585858-5858-4585-8585-585858585858
"$PCISNAP" boot start --root a --store "$S" --journal j4c 2>/dev/null
"$PCISNAP" boot stop --root a --store "$S" --journal j4c
boot_id b 59595959-5959-4595-8595-595959595959
try "$PCISNAP" boot start --root b --store "$S" --journal j4d --gate regresion 2>/dev/null
check "--gate regresion: the strictest gate, a regression fails the unit (exit 1), said at err" sh -c \
	"test $rc = 1 && grep -q \"^<3>.*--gate 'regresion' is none, regression or isolation\" j4d"
"$PCISNAP" boot stop --root b --store "$S" --journal j4d
printf 'gate = isolation\0,regression\n' >nul.conf
boot_id a 57575757-5757-4575-8575-575757575757
set +e
PCISNAP_CONFIG=$T/nul.conf "$PCISNAP" boot start --root a --store "$S" --journal j5 2>/dev/null
rc=$?
PCISNAP_CONFIG=$T/nul.conf "$PCISNAP" log --store "$S" >/dev/null 2>err5
rc5=$?
set -e
check "a NUL byte in pcisnap.conf: boot start still runs (exit 0, nothing to gate)" test "$rc" = 0
check "and an err line names the NUL byte and the strict gate" grep -q "^<3>pcisnap: pve-ws-01: $T/nul.conf:1: a NUL byte.*the boot gate is 'regression'" j5
check "other commands refuse it: exit 2, one line" sh -c "test $rc5 = 2 && test \$(wc -l <err5) = 1 && grep -q 'a NUL byte' err5"
"$PCISNAP" boot stop --root a --store "$S" --journal j5
head -c 4096 /dev/zero >zeros.conf
mkfifo fifo.conf
head -c 70000 /dev/zero | tr '\0' '#' >big.conf
for c in /dev/zero "$T/fifo.conf" "$T/zeros.conf" "$T/big.conf" "$T"; do
	set +e
	PCISNAP_CONFIG=$c timeout 10 "$PCISNAP" log --store "$S" >/dev/null 2>errc
	rc=$?
	set -e
	check "PCISNAP_CONFIG=$(basename "$c"): exit 2 at once, not a hang" sh -c "test $rc = 2 && grep -q '^pcisnap: ' errc"
done
printf 'gate = none\nthis is not a setting\n[section]\nstore = %s\n' "$S" >mal.conf
set +e
PCISNAP_CONFIG=$T/mal.conf "$PCISNAP" log >/dev/null 2>errm
rc=$?
set -e
check "malformed lines warn with file:line and are ignored" sh -c "test $rc = 2 -o $rc = 0; grep -q 'mal.conf:2: expected' errm && grep -q 'mal.conf:3: expected' errm"

# --- boot ids: only as the kernel writes them
S2=$T/s2
boot_id a 61616161-6161-4616-8616-616161616161
"$PCISNAP" boot start --root a --store "$S2" --journal k1 2>/dev/null
"$PCISNAP" boot stop --root a --store "$S2" --journal k1
printf '%0200d\n' 7 >a/proc/sys/kernel/random/boot_id
set +e
"$PCISNAP" boot start --root a --store "$S2" --journal k2 2>errk2
rcs=$?
"$PCISNAP" boot stop --root a --store "$S2" --journal k2 2>errk3
rce=$?
set -e
check "a boot id that is not a UUID: boot start still runs, with a warning" sh -c "test $rcs = 0 && grep -q 'boot_id is not a boot id' errk2"
check "boot stop refuses it (exit 2), recording nothing" sh -c "test $rce = 2 && grep -q 'not a boot id' errk3"
printf 'aaaaaaaa-bbbb-4ccc-8ddd-eeeeeeeeeeee\nX\n' >a/proc/sys/kernel/random/boot_id
set +e
"$PCISNAP" boot stop --root a --store "$S2" 2>errk4
rce=$?
set -e
check "a boot id with a second line is refused too" test "$rce" = 2
boot_id a 62626262-6262-4626-8626-626262626262
"$PCISNAP" boot start --root a --store "$S2" --journal k5 2>/dev/null
check "the next boot reports no unclean end that did not happen" sh -c "! grep -q 'no record of a clean end' k5"

# --- stale locks: a writer killed with kill -9, a power loss
S3=$T/s3
"$PCISNAP" collect --root a --store "$S3" 2>/dev/null
echo 0000000000000000000000000000000000000000 >"$S3/refs/heads/pve-ws-01.lock"
touch -d '2 days ago' "$S3/refs/heads/pve-ws-01.lock"
try env SOURCE_DATE_EPOCH=100001 "$PCISNAP" collect --root a --store "$S3" 2>errl1
check "a ref lock left by another boot (power loss): taken over, exit 0" test "$rc" = 0
check "with a warning naming it" grep -q 'warning: took over the stale lock refs/heads/pve-ws-01.lock (made before this boot began)' errl1
check "and the history is whole" test "$("$PCISNAP" log --store "$S3" pve-ws-01 --format jsonl | wc -l)" = 2
# a pcisnap killed holding the writer lock: its record left, a fresh ref lock beside it
printf 'pid 999999 boot 00000000-0000-4000-8000-000000000000 since 1\n' >"$S3/pcisnap-write.lock"
echo 0000000000000000000000000000000000000000 >"$S3/refs/heads/pve-ws-01.lock"
try env SOURCE_DATE_EPOCH=100002 "$PCISNAP" collect --root a --store "$S3" 2>errl2
check "a writer that died holding the lock: its ref lock taken over, exit 0" test "$rc" = 0
check "with a warning naming the dead writer" grep -q 'a pcisnap writing to this store died (pid 999999 boot 00000000-0000-4000-8000-000000000000 since 1: of another boot)' errl2
# a fresh lock with no dead pcisnap behind it is a live writer's (git itself): left alone
echo 0000000000000000000000000000000000000000 >"$S3/refs/heads/pve-ws-01.lock"
set +e
SOURCE_DATE_EPOCH=100003 timeout 60 "$PCISNAP" collect --root a --store "$S3" 2>errl3
rc=$?
set -e
check "a live writer's ref lock is never removed (exit 2, the lock still there)" sh -c "test $rc = 2 && test -f '$S3/refs/heads/pve-ws-01.lock' && grep -q 'is locked' errl3"
rm -f "$S3/refs/heads/pve-ws-01.lock"
# kill -9 across the whole window, again and again: the store always takes the next commit
n0=$("$PCISNAP" log --store "$S3" pve-ws-01 --format jsonl | wc -l)
for i in $(seq 1 25); do
	SOURCE_DATE_EPOCH=$((200000 + i)) "$PCISNAP" collect --root a --store "$S3" 2>/dev/null &
	pid=$!
	sleep "0.0$((RANDOM % 10))$((RANDOM % 10))"
	kill -9 "$pid" 2>/dev/null || true
	wait "$pid" 2>/dev/null || true
done
set +e
SOURCE_DATE_EPOCH=300000 "$PCISNAP" collect --root a --store "$S3" 2>errl4
rc=$?
set -e
check "after 25 writers killed with kill -9: the next collect commits (exit 0)" test "$rc" = 0
check "the store is whole (git fsck) and lost no history" sh -c \
	"git --git-dir='$S3' fsck --no-dangling >/dev/null 2>&1 && test \$('$PCISNAP' log --store '$S3' pve-ws-01 --format jsonl | wc -l) -gt $n0"

# --- last words: only after an unclean end, only the dead boot's, the tail, fault lines
S4=$T/s4
mkdir -p a/sys/fs/pstore
boot_id a 71717171-7171-4717-8717-717171717171
SOURCE_DATE_EPOCH=400000 "$PCISNAP" boot start --root a --store "$S4" --journal l1 2>/dev/null
printf 'Panic#1 Part1\n<0>Kernel panic - not syncing: an old panic\n' >a/sys/fs/pstore/dmesg-ramoops-0
touch -d @399000 a/sys/fs/pstore/dmesg-ramoops-0 # before boot 7171 began (400000 - 50)
"$PCISNAP" boot stop --root a --store "$S4" --journal l1
boot_id a 72727272-7272-4727-8727-727272727272
SOURCE_DATE_EPOCH=401000 "$PCISNAP" boot start --root a --store "$S4" --journal l2 2>/dev/null
set +e
"$PCISNAP" boot last-words --store "$S4" pve-ws-01 2>errw1 >/dev/null
rc=$?
set -e
check "after a clean end nothing is kept as last words" sh -c "test $rc = 2 && grep -q 'nothing kept' errw1"
# boot 7272 dies: a panic of its own, written after it began, 2 MiB long with the panic at the end
{
	head -c 2097152 /dev/zero | tr '\0' 'x'
	printf '\n<0>Kernel panic - not syncing: Fatal exception in interrupt\n'
} >a/sys/fs/pstore/dmesg-ramoops-1
touch -d @401500 a/sys/fs/pstore/dmesg-ramoops-1
# systemd-pstore moved an earlier record into its archive early in boot 7373 (after it began)
mkdir -p a/var/lib/systemd/pstore/1733000
printf '<0>Kernel panic - not syncing: moved by systemd-pstore\n' >a/var/lib/systemd/pstore/1733000/dmesg.txt
touch -d @401960 a/var/lib/systemd/pstore/1733000/dmesg.txt
boot_id a 73737373-7373-4737-8737-737373737373
SOURCE_DATE_EPOCH=402000 "$PCISNAP" boot start --root a --store "$S4" --journal l3 2>/dev/null
"$PCISNAP" boot last-words --store "$S4" pve-ws-01 --format json >lw3.json
check "an unclean end: the dead boot's record only, not the older panic" python3 -c "
import json; d=json.load(open('lw3.json'))
names=[r['name'] for r in d['pstore']]
assert names == ['dmesg-ramoops-1', 'dmesg.txt'], names
assert d['left_out']['pstore_older'] == 1, d['left_out']"
check "a long record keeps its tail, where the panic is, and says how much was cut" python3 -c "
import json; r=json.load(open('lw3.json'))['pstore'][0]
assert r['name'] == 'dmesg-ramoops-1', r['name']
assert r['text'].rstrip().endswith('Fatal exception in interrupt'), r['text'][-80:]
assert r['cut'] == r['size'] - 1048576 > 0, (r['cut'], r['size'])"
check "the last words follow their schema" $VALIDATE "$SNAP_SOURCE_DIR/schema/last-words.v1.schema.json" lw3.json
# boot 7373 loses power; its successor must not be given 7272's panic again
boot_id a 74747474-7474-4747-8747-747474747474
SOURCE_DATE_EPOCH=403000 "$PCISNAP" boot start --root a --store "$S4" --journal l4 2>/dev/null
"$PCISNAP" boot last-words --store "$S4" pve-ws-01 --format json >lw4.json
check "a power loss after a kept panic: no pstore record is repeated" python3 -c "
import json; d=json.load(open('lw4.json'))
assert d['pstore'] == [], d['pstore']
assert d['left_out']['pstore_kept_before'] == 1 and d['left_out']['pstore_older'] == 2, d['left_out']"
check "the journal line says 0 pstore records" grep -q 'kept 0 pstore record(s)' l4

# a store directory that is a mount point (a disk of its own): created in place
mkdir mp
if unshare -m true 2>/dev/null; then
	set +e
	unshare -m sh -c "mount -t tmpfs tmpfs '$T/mp' && '$PCISNAP' collect --root a --store '$T/mp' >/dev/null 2>&1 && '$PCISNAP' log --store '$T/mp' | grep -q pve-ws-01"
	rc=$?
	set -e
	check "a store on a mount point of its own: created in place" test "$rc" = 0
fi

# --- make run installs build dependencies only: never a kernel, a daemon or a test tool
make -s -n -C "$SNAP_SOURCE_DIR" run STORE="$T/x" >make-run.txt 2>/dev/null || true
check "make run: no kernel, no daemon, no test tool among what it may install" sh -c \
	"grep -q 'install-packages' make-run.txt && grep -q 'libpci-dev' make-run.txt &&
	 ! grep -Eq 'linux-image|prometheus|lighttpd|openssh-server|lintian|libcriterion' make-run.txt"

# --- the hooks: a removed pcisnap (conffile hooks left in /etc until purge) or pcisnap's own
# error never fails a kernel installation; run-parts goes on to the boot loader's hooks
H=$(dirname "$PCISNAP")/hooks
mkdir -p postinst.d
cp "$H/zz-pcisnap" postinst.d/
printf '#!/bin/sh\ntouch %s/grub-ran\n' "$T" >postinst.d/zz-update-grub
chmod +x postinst.d/*
set +e
PCISNAP_HOOK=$T/removed/pcisnap-preflight-hook run-parts --exit-on-error --arg=6.1.0-99-amd64 postinst.d
rc=$?
set -e
check "postinst.d with pcisnap removed: run-parts succeeds, zz-update-grub runs" sh -c "test $rc = 0 && test -f grub-ran"
for h in initramfs-post-update "90-pcisnap.install add"; do
	set +e
	PCISNAP_HOOK=$T/removed/hook $H/$h 6.1.0-99-amd64 /boot/initrd.img-6.1.0-99-amd64 2>/dev/null
	rc=$?
	set -e
	check "hook $h with pcisnap removed: exit 0" test "$rc" = 0
done
printf '#!/bin/sh\necho "pcisnap: store is broken" >&2\nexit 2\n' >broken-pcisnap
chmod +x broken-pcisnap
printf 'gate = preflight\n' >pf.conf
set +e
PCISNAP=$T/broken-pcisnap PCISNAP_CONF=$T/pf.conf "$H/pcisnap-preflight-hook" kernel-postinst 6.1.0-99-amd64 2>errh
rc=$?
set -e
check "gate = preflight and pcisnap's own error (exit 2): the installation goes on (exit 0)" sh -c "test $rc = 0 && grep -q 'could not run' errh"
mkfifo fifo-pf.conf
set +e
PCISNAP=$T/broken-pcisnap PCISNAP_CONF=$T/fifo-pf.conf timeout 20 "$H/pcisnap-preflight-hook" kernel-postinst 6.1.0-99-amd64 2>/dev/null
rc=$?
set -e
check "a FIFO as the hook's configuration: not read, no hang (exit 0)" test "$rc" = 0
set +e
PCISNAP_HOOK= "$H/pcisnap-preflight-hook" 2>/dev/null
rc=$?
set -e
check "the preflight hook without arguments: exit 0" test "$rc" = 0
finish
