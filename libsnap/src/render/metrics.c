/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * Prometheus text exposition format (version 0.0.4) of one host's health, for node_exporter's
 * textfile collector: a gauge per check and subject, the verdicts, the passthrough devices, the
 * previous boot's end and the snapshot's age. Label values escaped as the format says
 * (backslash, double quote, newline); one sample per label set (the worst status of a check
 * that has several rows for one subject).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "analyse/analyse.h"
#include "analyse/check.h"
#include "render/render.h"
#include "snap/diff.h"
#include "snap/report.h"

static void label(snap_buf *b, const char *v)
{
	for (; v && *v; v++) {
		if (*v == '\\')
			snap_buf__puts(b, "\\\\");
		else if (*v == '"')
			snap_buf__puts(b, "\\\"");
		else if (*v == '\n')
			snap_buf__puts(b, "\\n");
		else
			snap_buf__put(b, v, 1);
	}
}

static void header(snap_buf *b, const char *name, const char *help)
{
	snap_buf__printf(b, "# HELP %s %s\n# TYPE %s gauge\n", name, help, name);
}

static void sample_host(snap_buf *b, const char *name, const char *host)
{
	snap_buf__printf(b, "%s{host=\"", name);
	label(b, host);
	snap_buf__puts(b, "\"}");
}

static int status_of(const char *s)
{
	return !strcmp(s, "FAIL") ? 2 : !strcmp(s, "WARN") ? 1 : 0;
}

