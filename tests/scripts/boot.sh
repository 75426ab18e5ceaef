#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0-or-later
# pcisnap-boot.service's commands in the order systemd runs them, against a captured root and a
# store, over several boots with different boot ids: with and without the clean-end record, a
# kernel update that loses vfio, a panic's pstore record and the dead boot's kernel messages in
# a journal (written by systemd-journal-remote, read back through sd-journal), the journal
# records (--journal FILE, as systemd-cat --level-prefix reads them), the gate, the metrics
# (promtool check metrics), pcisnap.conf; and the units pass systemd-analyze verify.
. "$(dirname "$0")/lib.bash"
cd "$T"
export SOURCE_DATE_EPOCH=1000
S=$T/store
boot_id() { echo "$2" >"$1/proc/sys/kernel/random/boot_id"; }
$MKROOT pve-intel a
$MKROOT kernel-no-vfio b

# --- the units
if command -v systemd-analyze >/dev/null; then
	mkdir units
	for u in pcisnap-boot pcisnap-boot-end; do
		sed "s|@SNAP_BIN@|$PCISNAP|" "$SNAP_SOURCE_DIR/contrib/systemd/$u.service.in" >units/$u.service
	done
	printf '[Unit]\nDescription=VMs\n[Service]\nType=oneshot\nExecStart=/bin/true\n' >units/pve-guests.service
	mkdir units/pve-guests.service.d
	cp "$SNAP_SOURCE_DIR/contrib/systemd/pcisnap-gate.conf" units/pve-guests.service.d/
	check "pcisnap-boot.service passes systemd-analyze verify" \
		sh -c "cd units && systemd-analyze verify --man=no pcisnap-boot.service pcisnap-boot-end.service pve-guests.service"
	check "the unit runs start, ordered before the VM units; the end unit runs stop, stopped after them" sh -c \
		"grep -qx 'ExecStart=$PCISNAP boot start' units/pcisnap-boot.service &&
		 ! grep -q '^ExecStop=' units/pcisnap-boot.service &&
		 grep -qx 'Wants=pcisnap-boot-end.service' units/pcisnap-boot.service &&
		 grep -qx 'ExecStop=$PCISNAP boot stop' units/pcisnap-boot-end.service &&
		 grep -qx 'After=pcisnap-boot.service' units/pcisnap-boot-end.service &&
		 grep -q '^Before=pve-guests.service libvirt-guests.service' units/pcisnap-boot-end.service &&
		 grep -q '^Before=pve-guests.service libvirt-guests.service' units/pcisnap-boot.service &&
		 grep -qx 'RemainAfterExit=yes' units/pcisnap-boot.service"
	check "the gate drop-in requires the boot unit" sh -c \
		"grep -qx 'Requires=pcisnap-boot.service' units/pve-guests.service.d/pcisnap-gate.conf"
else
	not_ok "systemd-analyze not installed (Debian's systemd package)"
fi

# --- boot 1: the first pcisnap knows
boot_id a 11111111-1111-4111-8111-111111111111
mkdir prom
"$PCISNAP" boot start --root a --store "$S" --journal j1 --textfile prom 2>/dev/null
check "boot 1: first snapshot, said at priority info" grep -q '^<6>pcisnap: pve-ws-01: stored .*the first boot' j1
check "boot 1: pcisnap.prom written, nothing left behind" sh -c "test -f prom/pcisnap.prom && test \$(ls -A prom | wc -l) = 1"
"$PCISNAP" boot stop --root a --store "$S" --journal j1
check "boot 1 stop: the clean end recorded" grep -q '^<6>pcisnap: pve-ws-01: boot 11111111-1111-4111-8111-111111111111 ended cleanly' j1

