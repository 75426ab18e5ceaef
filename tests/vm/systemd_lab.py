#!/usr/bin/env python3
# SPDX-License-Identifier: GPL-2.0-or-later
"""The boot gate under a real systemd: Debian's kernel under QEMU, systemd as PID 1 on the
machine's own installed root (shared read-only over 9p, an overlay on top: tests/vm/sd-init),
pcisnap-boot.service as contrib/systemd builds it, journald writing a persistent journal,
systemd-pstore, ramoops for crashes, and a stub pve-guests.service behind the gate drop-in.

    systemd_lab.py --pcisnap build/pcisnap --out build/vm/systemd [--accel auto|kvm|tcg]

Boots, each asserted from the journal and the store, read here on the host afterwards:
  1. a first boot: pcisnap-boot.service active before pve-guests.service starts; a clean
     poweroff recorded by ExecStop (boot stop);
  2. a boot that dies by sysrq crash (a panic, kept by ramoops) after a VM's start and a fatal
     AER error injected with the kernel's aer_inject, and the boot after it, in the same
     machine: the previous boot unclean, its pstore record kept as its last words, the fault
     on the timeline after the VM's start;
  3. a binding regression (vfio-pci.ids gone from the command line) with gate = regression:
     pve-guests.service not started, the regression at priority err;
  4. a stale lock in the store, a pcisnap.conf with an unknown key and a missing textfile
     directory, gate = regression and nothing regressed: the VMs start, err lines say why;
  5. a second crash: its successor keeps the new record only, not the first crash's again.
"""
import argparse
import glob
import json
import os
import shutil
import subprocess
import sys
import time

from lab import kvm_usable  # tests/vm/lab.py, beside this file

HOST = "lab-sd"
MACHINE_ID = "5ca1ab1e5ca1ab1e5ca1ab1e5ca1ab1e"
VFIO = "vfio-pci.ids=8086:10d3"
# 1 MiB at 768 MiB of the guest's 1 GiB, reserved for ramoops (memmap= keeps the kernel off it;
# not the top of RAM, where SeaBIOS writes its tables at every reset)
RAMOOPS = ("memmap=0x100000$0x30000000 ramoops.mem_address=0x30000000 ramoops.mem_size=0x100000 "
           "ramoops.record_size=0x40000 ramoops.console_size=0 ramoops.ecc=1")

UNIT_GUESTS = """[Unit]
Description=stub of Proxmox's pve-guests.service: the VMs
[Service]
Type=oneshot
RemainAfterExit=yes
ExecStart=/bin/sh -c 'echo "the VMs started"'
"""

UNIT_TARGET = """[Unit]
Description=the systemd lab: the boot unit, the VMs, the driver
Requires=sysinit.target
Wants=pcisnap-boot.service pve-guests.service lab-driver.service systemd-pstore.service
After=sysinit.target
AllowIsolate=yes
"""

UNIT_DRIVER = """[Unit]
Description=the systemd lab's driver: records the units' states, then the next step of the plan
After=pcisnap-boot.service pve-guests.service systemd-journald.service
[Service]
Type=oneshot
ExecStart=/bin/sh /persist/driver.sh
StandardOutput=journal+console
"""

# each boot: what the units did, then the plan's next line (poweroff or crash)
DRIVER = """#!/bin/sh
id=$(cat /proc/sys/kernel/random/boot_id)
n=$(ls /persist/states 2>/dev/null | wc -l)
mkdir -p /persist/states
systemctl show pcisnap-boot.service pve-guests.service -p Id,ActiveState,Result \\
	-p ActiveEnterTimestampMonotonic -p InactiveExitTimestampMonotonic >/persist/states/$n-$id
step=$(head -n 1 /persist/plan)
sed -i 1d /persist/plan
echo "lab-driver: boot $id: $step"
journalctl --flush
sync
case $step in
crash | crash-aer)
	# a VM started on this boot as Proxmox logs it: on the dead boot's timeline
	logger -t pvedaemon "<root@pam> starting task UPID:lab:00001234:00005678:656E1A2B:qmstart:100:root@pam:"
	journalctl --flush
	if [ "$step" = crash-aer ]; then
		# then a fatal error on the NIC's link, as the kernel's aer_inject injects it: struct
		# aer_error_inj for 0000:01:00.0, uncor_status Malformed TLP (fatal by default)
		modprobe aer_inject
		printf '\\001\\000\\000\\000\\000\\000\\004\\000' >/tmp/einj
		printf '\\000\\000\\000\\000\\000\\000\\000\\000\\000\\000\\000\\000' >>/tmp/einj
		printf '\\000\\000\\000\\000\\000\\000\\000\\000\\000\\000\\000\\000' >>/tmp/einj
		dd if=/tmp/einj of=/dev/aer_inject bs=32 count=1 2>/dev/null
		sleep 5
		journalctl --flush
	fi
	sync
	echo 1 >/proc/sys/kernel/sysrq
	echo c >/proc/sysrq-trigger ;;
*) systemctl --no-block poweroff ;;
esac
"""