int snap_metrics_render(char **out, const snap_snapshot *s, const struct snap_check *c,
                        const char *diff_verdict, int64_t now, snap_error *err)
{
	const char *host = snap_snapshot_hostname(s) ? snap_snapshot_hostname(s) : "unknown";
	const json_t *checks = json_object_get(c->doc, "checks"), *row, *boot;
	json_t *worst = json_object(), *order = json_array(), *pt, *v;
	snap_buf b = SNAP_BUF_INIT;
	size_t i;
	int64_t when;

	SNAP_ASSERT_ARG(out && s && c);
	/* (check, subject) -> worst status, in the check's own order */
	json_array_foreach (checks, i, row) {
		char *key = NULL;
		/* an accepted deviation fails nothing: 0, as the check's verdict counts it */
		int st =
		    json_object_get(row, "accepted") ? 0 : status_of(snap_json__str(row, "status"));

		if (asprintf(&key, "%s\037%s", snap_json__str(row, "id"),
		             snap_json__str(row, "subject")) < 0) {
			b.oom = true;
			break;
		}
		v = json_object_get(worst, key);
		if (!v) {
			json_object_set_new(worst, key, json_integer(st));
			json_array_append_new(order,
			                      json_pack("[s,s,s]", key, snap_json__str(row, "id"),
			                                snap_json__str(row, "subject")));
		} else if (json_integer_value(v) < st) {
			json_object_set_new(worst, key, json_integer(st));
		}
		free(key);
	}
	header(&b, "pcisnap_check_status",
	       "Status of one pcisnap check for one subject: 0 pass, 1 warn, 2 fail.");
	json_array_foreach (order, i, row) {
		snap_buf__puts(&b, "pcisnap_check_status{host=\"");
		label(&b, host);
		snap_buf__puts(&b, "\",check=\"");
		label(&b, json_string_value(json_array_get(row, 1)));
		snap_buf__puts(&b, "\",subject=\"");
		label(&b, json_string_value(json_array_get(row, 2)));
		snap_buf__printf(&b, "\"} %" JSON_INTEGER_FORMAT "\n",
		                 json_integer_value(json_object_get(
		                     worst, json_string_value(json_array_get(row, 0)))));
	}
	header(&b, "pcisnap_check_verdict",
	       "The worst status of the host's checks: 0 pass, 1 warn, 2 fail.");
	sample_host(&b, "pcisnap_check_verdict", host);
	snap_buf__printf(&b, " %d\n", (int)c->verdict);
	header(&b, "pcisnap_section_verdict",
	       "The worst status of one section of the host's checks, apart: passthrough health "
	       "or forensics readiness; 0 pass, 1 warn, 2 fail.");
	for (int k = 0; k < 2; k++) {
		const char *sec = k ? "forensics" : "passthrough";
		const char *sv = snap_json__str(json_object_get(c->doc, "sections"), sec);

		snap_buf__puts(&b, "pcisnap_section_verdict{host=\"");
		label(&b, host);
		snap_buf__printf(&b, "\",section=\"%s\"} %d\n", sec, status_of(sv ? sv : "PASS"));
	}
	{
		char inv[17], cfg[17], model[800];

		if (snap_fingerprint__compute(inv, cfg, s) == 0) {
			snap_snapshot__model(model, sizeof(model), s->root);
			header(
			    &b, "pcisnap_fingerprint_info",
			    "1, labelled with the host's hardware model and the fingerprint of its "
			    "passthrough configuration: hosts of one model whose fingerprint "
			    "differs from the model's majority have drifted.");
			snap_buf__puts(&b, "pcisnap_fingerprint_info{host=\"");
			label(&b, host);
			snap_buf__puts(&b, "\",model=\"");
			label(&b, model);
			snap_buf__printf(&b, "\",fingerprint=\"%s\"} 1\n", cfg);
		}
	}
	if (diff_verdict) {
		header(&b, "pcisnap_diff_verdict",
		       "1 for the class of the last diff's verdict (its worst change), 0 for the "
		       "others.");
		for (int k = 0; k < SNAP_CLASS_COUNT; k++) {
			const char *name = snap_class_name((snap_class)k);

			snap_buf__puts(&b, "pcisnap_diff_verdict{host=\"");
			label(&b, host);
			snap_buf__printf(&b, "\",class=\"%s\"} %d\n", name,
			                 !strcmp(name, diff_verdict));
		}
	}
	pt = snap_analysis__passthrough(snap_analysis__get(s));
	header(&b, "pcisnap_passthrough_devices",
	       "Devices for passthrough: bound to vfio-pci or pci-stub, named by a VM, or listed "
	       "in vfio-pci.ids.");
	sample_host(&b, "pcisnap_passthrough_devices", host);
	snap_buf__printf(&b, " %zu\n", json_object_size(pt));
	boot = json_object_get(s->root, "boot");
	if (json_is_boolean(json_object_get(boot, "previous_clean"))) {
		header(
		    &b, "pcisnap_previous_boot_clean",
		    "1 when the previous boot recorded a clean end, 0 after a crash, a power loss "
		    "or a hard lockup.");
		sample_host(&b, "pcisnap_previous_boot_clean", host);
		snap_buf__printf(&b, " %d\n",
		                 json_is_true(json_object_get(boot, "previous_clean")));
	}
	when = snap_time__parse(snap_json__str(json_object_get(s->root, "host"), "collected_at"));
	if (when >= 0) {
		header(&b, "pcisnap_snapshot_timestamp_seconds",
		       "When the snapshot was collected, seconds since the epoch.");
		sample_host(&b, "pcisnap_snapshot_timestamp_seconds", host);
		snap_buf__printf(&b, " %lld\n", (long long)when);
		header(&b, "pcisnap_snapshot_age_seconds",
		       "Age of the snapshot when these metrics were written (alert on time() - "
		       "pcisnap_snapshot_timestamp_seconds instead).");
		sample_host(&b, "pcisnap_snapshot_age_seconds", host);
		snap_buf__printf(&b, " %lld\n", (long long)(now > when ? now - when : 0));
	}
	json_decref(worst);
	json_decref(order);
	if (b.oom) {
		snap_buf__release(&b);
		return snap_error__set(err, SNAP_ENOMEM, "out of memory");
	}
	*out = snap_buf__detach(&b);
	return *out ? 0 : snap_error__set(err, SNAP_ENOMEM, "out of memory");
}
