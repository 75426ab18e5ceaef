#!/usr/bin/env python3
# SPDX-License-Identifier: GPL-2.0-or-later
"""Hostile-but-valid snapshots for the bounded-work benchmark (bench/hostile.sh).

    hostile.py KIND N OUT.json

KIND: flat (N root-bus endpoints), chains (bridge chains 255 deep), mf (N functions in
multifunction slots without ACS, all bound to vfio-pci, one group), group (N devices, all
passthrough, all in one IOMMU group, behind one root port without ACS), tokens (N command-line
tokens). Each loads: the loader accepts it, so every command must finish it in near-linear time.
"""
import json
import sys


def dev(bdf, parent=None, **kw):
    d = {"bdf": bdf, "vendor": "8086", "device": "10d3", "class": "020000", "parent": parent,
         "pcie_type": "endpoint", "multifunction": False, "config_bytes": 4096,
         "acs": {"present": False, "cap": [], "ctl": []}, "flr": True, "driver": "e1000e",
         "iommu_group": None, "reset_methods": ["flr"], "physfn": None, "name": None,
         "subsystem_vendor": None, "subsystem_device": None}
    d.update(kw)
    return d


def bdf(i):
    dom, rest = divmod(i, 256 * 32 * 8)
    bus, rest = divmod(rest, 32 * 8)
    slot, fn = divmod(rest, 8)
    return f"{dom:04x}:{bus:02x}:{slot:02x}.{fn}"


def main():
    kind, n, out = sys.argv[1], int(sys.argv[2]), sys.argv[3]
    devices, groups, tokens = [], [], []
    if kind == "flat":
        for i in range(n):
            b = f"{i // 32:04x}:00:{i % 32:02x}.0"
            devices.append(dev(b, iommu_group=i))
            groups.append({"id": i, "type": "DMA", "devices": [b]})
    elif kind == "chains":
        i = 0
        while len(devices) < n:
            parent = None
            for depth in range(255):
                if len(devices) >= n:
                    break
                b = f"{i:04x}:{depth:02x}:00.0"
                devices.append(dev(b, parent, pcie_type="downstream_port", class_="060400"))
                parent = b
            i += 1
    elif kind in ("mf", "group"):
        rp = "0000:00:01.0"
        devices.append(dev(rp, pcie_type="root_port", driver="pcieport", iommu_group=0))
        members = [rp]
        for i in range(n):
            b = bdf(i + 256 * 8)  # buses 1 and up
            mf = kind == "mf" and b.endswith(".0")
            devices.append(dev(b, rp, driver="vfio-pci", multifunction=mf, iommu_group=0))
            members.append(b)
        groups.append({"id": 0, "type": "DMA", "devices": members})
    elif kind == "tokens":
        tokens = [{"key": f"opt{i}", "value": str(i)} for i in range(min(n, 8000))]  # the loader takes 8,192
    devices.sort(key=lambda d: d["bdf"])
    for d in devices:
        if "class_" in d:
            d["class"] = d.pop("class_")
    snap = {"schema": "pcisnap.snapshot/1", "schema_version": 1,
            "host": {"hostname": "hostile", "collected_at": "1970-01-01T00:00:00Z", "tool_version": "x"},
            "kernel": {"release": "6.1.0", "cmdline": " ".join(f"{t['key']}={t['value']}" for t in tokens),
                       "cmdline_tokens": tokens, "modules": ["vfio", "vfio_pci"]},
            "firmware": {}, "iommu": {"enabled": True, "vendor": "intel", "irq_remapping": "enabled"},
            "vfio": {"modules": {"vfio": True, "vfio_pci": True}, "ids": []},
            "groups": groups, "devices": devices}
    with open(out, "w") as f:
        json.dump(snap, f)


if __name__ == "__main__":
    main()
