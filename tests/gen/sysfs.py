# SPDX-License-Identifier: GPL-2.0-or-later
"""Write a captured root (sys/, proc/, etc/) laid out exactly as Linux does.

A host is a dict (see hosts.py). Device directories live under sys/devices/pciDDDD:BB/...
following the parent chain; sys/bus/pci/devices/<bdf>, driver, iommu_group, physfn and the
group's devices/<bdf> are relative symlinks; config is a binary file (4096 bytes for PCIe,
256 for conventional PCI, 64 when captured without root).
"""
import os
import re
import struct

PCIE_TYPES = {
    "endpoint": 0x0, "legacy_endpoint": 0x1, "root_port": 0x4, "upstream_port": 0x5,
    "downstream_port": 0x6, "pcie_to_pci_bridge": 0x7, "pci_to_pcie_bridge": 0x8,
    "rc_integrated_endpoint": 0x9, "rc_event_collector": 0xa,
}
ACS_BITS = {"SV": 0x01, "TB": 0x02, "RR": 0x04, "CR": 0x08, "UF": 0x10, "EC": 0x20, "DT": 0x40}
SPEED_CODES = {"2.5": 1, "5.0": 2, "8.0": 3, "16.0": 4, "32.0": 5, "64.0": 6}
SECURE_BOOT = "SecureBoot-8be4df61-93ca-11d2-aa0d-e098032b8c4c"


def speed_code(s):
    if not s:
        return 0
    v = float(s.split()[0])
    return SPEED_CODES.get("%.1f" % v, 0)


def flags(names):
    v = 0
    for n in names or []:
        v |= ACS_BITS[n]
    return v


