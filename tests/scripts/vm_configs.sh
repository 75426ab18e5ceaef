#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0-or-later
# libvirt domains as collect reads them: an SR-IOV VF passed as <interface type='hostdev'> makes
# its device a passthrough device; a file that is not a well-formed domain is said, not skipped
# in silence.
. "$(dirname "$0")/lib.bash"
cd "$T"
$MKROOT pve-intel r
rm -rf r/etc/pve/qemu-server
mkdir -p r/etc/libvirt/qemu
cat >r/etc/libvirt/qemu/nfv.xml <<'XML'
<domain type='kvm'>
  <name>nfv</name>
  <devices>
    <interface type='hostdev' managed='yes'>
      <source><address type='pci' domain='0x0000' bus='0x02' slot='0x00' function='0x0'/></source>
    </interface>
  </devices>
</domain>
XML
printf '<domain><name>broken</name><devices>\n' >r/etc/libvirt/qemu/broken.xml
"$PCISNAP" collect --root r -o s.json 2>err
check "the interface hostdev is the VM's device" python3 -c "
import json; v=json.load(open('s.json'))['vms']
assert [(m['name'], h['key'], h['devices']) for m in v for h in m['hostdevs']]==[('nfv','interface0',['0000:02:00.0'])], v"
check "so the device is passed through" sh -c "'$PCISNAP' show s.json | grep -q 'why: .*libvirt VM nfv'"
check "the broken file is said on stderr" grep -q 'broken.xml is not a libvirt domain' err
finish
