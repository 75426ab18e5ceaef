#!/usr/bin/env python3
# SPDX-License-Identifier: GPL-2.0-or-later
"""The real-kernel lab: boot Debian's kernel under QEMU on emulated PCI topologies, run pcisnap
inside the guest, and hold its snapshot against the guest kernel's own view.

    lab.py --pcisnap build/pcisnap --out build/vm [--subset ci|all] [--only NAME,...]

For every boot: groups, drivers, modules, interrupt remapping, ACS, FLR and the multifunction
flag from the snapshot equal what the guest kernel shows (sysfs, /proc, and raw config space
decoded here without libpci); implied groups equal the kernel's groups; `check` has no FAIL
that the guest contradicts. Between boots: `diff` gives the verdict and exit status the change
deserves. The guest's raw files of every boot stay in OUT/<boot>/ to be read after a failure.
"""
import argparse
import base64
import glob
import gzip
import io
import json
import os
import re
import shutil
import socket
import struct
import subprocess
import sys
import tarfile
import time

# ---------------------------------------------------------------- topologies

INTEL = ["-device", "intel-iommu,intremap=on"]
INTEL_NO_IR = ["-device", "intel-iommu,intremap=off"]
AMD = ["-device", "amd-iommu,intremap=on"]


def rp(n, addr, chassis=None):
    """A pcie-root-port at slot addr of the root bus, named rpN."""
    return ["-device", f"pcie-root-port,id=rp{n},bus=pcie.0,addr={addr:#x},chassis={chassis or n},port={n}"]


def dev(spec):
    return ["-device", spec]


# The passthrough base: an e1000e for vfio-pci, an NVMe and an xHCI, one per root port.
BASE = rp(1, 2) + rp(2, 3) + rp(3, 4) + dev("e1000e,bus=rp1,addr=0.0") + \
    dev("nvme,serial=lab1,bus=rp2") + dev("qemu-xhci,bus=rp3")
VFIO = "vfio-pci.ids=8086:10d3"

BOOTS = {
    # endpoints on the root bus are root-complex integrated endpoints; an Intel one (e1000e)
    # is isolated by pci_quirk_rciep_acs even as a multifunction device, an NVMe pair is not
    "rciep": dict(iommu=INTEL, devices=dev("e1000e,bus=pcie.0,addr=0x5.0,multifunction=on") +
                  dev("e1000e,bus=pcie.0,addr=0x5.1") +
                  dev("nvme,serial=rc1,bus=pcie.0,addr=0x6.0,multifunction=on") +
                  dev("nvme,serial=rc2,bus=pcie.0,addr=0x6.1") +
                  dev("virtio-net-pci,bus=pcie.0,addr=0x7")),
    "rootports": dict(iommu=INTEL, devices=BASE),
    # an SR-IOV PF whose VFs the guest enables (QEMU's NVMe: First VF Offset 1, VF Stride 1)
    "sriov": dict(iommu=INTEL, append="lab.sriov=0000:01:00.0:3",
                  devices=rp(1, 2) + dev("nvme-subsys,id=ss1") +
                  dev("nvme,serial=sr1,subsys=ss1,bus=rp1,sriov_max_vfs=3,"
                      "sriov_vq_flexible=6,sriov_vi_flexible=3") + dev("e1000e,bus=pcie.0,addr=0x5")),
    "rootports-vfio": dict(iommu=INTEL, devices=BASE, append=VFIO),
    "switch": dict(iommu=INTEL, devices=rp(1, 2) +
                   dev("x3130-upstream,id=up1,bus=rp1") +
                   dev("xio3130-downstream,id=dn1,bus=up1,chassis=11,slot=1") +
                   dev("xio3130-downstream,id=dn2,bus=up1,chassis=12,slot=2") +
                   dev("nvme,serial=sw1,bus=dn1") + dev("e1000e,bus=dn2")),
    "bridges": dict(iommu=INTEL, devices=rp(1, 2) +
                    dev("pcie-pci-bridge,id=pb1,bus=rp1") +
                    dev("e1000,bus=pb1,addr=0x1") + dev("rtl8139,bus=pb1,addr=0x2") +
                    dev("pci-bridge,id=br1,bus=pcie.0,addr=0x8,chassis_nr=21") +
                    dev("e1000,bus=br1,addr=0x1") + dev("i6300esb,bus=br1,addr=0x2") +
                    dev("i82801b11-bridge,id=dmi1,bus=pcie.0,addr=0x9") +
                    dev("rtl8139,bus=dmi1,addr=0x3")),
    # QEMU sets the header's multifunction bit on function 0 only
    "mf-rootport-vfio": dict(iommu=INTEL, append=VFIO, devices=rp(1, 2) + rp(2, 3) + rp(3, 4) +
                             dev("e1000e,bus=rp1,addr=0.0,multifunction=on") +
                             dev("nvme,serial=mf1,bus=rp1,addr=0.1") +
                             dev("rtl8139,bus=rp1,addr=0.2") +
                             dev("nvme,serial=lab1,bus=rp2") + dev("qemu-xhci,bus=rp3")),
    "ir-off-cmdline": dict(iommu=INTEL, devices=BASE, append=VFIO + " intremap=off"),
    "ir-off-hw": dict(iommu=INTEL_NO_IR, devices=BASE, append=VFIO),
    "pt": dict(iommu=INTEL, devices=BASE, append=VFIO + " iommu=pt"),
    # one more root port in front: every secondary bus number moves up by one
    "shifted-vfio": dict(iommu=INTEL, append=VFIO, devices=rp(9, 1) + BASE),
    "no-iommu": dict(iommu=[], devices=BASE, append=VFIO, intel_iommu=False),
    # errors injected with the kernel's aer_inject: into the passthrough NIC (corrected, non-fatal,
    # fatal) and into the NVMe's root port (corrected: a path no passthrough device is on)
    "aer-inject": dict(iommu=INTEL, devices=BASE, append=VFIO + " lab.inject=" + ",".join(
        ["0000:01:00.0:cor", "0000:01:00.0:nonfatal", "0000:01:00.0:fatal", "0000:00:03.0:cor"])),
    # errors QEMU itself injects (pcie_aer_inject_error, through the monitor once the guest is
    # up): a non-fatal one (Completion Timeout, 0x4000) into the passthrough NIC's root port, a
    # fatal one into the NVMe's. (QEMU 7.2's root port latches a corrected error it is given,
    # RCVR, in its own status and never signals it: the kernel hears nothing, so none is sent.)
    "aer-qemu": dict(iommu=INTEL, devices=BASE, append=VFIO + " lab.hmp_wait=2",
                     hmp=["pcie_aer_inject_error rp1 0x4000", "pcie_aer_inject_error rp2 MALF_TLP"]),
    # what hides faults: the AER service off; no port services at all (AER and DPC with them)
    "noaer": dict(iommu=INTEL, devices=BASE, append=VFIO + " pci=noaer"),
    "ports-compat": dict(iommu=INTEL, devices=BASE, append=VFIO + " pcie_ports=compat"),
    "amd": dict(iommu=AMD, devices=BASE + dev("e1000e,bus=pcie.0,addr=0x6.0,multifunction=on") +
                dev("e1000e,bus=pcie.0,addr=0x6.1"), append=VFIO, intel_iommu=False,
                slow=True),
}