# --- boot 2: after a clean end, nothing changed
boot_id a 22222222-2222-4222-8222-222222222222
SOURCE_DATE_EPOCH=2000 "$PCISNAP" boot start --root a --store "$S" --journal j2 --textfile prom 2>/dev/null
"$PCISNAP" show --store "$S" pve-ws-01 --format json >s2.json
check "boot 2: the snapshot names the previous boot and its clean end" python3 -c "
import json; b=json.load(open('s2.json'))['boot']
assert b['id']=='22222222-2222-4222-8222-222222222222' and b['previous_id']=='11111111-1111-4111-8111-111111111111' and b['previous_clean'] is True, b"
check "boot 2: the snapshot follows its schema" $VALIDATE "$SNAP_SOURCE_DIR/schema/snapshot.v1.schema.json" s2.json
check "boot 2: harmless, at priority info, with the report" sh -c "grep -q '^<6>pcisnap: pve-ws-01: harmless against' j2 && grep -q '^<6>verdict: no changes' j2 && ! grep -q '^<[0-4]>' j2"
check "boot 2: metrics say the previous boot was clean" grep -qx 'pcisnap_previous_boot_clean{host="pve-ws-01"} 1' prom/pcisnap.prom
# the unit restarted in the same boot: the previous boot is still boot 1
SOURCE_DATE_EPOCH=2100 "$PCISNAP" boot start --root a --store "$S" --journal j2b 2>/dev/null
"$PCISNAP" show --store "$S" pve-ws-01 --format json >s2b.json
check "a second start in the same boot: the previous boot is still the one before" python3 -c "
import json; b=json.load(open('s2b.json'))['boot']
assert b['previous_id'].startswith('1111') and b['previous_clean'] is True, b"
# systemctl restart in boot 2: stop records an end, start takes it back (the boot goes on)
"$PCISNAP" boot stop --root a --store "$S" --journal j2b
SOURCE_DATE_EPOCH=2200 "$PCISNAP" boot start --root a --store "$S" --journal j2b 2>/dev/null
check "a restart (stop, start) leaves no end record for a boot that goes on (boot 1's only)" \
	test "$(git --git-dir="$S" notes --ref=pcisnap/boot-end list | wc -l)" = 1
# no boot stop: boot 2 dies (a hard lockup), leaving a pstore record and kernel messages

# --- boot 3: a kernel without vfio, after boot 2 died
boot_id b 33333333-3333-4333-8333-333333333333
mkdir -p b/sys/fs/pstore
printf 'Panic#1 Part1\n<0>Kernel panic - not syncing: Watchdog detected hard LOCKUP on cpu 5\n' >b/sys/fs/pstore/dmesg-efi-173300000001001
journal_ok=0
if [ -x /lib/systemd/systemd-journal-remote ]; then
	mid=0123456789abcdef0123456789abcdef
	mkdir -p "b/var/log/journal/$mid"
	python3 - <<'PY' >export.txt
bid = "22222222222242228222222222222222"
msgs = ["DMAR: [DMA Read NO_PASID] Request device [01:00.0] fault addr 0xfffd0000 [fault reason 0x06] PTE Read access is not set",
        "usb 1-1: new high-speed USB device number 2 using xhci_hcd",
        "pcieport 0000:00:01.0: AER: enabled with IRQ 122",
        "pci 0000:01:00.0: Adding to iommu group 14",
        "vfio-pci 0000:01:00.0: not ready 65535ms after FLR; giving up",
        "watchdog: Watchdog detected hard LOCKUP on cpu 5"]
entries = [(1700000000000000 + i, "kernel", m) for i, m in enumerate(msgs)]
# the passthrough events around the faults: Proxmox starts VM 100 three seconds before the
# first fault (its task line, then the scope systemd runs it in), vfio-pci enables the GPU; a
# backup task is no event
entries += [(1699999997000000, "pvedaemon", "<root@pam> starting task UPID:pve-ws-01:000A1B2C:0012F4A5:656E1A2B:qmstart:100:root@pam:"),
            (1699999997200000, "systemd", "Started 100.scope."),
            (1699999997500000, "kernel", "vfio-pci 0000:01:00.0: enabling device (0000 -> 0003)"),
            (1699999998000000, "pvedaemon", "<root@pam> starting task UPID:pve-ws-01:000A1B3D:0012F4B6:656E1A2C:vzdump::root@pam:")]
