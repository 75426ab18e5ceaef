// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * iomem.c: who holds memory inside a device's BARs, from proc/iomem as kernel/resource.c's
 * r_show() prints it ("%*s%0*llx-%0*llx : %s", two spaces per level below the root, at most
 * MAX_IORES_LEVEL (5) levels shown; addresses zero for a reader without CAP_SYS_ADMIN). A PCI
 * BAR is a resource named by its device's address; the firmware framebuffer's regions below one
 * are BOOTFB (the simple-framebuffer device sysfb_simplefb.c registers), efifb and vesafb
 * (request_mem_region() of efifb.c and vesafb.c) and simpledrm (simpledrm.c). While one of them
 * holds part of a BAR, vfio-pci cannot reserve it ("BAR 0: can't reserve").
 */
#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "collect/collector.h"

#define IOMEM_MAX (4u << 20)
#define LEVELS    6

static bool framebuffer(const char *name)
{
	static const char *const names[] = {"BOOTFB", "efifb", "vesafb", "simpledrm",
	                                    "simple-framebuffer"};

	for (size_t k = 0; k < SNAP_ARRAY_SIZE(names); k++)
		if (!strcmp(name, names[k]))
			return true;
	return false;
}

/* "dddd:bb:dd.f" (domains may be wider): the name the PCI core gives a device's BARs */
static bool bdf_name(const char *s)
{
	unsigned a, b, c, f;
	int n = 0;

	return sscanf(s, "%x:%2x:%2x.%1u%n", &a, &b, &c, &f, &n) == 4 && !s[n] &&
	       strchr(s, ':') - s >= 4;
}

json_t *snap_iomem__claims(const char *text)
{
	char names[LEVELS][64] = {{0}};
	json_t *claims = json_array();
	bool addresses = false;
	const char *p = text;

	while (p && *p) {
		const char *eol = strchr(p, '\n'), *sep;
		size_t len = eol ? (size_t)(eol - p) : strlen(p);
		unsigned long long start, end;
		char line[256];
		int depth = 0, n = 0;

		snprintf(line, sizeof(line), "%.*s", (int)(len < 255 ? len : 255), p);
		p = eol ? eol + 1 : NULL;
		while (line[depth] == ' ')
			depth++;
		depth /= 2;
		if (depth >= LEVELS || sscanf(line, " %llx-%llx%n", &start, &end, &n) != 2 ||
		    !(sep = strstr(line + n, " : ")))
			continue;
		addresses |= start || end;
		snprintf(names[depth], sizeof(names[depth]), "%s", sep + 3);
		/* the outermost framebuffer region only: efifb's request inside BOOTFB is the
		 * same memory */
		if (!framebuffer(names[depth]) || (depth > 0 && framebuffer(names[depth - 1])))
			continue;
		for (int up = depth - 1; up >= 0; up--)
			if (bdf_name(names[up])) {
				char s[24], e[24];

				snprintf(s, sizeof(s), "%llx", start);
				snprintf(e, sizeof(e), "%llx", end);
				json_array_append_new(
				    claims, json_pack("{s:s, s:s, s:s, s:s}", "device", names[up],
				                      "owner", names[depth], "start", s, "end", e));
				break;
			}
	}
	if (!addresses) { /* read without CAP_SYS_ADMIN: every address 0, nothing known */
		json_decref(claims);
		return json_null();
	}
	return claims;
}

json_t *snap_collect__bar_claims(struct collector *c)
{
	char *t = snap_collect__read_text(c, "proc/iomem", IOMEM_MAX);
	json_t *claims;

	if (!t)
		return json_null();
	claims = snap_iomem__claims(t);
	free(t);
	return claims;
}
