/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * Fuzz target: the text parsers of the collector on any text. The first byte picks the parser:
 * command line, /proc/interrupts, kernel log, UTF-8 escaping, Proxmox and libvirt VM configs, PCI
 * addresses, link speeds, the kernel log's fault lines (faultlog.c), the UTF-8 escaper.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "analyse/analyse.h"
#include "collect/collect.h"
#include "fuzz_main.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char *text;
	json_t *j = NULL;

	if (!size || !(text = malloc(size)))
		return 0;
	memcpy(text, data + 1, size - 1);
	text[size - 1] = '\0';
	switch (data[0] % 10) {
	case 0:
		j = snap_parse__cmdline(text);
		json_decref(snap_parse__cmdline_options(j));
		break;
	case 1:
		j = snap_parse__interrupts(text);
		break;
	case 2:
		j = snap_parse__kernel_log(text, 400);
		break;
	case 3: /* was modprobe.d, now read by libkmod: the corpus still feeds the escaper */
		snap_parse__utf8_escape(&text);
		break;
	case 4:
		j = snap_parse__proxmox(text, "100", "100.conf");
		break;
	case 5:
		j = snap_parse__libvirt(text, "vm.xml");
		break;
	case 6: {
		bool whole = false;

		free(snap_parse__pci_address(text, &whole));
		break;
	}
	case 7:
		free(snap_parse__link_speed(text));
		break;
	case 8: { /* a kernel log line read for the device it names (analyse/faultlog.c) */
		char bdf[16];
		const char *sev = NULL;

		(void)snap_faultlog__parse(text, bdf, &sev);
		break;
	}
	case 9: /* proc/iomem (collect/iomem.c) */
		j = snap_iomem__claims(text);
		break;
	default:
		snap_parse__utf8_escape(&text);
		break;
	}
	json_decref(j);
	free(text);
	return 0;
}