# (old, new, class that must be the verdict, exit status)
PAIRS = [
    ("rootports-vfio", "ir-off-cmdline", "isolation_loss", 1),
    ("rootports-vfio", "ir-off-hw", "isolation_loss", 1),
    ("rootports-vfio", "no-iommu", "isolation_loss", 1),
    ("rootports-vfio", "rootports", "binding_regression", 1),
    ("rootports-vfio", "shifted-vfio", "harmless", 0),
    ("rootports-vfio", "pt", "harmless", 0),
    ("rootports-vfio", "mf-rootport-vfio", "grouping_regression", 1),
    # faults are not a class: the verdict follows the classes (the command line's new token)
    ("rootports-vfio", "aer-inject", "harmless", 0),
    ("rootports-vfio", "aer-qemu", "harmless", 0),
    ("rootports-vfio", "noaer", "harmless", 0),
    ("rootports-vfio", "ports-compat", "harmless", 0),
]

CI_SUBSET = [b for b in BOOTS if not BOOTS[b].get("slow")]

# ---------------------------------------------------------------- booting


def kvm_usable():
    try:
        fd = os.open("/dev/kvm", os.O_RDWR)
    except OSError:
        return False
    os.close(fd)
    return True


def qemu_cmd(name, spec, kernel, initrd, outdir, accel):
    # no_timer_check: under a loaded TCG the IO-APIC timer check can miss its window and the
    # kernel panics ("timer doesn't work through Interrupt-remapped IO-APIC"); VMs skip it
    append = f"console=ttyS0 panic=-1 no_timer_check lab.name=lab-{name}"
    if spec.get("intel_iommu", True):
        append += " intel_iommu=on"
    if spec.get("append"):
        append += " " + spec["append"]
    cmd = ["qemu-system-x86_64", "-machine", "q35,kernel-irqchip=split", "-m", "1024",
           "-smp", "1", "-nodefaults", "-display", "none", "-no-reboot",
           "-kernel", kernel, "-initrd", initrd, "-append", append,
           "-serial", f"file:{outdir}/console.log", "-serial", f"file:{outdir}/lab.b64"]
    cmd += ["-accel", "kvm", "-cpu", "host"] if accel == "kvm" else ["-accel", "tcg", "-cpu", "max"]
    if spec.get("hmp"):
        cmd += ["-monitor", f"unix:{outdir}/monitor.sock,server=on,wait=off"]
    return cmd + spec["iommu"] + spec["devices"]


def send_hmp(sock_path, commands):
    """QEMU's human monitor: each command, once the guest said it waits for them."""
    with socket.socket(socket.AF_UNIX, socket.SOCK_STREAM) as s:
        s.connect(sock_path)
        s.settimeout(5)
        for cmd in commands:
            s.sendall(cmd.encode() + b"\n")
            time.sleep(1)
        try:
            return s.recv(65536).decode("utf-8", "replace")
        except OSError:
            return ""


def boot(name, spec, kernel, initrd, out, accel, timeout):
    d = os.path.join(out, name)
    shutil.rmtree(d, ignore_errors=True)
    os.makedirs(d)
    cmd = qemu_cmd(name, spec, kernel, initrd, d, accel)
    with open(os.path.join(d, "qemu.cmd"), "w") as f:
        f.write(" ".join(cmd) + "\n")
    t0 = time.monotonic()
    console = os.path.join(d, "console.log")
    p = subprocess.Popen(cmd, stdout=subprocess.DEVNULL, stderr=open(os.path.join(d, "qemu.stderr"), "w"))
    sent = not spec.get("hmp")
    while p.poll() is None:
        secs = time.monotonic() - t0
        if not sent and os.path.exists(console) and \
                b"lab: waiting for the monitor" in open(console, "rb").read():
            sent = True
            with open(os.path.join(d, "monitor.txt"), "w") as f:
                f.write(send_hmp(os.path.join(d, "monitor.sock"), spec["hmp"]))
        silent = not os.path.exists(console) or os.path.getsize(console) == 0
        # a KVM that cannot run this guest (nested, broken) hangs before the first line
        if secs > timeout or (accel == "kvm" and silent and secs > 15):
            p.kill()
            p.wait()
            return None, secs
        time.sleep(0.5)
    text = open(os.path.join(d, "lab.b64"), "rb").read().decode("ascii", "replace")
    if "--- pcisnap-lab end ---" not in text:
        return None, time.monotonic() - t0
    body = text.split("--- pcisnap-lab begin ---", 1)[1].split("--- pcisnap-lab end ---", 1)[0]
    raw = base64.b64decode("".join(body.split()))
    guest = os.path.join(d, "guest")
    with tarfile.open(fileobj=io.BytesIO(gzip.decompress(raw))) as tf:
        tf.extractall(guest, filter="data") if hasattr(tarfile, "data_filter") else tf.extractall(guest)
    return guest, time.monotonic() - t0

# ---------------------------------------------------------------- preflight against a boot

# A Debian initramfs (mkinitramfs of initramfs-tools, for the lab's kernel), with the modules
# and modprobe.d of each case; an init-premount script, which initramfs-tools runs after udev
# has settled and conf/modules is loaded, records which driver each device has and a snapshot
# (pcisnap copied in by a hook), then powers off: the initramfs stage exactly as preflight
# predicts it. The devices are BASE's: an e1000e (8086:10d3) and the xHCI (1b36:000d, whose
# xhci_pci is not in the images) meant for vfio-pci, and an NVMe for the host.
PREFLIGHT_CASES = {
    # vfio-pci in the image with ids and a softdep: it claims the NIC before e1000e
    "pf-vfio": ("vfio vfio_iommu_type1 vfio_pci e1000e nvme",
                "options vfio-pci ids=8086:10d3,1b36:000d\nsoftdep e1000e pre: vfio-pci\n"),
    # no vfio in the image: e1000e claims the NIC in the initramfs
    "pf-novfio": ("e1000e nvme", "options vfio-pci ids=8086:10d3,1b36:000d\n"),
    # vfio-pci in conf/modules but no softdep: udev loads e1000e first, conf/modules is later
    "pf-nosoftdep": ("vfio vfio_iommu_type1 vfio_pci e1000e nvme", "options vfio-pci ids=8086:10d3,1b36:000d\n"),
    # a softdep on a module of the chain, as "softdep drm pre: vfio-pci" is for amdgpu: nvme
    # depends on nvme_core, whose softdep loads vfio-pci first (libkmod's
    # __kmod_module_get_probe_list()), so vfio-pci takes the NVMe; e1000e stays with the NIC
    "pf-softdep-chain": ("vfio vfio_iommu_type1 vfio_pci e1000e nvme",
                         "options vfio-pci ids=1b36:0010\nsoftdep nvme_core pre: vfio-pci\n"),
}
# the device each case means for vfio-pci (checked to be among the predicted ones)
PREFLIGHT_TARGET = {"pf-softdep-chain": "1b36:0010"}
# Images crafted from a Debian-built one (init/initramfs.c decides what they unpack to), with
# the driver the kernel must give the NIC at the end of the initramfs: the main archive split
# in two, the vfio modules in the second, appended as its own zstd stream (unpacked: vfio-pci);
# appended uncompressed after NUL bytes that leave it off a multiple of 4 (unpack_to_rootfs()
# takes it for a compressed stream: "invalid magic at start of compressed archive", the
# kernel stops, e1000e); and the same at a multiple of 4 (unpacked: vfio-pci).
CRAFTED = {
    "pf-split-zstd": ("pf-vfio", "split", "vfio-pci"),
    "pf-unaligned": ("pf-vfio", "unaligned", "e1000e"),
    "pf-aligned": ("pf-vfio", "aligned", "vfio-pci"),
    # the image whole, then an archive (4-byte aligned) whose member takes vfio-pci.ko's name:
    # a symlink (clean_path() removes the module), an empty file (O_TRUNC)
    "pf-ko-symlink": ("pf-vfio", "ko-symlink", "e1000e"),
    "pf-ko-empty": ("pf-vfio", "ko-empty", "e1000e"),
    # vfio-pci.ko taken out of the main archive and put back in a second one under a name with
    # "." and ".." (the VFS resolves it), or as a hard link group whose data comes with another
    # name (maybe_link(): the first name sees it)
    "pf-ko-dotted": ("pf-vfio", "ko-dotted", "vfio-pci"),
    "pf-ko-hardlink": ("pf-vfio", "ko-hardlink", "vfio-pci"),
}


