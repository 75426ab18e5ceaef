# SPDX-License-Identifier: GPL-2.0-or-later
"""Host scenarios for golden tests and benchmarks.

Each base host models a real class of machine; variants change what an incident changes (a
BIOS update, a kernel update, a firmware reset). IOMMU groups are the ones Linux's
pci_device_group() forms for that topology and those ACS capabilities.
"""
import copy

L8x16 = {"max": "8.0 GT/s PCIe", "maxw": 16, "cur": "8.0 GT/s PCIe", "curw": 16}
L8x8 = {"max": "8.0 GT/s PCIe", "maxw": 8, "cur": "8.0 GT/s PCIe", "curw": 8}
L8x4 = {"max": "8.0 GT/s PCIe", "maxw": 4, "cur": "8.0 GT/s PCIe", "curw": 4}
ACS_FULL = {"cap": ["SV", "RR", "CR", "UF"], "ctl": ["SV", "RR", "CR", "UF"]}
VFIO_MODULES = ["vfio", "vfio_pci", "vfio_pci_core", "vfio_iommu_type1"]


# What a Debian 12 / Proxmox VE 8 install has out of the box: a persistent journal (the systemd
# package creates /var/log/journal), efi_pstore registered on a UEFI host, no memory reserved for
# a crash kernel, no netconsole, the kernel's panic defaults.
FORENSICS = {
    "boot_id": "3f2b9c1e-8d4a-4e5f-9a7b-1c2d3e4f5a6b",
    "uptime": "73.25 281.40",
    "journald": {"etc/systemd/journald.conf":
                 "#  This file is part of systemd.\n[Journal]\n#Storage=auto\n#Compress=yes\n"},
    "var_log_journal": True,
    "mountinfo": ["22 1 253:1 / / rw,relatime shared:1 - ext4 /dev/mapper/pve-root rw,errors=remount-ro",
                  "23 22 0:21 / /sys rw,nosuid,nodev,noexec,relatime shared:7 - sysfs sysfs rw",
                  "26 22 0:5 / /dev rw,nosuid,relatime shared:2 - devtmpfs udev rw,size=16317484k",
                  "30 22 0:25 / /run rw,nosuid,nodev,noexec,relatime shared:5 - tmpfs tmpfs rw,size=3270176k,mode=755"],
    "pstore_backend": "efi_pstore",
    "crash_size": 0, "crash_loaded": 0,
    "sysctl": {"panic": 0, "panic_on_oops": 0, "hardlockup_panic": 0, "softlockup_panic": 0},
}


def dev(bdf, id, cls, **kw):
    d = {"bdf": bdf, "id": id, "class": cls}
    d.update(kw)
    return d


def pve_intel():
    """Proxmox VE on a Supermicro X12SCA-F (W480): GPU (VGA+audio) and an HBA to one VM."""
    devices = [
        dev("0000:00:00.0", "8086:9b33", "060000", type="conventional", group=0),
        dev("0000:00:01.0", "8086:1901", "060400", type="root_port", secondary=1,
            subordinate=1, driver="pcieport", group=1, link=L8x16, aer={"cor": 0},
            reset_method=""),
        dev("0000:01:00.0", "10de:1e87", "030000", sub="1043:866a", rev="a1", mf=True,
            parent="0000:00:01.0", flr=False, reset_method="bus", driver="vfio-pci",
            module="vfio_pci", group=1, link=L8x16, aer={"cor": 2}),
        dev("0000:01:00.1", "10de:10f8", "040300", sub="1043:866a", rev="a1", mf=True,
            parent="0000:00:01.0", flr=False, reset_method="bus", driver="vfio-pci",
            module="vfio_pci", group=1, link=L8x16),
        dev("0000:00:02.0", "8086:9bc5", "030000", sub="15d9:1c48", type="rc_integrated_endpoint",
            flr=True, reset_method="flr", driver="i915", group=2, boot_vga=True),
        dev("0000:00:14.0", "8086:06ed", "0c0330", type="conventional", mf=True,
            driver="xhci_hcd", module="xhci_pci", group=3, reset_method="pm"),
        dev("0000:00:14.2", "8086:06ef", "050000", type="conventional", mf=True, group=3),
        dev("0000:00:17.0", "8086:06d2", "010601", type="conventional", driver="ahci",
            module="ahci", group=4),
        dev("0000:00:1c.0", "8086:06b8", "060400", type="root_port", mf=True, secondary=2,
            subordinate=2, acs=ACS_FULL, driver="pcieport", group=5, link=L8x8),
        dev("0000:02:00.0", "1000:0097", "010700", sub="1000:30e0", rev="02",
            parent="0000:00:1c.0", flr=True, reset_method="flr bus", driver="vfio-pci",
            module="vfio_pci", group=6, link=L8x8, aer={"cor": 0}),
        dev("0000:00:1c.4", "8086:06bc", "060400", type="root_port", mf=True, secondary=3,
            subordinate=3, acs=ACS_FULL, driver="pcieport", group=7, link=L8x4),
        dev("0000:03:00.0", "144d:a808", "010802", sub="144d:a801", parent="0000:00:1c.4",
            flr=True, reset_method="flr bus", driver="nvme", module="nvme", group=8, link=L8x4,
            dsn="00-00-00-00-00-00-00-00"),
        dev("0000:00:1f.0", "8086:0685", "060100", type="conventional", mf=True, group=9),
        dev("0000:00:1f.3", "8086:06c8", "040380", type="conventional", mf=True,
            driver="snd_hda_intel", module="snd_hda_intel", group=9),
        dev("0000:00:1f.4", "8086:06a3", "0c0500", type="conventional", mf=True,
            driver="i801_smbus", module="i2c_i801", group=9),
        dev("0000:00:1f.6", "8086:0d4c", "020000", type="conventional", mf=True,
            driver="e1000e", module="e1000e", group=9, af_flr=True, reset_method="af_flr"),
    ]
    return {
        "hostname": "pve-ws-01",
        "kernel": "6.8.12-4-pve",
        "cmdline": "BOOT_IMAGE=/boot/vmlinuz-6.8.12-4-pve root=/dev/mapper/pve-root ro quiet "
                   "intel_iommu=on iommu=pt",
        "modules": sorted(VFIO_MODULES + ["kvm", "kvm_intel", "nvme", "i915", "e1000e",
                                          "snd_hda_intel", "ahci", "xhci_pci"]),
        "dmi": {"bios_vendor": "American Megatrends Inc.", "bios_version": "2.1",
                "bios_date": "05/12/2023", "board_vendor": "Supermicro",
                "board_name": "X12SCA-F", "product_name": "Super Server",
                "sys_vendor": "Supermicro", "product_serial": "S123456X1",
                "board_serial": "WM21AS001234",
                "product_uuid": "00000000-0000-0000-0000-ac1f6b000001"},
        "efi": True, "secure_boot": False, "lockdown": "none",
        "iommu": {"vendor": "intel", "units": 2, "ir": True},
        "interrupts": "ir",
        "module_params": {
            "vfio_iommu_type1": {"allow_unsafe_interrupts": "N", "dma_entry_limit": "65535"},
            "vfio": {"enable_unsafe_noiommu_mode": "N"},
            "vfio_pci": {"disable_vga": "Y"},  # ids is module_param_string(..., 0): not in sysfs
        },
        "modprobe": {
            "vfio.conf": "# GPU and HBA for VM 100\n"
                         "options vfio-pci ids=10de:1e87,10de:10f8,1000:0097 disable_vga=1\n"
                         "softdep nvidia pre: vfio-pci\n",
            "blacklist-gpu.conf": "blacklist nouveau\nblacklist nvidia\n",
            "pve-blacklist.conf": "blacklist nvidiafb\n",
        },
        "pve": {"100": "boot: order=scsi0\ncores: 8\nhostpci0: 0000:01:00,pcie=1,x-vga=1\n"
                       "hostpci1: 02:00.0\nmachine: q35\nmemory: 32768\nname: win11-gpu\n"
                       "\n[pre-upgrade]\nhostpci0: 0000:05:00,pcie=1\n",
                "101": "cores: 2\nmemory: 2048\nname: dns\nnet0: virtio=BC:24:11:00:00:01\n"},
        "slots": {"1": "0000:01:00", "4": "0000:02:00"},
        "dmesg": ["DMAR: IOMMU enabled",
                  "DMAR: Host address width 39",
                  "DMAR-IR: IOAPIC id 2 under DRHD base  0xfed91000 IOMMU 1",
                  "DMAR-IR: Enabled IRQ remapping in x2apic mode",
                  "pci 0000:01:00.0: Adding to iommu group 1",
                  "pci 0000:02:00.0: Adding to iommu group 6",
                  "vfio-pci 0000:01:00.0: vgaarb: changed VGA decodes",
                  "usb 1-1: new high-speed USB device number 2 using xhci_hcd"],
        "devices": devices,
        "forensics": copy.deepcopy(FORENSICS),
    }