def config_space(d):
    """Binary config space of one device, as the hardware would present it."""
    pcie = d.get("type", "endpoint") != "conventional"
    size = 4096 if pcie else 256
    if d.get("no_ext"):
        size = 256
    c = bytearray(size)
    vendor, device = (int(x, 16) for x in d["id"].split(":"))
    is_vf = bool(d.get("physfn"))
    struct.pack_into("<HH", c, 0, 0xffff if is_vf else vendor, 0xffff if is_vf else device)
    struct.pack_into("<HH", c, 4, 0x0406, 0x0010)  # command; status: capability list
    cls = int(d.get("class", "020000"), 16)
    c[8] = int(d.get("rev", "00"), 16)
    c[9], c[10], c[11] = cls & 0xff, (cls >> 8) & 0xff, (cls >> 16) & 0xff
    bridge = "secondary" in d
    c[0x0e] = (1 if bridge else 0) | (0x80 if d.get("mf") else 0)
    if bridge:
        c[0x18], c[0x19], c[0x1a] = int(d["bdf"][5:7], 16), d["secondary"], d["subordinate"]
        # Bridge Control: SERR# Enable, as pci_configure_serr() leaves every bridge
        struct.pack_into("<H", c, 0x3e, 0 if d.get("serr") is False else 0x0002)
    elif d.get("sub"):
        sv, sd = (int(x, 16) for x in d["sub"].split(":"))
        struct.pack_into("<HH", c, 0x2c, sv, sd)
    c[0x34] = 0x40
    # traditional capabilities: PCIe at 0x40 (or PM only), AF at 0x80 when asked
    af = d.get("af_flr") is not None
    if pcie:
        c[0x40], c[0x41] = 0x10, 0x80 if af else 0x00
        struct.pack_into("<H", c, 0x42, 0x0002 | (PCIE_TYPES[d.get("type", "endpoint")] << 4))
        devcap = 0x10000000 if d.get("flr") else 0
        struct.pack_into("<I", c, 0x44, devcap)
        link = d.get("link") or {}
        lnkcap = speed_code(link.get("max")) | (link.get("maxw", 0) << 4)
        lnksta = speed_code(link.get("cur")) | (link.get("curw", 0) << 4)
        if d.get("type") in ("root_port", "downstream_port") and link.get("dlllarc", True):
            # Data Link Layer Link Active Reporting (hotplug-capable ports must have it), and
            # the link up unless the host says it is down
            lnkcap |= 1 << 20
            lnksta |= 0 if link.get("active", True) is False else 1 << 13
        if link.get("training"):
            lnksta |= 1 << 11
        struct.pack_into("<I", c, 0x4c, lnkcap)
        struct.pack_into("<H", c, 0x52, lnksta)
        # Link Capabilities 2 (a version 2 capability): the Supported Link Speeds vector, every
        # speed up to the maximum, as PCIe r3.0 and later hardware has it; the kernel's
        # max_link_speed is its highest bit
        code = speed_code(link.get("max"))
        struct.pack_into("<I", c, 0x6c, sum(1 << k for k in range(1, code + 1)) if code else 0)
    else:
        c[0x40], c[0x41] = 0x01, 0x80 if af else 0x00  # power management
        struct.pack_into("<H", c, 0x42, 0x0003)
    if af:
        c[0x80], c[0x81], c[0x82] = 0x13, 0x00, 0x06
        # Transactions Pending, unless af_tp is False; FLR when af_flr
        c[0x83] = (0 if d.get("af_tp") is False else 0x01) | (0x02 if d["af_flr"] else 0)
    if pcie and size == 4096:
        ext = []
        if d.get("acs") is not None:
            body = struct.pack("<HH", flags(d["acs"].get("cap")), flags(d["acs"].get("ctl")))
            ext.append((0x000d, 1, body))
        if d.get("dsn"):
            b = bytes(int(x, 16) for x in d["dsn"].split("-"))
            hi, lo = struct.unpack(">II", b)
            ext.append((0x0003, 1, struct.pack("<II", lo, hi)))
        if d.get("ari"):
            ext.append((0x000e, 1, struct.pack("<HH", 0, 0)))
        if d.get("sriov"):
            sr = bytearray(0x3c)
            struct.pack_into("<HHH", sr, 0x08, d["sriov"]["total"], d["sriov"]["total"],
                             d["sriov"]["num"])
            if d["sriov"]["num"] and d.get("_vf_layout"):
                # VFs enabled: VF Enable and VF MSE set, First VF Offset and VF Stride as
                # the VFs sit (pci_iov_virtfn_bus()/_devfn() place them from these two)
                struct.pack_into("<H", sr, 0x04, 0x0009)
                struct.pack_into("<HH", sr, 0x10, *d["_vf_layout"])
            # VF Device ID (capability offset 0x1a): what the kernel gives its VFs as device
            struct.pack_into("<H", sr, 0x16, int(d.get("_vf_device", "0"), 16))
            ext.append((0x0010, 1, bytes(sr)))
        if d.get("aer_regs") is not None:
            # AER (PCIe r5.0 7.8.4): uncorrectable status, mask, severity, correctable status,
            # mask at +4..+0x14, then the capabilities/control and the header log
            r = d["aer_regs"]
            body = bytearray(0x44)
            struct.pack_into("<IIIII", body, 0, int(r.get("uncor_status", "0"), 16),
                             int(r.get("uncor_mask", "0"), 16),
                             int(r.get("uncor_severity", "00462030"), 16),
                             int(r.get("cor_status", "0"), 16), int(r.get("cor_mask", "00002000"), 16))
            ext.append((0x0001, 2, bytes(body)))
        if d.get("dpc") is not None:
            # DPC (PCIe r5.0 7.9.15): capability, control (Trigger Enable in bits 1:0),
            # status (Trigger Status bit 0, Trigger Reason 2:1, its extension 6:5), source id
            p = d["dpc"]
            ctl = {"off": 0, "fatal": 1, "nonfatal": 2}[p.get("trigger", "fatal")] | 0x8
            reason = {"unmasked_uncorrectable": (0, 0), "err_nonfatal": (1, 0),
                      "err_fatal": (2, 0), "rp_pio": (3, 0), "software": (3, 1)}
            status = 0
            if p.get("triggered"):
                r, e = reason[p.get("reason", "err_fatal")]
                status = 1 | (r << 1) | (e << 5)
            ext.append((0x001d, 1, struct.pack("<HHHH", 0x00e0, ctl, status,
                                               int(p.get("source", "0000"), 16))))
        off = 0x100
        for i, (cid, ver, body) in enumerate(ext):
            nxt = off + 4 + len(body)
            nxt = (nxt + 3) & ~3
            header = cid | (ver << 16) | ((nxt if i + 1 < len(ext) else 0) << 20)
            struct.pack_into("<I", c, off, header)
            c[off + 4: off + 4 + len(body)] = body
            off = nxt
    return bytes(c)