for t, ident, m in sorted(entries):  # a journal is written in time order
    transport = "kernel" if ident == "kernel" else "syslog"
    print("__REALTIME_TIMESTAMP=%d\n__MONOTONIC_TIMESTAMP=%d\n_BOOT_ID=%s\n_TRANSPORT=%s\n"
          "PRIORITY=3\nSYSLOG_IDENTIFIER=%s\n_MACHINE_ID=0123456789abcdef0123456789abcdef\n"
          "_HOSTNAME=pve-ws-01\nMESSAGE=%s\n" % (t, t - 1699990000000000, bid, transport, ident, m))
# another boot's message: never taken
print("__REALTIME_TIMESTAMP=1700000100000000\n__MONOTONIC_TIMESTAMP=1\n"
      "_BOOT_ID=33333333333343338333333333333333\n_TRANSPORT=kernel\nPRIORITY=3\n"
      "_MACHINE_ID=0123456789abcdef0123456789abcdef\nMESSAGE=DMAR: of this boot, not the dead one\n")
PY
	/lib/systemd/systemd-journal-remote -o "b/var/log/journal/$mid/remote.journal" - <export.txt 2>/dev/null && journal_ok=1
fi
# libvirt's log of a domain: QEMU's own lines carry their time (-msg timestamp=on); one in the
# dead boot's time, one after its end, and libvirt's own lines, which are not QEMU's
mkdir -p b/var/log/libvirt/qemu
cat >b/var/log/libvirt/qemu/win11.log <<'LOG'
2023-11-14 22:13:10.000+0000: starting up libvirt version: 9.0.0, package: 9.0.0-4 (Debian), qemu version: 7.2.0
LC_ALL=C /usr/bin/qemu-system-x86_64 -name guest=win11 -msg timestamp=on -device vfio-pci,host=0000:01:00.0
2023-11-14T22:13:19.123456Z qemu-system-x86_64: vfio: Cannot reset device 0000:01:00.1, depends on group 15 which is not owned.
2023-11-14T22:20:00.000000Z qemu-system-x86_64: terminating on signal 15 from pid 1234 (/usr/sbin/libvirtd)
LOG
set +e
SOURCE_DATE_EPOCH=3000 "$PCISNAP" boot start --root b --store "$S" --journal j3 --textfile prom 2>/dev/null; rc3=$?
set -e
check "boot 3: no gate, exit 0 although a regression" test "$rc3" = 0
check "boot 3: the unclean end said at priority warning" \
	grep -q '^<4>pcisnap: pve-ws-01: the previous boot 22222222-2222-4222-8222-222222222222 has no record of a clean end' j3
check "boot 3: the regression said at priority err, with the report" sh -c \
	"grep -q '^<3>pcisnap: pve-ws-01: binding_regression against' j3 && grep -q '^<3>  \[vfio_module_missing\]' j3"
SOURCE_DATE_EPOCH=3100 "$PCISNAP" collect --root b --store "$S" 2>/dev/null # later in boot 3
"$PCISNAP" show --store "$S" pve-ws-01 --format json >s3.json
check "boot 3, a later collect: previous_clean still false" python3 -c "
import json; b=json.load(open('s3.json'))['boot']; assert b['previous_clean'] is False and b['previous_id'].startswith('2222'), b"
"$PCISNAP" check --store "$S" pve-ws-01 >c3 || true
check "check warns of the previous boot's end" grep -q '^WARN  previous_boot .*no record of a clean end' c3
"$PCISNAP" log --store "$S" pve-ws-01 >log3
check "log shows it" sh -c "sed -n 2p log3 | grep -q 'after an unclean end of boot 22222222'"
"$PCISNAP" log --store "$S" pve-ws-01 --format json >log3.json
check "log --format json: boot and previous_boot, in its schema" sh -c "$VALIDATE '$SNAP_SOURCE_DIR/schema/log.v1.schema.json' log3.json &&
	python3 -c \"import json; r=json.load(open('log3.json'))['snapshots'][0]; assert r['previous_boot'].startswith('unclean 2222') and r['boot'].startswith('3333'), r\""
