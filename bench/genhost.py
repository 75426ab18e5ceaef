#!/usr/bin/env python3
# SPDX-License-Identifier: GPL-2.0-or-later
"""genhost.py N OUTDIR: write the captured root of a large passthrough host with about N devices.

Two sockets (root buses 0000:00 and 0000:80). Per socket: root ports with ACS, each feeding a
PCIe switch (upstream port + downstream ports with ACS) with GPUs (VGA + audio function) behind
them; NVMe drives on their own root ports; NICs with SR-IOV VFs (ARI, VFs packed 8 per slot)
filling up to N. Groups are the ones pci_device_group() forms for this topology; drivers and
interrupts match it. Laid out by tests/gen/sysfs.py exactly as Linux lays out sysfs.
"""
import os
import sys

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "tests", "gen"))
import sysfs  # noqa: E402

ACS = {"cap": ["SV", "RR", "CR", "UF"], "ctl": ["SV", "RR", "CR", "UF"]}
L16 = {"max": "16.0 GT/s PCIe", "maxw": 16, "cur": "16.0 GT/s PCIe", "curw": 16}


def build(n):
    devs, group = [], [0]

    def add(**d):
        devs.append(d)
        return d

    def new_group():
        group[0] += 1
        return group[0]

    for sock, rb in ((0, 0x00), (1, 0x80)):
        bus = rb + 1
        dom = "0000"
        add(bdf="%s:%02x:00.0" % (dom, rb), id="8086:09a2", **{"class": "080700"},
            type="rc_integrated_endpoint", group=new_group())
        port = 1
        # two switches per socket, two GPUs each: 8 GPUs in all
        for sw in range(2):
            rp = add(bdf="%s:%02x:%02x.0" % (dom, rb, port), id="8086:347a", **{"class": "060400"},
                     type="root_port", acs=ACS, secondary=bus, subordinate=bus + 3,
                     driver="pcieport", group=new_group(), link=L16)
            up = add(bdf="%s:%02x:00.0" % (dom, bus), id="10b5:8747", **{"class": "060400"},
                     type="upstream_port", parent=rp["bdf"], secondary=bus + 1,
                     subordinate=bus + 3, driver="pcieport", group=new_group(), link=L16)
            for k in range(2):
                dp = add(bdf="%s:%02x:%02x.0" % (dom, bus + 1, k + 8), id="10b5:8747",
                         **{"class": "060400"}, type="downstream_port", acs=ACS,
                         parent=up["bdf"], secondary=bus + 2 + k, subordinate=bus + 2 + k,
                         driver="pcieport", group=new_group(), link=L16)
                g = new_group()
                for fn, (did, cls) in enumerate((("2204", "030000"), ("1aef", "040300"))):
                    add(bdf="%s:%02x:00.%d" % (dom, bus + 2 + k, fn), id="10de:" + did,
                        **{"class": cls}, mf=True, parent=dp["bdf"], flr=False,
                        reset_method="bus", driver="vfio-pci", module="vfio_pci", group=g,
                        link=L16)
            bus += 4
            port += 1
        for k in range(2):  # NVMe
            rp = add(bdf="%s:%02x:%02x.0" % (dom, rb, port), id="8086:347a", **{"class": "060400"},
                     type="root_port", acs=ACS, secondary=bus, subordinate=bus,
                     driver="pcieport", group=new_group(), link=L16)
            add(bdf="%s:%02x:00.0" % (dom, bus), id="144d:a80a", **{"class": "010802"},
                parent=rp["bdf"], flr=True, reset_method="flr", driver="nvme", module="nvme",
                group=new_group(), link=L16)
            bus += 1
            port += 1
        # NICs: PF + VFs, two per socket at least
        nics = 2
        per_nic = max(1, (n // 2 - len(devs) // (2 - sock) - 4 * nics) // nics) if sock == 0 else None
        for k in range(nics):
            left = n - len(devs) - (nics - k) * 2 - (0 if sock else (n // 2))
            vfs = max(0, min(left // max(1, nics - k), 2000)) if sock else max(0, min(per_nic, 1000))
            buses = 1 + (vfs + 1) // 256
            rp = add(bdf="%s:%02x:%02x.0" % (dom, rb, port), id="8086:347a", **{"class": "060400"},
                     type="root_port", acs=ACS, secondary=bus, subordinate=bus + buses - 1,
                     driver="pcieport", group=new_group(), link=L16)
            pf = add(bdf="%s:%02x:00.0" % (dom, bus), id="15b3:101d", **{"class": "020000"},
                     parent=rp["bdf"], flr=True, reset_method="flr", ari=True,
                     sriov={"total": vfs, "num": vfs}, driver="mlx5_core", module="mlx5_core",
                     group=new_group(), link=L16)
            for v in range(vfs):
                rid = v + 1
                add(bdf="%s:%02x:%02x.%d" % (dom, bus + rid // 256, (rid % 256) >> 3, rid & 7),
                    id="15b3:101e", **{"class": "020000"}, parent=rp["bdf"], physfn=pf["bdf"],
                    flr=True, reset_method="flr", driver="vfio-pci" if v % 4 == 0 else "mlx5_core",
                    module="vfio_pci" if v % 4 == 0 else "mlx5_core", group=new_group())
            bus += buses
            port += 1
    return {
        "hostname": "bench-%d" % n, "kernel": "6.8.12-4-pve",
        "cmdline": "BOOT_IMAGE=/boot/vmlinuz-6.8.12-4-pve ro quiet intel_iommu=on iommu=pt",
        "modules": ["vfio", "vfio_iommu_type1", "vfio_pci", "vfio_pci_core", "mlx5_core", "nvme"],
        "dmi": {"bios_vendor": "Dell Inc.", "bios_version": "1.9.2", "bios_date": "01/10/2024",
                "board_vendor": "Dell Inc.", "board_name": "0XYZ12",
                "product_name": "PowerEdge XE9680", "sys_vendor": "Dell Inc."},
        "efi": True, "secure_boot": True, "lockdown": "integrity",
        "iommu": {"vendor": "intel", "units": 8, "ir": True}, "interrupts": "ir",
        "module_params": {"vfio_iommu_type1": {"allow_unsafe_interrupts": "N"},
                          "vfio": {"enable_unsafe_noiommu_mode": "N"}},
        "devices": devs,
    }


def main():
    n, out = int(sys.argv[1]), sys.argv[2]
    host = build(n)
    sysfs.build(host, out)
    print("%s: %d devices" % (out, len(host["devices"])))


if __name__ == "__main__":
    main()