def mkinitramfs(kver, out, here):
    work = out + ".d"
    shutil.rmtree(work, ignore_errors=True)
    for d in ["bin", "sbin", "proc", "sys", "dev", "etc", f"lib/modules/{kver}"]:
        os.makedirs(os.path.join(work, d), exist_ok=True)
    shutil.copy("/bin/busybox", os.path.join(work, "bin/busybox"))
    apps = subprocess.run(["/bin/busybox", "--list"], capture_output=True, text=True).stdout.split()
    for app in apps:
        if app not in ("busybox", "modprobe", "insmod", "depmod", "modinfo", "lsmod", "rmmod"):
            os.symlink("busybox", os.path.join(work, "bin", app))
    # kmod's modprobe, with its libraries, resolves what the modules need as the guest will
    def copy_elf(src, dst):
        os.makedirs(os.path.dirname(os.path.join(work, dst)), exist_ok=True)
        shutil.copy(src, os.path.join(work, dst))
        for line in subprocess.run(["ldd", src], capture_output=True, text=True).stdout.splitlines():
            parts = line.split()
            lib = parts[2] if "=>" in parts and len(parts) > 2 and parts[2].startswith("/") else \
                parts[0] if parts and parts[0].startswith("/") else None
            if lib and not os.path.exists(work + lib):
                os.makedirs(os.path.dirname(work + lib), exist_ok=True)
                shutil.copy(lib, work + lib)
    copy_elf("/usr/bin/kmod", "bin/kmod")
    os.symlink("kmod", os.path.join(work, "bin/modprobe"))
    if os.path.exists("/lib64/ld-linux-x86-64.so.2") and not os.path.exists(work + "/lib64/ld-linux-x86-64.so.2"):
        os.makedirs(work + "/lib64", exist_ok=True)
        shutil.copy("/lib64/ld-linux-x86-64.so.2", work + "/lib64/")
    kos = set()
    for m in ["virtio_pci", "9pnet_virtio", "9p", "overlay", "ramoops"]:
        dep = subprocess.run(["modprobe", "-S", kver, "--show-depends", m], capture_output=True, text=True).stdout
        kos |= {l.split()[1] for l in dep.splitlines() if l.startswith("insmod ")}
    for ko in kos:
        os.makedirs(os.path.dirname(work + ko), exist_ok=True)
        shutil.copy(ko, work + ko)
    for f in ["modules.builtin", "modules.builtin.modinfo", "modules.order"]:
        shutil.copy(f"/lib/modules/{kver}/{f}", os.path.join(work, f"lib/modules/{kver}/{f}"))
    subprocess.run(["depmod", "-b", work, kver], check=True)
    shutil.copy(os.path.join(here, "sd-init"), os.path.join(work, "init"))
    os.chmod(os.path.join(work, "init"), 0o755)
    cpio = subprocess.run(f"cd '{work}' && find . -print0 | sort -z | cpio --null -o -H newc --quiet | gzip -1",
                          shell=True, capture_output=True, check=True).stdout
    open(out, "wb").write(cpio)
    shutil.rmtree(work)