"$PCISNAP" boot last-words --store "$S" 'pve-ws-01~1' --format json >lw.json # boot start's snapshot
check "the last words keep the pstore record" python3 -c "
import json; d=json.load(open('lw.json'))
assert d['schema']=='pcisnap.last-words/1' and d['previous_boot'].startswith('2222'), d
assert any('hard LOCKUP' in r['text'] for r in d['pstore']), d['pstore']"
check "the last words follow their schema" $VALIDATE "$SNAP_SOURCE_DIR/schema/last-words.v1.schema.json" lw.json
if [ "$journal_ok" = 1 ]; then
	check "and the dead boot's kernel fault lines from the journal (sd-journal), boot noise left out and counted" python3 -c "
import json; d=json.load(open('lw.json')); m=[l['message'] for l in d['journal'] if l['kind'] == 'fault']
assert len(m)==3 and m[0].startswith('DMAR: [DMA Read') and 'FLR' in m[1] and 'LOCKUP' in m[2], m
assert d['left_out']['journal_lines'] == 4, d['left_out']"
	check "one timeline: the VM's start (task line, scope), vfio-pci enabling the GPU, then the faults; a backup task is not an event" python3 -c "
import json; d=json.load(open('lw.json')); k=[(l['kind'], l.get('vm')) for l in d['journal']]
assert k[:3] == [('vm_start', '100'), ('vm_start', '100'), ('vfio', None)], k
assert [x for x, _ in k[4:]] == ['fault'] * 3, k"
	check "QEMU's own line (libvirt's domain log) of the dead boot's time on the timeline, nothing after its end" python3 -c "
import json; d=json.load(open('lw.json')); q=[l for l in d['journal'] if l['kind'] == 'qemu']
assert [(l['at'], l['vm'], l['source']) for l in q] == [('2023-11-14T22:13:19Z', 'win11', 'qemu')], q
assert q[0]['message'].startswith('qemu-system-x86_64: vfio: Cannot reset device 0000:01:00.1'), q
assert d['journal'][3] == q[0], d['journal']"
	check "the time from the VM's start to the first fault, and the boot's last kernel message" python3 -c "
import json; d=json.load(open('lw.json'))
assert d['vm_faults'] == [{'vm': '100', 'started': '2023-11-14T22:13:17Z', 'first_fault': '2023-11-14T22:13:20Z', 'seconds': 3.0}], d['vm_faults']
assert 'hard LOCKUP' in d['last_message']['message'], d['last_message']"
else
	not_ok "systemd-journal-remote not installed: the journal is untested"
fi
"$PCISNAP" boot last-words --store "$S" 'pve-ws-01~1' >lw.txt
check "last-words as text" grep -q 'Kernel panic - not syncing' lw.txt
if [ "$journal_ok" = 1 ]; then
	check "last-words as text: the timeline, the VM's time to the first fault" sh -c \
		"grep -q '^2023-11-14T22:13:17Z  vm_start 100 ' lw.txt && grep -q '^VM 100 started 2023-11-14T22:13:17Z; the first fault came 3.0 s later' lw.txt"
fi
check "metrics: the unclean end and the verdict" sh -c \
	"grep -qx 'pcisnap_previous_boot_clean{host=\"pve-ws-01\"} 0' prom/pcisnap.prom &&
	 grep -qx 'pcisnap_diff_verdict{host=\"pve-ws-01\",class=\"binding_regression\"} 1' prom/pcisnap.prom &&
	 grep -qx 'pcisnap_check_status{host=\"pve-ws-01\",check=\"previous_boot\",subject=\"boot\"} 1' prom/pcisnap.prom"
if command -v promtool >/dev/null; then
	check "promtool check metrics: pcisnap.prom" sh -c "promtool check metrics <prom/pcisnap.prom"
	"$PCISNAP" check --store "$S" pve-ws-01 --format prometheus >c3.prom || true
	check "promtool check metrics: check --format prometheus" sh -c "promtool check metrics <c3.prom"
else
	not_ok "promtool not installed (Debian's prometheus package)"
fi

