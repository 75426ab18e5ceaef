/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * The ACS flags as the snapshot names them: the bits of the ACS capability and control
 * registers (PCI_ACS_SV ... PCI_ACS_DT of include/uapi/linux/pci_regs.h), in register order,
 * which is also the order lspci prints them in.
 */
#include <stdio.h>
#include <string.h>

#include "model/model.h"

static const char *const names[] = {"SV", "TB", "RR", "CR", "UF", "EC", "DT"};

unsigned snap_acs__bits(const json_t *flags)
{
	unsigned v = 0;
	size_t i;
	json_t *f;

	json_array_foreach (flags, i, f) {
		for (unsigned b = 0; b < SNAP_ARRAY_SIZE(names); b++)
			if (json_string_value(f) && !strcmp(json_string_value(f), names[b]))
				v |= 1u << b;
	}
	return v;
}

json_t *snap_acs__flags(unsigned bits)
{
	json_t *a = json_array();

	for (unsigned b = 0; b < SNAP_ARRAY_SIZE(names); b++)
		if (bits & (1u << b))
			json_array_append_new(a, json_string(names[b]));
	return a;
}

void snap_acs__names(char *buf, size_t n, unsigned bits, const char *sep)
{
	buf[0] = '\0';
	for (unsigned b = 0; b < SNAP_ARRAY_SIZE(names); b++)
		if (bits & (1u << b)) {
			size_t len = strlen(buf);

			snprintf(buf + len, n - len, "%s%s", len ? sep : "", names[b]);
		}
}