def write(path, data, mode=0o644):
    os.makedirs(os.path.dirname(path), exist_ok=True)
    with open(path, "wb" if isinstance(data, bytes) else "w") as f:
        f.write(data)
    os.chmod(path, mode)


def symlink(target, path):
    os.makedirs(os.path.dirname(path), exist_ok=True)
    if os.path.lexists(path):
        os.unlink(path)
    os.symlink(target, path)


def up_to_sys(rel_from_sys):
    """'../' repeated to climb from sys/<rel_from_sys> back to sys/."""
    return "../" * len(rel_from_sys.split("/"))


def device_paths(devices):
    by_bdf = {d["bdf"]: d for d in devices}
    paths = {}

    def path(d):
        if d["bdf"] in paths:
            return paths[d["bdf"]]
        parent = d.get("parent")
        if parent:
            p = path(by_bdf[parent]) + "/" + d["bdf"]
        else:
            p = "devices/pci%s:%s/%s" % (d["bdf"][:4], d["bdf"][5:7], d["bdf"])
        paths[d["bdf"]] = p
        return p
    for d in devices:
        path(d)
    return paths


def interrupts_text(host):
    mode = host.get("interrupts")
    chip_ioapic = "IR-IO-APIC" if mode == "ir" else "IO-APIC"
    lines = ["           CPU0       CPU1",
             "  0:         35          0   %-12s    2-edge      timer" % chip_ioapic,
             "  8:          0          0   %-12s    8-edge      rtc0" % chip_ioapic,
             "  9:          0          4   %-12s    9-fasteoi   acpi" % chip_ioapic]
    if host.get("iommu", {}).get("vendor") == "intel":
        lines.append(" 24:          0          0   DMAR-MSI    0-edge      dmar0")
    irq = 120
    for d in host["devices"]:
        if not d.get("driver") or "secondary" in d:
            continue
        msi = d.get("msix", True)
        chip = ("IR-" if mode == "ir" else "") + ("PCI-MSIX-%s" % d["bdf"] if msi else "PCI-MSI")
        lines.append("%3d:       1234          0   %s    0-edge      %s[%s]" %
                     (irq, chip, d["driver"], d["bdf"]))
        irq += 1
    lines.append("NMI:          0          0   Non-maskable interrupts")
    lines.append("LOC:     123456     234567   Local timer interrupts")
    return "\n".join(lines) + "\n"


def routing_id(bdf):
    dom, bus, slot_fn = bdf.split(":")
    slot, fn = slot_fn.split(".")
    return int(bus, 16) << 8 | int(slot, 16) << 3 | int(fn)


def vf_layout(pf, devices):
    """(First VF Offset, VF Stride) of a PF, from where its VFs are; None when they are not
    evenly spaced, as no SR-IOV capability could place them."""
    vfs = sorted(routing_id(d["bdf"]) for d in devices if d.get("physfn") == pf["bdf"])
    offset = vfs[0] - routing_id(pf["bdf"])
    stride = vfs[1] - vfs[0] if len(vfs) > 1 else 1
    if offset <= 0 or any(b - a != stride for a, b in zip(vfs, vfs[1:])):
        return None
    return offset, stride