def overlay(persist, pcisnap, src, conf):
    """The lab's files, copied over the guest's root by sd-init at every boot."""
    o = os.path.join(persist, "overlay")
    shutil.rmtree(o, ignore_errors=True)
    units = os.path.join(o, "etc/systemd/system")
    os.makedirs(os.path.join(units, "pve-guests.service.d"))
    for u in ["pcisnap-boot.service", "pcisnap-boot-end.service"]:
        unit = open(os.path.join(src, "contrib/systemd", u + ".in")).read()
        open(os.path.join(units, u), "w").write(unit.replace("@SNAP_BIN@", pcisnap))
    shutil.copy(os.path.join(src, "contrib/systemd/pcisnap-gate.conf"), os.path.join(units, "pve-guests.service.d/"))
    open(os.path.join(units, "pve-guests.service"), "w").write(UNIT_GUESTS)
    open(os.path.join(units, "lab.target"), "w").write(UNIT_TARGET)
    open(os.path.join(units, "lab-driver.service"), "w").write(UNIT_DRIVER)
    os.makedirs(os.path.join(o, "etc/pcisnap"))
    open(os.path.join(o, "etc/pcisnap/pcisnap.conf"), "w").write(conf)
    open(os.path.join(o, "etc/machine-id"), "w").write(MACHINE_ID + "\n")
    open(os.path.join(o, "etc/hostname"), "w").write(HOST + "\n")
    open(os.path.join(o, "etc/fstab"), "w").write("# the systemd lab: nothing to mount\n")
    # a persistent journal on the persistent share, as on a host whose /var/log is a disk
    os.makedirs(os.path.join(o, "etc/systemd/journald.conf.d"))
    open(os.path.join(o, "etc/systemd/journald.conf.d/lab.conf"), "w").write("[Journal]\nStorage=persistent\n")
    open(os.path.join(persist, "driver.sh"), "w").write(DRIVER)


def run(name, kernel, initrd, persist, out, accel, append, plan, timeout):
    """One QEMU machine: boots until the plan's last poweroff (a crash reboots it)."""
    open(os.path.join(persist, "plan"), "w").write("\n".join(plan) + "\n")
    d = os.path.join(out, name)
    shutil.rmtree(d, ignore_errors=True)
    os.makedirs(d)
    cmdline = (f"console=ttyS0 panic=1 no_timer_check intel_iommu=on systemd.unit=lab.target "
               f"systemd.show_status=0 {RAMOOPS} {append}")
    cmd = ["qemu-system-x86_64", "-machine", "q35,kernel-irqchip=split", "-m", "1024", "-smp", "1",
           "-nodefaults", "-display", "none", "-kernel", kernel, "-initrd", initrd, "-append", cmdline,
           "-serial", f"file:{d}/console.log",
           "-device", "intel-iommu,intremap=on",
           "-device", "pcie-root-port,id=rp1,bus=pcie.0,addr=0x2,chassis=1,port=1",
           "-device", "e1000e,bus=rp1,addr=0.0",
           "-virtfs", "local,path=/,mount_tag=hostroot,security_model=none,readonly=on,multidevs=remap",
           "-virtfs", f"local,path={persist},mount_tag=persist,security_model=none,multidevs=remap"]
    cmd += ["-accel", "kvm", "-cpu", "host"] if accel == "kvm" else ["-accel", "tcg", "-cpu", "max"]
    t0 = time.time()
    try:
        r = subprocess.run(cmd, timeout=timeout, stdout=subprocess.DEVNULL, stderr=open(f"{d}/qemu.err", "w"))
    except subprocess.TimeoutExpired:
        return None
    return time.time() - t0 if r.returncode == 0 else None


class Checker:
    def __init__(self):
        self.passed = self.failed = 0

    def ok(self, what, cond, detail=""):
        if cond:
            self.passed += 1
            print(f"ok: {what}", flush=True)
        else:
            self.failed += 1
            print(f"FAIL: {what}{': ' + str(detail)[:2000] if detail else ''}", flush=True)


def journal(persist):
    """Every record of the persistent journal, oldest first."""
    r = subprocess.run(["journalctl", "--directory", os.path.join(persist, "journal"), "-o", "json",
                        "--no-pager"], capture_output=True, text=True)
    out = []
    for line in r.stdout.splitlines():
        try:
            out.append(json.loads(line))
        except ValueError:
            pass
    return out