def amd_epyc():
    """Debian + libvirt on an EPYC Rome server: a ConnectX-5 with SR-IOV VFs, one VF to a VM."""
    ACS_AMD = {"cap": ["SV", "TB", "RR", "CR", "UF", "DT"], "ctl": ["SV", "RR", "CR", "UF"]}
    devices = [
        dev("0000:40:00.0", "1022:1480", "060000", type="conventional", group=10),
        dev("0000:40:01.0", "1022:1482", "060000", type="conventional", group=11),
        dev("0000:40:01.1", "1022:1483", "060400", type="root_port", secondary=0x41,
            subordinate=0x41, acs=ACS_AMD, driver="pcieport", group=12, link=L8x16),
        dev("0000:41:00.0", "15b3:1017", "020000", sub="15b3:0007", parent="0000:40:01.1",
            flr=True, reset_method="flr bus", ari=True, sriov={"total": 8, "num": 4},
            driver="mlx5_core", module="mlx5_core", group=13, link=L8x16,
            dsn="b8-ce-f6-03-00-a1-b2-c3", aer={"cor": 0}),
    ]
    for i in range(4):
        devices.append(dev("0000:41:00.%d" % (i + 2), "15b3:1018", "020000", sub="15b3:0007",
                           parent="0000:40:01.1", physfn="0000:41:00.0", flr=True,
                           reset_method="flr", ari=True,
                           driver="vfio-pci" if i == 0 else "mlx5_core",
                           module="vfio_pci" if i == 0 else "mlx5_core", group=14 + i))
    devices += [
        dev("0000:40:03.0", "1022:1482", "060000", type="conventional", group=18),
        dev("0000:40:03.1", "1022:1483", "060400", type="root_port", secondary=0x42,
            subordinate=0x42, acs=ACS_AMD, driver="pcieport", group=19, link=L8x4),
        dev("0000:42:00.0", "144d:a808", "010802", sub="144d:a801", parent="0000:40:03.1",
            flr=True, reset_method="flr bus", driver="nvme", module="nvme", group=20,
            link=L8x4),
    ]
    return {
        "hostname": "kvm-epyc-07",
        "kernel": "6.1.0-26-amd64",
        "cmdline": "BOOT_IMAGE=/boot/vmlinuz-6.1.0-26-amd64 root=UUID=2b1c-44 ro amd_iommu=on "
                   "iommu=pt",
        "modules": sorted(VFIO_MODULES + ["kvm", "kvm_amd", "mlx5_core", "nvme"]),
        "dmi": {"bios_vendor": "Dell Inc.", "bios_version": "2.12.4", "bios_date": "08/17/2023",
                "board_vendor": "Dell Inc.", "board_name": "0R2W2H",
                "product_name": "PowerEdge R7525", "sys_vendor": "Dell Inc.",
                "product_serial": "7XK2Q53", "board_serial": ".7XK2Q53.CNFCP0012300J3.",
                "product_uuid": "4c4c4544-0058-4b10-8032-b7c04f513533"},
        "efi": True, "secure_boot": True, "lockdown": "integrity",
        "iommu": {"vendor": "amd", "units": 1},
        "interrupts": "ir",
        "module_params": {
            "vfio_iommu_type1": {"allow_unsafe_interrupts": "N"},
            "vfio": {"enable_unsafe_noiommu_mode": "N"},
            "vfio_pci": {"disable_vga": "N"},
        },
        "libvirt": {"db01.xml": """<domain type='kvm'>
  <name>db01</name>
  <uuid>a8f6f3c2-1111-4d3e-9a1b-000000000001</uuid>
  <devices>
    <hostdev mode='subsystem' type='pci' managed='yes'>
      <driver name='vfio'/>
      <source>
        <address domain='0x0000' bus='0x41' slot='0x00' function='0x2'/>
      </source>
      <address type='pci' domain='0x0000' bus='0x07' slot='0x00' function='0x0'/>
    </hostdev>
    <!-- <hostdev mode='subsystem' type='pci'><source><address domain='0x0000' bus='0x41' slot='0x00' function='0x3'/></source></hostdev> -->
  </devices>
</domain>
"""},
        "dmesg": ["pci 0000:40:00.2: AMD-Vi: Found IOMMU cap 0x40",
                  "AMD-Vi: Extended features (0x58f77ef22294a5a): PPR NX GT IA PC GA_vAPIC",
                  "AMD-Vi: Interrupt remapping enabled",
                  "AMD-Vi: Virtual APIC enabled",
                  "mlx5_core 0000:41:00.0: vfio: VF 0 MAC set to 3c:ec:ef:12:34:56",
                  "mlx5_core 0000:41:00.0: E-Switch: Enable: mode(LEGACY), nvfs(4), active vports(5)"],
        "devices": devices,
        "forensics": copy.deepcopy(FORENSICS),
    }