def newc_members(data, off=0):
    """The members of the newc archive at data[off:], with the offset after its TRAILER!!!."""
    out = []
    while True:
        h = data[off:off + 110]
        if h[:6] not in (b"070701", b"070702"):
            raise ValueError(f"no newc header at {off}")
        size, namesize = int(h[54:62], 16), int(h[94:102], 16)
        name_end = off + 110 + namesize
        data_start = (name_end + 3) & ~3
        end = (data_start + size + 3) & ~3
        name = data[off + 110:name_end - 1].decode("utf-8", "replace")
        if name == "TRAILER!!!":
            return out, end
        out.append((name, data[off:end]))
        off = end


def newc_member(name, data, mode, nlink=1, ino=0):
    nb = name.encode() + b"\0"
    h = b"070701" + b"".join(b"%08X" % f for f in [ino, mode, 0, 0, nlink, 0, len(data), 0, 0, 0, 0,
                                                   len(nb), 0])
    pad = lambda n: b"\0" * ((4 - n % 4) % 4)
    return name, h + nb + pad(110 + len(nb)) + data + pad(len(data))


def newc_archive(members):
    trailer = b"070701" + b"".join(b"%08X" % f for f in [0, 0, 0, 0, 1, 0, 0, 0, 0, 0, 0, 11, 0])
    blob = b"".join(m for _, m in members) + trailer + b"TRAILER!!!\0"
    return blob + b"\0" * ((4 - len(blob) % 4) % 4)


def newc_member_data(blob):
    """The data of one newc member's bytes (header, name, padding, data, padding)."""
    size, namesize = int(blob[54:62], 16), int(blob[94:102], 16)
    start = (110 + namesize + 3) & ~3
    return blob[start:start + size]


def zst(b):
    return subprocess.run(["zstd", "-q", "-c"], input=b, capture_output=True, check=True).stdout


def craft_image(src, dst, how):
    """dst from the Debian image src: its leading uncompressed archives kept as they are, its
    zstd main archive split into the rest and the vfio modules, which come second as how says;
    for ko-*, an archive after it with a member at vfio-pci.ko's name, as how says."""
    data = open(src, "rb").read()
    off = 0
    while data[off:off + 6] in (b"070701", b"070702"):
        _, off = newc_members(data, off)
        while off < len(data) and data[off] == 0:
            off += 1
    early, main = data[:off], subprocess.run(["zstd", "-d", "-c"], input=data[off:],
                                            capture_output=True, check=True).stdout
    members, _ = newc_members(main)
    vfio = [m for m in members if "/kernel/drivers/vfio/" in m[0] and not m[0].endswith("/vfio")
            and int(m[1][14:22], 16) & 0o170000 == 0o100000]
    ko = [m for m in vfio if m[0].endswith("/vfio-pci.ko")]
    if how.startswith("ko-") and ko:
        name, blob = ko[0]
        kodata = newc_member_data(blob)
        if how == "ko-symlink":
            extra = [newc_member(name, b"/dev/null", 0o120777)]
        elif how == "ko-empty":
            extra = [newc_member(name, b"", 0o100644)]
        elif how == "ko-dotted":
            d, base = name.rsplit("/", 1)
            extra = [newc_member(f"{d}/../{d.rsplit('/', 1)[1]}/./{base}", kodata, 0o100644)]
        else:  # ko-hardlink: GNU cpio's order, the data with the group's last name
            extra = [newc_member(name, b"", 0o100644, 2, 424242),
                     newc_member(name[:-3] + "-data.ko", kodata, 0o100644, 2, 424242)]
        if how in ("ko-symlink", "ko-empty"):
            first = data
        else:
            first = early + zst(newc_archive([m for m in members if m not in ko]))
        first += b"\0" * ((4 - len(first) % 4) % 4)
        open(dst, "wb").write(first + newc_archive(extra))
        return
    rest = [m for m in members if m not in vfio]
    if not vfio:
        raise ValueError("no vfio module in the image")
    first = early + zst(newc_archive(rest))
    if how == "split":
        out = first + zst(newc_archive(vfio))
    else:
        pad = 1 if how == "unaligned" else 4
        while (len(first) + pad) % 4 != (1 if how == "unaligned" else 0):
            pad += 1
        out = first + b"\0" * pad + newc_archive(vfio)
    open(dst, "wb").write(out)

PREMOUNT = r"""#!/bin/sh
[ "$1" = prereqs ] && exit 0
o=/run/lab
mkdir -p $o
for d in /sys/bus/pci/devices/*; do
	drv=-
	[ -e "$d/driver" ] && drv=$(cd "$d/driver" && pwd -P) && drv=${drv##*/}
	echo "${d##*/} $drv"
done >$o/drivers.txt
# the root file system as the kernel unpacked the image (and init's mkdirs): type, size, name;
# the mounts over /dev, /proc, /sys and /run left out (-xdev)
find / -xdev -exec stat -c '%F|%s|%n' {} + >$o/files.txt 2>/dev/null
/bin/pcisnap collect -o $o/snapshot.json 2>$o/collect.stderr
{
	echo "--- pcisnap-lab begin ---"
	echo "--- files ---"
	cat $o/files.txt
	echo "--- drivers ---"
	cat $o/drivers.txt
	echo "--- snapshot ---"
	cat $o/snapshot.json
	echo "--- pcisnap-lab end ---"
} >/dev/ttyS1
sync
echo o >/proc/sysrq-trigger
poweroff -f
sleep 30
"""

HOOK = r"""#!/bin/sh
[ "$1" = prereqs ] && exit 0
. /usr/share/initramfs-tools/hook-functions
copy_exec "$PCISNAP_LAB_BINARY" /bin/pcisnap
"""


def mk_debian_initramfs(work, kver, modules, modprobe, pcisnap):
    conf = os.path.join(work, "conf")
    for sub in ("conf.d", "scripts/init-premount", "hooks"):
        os.makedirs(os.path.join(conf, sub), exist_ok=True)
    open(os.path.join(conf, "initramfs.conf"), "w").write(
        "MODULES=list\nBUSYBOX=auto\nCOMPRESS=zstd\nRUNSIZE=10%\nFSTYPE=auto\n")
    open(os.path.join(conf, "modules"), "w").write("\n".join(modules.split()) + "\n")
    for path, text in ((os.path.join(conf, "scripts/init-premount/pcisnap-lab"), PREMOUNT),
                       (os.path.join(conf, "hooks/pcisnap-lab"), HOOK)):
        open(path, "w").write(text)
        os.chmod(path, 0o755)
    mpd = os.path.join(work, "modprobe.d")
    os.makedirs(mpd, exist_ok=True)
    open(os.path.join(mpd, "lab.conf"), "w").write(modprobe.replace("\\n", "\n"))
    image = os.path.join(work, "initrd.img")
    # modprobe.d bind-mounted in a private mount namespace: the machine's own is not touched
    subprocess.run(["unshare", "-m", "sh", "-c",
                    f"mount --bind '{mpd}' /etc/modprobe.d && mkinitramfs -d '{conf}' -o '{image}' '{kver}'"],
                   check=True, env=dict(os.environ, PCISNAP_LAB_BINARY=os.path.abspath(pcisnap)),
                   stdout=subprocess.DEVNULL, stderr=open(os.path.join(work, "mkinitramfs.log"), "w"))
    return image, mpd


