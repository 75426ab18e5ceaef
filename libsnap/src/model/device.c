/* SPDX-License-Identifier: GPL-2.0-or-later */
/* Device objects of a snapshot: lookup, the kernel's multifunction flag, a printable label. */
#include <stdio.h>
#include <string.h>

#include "model/model.h"

const json_t *snap_snapshot__device(const json_t *root, const char *bdf)
{
	size_t i;
	json_t *d;

	json_array_foreach (json_object_get(root, "devices"), i, d) {
		const char *b = snap_json__str(d, "bdf");

		if (b && !strcmp(b, bdf))
			return d;
	}
	return NULL;
}

void snap_snapshot__device_label(char *buf, size_t n, const json_t *dev)
{
	const char *name = snap_json__str(dev, "name");

	if (name)
		snprintf(buf, n, "%s %s [%s:%s]", snap_json__str(dev, "bdf"), name,
		         snap_json__str(dev, "vendor"), snap_json__str(dev, "device"));
	else
		snprintf(buf, n, "%s [%s:%s] class %s", snap_json__str(dev, "bdf"),
		         snap_json__str(dev, "vendor"), snap_json__str(dev, "device"),
		         snap_json__str(dev, "class") ? snap_json__str(dev, "class") : "?");
}

/* vfio-pci ids are "vendor:device[:subvendor[:subdevice[:class[:class_mask]]]]", ffff(ffff) = any
 */
json_t *snap_snapshot__kernel_multifunction(const json_t *dev, const json_t *parent)
{
	const char *bdf = snap_json__str(dev, "bdf"), *ptype = snap_json__str(parent, "pcie_type");
	const json_t *raw = json_object_get(dev, "multifunction");
	unsigned dom, bus, slot, fn;

	if (snap_json__str(dev, "physfn"))
		return json_false(); /* pci_iov_add_virtfn(): virtfn->multifunction = 0 */
	if (!bdf || sscanf(bdf, "%x:%x:%x.%u", &dom, &bus, &slot, &fn) != 4)
		return json_null();
	if (fn > 0)
		return json_true(); /* pci_scan_slot(): "if (fn > 0) dev->multifunction = 1" */
	/* below a root port, a downstream port or a PCI/PCI-X-to-PCIe bridge only device 0 is
	 * scanned (only_one_child(): pcie_downstream_port()) unless ARI numbers functions 8+ as
	 * slots 1+: pci_scan_slot() scanned those as functions above 0 of slot 0 */
	if (slot > 0 && ptype &&
	    (!strcmp(ptype, "root_port") || !strcmp(ptype, "downstream_port") ||
	     !strcmp(ptype, "pci_to_pcie_bridge")))
		return json_true();
	return json_is_boolean(raw) ? json_incref((json_t *)raw) : json_null();
}