def consumer_noacs():
    """A Z490 desktop: both CPU root ports lack ACS, so the GPU shares group 1 with an NVMe."""
    devices = [
        dev("0000:00:00.0", "8086:9b43", "060000", type="conventional", group=0),
        dev("0000:00:01.0", "8086:1901", "060400", type="root_port", mf=True, secondary=1,
            subordinate=1, driver="pcieport", group=1, link=L8x16),
        dev("0000:00:01.1", "8086:1905", "060400", type="root_port", mf=True, secondary=2,
            subordinate=2, driver="pcieport", group=1, link=L8x4),
        dev("0000:01:00.0", "10de:2206", "030000", sub="1462:3892", mf=True,
            parent="0000:00:01.0", flr=False, reset_method="bus", driver="vfio-pci",
            module="vfio_pci", group=1, link=L8x16),
        dev("0000:01:00.1", "10de:1aef", "040300", sub="1462:3892", mf=True,
            parent="0000:00:01.0", flr=False, reset_method="bus", driver="vfio-pci",
            module="vfio_pci", group=1, link=L8x16),
        dev("0000:02:00.0", "144d:a80a", "010802", sub="144d:a801", parent="0000:00:01.1",
            flr=True, reset_method="flr bus", driver="nvme", module="nvme", group=1, link=L8x4),
        dev("0000:00:14.0", "8086:a3af", "0c0330", type="conventional", driver="xhci_hcd",
            module="xhci_pci", group=2),
        dev("0000:00:1f.0", "8086:a3c8", "060100", type="conventional", mf=True, group=3),
        dev("0000:00:1f.3", "8086:a3f0", "040300", type="conventional", mf=True,
            driver="snd_hda_intel", module="snd_hda_intel", group=3),
    ]
    return {
        "hostname": "desk-gpu",
        "kernel": "6.8.0-45-generic",
        "cmdline": "BOOT_IMAGE=/boot/vmlinuz-6.8.0-45-generic root=UUID=9f0 ro quiet splash "
                   "intel_iommu=on vfio-pci.ids=10de:2206,10de:1aef",
        "modules": sorted(VFIO_MODULES + ["kvm", "kvm_intel", "nvme", "snd_hda_intel"]),
        "dmi": {"bios_vendor": "American Megatrends Inc.", "bios_version": "1.A0",
                "bios_date": "11/02/2022", "board_vendor": "Micro-Star International Co., Ltd.",
                "board_name": "MEG Z490 ACE (MS-7C71)", "product_name": "MS-7C71",
                "sys_vendor": "Micro-Star International Co., Ltd."},
        "efi": True, "secure_boot": False, "lockdown": "none",
        "iommu": {"vendor": "intel", "units": 2, "ir": True},
        "interrupts": "ir",
        "module_params": {"vfio_iommu_type1": {"allow_unsafe_interrupts": "N"},
                          "vfio": {"enable_unsafe_noiommu_mode": "N"}},
        "pve": {"101": "name: gaming\nhostpci0: 01:00,pcie=1,x-vga=1\n"},
        "dmesg": ["DMAR: IOMMU enabled", "DMAR-IR: Enabled IRQ remapping in x2apic mode"],
        "devices": devices,
        "forensics": copy.deepcopy(FORENSICS),
    }


def ir_off():
    """pve_intel after a firmware reset turned x2APIC/interrupt remapping off."""
    h = pve_intel()
    h["interrupts"] = "plain"
    h["iommu"]["ir"] = False
    h["dmesg"] = [l for l in h["dmesg"] if "DMAR-IR" not in l]
    h["dmesg"].append("DMAR-IR: x2apic is disabled because BIOS sets x2apic opt out bit.")
    h["dmesg"].append("DMAR-IR: Not enabling interrupt remapping")
    return h


def vtd_off():
    """pve_intel with VT-d disabled in the firmware: no DMAR, no groups, vfio-pci cannot bind."""
    h = pve_intel()
    h["iommu"] = {}
    h["interrupts"] = "plain"
    h["dmesg"] = ["DMAR: IOMMU not found", "vfio-pci: probe of 0000:01:00.0 failed with error -22"]
    for d in h["devices"]:
        d.pop("group", None)
        if d.get("driver") == "vfio-pci":
            d.pop("driver")
            d.pop("module", None)
    return h