def boot_debian(name, kernel, image, out, accel, timeout, append):
    d = os.path.join(out, name)
    shutil.rmtree(d, ignore_errors=True)
    os.makedirs(d)
    cmd = ["qemu-system-x86_64", "-machine", "q35,kernel-irqchip=split", "-m", "1024",
           "-smp", "1", "-nodefaults", "-display", "none", "-no-reboot",
           "-kernel", kernel, "-initrd", image, "-append", append,
           "-serial", f"file:{d}/console.log", "-serial", f"file:{d}/lab.txt"]
    cmd += ["-accel", "kvm", "-cpu", "host"] if accel == "kvm" else ["-accel", "tcg", "-cpu", "max"]
    cmd += INTEL + BASE
    open(os.path.join(d, "qemu.cmd"), "w").write(" ".join(cmd) + "\n")
    try:
        subprocess.run(cmd, timeout=timeout, stdout=subprocess.DEVNULL,
                       stderr=open(os.path.join(d, "qemu.stderr"), "w"))
    except subprocess.TimeoutExpired:
        return None
    text = open(os.path.join(d, "lab.txt"), "rb").read().decode("utf-8", "replace").replace("\r", "")
    if "--- pcisnap-lab end ---" not in text:
        return None
    body = text.split("--- pcisnap-lab begin ---", 1)[1].split("--- pcisnap-lab end ---", 1)[0]
    files = body.split("--- files ---", 1)[1].split("--- drivers ---", 1)[0]
    drivers = body.split("--- drivers ---", 1)[1].split("--- snapshot ---", 1)[0]
    snap = body.split("--- snapshot ---", 1)[1]
    open(os.path.join(d, "snapshot.json"), "w").write(snap)
    open(os.path.join(d, "files.txt"), "w").write(files)
    return dict(l.split(None, 1) for l in drivers.strip().splitlines() if " " in l), \
        os.path.join(d, "snapshot.json"), files


# stat -c %F of busybox, as the prediction's types
STAT_TYPES = {"regular file": "f", "regular empty file": "f", "directory": "d", "symbolic link": "l"}
# what Debian's init does to the root before init-premount: mkdir of /sys, /proc, /tmp,
# /var/lock (and /root, /dev when missing); the mounts over /dev, /proc, /sys and /run hide
# what is below them
INIT_MADE = {"tmp", "var", "var/lock", "root", "sys", "proc", "dev", "run"}
MOUNTED = ("dev", "proc", "sys", "run")


def unpacked_files(listing):
    """{name: (type, size)} from the guest's find/stat listing: a symlink's size is its target's
    length, a directory's and a device node's size are not compared."""
    out = {}
    for l in listing.strip().splitlines():
        parts = l.split("|", 2)
        if len(parts) != 3 or not parts[2].startswith("/") or parts[2] == "/":
            continue
        name = parts[2].lstrip("/")
        t = STAT_TYPES.get(parts[0], "o")
        out[name] = (t, int(parts[1]) if t in ("f", "l") else None)
    return out


def compare_files(c, name, predicted, listing):
    """preflight's file set of the image (--list-files) against what the guest kernel unpacked."""
    got = unpacked_files(listing)
    pred = {}
    for n, f in (predicted or {}).items():
        t = f.get("type")
        pred[n] = (t, f.get("size") if t == "f" else len((f.get("target") or "").encode())
                   if t == "l" else None)
    hidden = lambda n: n.split("/", 1)[0] in MOUNTED and "/" in n
    diffs = []
    for n in sorted(set(got) | set(pred)):
        if hidden(n) or (n not in pred and n in INIT_MADE):
            continue
        if got.get(n) != pred.get(n):
            diffs.append(f"{n}: predicted {pred.get(n)}, unpacked {got.get(n)}")
    c.ok(f"{name}: the files and sizes the kernel unpacked are the predicted ones "
         f"({len(got)} names)", len(got) > 100 and not diffs, "; ".join(diffs[:12]) +
         (f" (and {len(diffs) - 12} more)" if len(diffs) > 12 else ""))


def check_preflight(c, args, kver, kernel, accel):
    """preflight's prediction of the initramfs stage against the guest's bindings in it."""
    if not shutil.which("mkinitramfs"):
        c.ok("preflight lab: mkinitramfs (initramfs-tools) is installed", False)
        return
    append = "console=ttyS0 panic=-1 no_timer_check intel_iommu=on"
    only = [n for n in os.environ.get("PCISNAP_LAB_PF", "").split(",") if n]
    built = {}
    for name in list(PREFLIGHT_CASES) + list(CRAFTED):
        if only and name not in only and not any(CRAFTED.get(o, ("",))[0] == name for o in only):
            continue
        work = os.path.join(os.path.abspath(args.out), name + "-image")
        if name in CRAFTED:
            base, how, want_nic = CRAFTED[name]
            if base not in built:
                c.ok(f"{name}: its base image {base} was built", False)
                continue
            shutil.rmtree(work, ignore_errors=True)
            os.makedirs(work)
            image, mpd = os.path.join(work, "initrd.img"), built[base][1]
            craft_image(built[base][0], image, how)
        else:
            shutil.rmtree(work, ignore_errors=True)
            os.makedirs(work)
            modules, modprobe = PREFLIGHT_CASES[name]
            image, mpd = mk_debian_initramfs(work, kver, modules, modprobe, args.pcisnap)
            built[name] = (image, mpd)
        if only and name not in only:
            continue
        got = None
        for _ in range(2):  # once more: a boot under TCG can fail on a loaded machine
            got = boot_debian(name, kernel, image, args.out, accel, 60 if accel == "kvm" else 400, append)
            if got:
                break
            accel = "tcg"  # nested KVM that does not answer: TCG for good
        if not got:
            c.ok(f"{name}: the Debian initramfs booted and answered", False,
                 f"see {args.out}/{name}/console.log")
            continue
        drivers, snap, listing = got
        # the root the prediction reads: the lab kernel's modules, the image's modprobe.d
        root = os.path.join(work, "root")
        os.makedirs(os.path.join(root, "lib/modules"), exist_ok=True)
        shutil.copytree(f"/lib/modules/{kver}", os.path.join(root, "lib/modules", kver),
                        ignore=shutil.ignore_patterns("kernel", "updates", "build", "source"))
        shutil.copytree(mpd, os.path.join(root, "etc/modprobe.d"))
        r = subprocess.run([args.pcisnap, "preflight", snap, "--root", root, "--kernel", kver,
                            "--initramfs", image, "--cmdline", append, "--format", "json",
                            "--list-files"], capture_output=True, text=True)
        open(os.path.join(args.out, name, "preflight.json"), "w").write(r.stdout)
        try:
            pred = json.loads(r.stdout)
        except ValueError:
            c.ok(f"{name}: preflight answered", False, r.stderr.strip())
            continue
        compare_files(c, name, (pred.get("initramfs") or {}).get("files"), listing)
        devs = {d["bdf"]: d for d in pred["devices"]}
        target = PREFLIGHT_TARGET.get(name, "8086:10d3")
        if name in CRAFTED:  # the kernel did what the crafted image is about
            nic = [b for b, d in devs.items() if d["ids"] == "8086:10d3"]
            c.eq(f"{name}: the kernel gave the NIC", drivers.get(nic[0], "?").strip().replace("_", "-")
                 if nic else "?", CRAFTED[name][2])
        c.ok(f"{name}: the device meant for vfio-pci ({target}) is predicted", any(
            d["ids"] == target for d in devs.values()), json.dumps(list(devs)))
        for bdf, d in devs.items():
            # what the kernel bound by the end of the initramfs: the prediction's kernel and
            # initramfs stages, and nothing for a device claimed only later
            want = drivers.get(bdf, "?").strip()
            early = d["stage"] in ("kernel", "initramfs")
            said = (d["predicted"] or "-").replace("_", "-") if early else "-"
            got_drv = want.replace("_", "-")
            c.eq(f"{name}: {bdf} [{d['ids']}] bound at the end of the initramfs", said, got_drv)
        print(f"lab: {name}: preflight held against the boot" if c.failed == 0 else
              f"lab: {name}: checked", flush=True)

