// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * pcie_regs.c: the fault registers of config space, read as the kernel reads them (Linux 6.1):
 * Link Status of a port (pcie_wait_for_link_delay() polls Data Link Layer Link Active, which a
 * port reports when Link Capabilities' DLLLARC bit says so; pci_bridge_wait_for_secondary_bus()),
 * the DPC capability (drivers/pci/pcie/dpc.c: dpc_probe() enables the trigger,
 * dpc_process_error() decodes Trigger Status and Reason, dpc_reset_link() clears them once the
 * link is recovered), and the AER capability's status and mask registers (aer.c: a masked error
 * sets its status bit and is reported to no one).
 */
#include <stdio.h>

#include "collect/pcie_regs.h"

#ifndef PCI_EXT_CAP_ID_DPC
#define PCI_EXT_CAP_ID_DPC 0x1d
#endif
#define DPC_CTL          6
#define DPC_STATUS       8
#define DPC_SOURCE_ID    10
#define LNKCAP_DLLLARC   0x00100000u
#define LNKSTA_TRAINING  0x0800u
#define LNKSTA_DL_ACTIVE 0x2000u

static json_t *hex32(unsigned v)
{
	char buf[16];

	snprintf(buf, sizeof(buf), "%08x", v);
	return json_string(buf);
}

/* Link Status of a port with a link below it (root, downstream port, PCIe-to-PCI bridge). */
static json_t *link_state(struct pci_dev *d, int exp, unsigned type)
{
	unsigned cap, sta;

	if (type != PCI_EXP_TYPE_ROOT_PORT && type != PCI_EXP_TYPE_DOWNSTREAM)
		return json_null();
	cap = pci_read_long(d, exp + PCI_EXP_LNKCAP);
	sta = pci_read_word(d, exp + PCI_EXP_LNKSTA);
	return json_pack("{s:o, s:b}", "active",
	                 cap & LNKCAP_DLLLARC ? json_boolean(sta & LNKSTA_DL_ACTIVE) : json_null(),
	                 "training", (sta & LNKSTA_TRAINING) != 0);
}

/* dpc_process_error()'s names for Trigger Reason (and its extension). */
static const char *dpc_reason(unsigned status)
{
	unsigned reason = (status >> 1) & 3, ext = (status >> 5) & 3;

	return reason == 0   ? "unmasked_uncorrectable"
	       : reason == 1 ? "err_nonfatal"
	       : reason == 2 ? "err_fatal"
	       : ext == 0    ? "rp_pio"
	       : ext == 1    ? "software"
	                     : "reserved";
}

static json_t *dpc(struct pci_dev *d)
{
	struct pci_cap *cap = pci_find_cap(d, PCI_EXT_CAP_ID_DPC, PCI_CAP_EXTENDED);
	unsigned ctl, status;
	char source[8];

	if (!cap)
		return json_pack("{s:b}", "present", 0);
	ctl = pci_read_word(d, cap->addr + DPC_CTL);
	status = pci_read_word(d, cap->addr + DPC_STATUS);
	snprintf(source, sizeof(source), "%04x", pci_read_word(d, cap->addr + DPC_SOURCE_ID));
	/* Trigger Enable: 01b on ERR_FATAL, 10b on ERR_NONFATAL or ERR_FATAL */
	return json_pack("{s:b, s:s, s:b, s:o, s:o}", "present", 1, "trigger",
	                 (ctl & 3) == 1   ? "fatal"
	                 : (ctl & 3) == 2 ? "nonfatal"
	                 : (ctl & 3) == 0 ? "off"
	                                  : "reserved",
	                 "triggered", (status & 1) != 0, "reason",
	                 status & 1 ? json_string(dpc_reason(status)) : json_null(), "source",
	                 status & 1 ? json_string(source) : json_null());
}

static json_t *aer_regs(struct pci_dev *d)
{
	struct pci_cap *cap = pci_find_cap(d, PCI_EXT_CAP_ID_AER, PCI_CAP_EXTENDED);

	if (!cap)
		return json_null();
	return json_pack("{s:o, s:o, s:o, s:o, s:o}", "uncor_status",
	                 hex32(pci_read_long(d, cap->addr + PCI_ERR_UNCOR_STATUS)), "uncor_mask",
	                 hex32(pci_read_long(d, cap->addr + PCI_ERR_UNCOR_MASK)), "uncor_severity",
	                 hex32(pci_read_long(d, cap->addr + PCI_ERR_UNCOR_SEVER)), "cor_status",
	                 hex32(pci_read_long(d, cap->addr + PCI_ERR_COR_STATUS)), "cor_mask",
	                 hex32(pci_read_long(d, cap->addr + PCI_ERR_COR_MASK)));
}

void snap_pcie_regs__decode(json_t *obj, struct pci_dev *d, int exp, unsigned type, bool ext_known)
{
	json_object_set_new(obj, "link_state", exp ? link_state(d, exp, type) : json_null());
	if (!exp) { /* conventional PCI: neither capability exists */
		json_object_set_new(obj, "dpc", json_pack("{s:b}", "present", 0));
		json_object_set_new(obj, "aer_regs", json_null());
		return;
	}
	json_object_set_new(obj, "dpc", ext_known ? dpc(d) : json_null());
	json_object_set_new(obj, "aer_regs", ext_known ? aer_regs(d) : json_null());
}
