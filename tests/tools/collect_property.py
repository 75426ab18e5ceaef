#!/usr/bin/env python3
# SPDX-License-Identifier: GPL-2.0-or-later
"""The collector's postcondition as a property (issue 30): whatever root it is given, collect
either writes a snapshot every reader loads (show, show --format tree, check, diff against
itself: never exit 2), or refuses with exit 2, one line 'pcisnap: ...', and no file written.

    collect_property.py PCISNAP SOURCE_DIR WORKDIR [--seeds N]

Roots: every host scenario of tests/gen/hosts.py (and its capture without root), every real
capture of tests/data/realdata, a generated host of 1,200 devices (bench/genhost.py), and each
of a few base hosts damaged N times by a seeded random perturbation of what Linux lays out:
config space cut short or with random bytes (bridge bus numbers, header type, capability
pointers), iommu_group links removed or pointing nowhere, driver links dangling, id files
holding garbage, device directories removed. Prints ok/FAIL lines; exit 1 on any FAIL."""
import glob
import os
import random
import shutil
import subprocess
import sys
import tarfile

PCISNAP, SRC, WORK = sys.argv[1:4]
SEEDS = int(sys.argv[sys.argv.index("--seeds") + 1]) if "--seeds" in sys.argv else 12
sys.path.insert(0, os.path.join(SRC, "tests", "gen"))
import hosts  # noqa: E402
import sysfs  # noqa: E402

ENV = dict(os.environ, LC_ALL="C", TZ="UTC", SOURCE_DATE_EPOCH="1000", PCISNAP_CONFIG="")
failed = passed = 0


def run(*args):
    p = subprocess.run([PCISNAP, *args], capture_output=True, text=True, env=ENV, timeout=60)
    return p.returncode, p.stdout, p.stderr


def holds(name, root, must_collect=False, parents=None):
    """must_collect: a root Linux could lay out (not damaged), which collect may not refuse;
    parents: bdf -> parent the paths give, which the snapshot must record."""
    global failed, passed
    out = os.path.join(WORK, "snap.json")
    if os.path.exists(out):
        os.unlink(out)
    rc, _o, err = run("collect", "--root", root, "--host", "h", "-o", out)
    why = None
    if rc == 0:
        for args in (["show", out], ["show", "--format", "tree", out], ["check", out],
                     ["diff", out, out]):
            r, _o, e = run(*args)
            if r == 2 or r < 0 or "pcisnap:" in e and r not in (0, 1, 3):
                why = f"{' '.join(args[:-1])} refuses what collect wrote: {e.strip()}"
                break
    elif rc == 2 and must_collect:
        why = f"refused a root Linux lays out: {err.strip()}"
    elif rc == 2:
        lines = err.strip().split("\n")
        if not (len(lines) >= 1 and lines[-1].startswith("pcisnap: ")):
            why = f"exit 2 without a 'pcisnap: ' line: {err!r}"
        elif os.path.exists(out):
            why = "exit 2 but a snapshot was written"
    else:
        why = f"collect exit {rc}: {err.strip()}"
    if not why and rc == 0 and parents is not None:
        import json
        got = {d["bdf"]: d["parent"] for d in json.load(open(out))["devices"]}
        moved = sorted(b for b in parents if got.get(b, "?") != parents[b])
        if moved:
            why = (f"bus numbers overrode the paths: the parent of {moved[0]} is "
                   f"{got.get(moved[0])}, its path says {parents[moved[0]]}")
    if why:
        failed += 1
        print(f"FAIL: {name}: {why}")
    else:
        passed += 1
        print(f"ok: {name}: collect exit {rc}")
    return out if rc == 0 and not why else None


def parents_of(root):
    """Each device's parent as collect records it from a pristine root."""
    import json
    out = holds("(pristine)", root, True)
    return {d["bdf"]: d["parent"] for d in json.load(open(out))["devices"]} if out else {}


def devices(root):
    d = os.path.join(root, "sys", "bus", "pci", "devices")
    return sorted(os.path.realpath(os.path.join(d, x)) for x in os.listdir(d)) if os.path.isdir(d) else []