def boots_of(recs):
    seen = []
    for r in recs:
        b = r.get("_BOOT_ID")
        if b and b not in seen:
            seen.append(b)
    return seen


def msgs(recs, boot, **match):
    out = []
    for r in recs:
        if r.get("_BOOT_ID") != boot:
            continue
        if all(str(r.get(k)) == str(v) for k, v in match.items()):
            m = r.get("MESSAGE")
            out.append((int(r.get("PRIORITY", 6)), m if isinstance(m, str) else str(m)))
    return out


def states(persist):
    """The driver's record of each boot: {unit: {property: value}}, in boot order."""
    out = []
    for f in sorted(glob.glob(os.path.join(persist, "states", "*")), key=lambda p: int(os.path.basename(p).split("-")[0])):
        units = {}
        for block in open(f).read().split("\n\n"):
            props = dict(l.partition("=")[::2] for l in block.splitlines() if "=" in l)
            if "Id" in props:
                units[props["Id"]] = props
        out.append((os.path.basename(f).split("-", 1)[1], units))
    return out


def pcisnap_json(pcisnap, *args):
    r = subprocess.run([pcisnap, *args], capture_output=True, text=True, env={**os.environ, "PCISNAP_CONFIG": ""})
    try:
        return r.returncode, json.loads(r.stdout)
    except ValueError:
        return r.returncode, r.stdout + r.stderr


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--pcisnap", required=True)
    ap.add_argument("--out", required=True)
    ap.add_argument("--kernel-version", default="")
    ap.add_argument("--accel", choices=["auto", "kvm", "tcg"], default=os.environ.get("PCISNAP_LAB_ACCEL", "auto"))
    args = ap.parse_args()
    here = os.path.dirname(os.path.abspath(__file__))
    src = os.path.dirname(os.path.dirname(here))
    pcisnap = os.path.abspath(args.pcisnap)
    if pcisnap.startswith(("/tmp/", "/var/tmp/")):
        # the units run with PrivateTmp=yes: the guest's service would not see the binary
        sys.exit(f"systemd_lab.py: {pcisnap} is under a temporary directory, which "
                 "pcisnap-boot.service's PrivateTmp=yes hides; use a build tree elsewhere")
    kver = args.kernel_version or sorted(os.path.basename(k)[len("vmlinuz-"):] for k in glob.glob("/boot/vmlinuz-*"))[-1]
    kernel = f"/boot/vmlinuz-{kver}"
    out = os.path.abspath(args.out)
    shutil.rmtree(out, ignore_errors=True)
    os.makedirs(out)
    persist = os.path.join(out, "persist")
    os.makedirs(persist)
    initrd = os.path.join(out, "initramfs.cpio.gz")
    mkinitramfs(kver, initrd, here)
    accel = args.accel if args.accel != "auto" else ("kvm" if kvm_usable() else "tcg")
    timeout = 300 if accel == "kvm" else 1500
    c = Checker()
    store = os.path.join(persist, "store")

    def machine(name, conf, append, plan):
        nonlocal accel, timeout
        overlay(persist, pcisnap, src, conf)
        secs = run(name, kernel, initrd, persist, out, accel, append, plan, timeout)
        if secs is None and accel == "kvm" and os.path.getsize(os.path.join(out, name, "console.log")) == 0:
            # nested KVM on these machines may refuse to start: TCG for good
            print(f"systemd-lab: {name}: no start under KVM, using TCG", flush=True)
            accel, timeout = "tcg", 1500
            overlay(persist, pcisnap, src, conf)
            secs = run(name, kernel, initrd, persist, out, accel, append, plan, timeout)
        c.ok(f"{name}: the machine ran its plan {plan} and powered off", secs is not None,
             f"see {out}/{name}/console.log")
        if secs is not None:
            print(f"systemd-lab: {name}: {secs:.0f} s under {accel}", flush=True)
        return secs is not None

    # 1. the first boot, then a clean poweroff
    if not machine("first", "", VFIO, ["poweroff"]):
        return report(c)
    recs = journal(persist)
    b = boots_of(recs)
    st = states(persist)
    c.ok("first: the journal holds the boot", len(b) == 1, b)
    c.ok("first: systemd is PID 1 and ran pcisnap-boot.service",
         any("pcisnap" in m for _, m in msgs(recs, b[0], _PID=1)) if b else False)
    if st:
        u = st[0][1]
        pb, pg = u.get("pcisnap-boot.service", {}), u.get("pve-guests.service", {})
        c.ok("first: pcisnap-boot.service active, pve-guests.service started after it",
             pb.get("ActiveState") == "active" and pg.get("ActiveState") == "active" and
             0 < int(pb.get("ActiveEnterTimestampMonotonic", 0)) <= int(pg.get("InactiveExitTimestampMonotonic", 0)), u)
    else:
        c.ok("first: the driver recorded the units", False)
    c.ok("first: the first snapshot said at info",
         any(p == 6 and "the first boot pcisnap has of this host" in m for p, m in msgs(recs, b[0], SYSLOG_IDENTIFIER="pcisnap")) if b else False)
    c.ok("first: the clean end recorded by ExecStop",
         any("ended cleanly" in m for _, m in msgs(recs, b[0], SYSLOG_IDENTIFIER="pcisnap")) if b else False,
         msgs(recs, b[0], SYSLOG_IDENTIFIER="pcisnap") if b else "")

    # 2. a boot that dies by sysrq crash, and the boot after it in the same machine
    machine("crash", "", VFIO, ["crash-aer", "poweroff"])
    recs = journal(persist)
    b = boots_of(recs)
    c.ok("crash: two more boots in the journal", len(b) == 3, b)
    if len(b) == 3:
        pm = msgs(recs, b[2], SYSLOG_IDENTIFIER="pcisnap")
        c.ok("crash: the boot after it says the crashed boot had no clean end (warning)",
             any(p == 4 and f"the previous boot {dashed(b[1])} has no record of a clean end" in m for p, m in pm), pm)
        c.ok("crash: and nothing of the boot before it (that one ended cleanly)",
             not any(dashed(b[0]) in m and "no record of a clean end" in m for _, m in pm))
    rc, lw = pcisnap_json(pcisnap, "boot", "last-words", "--store", store, HOST, "--format", "json")
    ok = isinstance(lw, dict)
    c.ok("crash: last words kept with the next boot's snapshot", ok, lw)
    if ok:
        texts = [r.get("text") or "" for r in lw["pstore"]]
        c.ok("crash: its pstore record (ramoops) holds the panic",
             any("sysrq triggered crash" in t for t in texts), [t[-300:] for t in texts])
        c.ok("crash: the last words are of the crashed boot", lw.get("previous_boot") == dashed(b[1]) if len(b) > 1 else False, lw.get("previous_boot"))
        tl = lw.get("journal") or []
        c.ok("crash: the VM's start (Proxmox's task line, through journald) is on the timeline",
             any(l.get("kind") == "vm_start" and l.get("vm") == "100" and l.get("source") == "pvedaemon"
                 for l in tl), [(l.get("kind"), l.get("source"), l.get("message")) for l in tl][-10:])
        c.ok("crash: and the boot's last kernel message", isinstance(lw.get("last_message"), dict),
             lw.get("last_message"))
        # the fatal error aer_inject injected after the VM's start, before the panic
        fatal = [l for l in tl if l.get("kind") == "fault" and "Uncorrected (Fatal)" in (l.get("message") or "")]
        c.ok("crash: the injected fatal error is on the timeline, after the VM's start",
             fatal and any(l.get("kind") == "vm_start" for l in tl[:tl.index(fatal[0])]),
             [(l.get("kind"), l.get("message")) for l in tl][-12:])
        vf = lw.get("vm_faults") or []
        c.ok("crash: the seconds from the VM's start to that fault",
             any(v.get("vm") == "100" and isinstance(v.get("seconds"), (int, float)) and v["seconds"] >= 0
                 for v in vf), vf)
        first_keys = [r["key"] for r in lw["pstore"]]

    # 3. vfio-pci.ids gone: a binding regression, gate = regression holds the VMs
    machine("regression", "gate = regression\n", "", ["poweroff"])
    recs = journal(persist)
    b = boots_of(recs)
    st = states(persist)
    if len(b) == 4 and len(st) >= 4:
        pm = msgs(recs, b[3], SYSLOG_IDENTIFIER="pcisnap")
        c.ok("regression: the binding regression at priority err, the gate holding the VMs",
             any(p == 3 and "binding_regression" in m and "the boot gate holds the VMs back" in m for p, m in pm), pm)
        u = st[3][1]
        c.ok("regression: pcisnap-boot.service failed, pve-guests.service never started",
             u.get("pcisnap-boot.service", {}).get("ActiveState") == "failed" and
             u.get("pve-guests.service", {}).get("ActiveState") == "inactive", u)
        c.ok("regression: systemd says why the VMs did not start",
             any("pve-guests" in m and "Dependency failed" in m for _, m in msgs(recs, b[3], _PID=1)))
    else:
        c.ok("regression: the boot is in the journal", False, (b, len(st)))

    # 4. pcisnap's own trouble: a stale lock, an unknown key, a missing textfile directory
    lock = os.path.join(store, "refs", "heads", HOST + ".lock")
    os.makedirs(os.path.dirname(lock), exist_ok=True)
    open(lock, "w").write("0" * 40 + "\n")
    old = time.time() - 86400 * 30
    os.utime(lock, (old, old))
    machine("trouble", "gate = regression\nbogus = 1\ntextfile = /nonexistent/node-exporter\n", VFIO, ["poweroff"])
    recs = journal(persist)
    b = boots_of(recs)
    st = states(persist)
    if len(b) == 5 and len(st) >= 5:
        pm = msgs(recs, b[4], SYSLOG_IDENTIFIER="pcisnap")
        u = st[4][1]
        c.ok("trouble: the VMs start (pcisnap-boot.service succeeded)",
             u.get("pcisnap-boot.service", {}).get("ActiveState") == "active" and
             u.get("pve-guests.service", {}).get("ActiveState") == "active", u)
        c.ok("trouble: the missing textfile directory at err, with its fix",
             any(p == 3 and "/nonexistent/node-exporter/pcisnap.prom" in m and "create the directory" in m for p, m in pm), pm)
        c.ok("trouble: the stale lock taken over, said",
             any("took over the stale lock refs/heads/lab-sd.lock" in m for _, m in pm), pm)
        allm = [m for _, m in msgs(recs, b[4])]
        c.ok("trouble: the unknown key warned with file and line",
             any("pcisnap.conf:2: unknown setting 'bogus'" in m for m in allm))
        c.ok("trouble: the snapshot stored", not os.path.exists(lock))
        c.ok("trouble: the gated boot before it is not taken for a crash (its end recorded)",
             not any("no record of a clean end" in m for _, m in pm), pm)
    else:
        c.ok("trouble: the boot is in the journal", False, (b, len(st)))

    # 5. a second crash: its successor keeps the new record, never the first crash's again
    machine("crash2", "", VFIO, ["crash", "poweroff"])
    rc, lw2 = pcisnap_json(pcisnap, "boot", "last-words", "--store", store, HOST, "--format", "json")
    if isinstance(lw2, dict) and ok:
        keys = [r["key"] for r in lw2["pstore"]]
        c.ok("crash2: a pstore record of the second crash kept", len(keys) >= 1 and
             any("sysrq triggered crash" in (r.get("text") or "") for r in lw2["pstore"]), lw2["pstore"])
        c.ok("crash2: none of the first crash's records kept again", not set(keys) & set(first_keys), (keys, first_keys))
    else:
        c.ok("crash2: last words kept", False, lw2)
    return report(c)


def dashed(b):
    return f"{b[0:8]}-{b[8:12]}-{b[12:16]}-{b[16:20]}-{b[20:32]}" if b and len(b) == 32 else b


def report(c):
    print(f"{c.passed} passed, {c.failed} failed")
    return 1 if c.failed else 0


if __name__ == "__main__":
    sys.exit(main())