def by_bdf(h, bdf):
    return next(d for d in h["devices"] if d["bdf"] == bdf)


def bios_gpu_functions():
    """A BIOS update exposes the GPU's USB-C functions, bound to host drivers, in group 1."""
    h = pve_intel()
    h["dmi"]["bios_version"] = "2.4"
    h["dmi"]["bios_date"] = "03/02/2024"
    h["devices"] += [
        dev("0000:01:00.2", "10de:1ad8", "0c0330", sub="1043:866a", mf=True,
            parent="0000:00:01.0", flr=False, reset_method="bus", driver="xhci_hcd",
            module="xhci_pci", group=1),
        dev("0000:01:00.3", "10de:1ad9", "0c8000", sub="1043:866a", mf=True,
            parent="0000:00:01.0", flr=False, reset_method="bus", driver="nvidia-gpu",
            module="i2c_nvidia_gpu", group=1),
    ]
    return h


def kernel_no_vfio():
    """A kernel update whose initramfs lacks vfio: host drivers bind the GPU and the HBA."""
    h = pve_intel()
    h["kernel"] = "6.8.12-5-pve"
    h["cmdline"] = h["cmdline"].replace("6.8.12-4-pve", "6.8.12-5-pve")
    h["modules"] = [m for m in h["modules"] if not m.startswith("vfio")] + [
        "nouveau", "mpt3sas"]
    h["module_params"] = {}
    for bdf, drv, mod in (("0000:01:00.0", "nouveau", "nouveau"),
                          ("0000:01:00.1", "snd_hda_intel", "snd_hda_intel"),
                          ("0000:02:00.0", "mpt3sas", "mpt3sas")):
        d = by_bdf(h, bdf)
        d["driver"], d["module"] = drv, mod
    return h


def acs_override():
    """pcie_acs_override added: the kernel splits group 1 the hardware cannot isolate."""
    h = pve_intel()
    h["cmdline"] += " pcie_acs_override=downstream,multifunction"
    by_bdf(h, "0000:01:00.0")["group"] = 10
    by_bdf(h, "0000:01:00.1")["group"] = 11
    return h


def unsafe_interrupts():
    h = pve_intel()
    h["module_params"]["vfio_iommu_type1"]["allow_unsafe_interrupts"] = "Y"
    h["modprobe"]["iommu_unsafe_interrupts.conf"] = \
        "options vfio_iommu_type1 allow_unsafe_interrupts=1\n"
    return h


def noiommu():
    h = pve_intel()
    h["module_params"]["vfio"]["enable_unsafe_noiommu_mode"] = "Y"
    return h


def hba_flr_lost():
    """An HBA firmware update drops Function Level Reset."""
    h = pve_intel()
    d = by_bdf(h, "0000:02:00.0")
    d["flr"], d["reset_method"], d["rev"] = False, "bus", "03"
    return h


def gpu_reset_lost():
    """A kernel update whose quirk leaves the GPU no reset (reset_method empty)."""
    h = pve_intel()
    h["kernel"] = "6.8.12-5-pve"
    h["cmdline"] = h["cmdline"].replace("6.8.12-4-pve", "6.8.12-5-pve")
    for bdf in ("0000:01:00.0", "0000:01:00.1"):
        by_bdf(h, bdf)["reset_method"] = ""
    return h


def boot_gpu_passthrough():
    """The only GPU, the boot VGA device, goes to a VM (no iGPU): the firmware framebuffer is on it."""
    h = pve_intel()
    h["devices"] = [d for d in h["devices"] if d["bdf"] != "0000:00:02.0"]
    by_bdf(h, "0000:01:00.0")["boot_vga"] = True
    return h


IOMEM_GPU = """00000000-00000fff : Reserved
00001000-0009ffff : System RAM
000a0000-000bffff : PCI Bus 0000:00
00100000-7fffffff : System RAM
80000000-dfffffff : PCI Bus 0000:00
  c0000000-d1ffffff : PCI Bus 0000:01
    c0000000-cfffffff : 0000:01:00.0
{fb}    d0000000-d1ffffff : 0000:01:00.0
  de000000-df0fffff : PCI Bus 0000:01
    de000000-deffffff : 0000:01:00.0
    df080000-df083fff : 0000:01:00.1
  df100000-df1fffff : PCI Bus 0000:02
    df100000-df10ffff : 0000:02:00.0
      df100000-df10ffff : mpt3sas
fed00000-fed003ff : HPET 0
  fed00000-fed003ff : PNP0103:00
"""


def boot_gpu_bootfb():
    """The only GPU goes to a VM and the firmware framebuffer still holds part of its BAR: on
    Linux 6.1 sysfb_init() registered the simple-framebuffer device (its resource BOOTFB,
    sysfb_simplefb.c) and efifb requested the region (efifb.c); vfio-pci then fails to reserve
    the BAR ("vfio-pci 0000:01:00.0: BAR 1: can't reserve [mem 0xc0000000-0xcfffffff 64bit
    pref]", the message users report after a kernel update that changed the framebuffer)."""
    h = boot_gpu_passthrough()
    h["iomem"] = IOMEM_GPU.format(fb="      c0000000-c07e8fff : BOOTFB\n"
                                     "        c0000000-c07e8fff : efifb\n")
    return h


def boot_gpu_sysfb_off():
    """boot-gpu-bootfb with initcall_blacklist=sysfb_init on the command line: no framebuffer
    device, the BAR is free (what boot-gpu-bootfb is compared with)."""
    h = boot_gpu_passthrough()
    h["cmdline"] += " initcall_blacklist=sysfb_init"
    h["iomem"] = IOMEM_GPU.format(fb="")
    return h


def acs_hidden():
    """A BIOS update hides ACS on the PCH root ports: 1c.0 and 1c.4 merge, HBA with NVMe."""
    h = pve_intel()
    h["dmi"]["bios_version"] = "2.4"
    for bdf in ("0000:00:1c.0", "0000:00:1c.4", "0000:02:00.0", "0000:03:00.0"):
        d = by_bdf(h, bdf)
        d.pop("acs", None) if d.get("type") == "root_port" else None
        d["group"] = 5
    return h