# ---------------------------------------------------------------- the guest's truth


def read_config(path):
    return open(path, "rb").read()


def caps(cfg):
    """Standard capabilities {id: offset} and extended {id: offset} from raw config bytes."""
    std, ext = {}, {}
    if len(cfg) >= 64 and struct.unpack_from("<H", cfg, 6)[0] & 0x10:
        pos, seen = cfg[0x34] & 0xfc, 0
        while pos and pos + 2 <= len(cfg) and seen < 48:
            std.setdefault(cfg[pos], pos)
            pos, seen = cfg[pos + 1] & 0xfc, seen + 1
    if 0x10 in std and len(cfg) > 0x100:
        pos, seen = 0x100, 0
        while pos and pos + 4 <= len(cfg) and seen < 96:
            hdr = struct.unpack_from("<I", cfg, pos)[0]
            if hdr in (0, 0xffffffff):
                break
            ext.setdefault(hdr & 0xffff, pos)
            pos, seen = (hdr >> 20) & 0xffc, seen + 1
    return std, ext


ACS_NAMES = ["SV", "TB", "RR", "CR", "UF", "EC", "DT"]


def truth_of_config(cfg):
    std, ext = caps(cfg)
    t = {"multifunction": bool(cfg[0x0e] & 0x80)}
    flr = False
    if 0x10 in std:
        flr = bool(struct.unpack_from("<I", cfg, std[0x10] + 4)[0] & (1 << 28))
    if 0x13 in std:  # PCI Advanced Features
        flr = flr or bool(cfg[std[0x13] + 3] & 0x02)
    t["flr"] = flr
    if 0x0d in ext:
        cap, ctl = struct.unpack_from("<HH", cfg, ext[0x0d] + 4)
        t["acs"] = {"present": True, "cap": [n for i, n in enumerate(ACS_NAMES) if cap & (1 << i)],
                    "ctl": [n for i, n in enumerate(ACS_NAMES) if ctl & (1 << i)]}
    else:
        t["acs"] = {"present": False, "cap": [], "ctl": []}
    # a root or downstream port's Link Status (collect/pcie_regs.c): Data Link Layer Link Active
    # where Link Capabilities' DLLLARC (bit 20) says it is reported, Link Training
    t["link_state"] = None
    if 0x10 in std:
        e = std[0x10]
        ptype = (struct.unpack_from("<H", cfg, e + 2)[0] >> 4) & 0xf
        if ptype in (4, 6):
            lnkcap = struct.unpack_from("<I", cfg, e + 0x0c)[0]
            lnksta = struct.unpack_from("<H", cfg, e + 0x12)[0]
            t["link_state"] = {"active": bool(lnksta & 0x2000) if lnkcap & (1 << 20) else None,
                               "training": bool(lnksta & 0x0800)}
    # DPC (0x1d): present, Trigger Enable, Trigger Status; AER (0x01): the mask and severity
    # registers (the status registers change as the kernel handles errors)
    if len(cfg) >= 4096 and 0x10 in std:
        if 0x1d in ext:
            ctl, status = struct.unpack_from("<HH", cfg, ext[0x1d] + 6)
            t["dpc"] = {"present": True,
                        "trigger": {0: "off", 1: "fatal", 2: "nonfatal"}.get(ctl & 3, "reserved"),
                        "triggered": bool(status & 1)}
        else:
            t["dpc"] = {"present": False}
        if 0x01 in ext:
            mask, sev = struct.unpack_from("<II", cfg, ext[0x01] + 8)
            t["aer_masks"] = {"uncor_mask": "%08x" % mask, "uncor_severity": "%08x" % sev}
        else:
            t["aer_masks"] = None
    return t


def lines(path):
    try:
        return [l.rstrip("\n") for l in open(path, errors="replace")]
    except FileNotFoundError:
        return []


class Boot:
    def __init__(self, name, guest):
        self.name, self.g = name, guest
        self.snap = json.load(open(os.path.join(guest, "snapshot.json")))
        self.check = json.load(open(os.path.join(guest, "check.json")))
        self.groups = {}
        for l in lines(os.path.join(guest, "groups.txt")):
            gid, bdf = l.split()
            self.groups.setdefault(int(gid), set()).add(bdf)
        self.drivers = dict(l.split(None, 1) for l in lines(os.path.join(guest, "drivers.txt")))
        self.modules = sorted(l.split()[0] for l in lines(os.path.join(guest, "modules.txt")) if l)
        self.cmdline = open(os.path.join(guest, "cmdline.txt")).read().split()
        self.dmesg = open(os.path.join(guest, "dmesg.txt"), errors="replace").read()
        self.interrupts = open(os.path.join(guest, "interrupts.txt"), errors="replace").read()
        self.config = {os.path.basename(p): read_config(p)
                       for p in glob.glob(os.path.join(guest, "config", "*"))}


# ---------------------------------------------------------------- assertions

class Checker:
    def __init__(self):
        self.passed = self.failed = 0
        self.failures = []

    def eq(self, what, got, want):
        if got == want:
            self.passed += 1
        else:
            self.failed += 1
            self.failures.append(f"{what}: pcisnap says {got!r}, the guest kernel {want!r}")

    def ok(self, what, cond, detail=""):
        if cond:
            self.passed += 1
        else:
            self.failed += 1
            self.failures.append(f"{what}{': ' + detail if detail else ''}")


def snapshot_groups(snap):
    gs = {}
    for d in snap["devices"]:
        if d.get("iommu_group") is not None:
            gs.setdefault(d["iommu_group"], set()).add(d["bdf"])
    return gs


def partition(groups):
    return sorted(sorted(g) for g in groups.values())


def expected_ir(b):
    """The guest's own word on interrupt remapping: dmesg, then the IR- chips it set up."""
    if "Enabled IRQ remapping" in b.dmesg or "Interrupt remapping enabled" in b.dmesg:
        return "enabled"
    if "IR-PCI-MSI" in b.interrupts or "IR-IO-APIC" in b.interrupts:
        return "enabled"
    return "disabled"


AER_TOTALS = {"aer_dev_correctable": ("correctable", "TOTAL_ERR_COR"),
              "aer_dev_nonfatal": ("nonfatal", "TOTAL_ERR_NONFATAL"),
              "aer_dev_fatal": ("fatal", "TOTAL_ERR_FATAL"),
              "aer_rootport_total_err_cor": ("rootport_correctable", None),
              "aer_rootport_total_err_nonfatal": ("rootport_nonfatal", None),
              "aer_rootport_total_err_fatal": ("rootport_fatal", None)}


