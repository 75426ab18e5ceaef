#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0-or-later
# How collect finds devices: down the device tree from sys/devices/pci*, so no device costs a
# readlink of its bus link and no VF a readlink of its physfn link (its PF's SR-IOV capability
# places it); sys/bus/pci/devices stays the list of what is a PCI device, and a device the walk
# cannot reach is still read through its link. The output is the same whichever way.
. "$(dirname "$0")/lib.bash"
python3 "$SNAP_SOURCE_DIR/bench/genhost.py" 60 "$T/root" >/dev/null
norm() { grep -v '"collected_at"' "$1"; }
"$PCISNAP" collect --root "$T/root" --pci-ids "$DATA/pci.ids" -o "$T/a.json"
check "the generated host has VFs" test "$(grep -c '"physfn": "' "$T/a.json")" -gt 10

# A host bridge outside sys/devices/pci* (Hyper-V puts its vPCI buses below the VMBus device):
# the walk does not reach it, the bus links do; every link in the root is rewritten to match.
cp -a "$T/root" "$T/moved"
python3 - "$T/moved" <<'EOF'
import os, sys
root = os.path.realpath(sys.argv[1])
old = os.path.join(root, "sys/devices/pci0000:80")
new = os.path.join(root, "sys/devices/LNXSYSTM:00/VMBUS:00/f8b3781a-1e82-4818-a1c3-63d806ec15bb/pci0000:80")
links = {}
for d, dirs, files in os.walk(root):
    for n in dirs + files:
        p = os.path.join(d, n)
        if os.path.islink(p):
            links[p] = os.path.normpath(os.path.join(d, os.readlink(p)))
move = lambda p: new + p[len(old):] if p == old or p.startswith(old + "/") else p
os.makedirs(os.path.dirname(new))
os.rename(old, new)
for p, target in links.items():
    p = move(p)
    os.unlink(p)
    os.symlink(os.path.relpath(move(target), os.path.dirname(p)), p)
EOF
"$PCISNAP" collect --root "$T/moved" --pci-ids "$DATA/pci.ids" -o "$T/moved.json"
check "a host bridge the walk cannot reach: its devices read through their links" \
	cmp -s <(norm "$T/a.json") <(norm "$T/moved.json")
check "and they are there" grep -q '"bdf": "0000:80:' "$T/moved.json"

# A directory shaped like a device that sys/bus/pci/devices does not list is not a PCI device.
cp -a "$T/root" "$T/stray"
vf=$(cd "$T/stray/sys/devices/pci0000:00" && ls -d */0000:*.[1-7] | head -1)
cp -r "$T/stray/sys/devices/pci0000:00/$vf" "$T/stray/sys/devices/pci0000:00/0000:00:1f.7"
"$PCISNAP" collect --root "$T/stray" --pci-ids "$DATA/pci.ids" -o "$T/stray.json"
check "a device directory the bus does not list is not read" \
	cmp -s <(norm "$T/a.json") <(norm "$T/stray.json")

# A directory longer than one getdents64 buffer (32 KiB: about 1,000 device links) is read to
# its end, whatever the file system.
python3 "$SNAP_SOURCE_DIR/bench/genhost.py" 1500 "$T/big" >/dev/null
"$PCISNAP" collect --root "$T/big" -o "$T/big.json"
check "every one of 1,500 devices is read" python3 -c "
import json, os, sys
d = json.load(open(sys.argv[1]))
assert len(d['devices']) == len(os.listdir(sys.argv[2])) > 1100, len(d['devices'])
" "$T/big.json" "$T/big/sys/bus/pci/devices"

# What the calls are: no readlink of a bus link, none of a physfn link with the config space
# whole; without root (64 bytes of config) the VFs' physfn links are read, and name the PFs.
if command -v strace >/dev/null; then
	# LeakSanitizer cannot run under ptrace: the sanitizer build counts with it off
	export ASAN_OPTIONS="${ASAN_OPTIONS:+$ASAN_OPTIONS:}detect_leaks=0"
	strace -f -o "$T/trace" -e trace=readlinkat \
		"$PCISNAP" collect --root "$T/root" --pci-ids "$DATA/pci.ids" -o "$T/b.json"
	check "no device's bus link is read" test "$(grep -c 'sys/bus/pci/devices/' "$T/trace")" = 0
	check "no VF's physfn link is read" test "$(grep -c '"physfn"' "$T/trace")" = 0
	python3 - "$T/root" "$T/user" <<'EOF'
import os, sys
sys.path.insert(0, os.path.join(os.environ["SNAP_SOURCE_DIR"], "bench"))
sys.path.insert(0, os.path.join(os.environ["SNAP_SOURCE_DIR"], "tests", "gen"))
import genhost, sysfs
sysfs.build(genhost.build(60), sys.argv[2], unprivileged=True)
EOF
	strace -f -o "$T/trace-user" -e trace=readlinkat \
		"$PCISNAP" collect --root "$T/user" --pci-ids "$DATA/pci.ids" -o "$T/user.json" 2>/dev/null
	check "config cut to 64 bytes: the physfn links are read" \
		test "$(grep -c '"physfn"' "$T/trace-user")" = "$(grep -c '"physfn": "' "$T/a.json")"
	check "and name the same PFs" cmp -s <(grep '"physfn"' "$T/a.json") <(grep '"physfn"' "$T/user.json")
else
	not_ok "strace is not installed (make deps installs it)"
fi
finish