def acs_cap_hardwired():
    """A BIOS update after which the PCH root port above the HBA no longer lists Upstream
    Forwarding in its ACS capability register (nor sets it in control). pci_acs_flags_enabled()
    takes a flag missing from the capability as hard-wired on: isolation and groups are the same
    (Linux 6.1 drivers/pci/pci.c). Not an isolation loss."""
    h = pve_intel()
    h["dmi"]["bios_version"] = "2.4"
    by_bdf(h, "0000:00:1c.0")["acs"] = {"cap": ["SV", "RR", "CR"], "ctl": ["SV", "RR", "CR"]}
    return h


def acs_ctl_cleared():
    """The same BIOS update, but the port still lists Upstream Forwarding in its capability and
    no longer sets it: pci_acs_flags_enabled() fails, the kernel would merge the groups at the
    next boot; the diff must call it an isolation loss."""
    h = pve_intel()
    h["dmi"]["bios_version"] = "2.4"
    by_bdf(h, "0000:00:1c.0")["acs"] = {"cap": ["SV", "RR", "CR", "UF"], "ctl": ["SV", "RR", "CR"]}
    return h


def kernel_renumbered():
    """A kernel bump that numbers IOMMU groups differently: same members."""
    h = pve_intel()
    h["kernel"] = "6.11.0-1-pve"
    for d in h["devices"]:
        d["group"] = d["group"] + 3 if d.get("group") is not None else None
    return h


def bus_shift():
    """A BIOS change (e.g. a new onboard device) shifts every bus number behind the ports."""
    h = pve_intel()
    moves = {"0000:01": "0000:02", "0000:02": "0000:03", "0000:03": "0000:04"}
    for d in h["devices"]:
        if d["bdf"][:7] in moves:
            d["bdf"] = moves[d["bdf"][:7]] + d["bdf"][7:]
    for d in h["devices"]:
        if "secondary" in d:
            d["secondary"] += 1
            d["subordinate"] += 1
    h["slots"] = {"1": "0000:02:00", "4": "0000:03:00"}
    # the operator updated the VM to the new addresses
    h["pve"]["100"] = h["pve"]["100"].replace("0000:01:00,", "0000:02:00,").replace(
        "hostpci1: 02:00.0", "hostpci1: 03:00.0")
    return h


def bus_shift_stale_vm():
    """The same bus shift, but VM 100 still names the old addresses."""
    h = bus_shift()
    h["pve"]["100"] = pve_intel()["pve"]["100"]
    return h


def nic_added():
    """A NIC added behind a spare PCH root port with ACS: a group of its own."""
    h = pve_intel()
    h["devices"] += [
        dev("0000:00:1c.6", "8086:06be", "060400", type="root_port", mf=True, secondary=5,
            subordinate=5, acs=ACS_FULL, driver="pcieport", group=10, link=L8x4),
        dev("0000:05:00.0", "8086:1533", "020000", sub="15d9:1533", parent="0000:00:1c.6",
            flr=True, reset_method="flr", driver="igb", module="igb", group=11, link=L8x4),
    ]
    return h


def canary_peer():
    """Another host of the same model, not yet updated: other name, serials, kernel."""
    h = pve_intel()
    h["hostname"] = "pve-ws-02"
    h["kernel"] = "6.8.8-2-pve"
    h["cmdline"] = h["cmdline"].replace("6.8.12-4-pve", "6.8.8-2-pve")
    h["dmi"].update(product_serial="S123456X2", board_serial="WM21AS005678",
                    product_uuid="00000000-0000-0000-0000-ac1f6b000002")
    return h


def audio_fallback():
    """The GPU's audio function falls back to the host's snd_hda_intel."""
    h = pve_intel()
    d = by_bdf(h, "0000:01:00.1")
    d["driver"], d["module"] = "snd_hda_intel", "snd_hda_intel"
    return h


def log2ram():
    """log2ram installed: /var/log is a tmpfs synced to disk now and then, the journal with it."""
    h = pve_intel()
    h["forensics"]["mountinfo"].append(
        "41 22 0:40 / /var/log rw,nosuid,nodev,noexec,relatime shared:23 - tmpfs log2ram rw,size=131072k,mode=755")
    return h


def journal_volatile():
    """A drop-in sets journald's Storage=volatile over journald.conf's persistent: the journal
    lives in /run only."""
    h = pve_intel()
    h["forensics"]["journald"]["etc/systemd/journald.conf"] = "[Journal]\nStorage=persistent\n"
    h["forensics"]["journald"]["etc/systemd/journald.conf.d/50-ram.conf"] = \
        "# spare the SSD\n[Journal]\nStorage=volatile\nRuntimeMaxUse=64M\n"
    return h


def no_pstore():
    """Legacy BIOS boot: no efi_pstore, no ramoops; pstore has no backend."""
    h = pve_intel()
    h["forensics"]["pstore_backend"] = "(null)"
    return h


def crash_kernel():
    """kdump-tools with crashkernel=384M: memory reserved and a crash kernel loaded; the
    lockup and panic sysctls set so a hung host panics into it."""
    h = pve_intel()
    h["cmdline"] += " crashkernel=384M"
    h["forensics"]["crash_size"], h["forensics"]["crash_loaded"] = 402653184, 1
    h["forensics"]["sysctl"].update(panic=10, hardlockup_panic=1, softlockup_panic=1)
    return h


def netconsole():
    """netconsole sending the kernel's messages to a log host, configured through configfs."""
    h = pve_intel()
    h["forensics"]["netconsole"] = [{"name": "loghost", "enabled": 1}]
    h["modules"] = sorted(h["modules"] + ["netconsole"])
    return h


def aer_after_reboot():
    """The next boot: the HBA reported a non-fatal uncorrectable error; the GPU corrected one
    error at link training (fewer than the boot before: not news)."""
    h = pve_intel()
    h["forensics"]["boot_id"] = "5d6e7f80-1a2b-4c3d-8e9f-0a1b2c3d4e5f"
    by_bdf(h, "0000:02:00.0")["aer"] = {"cor": 0, "nonfatal": 1}
    by_bdf(h, "0000:01:00.0")["aer"] = {"cor": 1}
    return h