def aer_truth(b):
    """bdf -> {counter: value} from the guest's aer_dev_* (their TOTAL_ERR_* lines) and
    aer_rootport_total_err_* attributes."""
    out = {}
    for l in lines(os.path.join(b.g, "aer.txt")):
        parts = l.split()
        if len(parts) < 3 or parts[1] not in AER_TOTALS:
            continue
        key, total = AER_TOTALS[parts[1]]
        vals = dict(zip(parts[2::2], parts[3::2])) if total else {None: parts[2]}
        if vals.get(total, "").isdigit():
            out.setdefault(parts[0], {})[key] = int(vals[total])
    return out


def check_boot(c, b):
    n = b.name
    s = b.snap
    devs = {d["bdf"]: d for d in s["devices"]}
    physfn = dict(l.split() for l in lines(os.path.join(b.g, "physfn.txt")) if len(l.split()) == 2)
    c.eq(f"{n}: devices", sorted(devs), sorted(b.drivers))
    c.eq(f"{n}: groups", partition(snapshot_groups(s)), partition(b.groups))
    c.eq(f"{n}: groups[] list", partition({g["id"]: set(g["devices"]) for g in s["groups"]}),
         partition(b.groups))
    for bdf, drv in sorted(b.drivers.items()):
        d = devs.get(bdf, {})
        c.eq(f"{n}: driver of {bdf}", d.get("driver"), None if drv == "-" else drv)
        cfg = b.config.get(bdf)
        if cfg is None or len(cfg) < 256:
            c.ok(f"{n}: full config space of {bdf} in the guest", False)
            continue
        t = truth_of_config(cfg)
        # a read the device does not complete comes back all ones; a VF's Vendor ID always does
        c.eq(f"{n}: {bdf} answers config reads", d.get("responds"),
             None if bdf in physfn else cfg[:2] != b"\xff\xff")
        c.eq(f"{n}: multifunction bit of {bdf}", d.get("multifunction"), t["multifunction"])
        fn = int(bdf.split(".")[1])
        # pci_scan_slot() sets it for functions above 0; a VF is never scanned, and
        # pci_iov_add_virtfn() clears it (virtfn->multifunction = 0)
        c.eq(f"{n}: kernel multifunction of {bdf}", d.get("kernel_multifunction"),
             False if bdf in physfn else t["multifunction"] or fn > 0)
        c.eq(f"{n}: FLR (DevCap bit 28 / AF) of {bdf}", d.get("flr"), t["flr"])
        acs = d.get("acs")
        if isinstance(acs, dict):
            acs = {k: acs[k] for k in ("present", "cap", "ctl")}
        c.eq(f"{n}: ACS of {bdf}", acs, t["acs"])
        c.eq(f"{n}: link state of {bdf} (Link Status)", d.get("link_state"), t["link_state"])
        if "dpc" in t:
            dpc = d.get("dpc")
            if isinstance(dpc, dict) and dpc.get("present"):
                dpc = {k: dpc.get(k) for k in ("present", "trigger", "triggered")}
            c.eq(f"{n}: DPC of {bdf}", dpc, t["dpc"])
            regs = d.get("aer_regs")
            c.eq(f"{n}: AER mask and severity of {bdf}",
                 {k: regs[k] for k in ("uncor_mask", "uncor_severity")} if regs else None,
                 t["aer_masks"])
        if d.get("pcie_type") in ("rc_integrated_endpoint", "rc_event_collector", "conventional"):
            c.eq(f"{n}: link of {bdf} (no link)", d.get("link"), None)
        elif d.get("link"):
            c.ok(f"{n}: link width of {bdf} is a width", d["link"].get("max_width") != 255)
    # the AER counters against the kernel's own attributes: a device without them has none
    aer = aer_truth(b)
    for bdf in sorted(b.drivers):
        c.eq(f"{n}: AER counters of {bdf}", devs.get(bdf, {}).get("aer"), aer.get(bdf))
    # the link pcisnap computes from config space, against the kernel's own attributes
    attrs = {}
    for l in lines(os.path.join(b.g, "links.txt")):
        parts = l.split()
        if len(parts) == 3:
            attrs.setdefault(parts[0], {})[parts[1]] = parts[2].replace("_", " ")
    for bdf, a in sorted(attrs.items()):
        d = devs.get(bdf, {})
        if d.get("pcie_type") in ("rc_integrated_endpoint", "rc_event_collector", "conventional", None):
            continue
        speed = lambda v: None if v in (None, "Unknown") else v.replace(" PCIe", "")
        width = lambda v: None if v in (None, "255") else int(v)
        want = {"max_speed": speed(a.get("max_link_speed")), "max_width": width(a.get("max_link_width")),
                "cur_speed": speed(a.get("current_link_speed")),
                "cur_width": width(a.get("current_link_width"))}
        if want["max_width"] is None and want["cur_width"] == 0:
            want["cur_width"] = None
        if all(v is None for v in want.values()):
            want = None
        c.eq(f"{n}: link of {bdf} (the kernel's attributes)", d.get("link"), want)
    # each VF's PF, and only VFs have one: the guest kernel's physfn links
    for bdf in sorted(b.drivers):
        c.eq(f"{n}: physfn of {bdf}", devs.get(bdf, {}).get("physfn"), physfn.get(bdf))
    want_vfs = re.search(r"lab\.sriov=\S+:(\d+)", BOOTS.get(n, {}).get("append", ""))
    if want_vfs:
        c.ok(f"{n}: the VFs the guest enabled", len(physfn) == int(want_vfs.group(1)),
             " ".join(lines(os.path.join(b.g, "sriov.err"))))
    c.eq(f"{n}: modules", sorted(s["kernel"]["modules"]), b.modules)
    c.eq(f"{n}: cmdline", s["kernel"]["cmdline"].split(), b.cmdline)
    iommu_on = bool(b.groups)
    c.eq(f"{n}: iommu enabled", s["iommu"]["enabled"], iommu_on)
    c.eq(f"{n}: interrupt remapping", s["iommu"]["irq_remapping"], expected_ir(b))
    c.eq(f"{n}: vfio modules loaded", s["vfio"]["modules"].get("vfio_pci"), "vfio_pci" in b.modules)
    # implied groups equal the kernel's groups, exactly, over the devices the kernel grouped
    # (an IOMMU that is itself a PCI function, AMD's, is in no group)
    if iommu_on:
        grouped = set().union(*b.groups.values())
        implied = {}
        for i, g in enumerate(b.check.get("implied_groups", [])):
            members = set(g["devices"] if isinstance(g, dict) else g) & grouped
            if members:
                implied[i] = members
        c.eq(f"{n}: implied groups", partition(implied), partition(b.groups))
    # check has no FAIL the guest's truth contradicts
    for item in b.check.get("checks", []):
        if item.get("status") != "FAIL":
            continue
        cid = item.get("id") or item.get("check")
        if cid in ("isolation_enforced", "group_explained", "acs_override"):
            c.ok(f"{n}: check FAIL {cid} on a host with no ACS override", "pcie_acs_override"
                 in " ".join(b.cmdline), json.dumps(item))
        elif cid == "irq_remapping":
            c.ok(f"{n}: check FAIL irq_remapping while the guest remaps", expected_ir(b) != "enabled")
        elif cid == "iommu_active":
            c.ok(f"{n}: check FAIL iommu_active while the guest has groups", not iommu_on)
        elif cid == "containment":
            # a link is down when the device behind it answers no config read (QEMU's root
            # ports leave Link Active clear over devices that answer), or DPC contained it
            cfg = b.config.get(item.get("subject"), b"")
            c.ok(f"{n}: check FAIL containment of {item.get('subject')} while it answers "
                 "config reads and no DPC contained its link", cfg[:2] == b"\xff\xff" or
                 "DPC: containment event" in b.dmesg, json.dumps(item))
    if "lab.inject=" in " ".join(b.cmdline) or "lab.hmp_wait=" in " ".join(b.cmdline):
        check_injected(c, b)
    check_forensics(c, b)
    c.ok(f"{n}: collect exit status 0", open(os.path.join(b.g, "collect.rc")).read().strip() == "0",
         open(os.path.join(b.g, "collect.stderr")).read())


