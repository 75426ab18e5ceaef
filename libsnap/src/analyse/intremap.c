/* SPDX-License-Identifier: GPL-2.0-or-later */
/* The interrupt-remapping verdict of a host, from what the collector read. */
#include <stdio.h>
#include <string.h>

#include "analyse/analyse.h"

/*
 * Interrupt remapping as a verdict from several signals, strongest first: the chips in
 * /proc/interrupts show what the kernel actually set up; the kernel log says what it decided at
 * boot; intremap=off on the command line says what was asked. Evidence lists all of them.
 */
const char *snap_intremap__verdict(json_t *evidence, const json_t *interrupts, const json_t *log,
                                   const json_t *opts)
{
	const char *verdict = NULL, *logv = snap_json__str(log, "irq_remapping");
	const char *intremap = snap_json__str(opts, "intremap");
	char line[256];

	if (json_is_object(interrupts)) {
		json_int_t r = json_integer_value(json_object_get(interrupts, "remapped"));
		json_int_t p = json_integer_value(json_object_get(interrupts, "not_remapped"));
		json_int_t its = json_integer_value(json_object_get(interrupts, "its"));

		snprintf(line, sizeof(line),
		         "proc/interrupts: %" JSON_INTEGER_FORMAT
		         " remapped (IR-) IO-APIC/MSI interrupts, %" JSON_INTEGER_FORMAT
		         " not remapped, %" JSON_INTEGER_FORMAT " through a GIC ITS",
		         r, p, its);
		json_array_append_new(evidence, json_string(line));
		if (r > 0 || its > 0)
			verdict = "enabled";
		else if (p > 0)
			verdict = "disabled";
	}
	if (logv) {
		snprintf(line, sizeof(line), "kernel log: interrupt remapping %s", logv);
		json_array_append_new(evidence, json_string(line));
		if (!verdict)
			verdict = logv;
	}
	if (intremap) {
		snprintf(line, sizeof(line), "cmdline: intremap=%s", intremap);
		json_array_append_new(evidence, json_string(line));
		if (!verdict && !strcmp(intremap, "off"))
			verdict = "disabled";
	}
	return verdict ? verdict : "unknown";
}