def build(host, root, unprivileged=False):
    """Write host into root. unprivileged: what a capture without root would hold."""
    devices = host["devices"]
    # a PF's SR-IOV capability names its VFs' device id: the one its VFs here have
    vf_device = {d["physfn"]: d["id"].split(":")[1] for d in devices if d.get("physfn")}
    devices = [dict(d, _vf_device=vf_device[d["bdf"]], _vf_layout=vf_layout(d, devices))
               if d["bdf"] in vf_device else d for d in devices]
    paths = device_paths(devices)
    sysd = os.path.join(root, "sys")
    drivers = {}
    groups = {}
    for d in devices:
        p = paths[d["bdf"]]
        dd = os.path.join(sysd, p)
        os.makedirs(dd, exist_ok=True)
        vendor, device = d["id"].split(":")
        write(os.path.join(dd, "vendor"), "0x%s\n" % vendor)
        write(os.path.join(dd, "device"), "0x%s\n" % device)
        sv, sd = (d.get("sub") or "0000:0000").split(":")
        write(os.path.join(dd, "subsystem_vendor"), "0x%s\n" % sv)
        write(os.path.join(dd, "subsystem_device"), "0x%s\n" % sd)
        write(os.path.join(dd, "class"), "0x%s\n" % d.get("class", "020000"))
        write(os.path.join(dd, "revision"), "0x%s\n" % d.get("rev", "00"))
        write(os.path.join(dd, "driver_override"), "%s\n" % (d.get("driver_override") or "(null)"))
        write(os.path.join(dd, "numa_node"), "%d\n" % d.get("numa", -1))
        write(os.path.join(dd, "d3cold_allowed"), "%d\n" % (0 if d.get("d3cold") is False else 1))
        write(os.path.join(dd, "power_state"), d.get("power_state", "D0") + "\n")
        # every PCI device has these; lspci's sysfs backend cannot do without them
        write(os.path.join(dd, "irq"), "0\n")
        write(os.path.join(dd, "resource"), "0x0000000000000000 0x0000000000000000 0x0000000000000000\n" * 17)
        cfg = config_space(d)
        if d.get("unreachable"):  # its link is down: every config read completes as all ones
            cfg = b"\xff" * len(cfg)
        write(os.path.join(dd, "config"), cfg[:64] if unprivileged else cfg, 0o644)
        if d.get("reset_method") is not None:
            write(os.path.join(dd, "reset_method"), d["reset_method"] + "\n")
        if d.get("type", "endpoint") != "conventional" and "link" not in d:
            # what Linux 6.1 shows for a PCIe device whose link registers read zero (seen in
            # the real-kernel lab for RCiEPs; a VF's are reserved): pcie_dev_attrs_are_visible()
            # shows the attributes for every PCIe device, pcie_get_width_cap() answers
            # PCIE_LNK_WIDTH_UNKNOWN, the speeds "Unknown"
            write(os.path.join(dd, "max_link_speed"), "Unknown\n")
            write(os.path.join(dd, "max_link_width"), "255\n")
            write(os.path.join(dd, "current_link_speed"), "Unknown\n")
            write(os.path.join(dd, "current_link_width"), "0\n")
        if "link" in d:
            link = d["link"]
            write(os.path.join(dd, "max_link_speed"), link["max"] + "\n")
            write(os.path.join(dd, "max_link_width"), "%d\n" % link["maxw"])
            write(os.path.join(dd, "current_link_speed"), link["cur"] + "\n")
            write(os.path.join(dd, "current_link_width"), "%d\n" % link["curw"])
        if d.get("aer") is not None:
            a = d["aer"]
            write(os.path.join(dd, "aer_dev_correctable"),
                  "RxErr 0\nBadTLP 0\nTOTAL_ERR_COR %d\n" % a.get("cor", 0))
            write(os.path.join(dd, "aer_dev_nonfatal"),
                  "Undefined 0\nTOTAL_ERR_NONFATAL %d\n" % a.get("nonfatal", 0))
            write(os.path.join(dd, "aer_dev_fatal"),
                  "Undefined 0\nTOTAL_ERR_FATAL %d\n" % a.get("fatal", 0))
            if d.get("type") == "root_port":  # aer_stats_attrs_are_visible(): root ports only
                for k in ("cor", "fatal", "nonfatal"):
                    write(os.path.join(dd, "aer_rootport_total_err_" + k),
                          "%d\n" % a.get("rp_" + k, 0))
        if d.get("sriov"):
            write(os.path.join(dd, "sriov_totalvfs"), "%d\n" % d["sriov"]["total"])
            write(os.path.join(dd, "sriov_numvfs"), "%d\n" % d["sriov"]["num"])
        if d.get("class", "").startswith("03"):
            write(os.path.join(dd, "boot_vga"), "%d\n" % (1 if d.get("boot_vga") else 0))
        if d.get("physfn"):
            symlink("../" + d["physfn"], os.path.join(dd, "physfn"))
        symlink(up_to_sys(p) + "bus/pci", os.path.join(dd, "subsystem"))
        symlink("../../.." + "/" + p, os.path.join(sysd, "bus/pci/devices", d["bdf"]))
        if d.get("driver"):
            symlink(up_to_sys(p) + "bus/pci/drivers/" + d["driver"], os.path.join(dd, "driver"))
            drivers.setdefault(d["driver"], (d.get("module"), []))[1].append(d["bdf"])
        if d.get("group") is not None:
            symlink(up_to_sys(p) + "kernel/iommu_groups/%d" % d["group"],
                    os.path.join(dd, "iommu_group"))
            groups.setdefault(d["group"], []).append(d["bdf"])
    for name, (module, bdfs) in drivers.items():
        ddir = os.path.join(sysd, "bus/pci/drivers", name)
        os.makedirs(ddir, exist_ok=True)
        for b in bdfs:
            symlink("../../../../" + paths[b], os.path.join(ddir, b))
        if module:
            symlink("../../../../module/" + module, os.path.join(ddir, "module"))
            os.makedirs(os.path.join(sysd, "module", module), exist_ok=True)
    for gid, bdfs in groups.items():
        gdir = os.path.join(sysd, "kernel/iommu_groups/%d" % gid)
        for b in bdfs:
            symlink("../../../../" + paths[b], os.path.join(gdir, "devices", b))
        write(os.path.join(gdir, "type"), host.get("group_type", "DMA") + "\n")
    for bus_root in sorted({p.split("/")[1] for p in paths.values()}):
        os.makedirs(os.path.join(sysd, "devices", bus_root), exist_ok=True)
    iommu = host.get("iommu") or {}
    for i in range(iommu.get("units", 0)):
        if iommu["vendor"] == "intel":
            name, sub = "dmar%d" % i, "intel-iommu"
            files = {"cap": "d2008c40660462", "ecap": "f050da" if iommu.get("ir", True) else "f050d2",
                     "version": "1:0", "address": "fed9%d000" % i}
        else:
            name, sub = "ivhd%d" % i, "amd-iommu"
            files = {"cap": "190b0000", "features": "25bf732fa2295afe"}
        vdir = os.path.join(sysd, "devices/virtual/iommu", name)
        for k, v in files.items():
            write(os.path.join(vdir, sub, k), v + "\n")
        symlink("../../devices/virtual/iommu/" + name, os.path.join(sysd, "class/iommu", name))
    for mod, params in (host.get("module_params") or {}).items():
        for k, v in params.items():
            write(os.path.join(sysd, "module", mod, "parameters", k), v + "\n")
    dmi = host.get("dmi") or {}
    for k, v in dmi.items():
        secret = k.endswith("serial") or k == "product_uuid"
        if unprivileged and secret:
            continue
        write(os.path.join(sysd, "devices/virtual/dmi/id", k), v + "\n", 0o400 if secret else 0o444)
    if dmi:
        symlink("../../devices/virtual/dmi/id", os.path.join(sysd, "class/dmi/id"))
    if host.get("efi"):
        os.makedirs(os.path.join(sysd, "firmware/efi/efivars"), exist_ok=True)
        write(os.path.join(sysd, "firmware/efi/efivars", SECURE_BOOT),
              b"\x06\x00\x00\x00" + (b"\x01" if host.get("secure_boot") else b"\x00"))
    if host.get("lockdown"):
        marks = ["none", "integrity", "confidentiality"]
        write(os.path.join(sysd, "kernel/security/lockdown"),
              " ".join("[%s]" % m if m == host["lockdown"] else m for m in marks) + "\n")
    for slot, addr in (host.get("slots") or {}).items():
        write(os.path.join(sysd, "bus/pci/slots", slot, "address"), addr + "\n")
    proc = os.path.join(root, "proc")
    write(os.path.join(proc, "cmdline"), host["cmdline"] + "\n")
    write(os.path.join(proc, "sys/kernel/osrelease"), host["kernel"] + "\n")
    write(os.path.join(proc, "sys/kernel/hostname"), host["hostname"] + "\n")
    write(os.path.join(proc, "modules"), "".join(
        "%s 16384 0 - Live 0x0000000000000000\n" % m for m in host.get("modules", [])))
    if host.get("interrupts"):
        write(os.path.join(proc, "interrupts"), interrupts_text(host))
    if host.get("iomem"):
        # kernel/resource.c r_show(): a reader without CAP_SYS_ADMIN reads every address as 0
        text = host["iomem"]
        if unprivileged:
            text = re.sub(r"[0-9a-f]+-[0-9a-f]+ :", lambda m: "00000000-00000000 :", text)
        write(os.path.join(proc, "iomem"), text)
    for name, text in (host.get("modprobe") or {}).items():
        write(os.path.join(root, "etc/modprobe.d", name), text)
    for vmid, text in (host.get("pve") or {}).items():
        write(os.path.join(root, "etc/pve/qemu-server", vmid + ".conf"), text)
    for name, text in (host.get("libvirt") or {}).items():
        write(os.path.join(root, "etc/libvirt/qemu", name), text)
    f = host.get("forensics") or {}
    if f.get("boot_id"):
        write(os.path.join(proc, "sys/kernel/random/boot_id"), f["boot_id"] + "\n")
    if f.get("uptime"):
        write(os.path.join(proc, "uptime"), f["uptime"] + "\n")
    for rel, text in (f.get("journald") or {}).items():
        write(os.path.join(root, rel), text)
    if f.get("var_log_journal"):
        os.makedirs(os.path.join(root, "var/log/journal"), exist_ok=True)
    if f.get("mountinfo"):
        write(os.path.join(proc, "self/mountinfo"), "".join(l + "\n" for l in f["mountinfo"]))
    if f.get("pstore_backend") is not None:
        write(os.path.join(sysd, "module/pstore/parameters/backend"), f["pstore_backend"] + "\n")
    os.makedirs(os.path.join(sysd, "fs/pstore"), exist_ok=True)
    for name, text in (f.get("pstore") or {}).items():
        write(os.path.join(sysd, "fs/pstore", name), text, 0o444)
    if f.get("crash_size") is not None:
        write(os.path.join(sysd, "kernel/kexec_crash_size"), "%d\n" % f["crash_size"])
        write(os.path.join(sysd, "kernel/kexec_crash_loaded"), "%d\n" % f.get("crash_loaded", 0))
    for t in f.get("netconsole") or []:
        write(os.path.join(sysd, "kernel/config/netconsole", t["name"], "enabled"), "%d\n" % t["enabled"])
    if f.get("netconsole"):
        os.makedirs(os.path.join(sysd, "module/netconsole"), exist_ok=True)
    for name, v in (f.get("sysctl") or {}).items():
        write(os.path.join(proc, "sys/kernel", name), "%d\n" % v)
    if host.get("dmesg") and not unprivileged:
        write(os.path.join(root, "var/log/dmesg"), "".join(
            "[    %d.%06d] %s\n" % (i // 10, (i * 7919) % 1000000, line)
            for i, line in enumerate(host["dmesg"])))