def perturb(root, rng):
    devs = devices(root)
    if not devs:
        return "no devices"
    dev = rng.choice(devs)
    kind = rng.randrange(8)
    cfg = os.path.join(dev, "config")
    if kind == 0 and os.path.exists(cfg):
        n = rng.choice([0, 1, 3, 16, 63, 64, 65, 255, 257])
        with open(cfg, "r+b") as f:
            f.truncate(n)
        return f"config of {os.path.basename(dev)} cut to {n} bytes"
    if kind == 1 and os.path.exists(cfg):
        data = bytearray(open(cfg, "rb").read())
        spots = []
        for _ in range(rng.randrange(1, 6)):
            if not data:
                break
            off = rng.choice([0x0e, 0x18, 0x19, 0x1a, 0x34, 0x06, 0x3d]
                             + [rng.randrange(len(data))])
            if off < len(data):
                data[off] = rng.randrange(256)
                spots.append(hex(off))
        open(cfg, "wb").write(data)
        return f"config bytes {','.join(spots)} of {os.path.basename(dev)} random"
    if kind == 2:
        link = os.path.join(dev, "iommu_group")
        if os.path.lexists(link):
            os.unlink(link)
            if rng.random() < 0.5:
                os.symlink("../../../kernel/iommu_groups/9999", link)
                return f"iommu_group of {os.path.basename(dev)} points nowhere"
            return f"iommu_group of {os.path.basename(dev)} removed"
    if kind == 3:
        link = os.path.join(dev, "driver")
        if os.path.lexists(link):
            os.unlink(link)
        os.symlink("../../../bus/pci/drivers/no-such-driver", link)
        return f"driver of {os.path.basename(dev)} dangling"
    if kind == 4:
        f = rng.choice(["vendor", "device", "class", "subsystem_vendor", "reset_method",
                        "current_link_width", "aer_dev_fatal", "driver_override"])
        p = os.path.join(dev, f)
        if os.path.exists(p) and not os.path.islink(p):
            open(p, "wb").write(bytes(rng.randrange(256) for _ in range(rng.randrange(0, 40))))
            return f"{f} of {os.path.basename(dev)} garbage"
    if kind == 5 and dev != devs[0]:
        shutil.rmtree(dev, ignore_errors=True)
        return f"{os.path.basename(dev)} removed (its link dangles)"
    if kind == 6 and os.path.exists(cfg):
        data = bytearray(open(cfg, "rb").read())
        if len(data) > 0x1a and (data[0x0e] & 0x7f) == 1:
            data[0x19] = 0  # an unconfigured bridge: secondary bus 0
            data[0x1a] = 0
            open(cfg, "wb").write(data)
            return f"bridge {os.path.basename(dev)} unconfigured (secondary bus 0)"
    if kind == 7:
        p = os.path.join(dev, "iommu_group")
        if os.path.lexists(p):
            os.unlink(p)
            os.symlink(p, p)  # a loop
            return f"iommu_group of {os.path.basename(dev)} a symlink loop"
    return "nothing changed"


def main():
    os.makedirs(WORK, exist_ok=True)
    for host in sorted(hosts.BASE):
        for unpriv in (False, True):
            root = os.path.join(WORK, "root")
            shutil.rmtree(root, ignore_errors=True)
            sysfs.build(hosts.get(host), root, unprivileged=unpriv)
            holds(f"{host}{' (without root)' if unpriv else ''}", root, True)
    for tarball in sorted(glob.glob(os.path.join(SRC, "tests", "data", "realdata", "*.tar.*"))):
        root = os.path.join(WORK, "real")
        shutil.rmtree(root, ignore_errors=True)
        with tarfile.open(tarball) as t:
            t.extractall(root)
        sysdirs = glob.glob(os.path.join(root, "*", "sys")) + glob.glob(os.path.join(root, "sys"))
        holds(os.path.basename(tarball), os.path.dirname(sysdirs[0]) if sysdirs else root, True)
    root = os.path.join(WORK, "large")
    shutil.rmtree(root, ignore_errors=True)
    subprocess.run([sys.executable, os.path.join(SRC, "bench", "genhost.py"), "1200", root],
                   check=True, capture_output=True)
    truth = parents_of(root)
    # a bridge on root bus 00 whose secondary bus names the other root bus (80): stale or
    # conflicting firmware numbers; the paths still put bus 80's devices on their own root
    for dev in devices(root):
        cfg = os.path.join(dev, "config")
        data = bytearray(open(cfg, "rb").read())
        if os.path.basename(dev).startswith("0000:00:") and (data[0x0e] & 0x7f) == 1:
            data[0x19] = 0x80
            open(cfg, "wb").write(data)
            break
    holds("genhost 1200 devices, a bridge's secondary bus another root bus", root, True, truth)
    for host in ("pve-intel", "amd-epyc-sriov", "consumer-noacs", "bus-shift", "acs-override",
                 "kernel-no-vfio"):
        if host not in hosts.BASE:
            continue
        # every bridge unconfigured (secondary and subordinate bus 0), as firmware may leave
        # them: sysfs's paths still place each device, and a device the path puts on a root
        # bus has no parent, whatever the bus numbers say (the parent guess is only for a
        # capture without hierarchy)
        root = os.path.join(WORK, "unconfigured")
        shutil.rmtree(root, ignore_errors=True)
        sysfs.build(hosts.get(host), root)
        truth = parents_of(root)
        for dev in devices(root):
            cfg = os.path.join(dev, "config")
            data = bytearray(open(cfg, "rb").read()) if os.path.exists(cfg) else b""
            if len(data) > 0x1a and (data[0x0e] & 0x7f) == 1:
                data[0x19] = data[0x1a] = 0
                open(cfg, "wb").write(data)
        holds(f"{host} with every bridge unconfigured", root, True, truth)
        # every bridge's subordinate bus 0xff (firmware that reserves the rest of the buses
        # for hotplug): the ranges overlap, the paths still say who is below whom
        root = os.path.join(WORK, "wide")
        shutil.rmtree(root, ignore_errors=True)
        sysfs.build(hosts.get(host), root)
        for dev in devices(root):
            cfg = os.path.join(dev, "config")
            data = bytearray(open(cfg, "rb").read()) if os.path.exists(cfg) else b""
            if len(data) > 0x1a and (data[0x0e] & 0x7f) == 1:
                data[0x1a] = 0xff
                open(cfg, "wb").write(data)
        holds(f"{host} with every bridge's subordinate bus 0xff", root, True, truth)
        for seed in range(SEEDS):
            rng = random.Random(f"{host}/{seed}")
            root = os.path.join(WORK, "damaged")
            shutil.rmtree(root, ignore_errors=True)
            sysfs.build(hosts.get(host), root)
            what = [perturb(root, rng) for _ in range(rng.randrange(1, 4))]
            holds(f"{host} seed {seed} ({'; '.join(what)})", root)
    print(f"{passed} passed, {failed} failed")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
