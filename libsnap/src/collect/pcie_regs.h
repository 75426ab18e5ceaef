/* SPDX-License-Identifier: GPL-2.0-or-later */
/* pcie_regs.c: what a device's config space says about faults, for pci.c's decoder. */
#ifndef SNAP_COLLECT_PCIE_REGS_H
#define SNAP_COLLECT_PCIE_REGS_H

#include <pci/pci.h>

#include "util/util.h"

/*
 * Into obj, from config space already read (libpci, under pci.c's guard): "link_state" (a
 * port's Link Status: Data Link Layer Link Active, where Link Capabilities says it is
 * reported, and Link Training), "dpc" (the DPC capability: what triggers it, whether it has
 * contained the link and why, as dpc_process_error() decodes it) and "aer_regs" (the AER
 * capability's uncorrectable status, mask and severity and correctable status and mask).
 * exp: the PCIe capability's offset, 0 for none; ext_known: the extended space was read.
 */
void snap_pcie_regs__decode(json_t *obj, struct pci_dev *d, int exp, unsigned type, bool ext_known);

#endif