def ryzen_usb_noflr():
    """A Ryzen 3000 (X570) host that passes the CPU's Matisse USB 3.0 controller (1022:149c) to a
    VM, as Proxmox users do for USB hotplug. It advertises FLR, which hangs it; the kernel's
    quirk_no_flr() refuses it (PCI_DEV_FLAGS_NO_FLR_RESET), so its reset_method is pm and bus,
    and pcisnap must not say it has FLR. (drivers/pci/quirks.c of Linux 6.1, the comment above
    quirk_no_flr(): "FLR may cause the following to devices to hang".)"""
    h = amd_epyc()
    h["hostname"] = "pve-ryzen-01"
    h["devices"] += [
        dev("0000:40:07.0", "1022:1482", "060000", type="conventional", group=21),
        dev("0000:40:07.1", "1022:1484", "060400", type="root_port", secondary=0x43,
            subordinate=0x43, acs={"cap": ["SV", "TB", "RR", "CR", "UF", "DT"],
                                   "ctl": ["SV", "RR", "CR", "UF"]},
            driver="pcieport", group=22, link=L8x4),
        dev("0000:43:00.3", "1022:149c", "0c0330", sub="1022:148c", parent="0000:40:07.1",
            flr=True, reset_method="pm bus", driver="vfio-pci", module="vfio_pci", group=23,
            link=L8x4),
        # captured from a kernel without reset_method: Linux 6.1's quirk list decides
        dev("0000:40:09.0", "1022:1487", "040300", sub="1022:d102", type="conventional",
            af_flr=True, driver="snd_hda_intel", module="snd_hda_intel", group=24),
        # a conventional function whose AF capability has FLR without Transactions Pending:
        # pci_af_flr() needs both
        dev("0000:40:08.0", "1022:1485", "130000", type="conventional", af_flr=True,
            af_tp=False, group=25),
    ]
    return h


def libvirt_managed():
    """amd-epyc as libvirt leaves it at boot with a managed hostdev (managed='yes', libvirt's
    default, as in its domain XML docs): no vfio-pci id anywhere, vfio-pci not loaded yet, the VF
    still on mlx5_core; libvirtd loads vfio-pci and binds the VF when db01 starts. Not a FAIL."""
    h = amd_epyc()
    h["modules"] = sorted(m for m in h["modules"] if m not in VFIO_MODULES)
    h["module_params"] = {}
    vf = by_bdf(h, "0000:41:00.2")
    vf["driver"], vf["module"] = "mlx5_core", "mlx5_core"
    return h


def nic_82579_flr():
    """pve-intel with its onboard Intel 82579LM (8086:1502, an RC integrated endpoint) passed to
    a firewall VM, on a kernel that still resets it by FLR (reset_method lists flr)."""
    h = pve_intel()
    h["devices"].append(dev("0000:00:19.0", "8086:1502", "020000", sub="15d9:0000",
                            type="rc_integrated_endpoint", flr=True, reset_method="flr pm",
                            driver="vfio-pci", module="vfio_pci", group=40))
    return h


def nic_82579_quirk():
    """The same host on a kernel with quirk_no_flr() for 8086:1502 (Linux 6.1 has it): the NIC
    still advertises FLR, the kernel refuses it (reset_method pm), so the VM's device is reset
    another way: the FLR the passthrough relied on is gone."""
    h = nic_82579_flr()
    h["kernel"] = "6.1.0-26-amd64"
    by_bdf(h, "0000:00:19.0")["reset_method"] = "pm"
    return h


def nic_split():
    """pve-intel with an Intel I350-T4 (8086:1521) split between a firewall VM and the host, as
    OPNsense/pfSense-on-Proxmox users run it: port 0 passed to VM 102 (bound to vfio-pci by
    Proxmox when the VM starts; all four ports share one device id, so no vfio-pci ids), ports
    1-3 on igb for the host's bridges. Four IOMMU groups: the root port has ACS and
    pci_quirk_mf_endpoint_acs() isolates the I350's functions (Linux 6.1 drivers/pci/quirks.c);
    each port resets by FLR. Sound: no FAIL (tests/golden/check/nic-split/SOURCE.md)."""
    h = pve_intel()
    h["devices"].append(dev("0000:00:1d.0", "8086:06b0", "060400", type="root_port", mf=True,
                            secondary=4, subordinate=4, acs=ACS_FULL, driver="pcieport",
                            group=10, link=L8x4))
    for fn in range(4):
        h["devices"].append(dev("0000:04:00.%d" % fn, "8086:1521", "020000", sub="8086:5001",
                                rev="01", mf=True, parent="0000:00:1d.0", flr=True,
                                reset_method="flr",
                                driver="vfio-pci" if fn == 0 else "igb",
                                module="vfio_pci" if fn == 0 else "igb", group=11 + fn,
                                link=L8x4))
    h["modules"] = sorted(h["modules"] + ["igb"])
    h["pve"]["102"] = "cores: 2\nhostpci0: 0000:04:00.0\nmemory: 4096\nname: opnsense\n"
    return h


def nic_split_noflr():
    """nic-split with a card whose functions have no FLR (the kernel's reset_method is empty
    for a multifunction device without FLR or PM reset): vfio-pci can reset port 0 only with the
    whole bus, which the host's ports share."""
    h = nic_split()
    for fn in range(4):
        d = by_bdf(h, "0000:04:00.%d" % fn)
        d["flr"], d["reset_method"] = False, ""
    return h


def nic_split_flr_lost():
    """nic-split on a new kernel that no longer resets the host's port 0000:04:00.3 by FLR (it
    lost the FLR bit after a firmware update): a host device, not the VM's, so harmless; under
    the slot rule it counted as a passthrough device's lost reset (isolation_loss)."""
    h = nic_split()
    d = by_bdf(h, "0000:04:00.3")
    d["flr"], d["reset_method"] = False, "pm"
    return h