AER_LINE = re.compile(r"AER: (?:Multiple )?(Corrected|Uncorrected \(Non-Fatal\)|Uncorrected \(Fatal\)) "
                      r"error (?:message received from|received:) (\S+)")
AER_SEVERITY = {"Corrected": "correctable", "Uncorrected (Non-Fatal)": "nonfatal",
                "Uncorrected (Fatal)": "fatal"}


def injected_truth(b):
    """What the guest kernel said of the errors aer_inject injected: its counters, the AER
    lines by the source device they name (aer_print_port_info()), and each passthrough
    device's path (the ports above it in its sysfs path)."""
    counts = {}
    for m in AER_LINE.finditer(b.dmesg):
        bdf = m.group(2) if m.group(2).count(":") == 2 else "0000:" + m.group(2)
        sev = AER_SEVERITY[m.group(1)]
        counts.setdefault(bdf, {}).setdefault(sev, 0)
        counts[bdf][sev] += 1
    paths = {}
    for l in lines(os.path.join(b.g, "paths.txt")):
        bdf, path = l.split()
        comps = [p for p in path.split("/") if re.fullmatch(r"[0-9a-f]{4}:[0-9a-f]{2}:[0-9a-f]{2}\.[0-7]", p)]
        paths[bdf] = comps[:-1]
    return aer_truth(b), counts, paths


def check_injected(c, b):
    """Errors injected with aer_inject: check says what the guest kernel counted and logged."""
    n = b.name
    aer, counts, paths = injected_truth(b)
    inj = re.search(r"lab\.inject=(\S+)", " ".join(b.cmdline))
    if inj:
        c.ok(f"{n}: aer_inject injected every error", all(
            l.endswith(" injected") for l in lines(os.path.join(b.g, "inject.txt")) if "aer_inject" not in l)
            and len([l for l in lines(os.path.join(b.g, "inject.txt")) if l.endswith(" injected")]) ==
            len(inj.group(1).split(",")), " ".join(lines(os.path.join(b.g, "inject.txt"))))
    else:  # QEMU's injections: the kernel logged each
        want = int(re.search(r"lab\.hmp_wait=(\d+)", " ".join(b.cmdline)).group(1))
        c.eq(f"{n}: the AER messages QEMU's injections raised", sum(
            sum(v.values()) for v in counts.values()), want)
    findings = {}
    for item in b.check.get("checks", []):
        findings.setdefault((item.get("id"), item.get("subject")), item.get("status"))
    for bdf, drv in sorted(b.drivers.items()):
        if drv.strip() != "vfio-pci":
            continue
        on_path = [bdf] + paths.get(bdf, [])
        tot = lambda k: sum(aer.get(x, {}).get(k, 0) + aer.get(x, {}).get("rootport_" + k, 0)
                            for x in on_path)
        want = "FAIL" if tot("fatal") else "WARN" if tot("nonfatal") else None
        c.eq(f"{n}: check aer_errors of {bdf} (the counters on its path: {tot('fatal')} fatal, "
             f"{tot('nonfatal')} non-fatal)", findings.get(("aer_errors", bdf)), want)
        fatal_lines = sum(counts.get(x, {}).get("fatal", 0) for x in on_path)
        other_lines = sum(counts.get(x, {}).get("nonfatal", 0) for x in on_path)
        c.eq(f"{n}: check fault_log of {bdf} (the guest logged {fatal_lines} fatal, "
             f"{other_lines} non-fatal AER lines on its path)", findings.get(("fault_log", bdf)),
             "FAIL" if fatal_lines else "WARN" if other_lines else None)


def check_injected_pair(c, pcisnap, old, new, out):
    """diff from a boot without faults to the boot with injected errors: every counter and
    every AER line on a passthrough path in the faults section, with the guest's numbers; the
    rest (a root port no passthrough device is under) a harmless aer_errors change."""
    what = f"diff {old.name} -> {new.name}"
    aer, counts, paths = injected_truth(new)
    d = json.load(open(os.path.join(out, f"diff-{old.name}--{new.name}.json")))
    on_path = set()
    for bdf, drv in new.drivers.items():
        if drv.strip() == "vfio-pci":
            on_path |= {bdf, *paths.get(bdf, [])}
    got_aer = sorted((f["subject"], f["counter"], f["new"]) for f in d.get("faults", [])
                     if f["kind"] == "aer")
    want_aer = sorted((bdf, k, v) for bdf, cs in aer.items() if bdf in on_path
                      for k, v in cs.items() if v)
    c.eq(f"{what}: AER counters on the passthrough path in the faults section", got_aer, want_aer)
    got_log = sorted((f["subject"], f["severity"], f["new"]) for f in d.get("faults", [])
                     if f["kind"] == "log")
    want_log = sorted((bdf, sev, v) for bdf, cs in counts.items() if bdf in on_path
                      for sev, v in cs.items() if sev != "correctable")
    c.eq(f"{what}: AER lines on the passthrough path in the faults section", got_log, want_log)
    off = sorted(bdf for bdf, cs in aer.items() if bdf not in on_path and any(cs.values()))
    c.ok(f"{what}: errors off every passthrough path are a harmless aer_errors change ({off})",
         all(any(ch.get("kind") == "aer_errors" and bdf in json.dumps(ch)
                 for ch in d.get("changes", [])) for bdf in off) and
         not any(f["subject"] in off for f in d.get("faults", [])), json.dumps(d.get("changes")))
    res = subprocess.run([pcisnap, "diff", "--fail-on", "faults", os.path.join(old.g, "snapshot.json"),
                          os.path.join(new.g, "snapshot.json")], capture_output=True, text=True)
    c.eq(f"{what} --fail-on faults: exit status", res.returncode, 1)
    c.ok(f"{what}: the verdict line names the faults",
         "fault" in (res.stdout.splitlines() or ["", ""])[1], res.stdout[:300])


def check_hidden_pair(c, old, new, out, option):
    """diff to a boot whose command line turns fault reporting off: named as hiding."""
    d = json.load(open(os.path.join(out, f"diff-{old.name}--{new.name}.json")))
    c.ok(f"diff {old.name} -> {new.name}: {option} listed as hiding faults", any(
        f["kind"] == "hidden" and f["subject"] == option for f in d.get("faults", [])),
        json.dumps(d.get("faults")))
    c.ok(f"{new.name}: check WARNs fault_reporting for {option}", any(
        i.get("id") == "fault_reporting" and i.get("subject") == option and i.get("status") == "WARN"
        for i in new.check.get("checks", [])))
    # the kernel did not ask _OSC for AER (negotiate_os_control(): only when pci_aer_available()):
    # the grant without it is the command line's, not the firmware's
    c.ok(f"{new.name}: the firmware not blamed for the AER the kernel did not ask for", not any(
        i.get("id") == "fault_reporting" and i.get("subject") == "_OSC"
        for i in new.check.get("checks", [])), json.dumps(new.check.get("checks")))


