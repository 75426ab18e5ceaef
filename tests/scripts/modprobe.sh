#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0-or-later
# modprobe.d as modprobe(8) reads it (libkmod): five directories, a file overriding the same name
# in the later ones, continuation lines, names with dashes; nothing from the machine's own
# /proc/cmdline; a link in a captured root never leads out of it.
. "$(dirname "$0")/lib.bash"
cd "$T"
$MKROOT pve-intel r
rm -f r/etc/modprobe.d/*.conf
mkdir -p r/run/modprobe.d r/usr/local/lib/modprobe.d r/usr/lib/modprobe.d
ln -s usr/lib r/lib # merged /usr: lib/modprobe.d is usr/lib/modprobe.d, read once
printf 'options vfio-pci ids=10de:1e87,10de:10f8 \\\n  disable_vga=1\n' >r/etc/modprobe.d/vfio.conf
printf 'options vfio_pci ids=dead:beef\n' >r/usr/lib/modprobe.d/vfio.conf # overridden by name
printf 'softdep nouveau pre: vfio-pci\nblacklist nouveau\n' >r/usr/lib/modprobe.d/gpu.conf
printf 'options kvm ignore_msrs=1\n' >r/run/modprobe.d/kvm.conf
printf 'install radeon /bin/false\n' >r/usr/local/lib/modprobe.d/radeon.conf
printf 'blacklist snd_hda_intel\n' >r/etc/modprobe.d/not-a-conf.txt
ln -s /etc/passwd r/etc/modprobe.d/escape.conf # absolute: resolved inside the root, absent
mkdir tmp
TMPDIR="$T/tmp" "$PCISNAP" collect --root r -o s.json 2>err
py() { python3 -c "import json,sys; m=json.load(open('s.json'))['vfio']['modprobe']; $1"; }
check "etc/ overrides usr/lib/ by name" py "assert m['options']['vfio_pci']['ids']=='10de:1e87,10de:10f8', m"
check "a continuation line is one line" py "assert m['options']['vfio_pci']['disable_vga']=='1', m"
check "run/ is read" py "assert m['options']['kvm']['ignore_msrs']=='1', m"
check "usr/lib/ is read: softdep and blacklist" py "assert m['softdep']['nouveau']=='pre: vfio-pci' and 'nouveau' in m['blacklist'], m"
check "usr/local/lib/ is read: install" py "assert m['install']['radeon']=='/bin/false', m"
check "only *.conf" py "assert 'snd_hda_intel' not in m['blacklist'], m"
check "nothing from this machine's /proc/cmdline" py "assert set(m['options'])=={'vfio_pci','kvm'}, m['options']"
check "the files that count, in order of the directories" py "assert m['files']==['etc/modprobe.d/vfio.conf','run/modprobe.d/kvm.conf','usr/local/lib/modprobe.d/radeon.conf','usr/lib/modprobe.d/gpu.conf'], m['files']"
check "the vfio-pci ids come from modprobe.d" python3 -c "
import json; v=json.load(open('s.json'))['vfio']
assert [i['id'] for i in v['ids'] if i['source']=='modprobe.d']==['10de:1e87','10de:10f8'], v['ids']"
check "the escaping link read nothing" sh -c "! grep -q 'root:' s.json"
check "no temporary copy is left behind" test -z "$(ls tmp)"

# the copy is made for the first file, wherever it is: here only in the fourth directory
$MKROOT pve-intel late
rm -f late/etc/modprobe.d/*.conf
mkdir -p late/usr/lib/modprobe.d
printf 'options vfio-pci ids=10de:1e87\n' >late/usr/lib/modprobe.d/vfio.conf
TMPDIR="$T/tmp" "$PCISNAP" collect --root late -o late.json 2>err
check "a file only in usr/lib/modprobe.d is read" python3 -c "
import json; m=json.load(open('late.json'))['vfio']['modprobe']
assert m['files']==['usr/lib/modprobe.d/vfio.conf'] and m['options']['vfio_pci']['ids']=='10de:1e87', m"
check "no temporary copy is left behind (late)" test -z "$(ls tmp)"

# a root without modprobe.d files writes nothing: no temporary directory is even made
$MKROOT pve-intel none
rm -f none/etc/modprobe.d/*.conf
TMPDIR="$T/missing" "$PCISNAP" collect --root none -o none.json 2>err
check "no modprobe.d files: no warning, with no TMPDIR to write to" sh -c "! grep -q modprobe err"
check "no modprobe.d files: empty lists" python3 -c "
import json; m=json.load(open('none.json'))['vfio']['modprobe']
assert m['files']==[] and m['options']=={}, m"
TMPDIR="$T/missing" "$PCISNAP" collect --root late -o late2.json 2>err
check "files and no private directory: a warning" grep -q "modprobe.d not read: cannot copy it" err
finish