def libvirt_unmanaged():
    """libvirt-managed, but db01's hostdev says managed='no' (the operator is to run `virsh
    nodedev-detach` first, libvirt's formatdomain "managed"): nothing binds the VF at the VM's
    start, so the VM fails to start with the VF on mlx5_core."""
    h = libvirt_managed()
    h["libvirt"]["db01.xml"] = h["libvirt"]["db01.xml"].replace("managed='yes'", "managed='no'")
    return h


def qat_denylist():
    """pve-intel with an Intel QAT C62x (8086:37c8) below its own root port, named by VM 103
    for crypto offload: vfio_pci_dev_in_denylist() (Linux 6.1 drivers/vfio/pci/vfio_pci.c)
    refuses it unless disable_denylist; Proxmox's bind at the VM's start fails with -EINVAL."""
    h = pve_intel()
    h["devices"] += [
        dev("0000:00:1d.0", "8086:06b0", "060400", type="root_port", mf=True, secondary=5,
            subordinate=5, acs=ACS_FULL, driver="pcieport", group=10, link=L8x4),
        dev("0000:05:00.0", "8086:37c8", "0b4000", sub="8086:35c5", rev="04",
            parent="0000:00:1d.0", flr=True, reset_method="flr", driver="c6xx",
            module="qat_c62x", group=11, link=L8x4),
    ]
    h["pve"]["103"] = "cores: 4\nhostpci0: 0000:05:00.0\nmemory: 8192\nname: vpn\n"
    return h


def sriov_pf_named():
    """amd-epyc where the VM names the ConnectX-5 PF itself while its four VFs are enabled:
    vfio_pci_core_register_device() refuses a PF with VFs (-EBUSY, "Cannot bind to PF with
    SR-IOV enabled")."""
    h = amd_epyc()
    h["libvirt"]["pf.xml"] = """<domain type='kvm'>
  <name>router</name>
  <devices>
    <hostdev mode='subsystem' type='pci' managed='yes'>
      <source><address domain='0x0000' bus='0x41' slot='0x00' function='0x0'/></source>
    </hostdev>
  </devices>
</domain>
"""
    return h


def quoted_ids():
    """pve-intel with its ids quoted, as guides write them: options vfio-pci
    ids="10de:1e87,10de:10f8,1000:0097". The kernel splits module options with next_arg(),
    which removes the quotes (kernel/params.c, lib/cmdline.c): the ids apply."""
    h = pve_intel()
    h["modprobe"]["vfio.conf"] = h["modprobe"]["vfio.conf"].replace(
        "ids=10de:1e87,10de:10f8,1000:0097", 'ids="10de:1e87,10de:10f8,1000:0097"')
    return h


def iommufd_container():
    """pve-intel on a kernel whose VFIO container is iommufd (CONFIG_IOMMUFD_VFIO_CONTAINER=y,
    Linux 6.2 and later): /dev/vfio/vfio comes from iommufd, vfio_iommu_type1 is never loaded,
    and allow_unsafe_interrupts is iommufd's own parameter (drivers/iommu/iommufd/device.c)."""
    h = pve_intel()
    h["kernel"] = "6.8.12-4-pve"
    h["modules"] = sorted([m for m in h["modules"] if m != "vfio_iommu_type1"] + ["iommufd"])
    h["module_params"] = {
        "iommufd": {"allow_unsafe_interrupts": "N"},
        "vfio": {"enable_unsafe_noiommu_mode": "N"},
        "vfio_pci": {"disable_vga": "Y"},
    }
    return h


def iommufd_unsafe():
    """iommufd-container with iommufd.allow_unsafe_interrupts=1 set (modprobe.d), as guides
    for boards without interrupt remapping advise."""
    h = iommufd_container()
    h["module_params"]["iommufd"]["allow_unsafe_interrupts"] = "Y"
    return h


def unconfigured_bridge():
    """pve-intel with a switch behind a new root port whose upstream port the firmware left
    unconfigured (secondary and subordinate bus 0, nothing below it), as on boards with a
    disabled slot. The sysfs paths place every device; bus numbers must not make the root bus's
    devices children of that switch port (a loop no reader accepts)."""
    h = pve_intel()
    h["devices"] += [
        dev("0000:00:1d.0", "8086:06b0", "060400", type="root_port", mf=True, secondary=4,
            subordinate=4, acs=ACS_FULL, driver="pcieport", group=10, link=L8x4),
        dev("0000:04:00.0", "10b5:8747", "060400", type="upstream_port", secondary=0,
            subordinate=0, parent="0000:00:1d.0", group=11),
    ]
    return h


def nic_split_noacs():
    """A dual-port Broadcom BCM5720 (14e4:165f, no ACS on its functions, in no quirk list) split
    the same way: port 0 to the firewall VM, port 1 on tg3. The kernel merges the two functions
    into one group (get_pci_function_alias_group(): no ACS between them), so vfio refuses the
    group as not viable while port 1 is on the host ("group N is not viable", as in
    lxc/incus#3422). Broken: FAIL."""
    h = pve_intel()
    h["devices"].append(dev("0000:00:1d.0", "8086:06b0", "060400", type="root_port", mf=True,
                            secondary=4, subordinate=4, acs=ACS_FULL, driver="pcieport",
                            group=10, link=L8x4))
    for fn in range(2):
        h["devices"].append(dev("0000:04:00.%d" % fn, "14e4:165f", "020000", sub="1028:1f5b",
                                mf=True, parent="0000:00:1d.0", flr=True, reset_method="flr",
                                driver="vfio-pci" if fn == 0 else "tg3",
                                module="vfio_pci" if fn == 0 else "tg3", group=11,
                                link=L8x4))
    h["modules"] = sorted(h["modules"] + ["tg3"])
    h["pve"]["102"] = "cores: 2\nhostpci0: 0000:04:00.0\nmemory: 4096\nname: opnsense\n"
    return h