def check_forensics(c, b):
    """The boot and forensics facts against what the guest kernel's own files said, and the
    boot unit's commands run in the guest."""
    n, s, g = b.name, b.snap, os.path.join(b.g, "forensics")
    if not os.path.isdir(g):
        c.ok(f"{n}: the guest recorded its forensics facts", False)
        return
    first = lambda f: (lines(os.path.join(g, f)) or [""])[0].strip()
    num = lambda v: int(v) if v.lstrip("-").isdigit() else None
    f = s.get("forensics", {})
    c.eq(f"{n}: boot id", s.get("boot", {}).get("id"), first("boot_id"))
    c.ok(f"{n}: uptime is a number of seconds", isinstance(s.get("boot", {}).get("uptime"), int))
    c.eq(f"{n}: crash kernel reserved", f.get("crash_kernel", {}).get("reserved_bytes"),
         num(first("kexec_crash_size")))
    c.eq(f"{n}: crash kernel loaded", f.get("crash_kernel", {}).get("loaded"),
         num(first("kexec_crash_loaded")))
    want = first("pstore_backend")
    c.eq(f"{n}: pstore backend", f.get("pstore", {}).get("backend"),
         None if "No such file" in want else ("" if want in ("", "(null)") else want))
    recs = [l for l in lines(os.path.join(g, "pstore_ls")) if l and "No such" not in l]
    c.eq(f"{n}: pstore records", f.get("pstore", {}).get("records"), len(recs))
    for l in lines(os.path.join(g, "sysctl")):
        k, v = l.split()
        c.eq(f"{n}: kernel.{k}", f.get("panic", {}).get(k), num(v))
    # the mount /var/log/journal would live on: the longest covering mount point
    best = None
    for l in lines(os.path.join(g, "mountinfo")):
        parts = l.split(" - ")
        if len(parts) != 2:
            continue
        mp = parts[0].split()[4]
        if (mp == "/" or "/var/log/journal".startswith(mp.rstrip("/") + "/")) and \
                (best is None or len(mp) >= len(best[0])):
            best = (mp, parts[1].split()[0])
    m = f.get("journal", {}).get("mount")
    c.eq(f"{n}: the journal's mount", (m["mount_point"], m["fstype"]) if m else None, best)
    # the guest runs from its initramfs (rootfs: RAM), with no journal on a disk
    c.eq(f"{n}: a journal in RAM is not persistent", f.get("journal", {}).get("persistent"), False)
    rc = lambda f: (lines(os.path.join(b.g, f)) or ["?"])[0].strip()
    c.eq(f"{n}: boot start exit status", rc("boot-start.rc"), "0")
    c.eq(f"{n}: boot stop exit status", rc("boot-stop.rc"), "0")
    j = lines(os.path.join(b.g, "boot.journal"))
    c.ok(f"{n}: boot start and stop said so", any("the first boot" in l for l in j) and
         any(first("boot_id") + " ended cleanly" in l for l in j), "\n".join(j))
    try:
        bs = json.load(open(os.path.join(b.g, "boot-snapshot.json")))
        c.eq(f"{n}: the stored snapshot's boot", bs["boot"]["id"], first("boot_id"))
    except (OSError, ValueError, KeyError) as e:
        c.ok(f"{n}: the stored snapshot of boot start", False, str(e))


def check_pair(c, pcisnap, old, new, want_class, want_rc, out):
    res = subprocess.run([pcisnap, "diff", "--format", "json",
                          os.path.join(old.g, "snapshot.json"), os.path.join(new.g, "snapshot.json")],
                         capture_output=True, text=True)
    with open(os.path.join(out, f"diff-{old.name}--{new.name}.json"), "w") as f:
        f.write(res.stdout + res.stderr)
    what = f"diff {old.name} -> {new.name}"
    c.eq(f"{what}: exit status", res.returncode, want_rc)
    try:
        d = json.loads(res.stdout)
    except ValueError:
        c.ok(f"{what}: JSON output", False, res.stderr)
        return
    c.eq(f"{what}: verdict", d.get("verdict"), want_class)

# ---------------------------------------------------------------- main


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--pcisnap", required=True)
    ap.add_argument("--out", required=True)
    ap.add_argument("--subset", choices=["ci", "all"], default="all")
    ap.add_argument("--only", default="")
    ap.add_argument("--kernel-version", default="")
    ap.add_argument("--accel", choices=["auto", "kvm", "tcg"], default=os.environ.get("PCISNAP_LAB_ACCEL", "auto"))
    args = ap.parse_args()

    kver = args.kernel_version or sorted(os.path.basename(k)[len("vmlinuz-"):]
                                         for k in glob.glob("/boot/vmlinuz-*"))[-1]
    kernel = f"/boot/vmlinuz-{kver}"
    here = os.path.dirname(os.path.abspath(__file__))
    os.makedirs(args.out, exist_ok=True)
    initrd = os.path.join(os.path.abspath(args.out), "initramfs.cpio.gz")
    subprocess.run(["bash", os.path.join(here, "mkinitramfs.sh"), args.pcisnap, kver, initrd], check=True)

    names = args.only.split(",") if args.only else (CI_SUBSET if args.subset == "ci" else list(BOOTS))
    boot_names = [n for n in names if n != "preflight"]
    accel = args.accel
    if accel == "auto":
        accel = "kvm" if kvm_usable() else "tcg"
    c = Checker()
    boots = {}
    for name in boot_names:
        spec = BOOTS[name]
        guest, secs = boot(name, spec, kernel, initrd, args.out, accel, 60 if accel == "kvm" else 400)
        if guest is None and accel == "kvm":
            # nested KVM on these machines may hang or fail: fall back to TCG for good
            print(f"lab: {name}: no answer under KVM after {secs:.0f} s, using TCG", flush=True)
            accel = "tcg"
            guest, secs = boot(name, spec, kernel, initrd, args.out, accel, 400)
        if guest is None:  # once more: a boot under TCG can fail on a loaded machine
            print(f"lab: {name}: no answer, booting it once more", flush=True)
            guest, secs = boot(name, spec, kernel, initrd, args.out, accel, 400)
        if guest is None:
            c.ok(f"{name}: the guest booted and answered", False, f"see {args.out}/{name}/console.log")
            continue
        print(f"lab: {name}: booted under {accel} in {secs:.1f} s", flush=True)
        boots[name] = Boot(name, guest)
        before = c.failed
        check_boot(c, boots[name])
        print(f"lab: {name}: {'ok' if c.failed == before else 'FAILED'}", flush=True)
    for old, new, cls, rc in PAIRS:
        if old in boots and new in boots:
            check_pair(c, args.pcisnap, boots[old], boots[new], cls, rc, args.out)
            if new in ("aer-inject", "aer-qemu"):
                check_injected_pair(c, args.pcisnap, boots[old], boots[new], args.out)
            elif new in ("noaer", "ports-compat"):
                check_hidden_pair(c, boots[old], boots[new], args.out,
                                  "pci=noaer" if new == "noaer" else "pcie_ports=compat")
    if not args.only or "preflight" in names:
        check_preflight(c, args, kver, kernel, accel)
    for f in c.failures:
        print("FAIL:", f)
    print(f"{c.passed} passed, {c.failed} failed")
    return 1 if c.failed else 0


if __name__ == "__main__":
    sys.exit(main())