# --- the gate
"$PCISNAP" boot stop --root b --store "$S" --journal j3 # boot 3 ends cleanly
boot_id b 44444444-4444-4444-8444-444444444444
cp -r a g && boot_id g 55555555-5555-4555-8555-555555555555
set +e
SOURCE_DATE_EPOCH=4000 "$PCISNAP" boot start --root b --store "$S" --journal j4 --gate regression 2>/dev/null; rc4=$?
set -e
check "a boot with nothing changed passes the gate (exit 0)" test "$rc4" = 0
"$PCISNAP" boot stop --root b --store "$S" --journal j4
# the host goes back to the good kernel (harmless), then to the bad one: gated
SOURCE_DATE_EPOCH=5000 "$PCISNAP" boot start --root g --store "$S" --journal j5 --gate regression 2>/dev/null
"$PCISNAP" boot stop --root g --store "$S" --journal j5
boot_id b 66666666-6666-4666-8666-666666666666
printf 'gate = preflight, regression\n' >gate.conf
set +e
PCISNAP_CONFIG=$T/gate.conf SOURCE_DATE_EPOCH=6000 "$PCISNAP" boot start --root b --store "$S" --journal j6 2>/dev/null; rc6=$?
set -e
check "gate = preflight, regression in pcisnap.conf: a binding regression fails the unit (exit 1)" test "$rc6" = 1
check "and says the gate holds the VMs back" grep -q 'the boot gate holds the VMs back' j6
"$PCISNAP" boot stop --root b --store "$S" --journal j6
boot_id g 77777777-7777-4777-8777-777777777777
SOURCE_DATE_EPOCH=7000 "$PCISNAP" boot start --root g --store "$S" --journal j7 2>/dev/null
"$PCISNAP" boot stop --root g --store "$S" --journal j7
boot_id b 88888888-8888-4888-8888-888888888888
set +e
SOURCE_DATE_EPOCH=8000 "$PCISNAP" boot start --root b --store "$S" --journal j8 --gate isolation 2>/dev/null; rc8=$?
set -e
check "--gate isolation: a binding regression alone passes (exit 0)" test "$rc8" = 0
# the same regression accepted in the store's policy (docs/interface.md "Accepted deviations"):
# the gate holds nothing back
"$PCISNAP" boot stop --root b --store "$S" --journal j8
for k in $("$PCISNAP" diff --store "$S" --format json pve-ws-01~1 pve-ws-01 | python3 -c '
import json, sys
print(" ".join(sorted({c["kind"] for c in json.load(sys.stdin)["changes"] if c["class"] != "harmless"})))'); do
	"$PCISNAP" accept --store "$S" --host pve-ws-01 "$k" --reason "the lab host runs without vfio"
done
boot_id g 12121212-1212-4212-8212-121212121212
SOURCE_DATE_EPOCH=8500 "$PCISNAP" boot start --root g --store "$S" --journal j85 2>/dev/null
"$PCISNAP" boot stop --root g --store "$S" --journal j85
boot_id b 88888888-8888-4888-8888-888888888889
set +e
SOURCE_DATE_EPOCH=9000 "$PCISNAP" boot start --root b --store "$S" --journal j9a --gate regression 2>/dev/null; rc9a=$?
set -e
check "an accepted regression: the gate passes (exit 0), the journal says accepted" sh -c "test $rc9a = 0 && grep -q 'accepted: the lab host runs without vfio' j9a && ! grep -q 'the boot gate holds the VMs back' j9a"

# --- hostile last words: a FIFO and links out of the root among the pstore records, a journal
# file that is not one: never blocks, never leaves the root
cp -r a h && boot_id h aaaaaaaa-0000-4000-8000-000000000001
SOURCE_DATE_EPOCH=9000 "$PCISNAP" boot start --root h --store "$T/hs" --journal jh 2>/dev/null
boot_id h aaaaaaaa-0000-4000-8000-000000000002
mkfifo h/sys/fs/pstore/dmesg-fifo
ln -s /etc/passwd h/sys/fs/pstore/dmesg-abs
ln -s ../../../../../../../../etc/passwd h/sys/fs/pstore/dmesg-rel
mkdir -p h/var/log/journal/x && head -c 4096 /dev/urandom >h/var/log/journal/x/system.journal
set +e
SOURCE_DATE_EPOCH=9100 timeout 60 "$PCISNAP" boot start --root h --store "$T/hs" --journal jh 2>/dev/null; rch=$?
set -e
check "hostile last words: boot start completes (exit 0)" test "$rch" = 0
"$PCISNAP" boot last-words --store "$T/hs" pve-ws-01 --format json >lwh.json
check "hostile last words: nothing from outside the root, no FIFO opened" python3 -c "
import json; d=json.load(open('lwh.json'))
assert all('root:' not in (r.get('text') or '') for r in d['pstore']), d['pstore']
assert not any(r['name'] == 'dmesg-fifo' for r in d['pstore']), d['pstore']"

# --- stop without a snapshot of this boot; bad configuration
boot_id a 99999999-9999-4999-8999-999999999999
set +e
"$PCISNAP" boot stop --root a --store "$S" 2>err1; rc=$?
set -e
check "boot stop with no snapshot of this boot: exit 2 and a message" sh -c "test $rc = 2 && grep -q '^pcisnap: no snapshot of pve-ws-01 in boot 9999' err1"
printf 'store = %s\nbogus = 1\n' "$S" >bad.conf
set +e
PCISNAP_CONFIG=$T/bad.conf "$PCISNAP" log --store "$S" >/dev/null 2>err2; rc=$?
PCISNAP_CONFIG=$T/none.conf "$PCISNAP" log 2>err3; rc3=$?
PCISNAP_CONFIG=$T/gate.conf "$PCISNAP" boot start --root a --store "$S" --gate sometimes --journal j9 2>err4; rc4=$?
"$PCISNAP" boot start --root a --store "$S" --no-such-option 2>err4b; rc4b=$?
set -e
check "an unknown setting: a warning naming file and line, ignored (exit 0)" sh -c "test $rc = 0 && grep -q \"^pcisnap: warning: $T/bad.conf:2: unknown setting 'bogus'\" err2"
printf 'gate = preflight, sometimes\n' >bad2.conf
set +e
PCISNAP_CONFIG=$T/bad2.conf "$PCISNAP" log --store "$S" >/dev/null 2>err5; rc5=$?
set -e
check "a gate pcisnap does not know: a warning, the gate strictest, the command runs" sh -c "test $rc5 = 0 && grep -q \"gate lists none, regression, isolation or preflight, not 'sometimes'.*the boot gate is 'regression'\" err5"
check "PCISNAP_CONFIG naming no file: exit 2" sh -c "test $rc3 = 2 && grep -q 'cannot read' err3"
check "boot start --gate with a policy that is not one: the gate is regression, said at err, exit 0 (nothing regressed)" sh -c "test $rc4 = 0 && grep -q \"^<3>pcisnap: pve-ws-01: --gate 'sometimes' is none, regression or isolation; .*the gate is 'regression'\" j9"
check "boot start with an option it does not know: said, exit 0 (the unit's typo holds no VM)" sh -c "test $rc4b = 0 && grep -q 'no-such-option' err4b"
printf '# the fleet store\nstore = %s\ntextfile = %s/cfgprom\n' "$S" "$T" >good.conf
mkdir cfgprom
unset PCISNAP_STORE
PCISNAP_CONFIG=$T/good.conf "$PCISNAP" log pve-ws-01 >log-cfg
check "store = in pcisnap.conf is the default store" test "$(wc -l <log-cfg)" = "$(wc -l < <("$PCISNAP" log --store "$S" pve-ws-01))"
PCISNAP_CONFIG=$T/good.conf "$PCISNAP" collect --root a --store "" 2>/dev/null
check "collect writes the configured textfile" test -s cfgprom/pcisnap.prom
check "--store wins over pcisnap.conf" sh -c "PCISNAP_CONFIG=$T/good.conf '$PCISNAP' log --store '$T/other' 2>/dev/null; test \$? = 2"
finish