def rootport_fatal():
    """The next boot of pve-intel, after a fatal uncorrectable error on the HBA's link: Linux
    6.1 logs "Uncorrected (Fatal) error ... device recovery failed" and counts it in the root
    port's aer_rootport_total_err_fatal (aer.c), while the HBA's own aer_dev_fatal stays 0 (as
    seen with errors injected into a passthrough device's root port under QEMU, issue 29)."""
    h = pve_intel()
    h["forensics"]["boot_id"] = "5d6e7f80-1a2b-4c3d-8e9f-0a1b2c3d4e5f"
    by_bdf(h, "0000:00:1c.0")["aer"] = {"cor": 0, "rp_fatal": 1}
    by_bdf(h, "0000:02:00.0")["aer"] = {"cor": 0}
    return h


def hba_dpc_contained():
    """pve-intel after a fatal error on the HBA's link with native DPC (root ports of Ice Lake
    and later have the capability): the root port's DPC contained the link and the HBA's link
    is down; Linux 6.1's dpc_process_error() logged it (drivers/pci/pcie/dpc.c), the recovery
    has not brought the link back (the port still shows Trigger Status)."""
    h = pve_intel()
    h["forensics"]["boot_id"] = "5d6e7f80-1a2b-4c3d-8e9f-0a1b2c3d4e5f"
    port = by_bdf(h, "0000:00:1c.0")
    port["dpc"] = {"trigger": "fatal", "triggered": True, "reason": "err_fatal", "source": "0200"}
    port["aer_regs"] = {"uncor_status": "00000020", "uncor_severity": "00462030"}
    port["link"] = dict(port.get("link") or {}, active=False)
    port["aer"] = {"cor": 0, "rp_fatal": 1}
    # behind the contained link the HBA answers no config read (all ones)
    by_bdf(h, "0000:02:00.0")["unreachable"] = True
    h["dmesg"] = h["dmesg"] + [
        "pcieport 0000:00:1c.0: DPC: containment event, status:0x1f05 source:0x0200",
        "pcieport 0000:00:1c.0: DPC: ERR_FATAL detected",
        "pcieport 0000:00:1c.0: AER: device recovery failed"]
    return h


def hba_aer_masked():
    """pve-intel where the firmware masks Surprise Down and Completion Timeout in the HBA root
    port's AER Uncorrectable Error Mask, and both were logged: aer.c is never told (a masked
    error sets its status bit, nothing more), so the counters stay 0."""
    h = pve_intel()
    port = by_bdf(h, "0000:00:1c.0")
    port["aer_regs"] = {"uncor_status": "00004020", "uncor_mask": "00004020"}
    # a port that does not report Data Link Layer Link Active (no DLLLARC: not hotplug
    # capable): its link state is unknown, never "down"
    port["link"] = dict(port.get("link") or {}, dlllarc=False, active=False)
    # and the GPU's root port with SERR# forwarding cleared (_HPX, or setpci), after
    # pci_configure_serr() had set it: the GPU's ERR_ messages stop there
    by_bdf(h, "0000:00:01.0")["serr"] = False
    return h


def hba_dpc_ready():
    """pve-intel whose HBA root port has DPC, armed by the kernel and never triggered, and AER
    with its default registers: what hba-dpc-contained and hba-aer-masked are compared with."""
    h = pve_intel()
    port = by_bdf(h, "0000:00:1c.0")
    port["dpc"] = {"trigger": "fatal", "triggered": False}
    port["aer_regs"] = {}
    return h


def noaer_workaround():
    """pve-intel after pci=noaer and pcie_aspm=off were added to the command line, the usual
    forum workaround for AER messages: the faults stop being reported, the hardware is as it
    was."""
    h = pve_intel()
    h["cmdline"] += " pci=noaer pcie_aspm=off"
    return h


BASE = {"boot-gpu-bootfb": boot_gpu_bootfb, "boot-gpu-sysfb-off": boot_gpu_sysfb_off, "hba-dpc-contained": hba_dpc_contained, "hba-aer-masked": hba_aer_masked, "hba-dpc-ready": hba_dpc_ready, "boot-gpu-passthrough": boot_gpu_passthrough, "gpu-reset-lost": gpu_reset_lost, "noaer-workaround": noaer_workaround, "rootport-fatal": rootport_fatal, "nic-split-noacs": nic_split_noacs, "unconfigured-bridge": unconfigured_bridge, "iommufd-container": iommufd_container, "iommufd-unsafe": iommufd_unsafe,
        "quoted-ids": quoted_ids, "qat-denylist": qat_denylist, "sriov-pf-named": sriov_pf_named,
        "acs-cap-hardwired": acs_cap_hardwired, "acs-ctl-cleared": acs_ctl_cleared,
        "libvirt-unmanaged": libvirt_unmanaged, "nic-split": nic_split, "nic-split-noflr": nic_split_noflr,
        "nic-split-flr-lost": nic_split_flr_lost, "pve-intel": pve_intel, "ryzen-usb-noflr": ryzen_usb_noflr,
        "nic-82579-flr": nic_82579_flr, "libvirt-managed": libvirt_managed, "nic-82579-quirk": nic_82579_quirk, "amd-epyc": amd_epyc, "consumer-noacs": consumer_noacs,
        "ir-off": ir_off, "vtd-off": vtd_off, "bios-gpu-functions": bios_gpu_functions,
        "kernel-no-vfio": kernel_no_vfio, "acs-override": acs_override,
        "unsafe-interrupts": unsafe_interrupts, "noiommu": noiommu, "hba-flr-lost": hba_flr_lost,
        "acs-hidden": acs_hidden, "kernel-renumbered": kernel_renumbered, "bus-shift": bus_shift,
        "bus-shift-stale-vm": bus_shift_stale_vm,
        "nic-added": nic_added, "canary-peer": canary_peer, "audio-fallback": audio_fallback,
        "log2ram": log2ram, "journal-volatile": journal_volatile, "no-pstore": no_pstore,
        "crash-kernel": crash_kernel, "netconsole": netconsole, "aer-after-reboot": aer_after_reboot}


def get(name):
    h = copy.deepcopy(BASE[name]())
    h.setdefault("forensics", copy.deepcopy(FORENSICS))
    return h
