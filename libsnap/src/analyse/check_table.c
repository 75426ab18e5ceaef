// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * check_table.c: every check `pcisnap check` runs, one row each, as the diff rules are rows of
 * snap_diff__rules[]: the id its findings carry, its section (the two verdicts), what it looks
 * at, and the fix its FAIL or WARN names. The code that makes a finding names the row; the
 * table is the list pcisnap-check(1) and `pcisnap accept` show (a unit test holds the man page
 * to it).
 */
#include <string.h>

#include "analyse/check.h"

#define PT "passthrough"
#define FX "forensics"

const struct snap_check_def snap_check__defs[SNAP_CHK_COUNT] = {
    [SNAP_CHK_IOMMU_ACTIVE] = {"iommu_active", PT, "the IOMMU units and groups",
                               "enable VT-d/AMD-Vi in the firmware; intel_iommu=on on Intel"},
    [SNAP_CHK_IRQ_REMAPPING] = {"irq_remapping", PT,
                                "interrupt remapping: proc/interrupts, the kernel log, intremap=",
                                "enable x2APIC/interrupt remapping in the firmware; drop "
                                "intremap=off"},
    [SNAP_CHK_UNSAFE_INTERRUPTS] = {"unsafe_interrupts", PT,
                                    "vfio_iommu_type1's allow_unsafe_interrupts",
                                    "remove allow_unsafe_interrupts; fix interrupt remapping"},
    [SNAP_CHK_NOIOMMU_MODE] = {"noiommu_mode", PT, "vfio's enable_unsafe_noiommu_mode",
                               "turn no-IOMMU mode off"},
    [SNAP_CHK_ACS_OVERRIDE] = {"acs_override", PT, "pcie_acs_override on the command line",
                               "drop the override; move the card to a slot whose path has ACS"},
    [SNAP_CHK_GROUP_EXPLAINED] = {"group_explained", PT,
                                  "why each multi-device group holds its members (ACS)",
                                  "collect as root when ACS is unknown"},
    [SNAP_CHK_GROUP_VIABLE] = {"group_viable", PT,
                               "the other members of a passthrough device's IOMMU group",
                               "bind them to vfio-pci too, or move the card to a CPU-attached "
                               "slot; never the host's own disk, network or console"},
    [SNAP_CHK_ISOLATION_ENFORCED] = {"isolation_enforced", PT,
                                     "whether the hardware's ACS backs the kernel's group",
                                     "drop pcie_acs_override; a slot whose path has ACS"},
    [SNAP_CHK_SLOT_FUNCTIONS] = {"slot_functions", PT,
                                 "the other functions of a passthrough device's card",
                                 "bind every function of the card to vfio-pci"},
    [SNAP_CHK_RESET] = {"reset", PT, "FLR and the kernel's reset methods",
                        "a card with FLR, or accept that state may leak between VM runs"},
    [SNAP_CHK_BOOT_VGA] = {"boot_vga", PT, "whether a passthrough GPU is the boot VGA device",
                           "video=efifb:off, or boot on another GPU"},
    [SNAP_CHK_BAR_CLAIMED] = {"bar_claimed", PT,
                              "proc/iomem: the firmware framebuffer's regions inside its BARs",
                              "initcall_blacklist=sysfb_init (or video=efifb:off, "
                              "video=vesafb:off), or boot on another GPU"},
    [SNAP_CHK_AER_ERRORS] = {"aer_errors", PT,
                             "AER counters of the device and every port on its path",
                             "check the card's seating, riser and power; read the AER lines"},
    [SNAP_CHK_FAULT_LOG] = {"fault_log", PT,
                            "the kernel log's AER, DPC and IOMMU fault lines on the path",
                            "check the card's seating, riser and power, or the guest driver"},
    [SNAP_CHK_CONTAINMENT] = {"containment", PT,
                              "DPC status and Link Status of every port on the path",
                              "read the kernel's DPC and AER lines; reseat the card, check "
                              "its riser and power; the VM needs the device reset or the "
                              "host rebooted"},
    [SNAP_CHK_AER_MASKED] = {"aer_masked", PT,
                             "AER status and mask registers of the device and its ports, and "
                             "SERR# forwarding of the bridges on its path",
                             "unmask the error (setpci, or the firmware's AER settings): a "
                             "masked error is hidden, not fixed"},
    [SNAP_CHK_VFIO_BINDING] = {"vfio_binding", PT,
                               "the driver, vfio-pci ids, driver_override and VMs that bind it",
                               "add the id to 'options vfio-pci ids=' and 'softdep DRIVER pre: "
                               "vfio-pci'; vfio modules in the initramfs"},
    [SNAP_CHK_FAULT_REPORTING] = {"fault_reporting", PT,
                                  "command-line settings that hide faults (pci=noaer, ...)",
                                  "drop the setting: faults are hidden, not fixed"},
    [SNAP_CHK_PASSTHROUGH_DEVICES] = {"passthrough_devices", PT,
                                      "whether any device is meant for passthrough", NULL},
    [SNAP_CHK_SECURE_BOOT] = {"secure_boot", PT, "Secure Boot and kernel lockdown", NULL},
    [SNAP_CHK_PREVIOUS_BOOT] = {"previous_boot", FX, "whether the previous boot ended cleanly",
                                "read its last words: pcisnap boot last-words"},
    [SNAP_CHK_JOURNAL_PERSISTENT] = {"journal_persistent", FX,
                                     "journald's Storage= and /var/log/journal's mount",
                                     "Storage=persistent, the journal on disk"},
    [SNAP_CHK_PSTORE_BACKEND] = {"pstore_backend", FX, "the pstore backend and its records",
                                 "load efi_pstore on UEFI, else reserve ramoops memory"},
    [SNAP_CHK_CRASH_KERNEL] = {"crash_kernel", FX, "kexec_crash_size and kexec_crash_loaded",
                               "crashkernel=384M and kdump-tools"},
    [SNAP_CHK_NETCONSOLE] = {"netconsole", FX, "netconsole targets (command line, configfs)",
                             "a netconsole target on another host"},
    [SNAP_CHK_PANIC_SETTINGS] = {"panic_settings", FX,
                                 "kernel.panic, hardlockup_panic, softlockup_panic",
                                 "kernel.panic=10, hardlockup_panic=1, softlockup_panic=1"},
};

const struct snap_check_def *snap_check__def_named(const char *id)
{
	for (size_t k = 0; id && k < SNAP_CHK_COUNT; k++)
		if (!strcmp(snap_check__defs[k].id, id))
			return &snap_check__defs[k];
	return NULL;
}
