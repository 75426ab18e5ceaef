/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * The last words of a boot that ended without its clean end (a crash, a hard lockup, a power
 * loss): what survived it, kept in the store beside the first snapshot of the next boot.
 *
 * - pstore records (sys/fs/pstore, and var/lib/systemd/pstore/ where systemd-pstore moves them
 *   at boot), only those that belong to the dead boot: a record whose time (its file's mtime:
 *   pstore sets it from the record, systemd-pstore when it moves it) is older than the dead
 *   boot's start is an older boot's, and a record kept once (its key: path, size, mtime) is
 *   never kept again, so a crash does not repeat every older panic. A long record keeps its
 *   end, where the panic is, and says how many bytes were cut before it.
 * - the dead boot's kernel messages from the persistent journal, read through sd-journal,
 *   filtered to fault lines (fault_lines[], docs/boot.md), with a count of what was left out.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <systemd/sd-journal.h>
#include <time.h>

#include "collect/collector.h"

#define PSTORE_RECORD_MAX  (1u << 20) /* a pstore record: a few kB; a moved dmesg.txt: more */
#define PSTORE_RECORDS_MAX 64
#define JOURNAL_LINES_MAX  400          /* the last of them: the ones nearest the end */
#define QEMU_LOG_TAIL      (256u << 10) /* the end of one domain's log */
#define QEMU_LOGS_MAX      64
#define QEMU_LINES_MAX     100

struct words {
	struct collector c;
	const snap_last_words_options *o;
	json_t *records;     /* the records kept */
	size_t skipped_old;  /* records older than the dead boot */
	size_t skipped_kept; /* records kept with an earlier boot */
};

static bool kept_before(const struct words *w, const char *key)
{
	for (size_t i = 0; i < w->o->kept_count; i++)
		if (w->o->kept[i] && !strcmp(w->o->kept[i], key))
			return true;
	return false;
}

static void add_record(struct words *w, const char *rel, const char *name)
{
	char *text = NULL, key[1200], when[32];
	size_t len = 0;
	struct stat sb;
	int64_t mtime;

	if (json_array_size(w->records) >= PSTORE_RECORDS_MAX ||
	    snap_root__read_tail(&text, &len, &sb, &w->c.r, rel, PSTORE_RECORD_MAX) < 0)
		return;
	mtime = (int64_t)sb.st_mtime;
	snprintf(key, sizeof(key), "%s:%lld:%lld", rel, (long long)sb.st_size, (long long)mtime);
	/* an older boot's record: made before the dead boot began */
	if (w->o->previous_started >= 0 && mtime > 0 && mtime < w->o->previous_started) {
		w->skipped_old++;
		free(text);
		return;
	}
	if (kept_before(w, key)) {
		w->skipped_kept++;
		free(text);
		return;
	}
	text = snap_collect__utf8(&w->c, text, rel);
	snap_time__format(when, sizeof(when), mtime, false);
	json_array_append_new(
	    w->records,
	    json_pack("{s:s, s:s, s:s, s:s, s:I, s:I, s:s?}", "path", rel, "name", name, "key", key,
	              "mtime", when, "size", (json_int_t)sb.st_size, "cut",
	              (json_int_t)((size_t)sb.st_size > len ? (size_t)sb.st_size - len : 0), "text",
	              text));
	free(text);
}

static void pstore_records(struct words *w)
{
	char **names = NULL, **sub = NULL;
	size_t n = 0, m = 0;

	if (snap_root__list(&names, &n, &w->c.r, "sys/fs/pstore") == 0)
		for (size_t i = 0; i < n; i++) {
			char rel[512];

			snprintf(rel, sizeof(rel), "sys/fs/pstore/%s", names[i]);
			add_record(w, rel, names[i]);
		}
	snap_strv__free(names, n);
	names = NULL;
	n = 0;
	if (snap_root__list(&names, &n, &w->c.r, "var/lib/systemd/pstore") == 0)
		for (size_t i = 0; i < n; i++) {
			char dir[512];

			snprintf(dir, sizeof(dir), "var/lib/systemd/pstore/%s", names[i]);
			if (snap_root__list(&sub, &m, &w->c.r, dir) < 0) {
				add_record(w, dir, names[i]); /* a file, not a directory */
				continue;
			}
			for (size_t k = 0; k < m; k++) {
				char rel[1024];

				snprintf(rel, sizeof(rel), "%s/%s", dir, sub[k]);
				add_record(w, rel, sub[k]);
			}
			snap_strv__free(sub, m);
			sub = NULL;
			m = 0;
		}
	snap_strv__free(names, n);
}

/*
 * The kernel messages kept of a dead boot: faults, and what the kernel said as it went down.
 * Each is a fragment of the message the kernel function named prints (Linux 6.1); boot noise
 * of the same subsystems ("AER: enabled with IRQ", "Adding to iommu group") matches none.
 */
static const struct {
	const char *text; /* a fragment of the message */
	const char *from; /* who prints it */
} fault_lines[] = {
    {"Uncorrected (Fatal) error", "aer.c aer_print_error / aer_isr_one_error"},
    {"Uncorrected (Non-Fatal) error", "aer.c aer_print_error / aer_isr_one_error"},
    {"severity=Uncorrected", "aer.c aer_print_error"},
    {"device recovery failed", "err.c pcie_do_recovery"},
    {"DPC: containment event", "dpc.c dpc_process_error"},
    {"DPC: unmasked uncorrectable error", "dpc.c dpc_process_error"},
    {"DPC: RP PIO error", "dpc.c dpc_process_rp_pio_error"},
    {"DMAR: [DMA ", "intel/dmar.c dmar_fault_do_one"},
    {"DMAR: [INTR-REMAP]", "intel/dmar.c dmar_fault_do_one"},
    {"DMAR: DRHD: handling fault", "intel/dmar.c dmar_fault"},
    {"Event logged [", "amd/iommu.c iommu_print_event"},
    {"Unhandled context fault", "arm-smmu.c arm_smmu_context_fault"},
    {"after FLR; ", "pci.c pci_dev_wait"},
    {"after bus reset; ", "pci.c pci_dev_wait"},
    {"timed out waiting for pending transaction", "pci.c pcie_flr"},
    {"config space inaccessible", "pci.c pci_power_up"},
    {"Link Down", "pciehp_ctrl.c pciehp_handle_presence_or_link_change"},
    {"can't reserve", "vfio_pci_core.c / pci.c __pci_request_region"},
    {"soft lockup", "watchdog.c watchdog_timer_fn"},
    {"hard LOCKUP", "watchdog_hld.c watchdog_overflow_callback"},
    {"self-detected stall", "rcu/tree_stall.h print_cpu_stall"},
    {"detected stalls on CPUs", "rcu/tree_stall.h print_other_cpu_stall"},
    {"blocked for more than", "hung_task.c check_hung_task"},
    {"[Hardware Error]", "mce, ghes"},
    {"Machine check", "mce"},
    {"NMI received for unknown reason", "nmi.c unknown_nmi_error"},
    {"NMI: PCI system error", "nmi.c pci_serr_error"},
    {"NMI: IOCK error", "nmi.c io_check_error"},
    {"Kernel panic", "panic.c panic"},
    {"Oops", "dumpstack.c __die"},
    {"BUG: ", "many"},
    {"kernel BUG at", "bug.c"},
    {"general protection fault", "traps.c"},
    {"Call Trace", "dumpstack.c"},
};

static bool is_fault_line(const char *msg, size_t len)
{
	for (size_t i = 0; i < SNAP_ARRAY_SIZE(fault_lines); i++)
		if (memmem(msg, len, fault_lines[i].text, strlen(fault_lines[i].text)))
			return true;
	return false;
}

/* The name (a VM id, digits; or a libvirt domain) right after marker in msg, up to stop. */
static bool name_after(const char *msg, const char *marker, const char *stop, char *vm, size_t n)
{
	const char *p = strstr(msg, marker), *e;

	if (!p)
		return false;
	p += strlen(marker);
	e = stop ? strstr(p, stop) : p + strspn(p, "0123456789");
	if (!e || e == p || (size_t)(e - p) >= n)
		return false;
	snprintf(vm, n, "%.*s", (int)(e - p), p);
	return true;
}

/*
 * What a message of the dead boot is on its timeline: "fault" (fault_lines[]), the start or end
 * of a VM ("vm_start", "vm_stop", *vm its id or name), vfio-pci's own lines ("vfio": enabling,
 * resetting, failing to reset a device), a hotplug port's link change ("link"), or NULL: boot
 * noise. A VM's start and end come from Proxmox's task lines (pvedaemon, qm: "starting task
 * UPID:...:qmstart:100:..."), the scope systemd runs each Proxmox VM in ("Started 100.scope",
 * "100.scope: Deactivated successfully") and systemd-machined's machines for libvirt ("New
 * machine qemu-1-win11.", "Machine qemu-1-win11 terminated.").
 */
enum event { EV_NONE, EV_FAULT, EV_VM_START, EV_VM_STOP, EV_VFIO, EV_LINK };
static const char *const event_names[] = {NULL, "fault", "vm_start", "vm_stop", "vfio", "link"};

static enum event event_kind(const char *ident, const char *msg, size_t len, char *vm, size_t n)
{
	bool kernel = !ident || !strcmp(ident, "kernel");

	*vm = '\0';
	if (kernel) {
		if (is_fault_line(msg, len))
			return EV_FAULT;
		if (!strncmp(msg, "vfio-pci ", 9))
			return EV_VFIO;
		if (memmem(msg, len, "pciehp: Slot", 12) && memmem(msg, len, "Link Up", 7))
			return EV_LINK;
		return EV_NONE;
	}
	if (!strcmp(ident, "systemd")) {
		if (name_after(msg, "Started ", ".scope", vm, n) &&
		    vm[strspn(vm, "0123456789")] == 0)
			return EV_VM_START;
		if (strstr(msg, ".scope: Deactivated") && name_after(msg, "", ".scope", vm, n) &&
		    vm[strspn(vm, "0123456789")] == 0)
			return EV_VM_STOP;
		return EV_NONE;
	}
	if (!strcmp(ident, "systemd-machined")) {
		if (name_after(msg, "New machine qemu-", ".", vm, n))
			return EV_VM_START;
		if (name_after(msg, "Machine qemu-", " terminated", vm, n))
			return EV_VM_STOP;
		return EV_NONE;
	}
	/* Proxmox: pvedaemon, pve-guests, qm, pvesh */
	if (strstr(msg, "starting task UPID:")) {
		if (name_after(msg, ":qmstart:", NULL, vm, n))
			return EV_VM_START;
		if (name_after(msg, ":qmstop:", NULL, vm, n) ||
		    name_after(msg, ":qmshutdown:", NULL, vm, n))
			return EV_VM_STOP;
	}
	return EV_NONE;
}

/* The identifiers whose messages may be passthrough events (event_kind()). */
static const char *const event_sources[] = {
    "systemd", "systemd-machined", "pvedaemon", "pve-guests", "qm", "pvesh"};

/* A VM running on the timeline, until its end: when it started, and whether a fault followed. */
struct running {
	char vm[64];
	uint64_t usec;
	char at[32];
	bool faulted;
};

/*
 * For each VM that was running when a fault came, the time from its start to the first fault
 * after it: "it fired at the instant the VM's load started" is the pattern issue 29 names.
 */
static void follow(json_t *vm_faults, struct running *run, size_t *nrun, enum event kind,
                   const char *vm, uint64_t usec, const char *at)
{
	if (kind == EV_VM_START && *nrun < 32) {
		struct running *r;

		for (size_t k = 0; k < *nrun; k++)
			if (!strcmp(run[k].vm, vm))
				return; /* its task line and its scope: one start */
		r = &run[(*nrun)++];

		snprintf(r->vm, sizeof(r->vm), "%s", vm);
		r->usec = usec;
		snprintf(r->at, sizeof(r->at), "%s", at);
		r->faulted = false;
	} else if (kind == EV_VM_STOP) {
		for (size_t k = 0; k < *nrun; k++)
			if (!strcmp(run[k].vm, vm)) {
				run[k] = run[--(*nrun)];
				break;
			}
	} else if (kind == EV_FAULT) {
		for (size_t k = 0; k < *nrun; k++)
			if (!run[k].faulted) {
				run[k].faulted = true;
				json_array_append_new(
				    vm_faults,
				    json_pack("{s:s, s:s, s:s, s:f}", "vm", run[k].vm, "started",
				              run[k].at, "first_fault", at, "seconds",
				              (double)(usec - run[k].usec) / 1e6));
			}
	}
}

/*
 * The previous boot's kernel messages from the journal under the root (var/log/journal, the
 * live journal when the root is /); null when there is no journal to read.
 */
static json_t *journal_lines(struct collector *c, const char *root, const char *boot_id,
                             json_t **error, size_t *filtered, json_t *vm_faults, json_t **last)
{
	struct running run[32];
	size_t nrun = 0;
	sd_journal *j = NULL;
	char match[128];
	json_t *lines = json_array();
	int r;

	if (c->r.is_slash)
		r = sd_journal_open(&j, SD_JOURNAL_LOCAL_ONLY | SD_JOURNAL_SYSTEM);
	else /* a captured root: its var/log/journal and run/log/journal */
		r = sd_journal_open_directory(&j, root, SD_JOURNAL_OS_ROOT);
	if (r < 0) {
		*error = json_sprintf("cannot open the journal: %s", strerror(-r));
		json_decref(lines);
		return json_null();
	}
	/* the journal keeps a boot id as 32 hex digits, /proc's boot_id has dashes */
	{
		size_t k = strlen("_BOOT_ID=");

		memcpy(match, "_BOOT_ID=", k);
		for (const char *p = boot_id; *p && k < sizeof(match) - 1; p++)
			if (*p != '-')
				match[k++] = *p;
		match[k] = '\0';
	}
	/* (this boot and the kernel) or (this boot and a source of passthrough events) */
	r = sd_journal_add_match(j, match, 0);
	if (r >= 0)
		r = sd_journal_add_match(j, "_TRANSPORT=kernel", 0);
	if (r >= 0)
		r = sd_journal_add_disjunction(j);
	if (r >= 0)
		r = sd_journal_add_match(j, match, 0);
	for (size_t k = 0; r >= 0 && k < SNAP_ARRAY_SIZE(event_sources); k++) {
		char m[64];

		snprintf(m, sizeof(m), "SYSLOG_IDENTIFIER=%s", event_sources[k]);
		r = sd_journal_add_match(j, m, 0);
	}
	if (r < 0) {
		*error = json_sprintf("cannot read the journal: %s", strerror(-r));
		sd_journal_close(j);
		json_decref(lines);
		return json_null();
	}
	SD_JOURNAL_FOREACH(j)
	{
		const void *data, *id;
		size_t len, idlen;
		uint64_t usec = 0;
		char ident[64] = "kernel", vm[64], when[32];
		enum event kind;
		bool from_kernel;

		if (sd_journal_get_data(j, "MESSAGE", &data, &len) < 0 || len < 8)
			continue;
		data = (const char *)data + 8;
		len -= 8;
		from_kernel = sd_journal_get_data(j, "_TRANSPORT", &id, &idlen) >= 0 &&
		              idlen == 17 && !memcmp(id, "_TRANSPORT=kernel", 17);
		if (!from_kernel && sd_journal_get_data(j, "SYSLOG_IDENTIFIER", &id, &idlen) >= 0 &&
		    idlen > 18)
			snprintf(ident, sizeof(ident), "%.*s", (int)(idlen - 18),
			         (const char *)id + 18);
		sd_journal_get_realtime_usec(j, &usec);
		snap_time__format(when, sizeof(when), (int64_t)(usec / 1000000), false);
		{
			char *text = strndup(data, len);

			if (!text)
				continue;
			if (from_kernel) { /* the last words proper: the last message before the end
				            */
				json_decref(*last);
				text = snap_collect__utf8(c, text, "journal");
				*last = json_pack("{s:s, s:s?}", "at", when, "message", text);
			}
			kind = event_kind(from_kernel ? NULL : ident, text, strlen(text), vm,
			                  sizeof(vm));
			if (kind == EV_NONE) {
				(*filtered)++;
				free(text);
				continue;
			}
			if (!from_kernel)
				text = snap_collect__utf8(c, text, "journal");
			follow(vm_faults, run, &nrun, kind, vm, usec, when);
			json_array_append_new(lines, json_pack("{s:s, s:s?, s:s, s:s, s:o*}", "at",
			                                       when, "message", text, "kind",
			                                       event_names[kind], "source", ident,
			                                       "vm", *vm ? json_string(vm) : NULL));
			free(text);
		}
		if (json_array_size(lines) > JOURNAL_LINES_MAX)
			json_array_remove(lines, 0);
	}
	sd_journal_close(j);
	return lines;
}

/* One domain log's lines QEMU wrote in [from, until] (seconds), onto found */
static void qemu_log(struct words *w, json_t *found, const char *name, int64_t from, int64_t until)
{
	char rel[512], vm[256], *text = NULL;
	size_t len = strlen(name), tlen = 0;
	struct stat sb;

	if (len < 5 || strcmp(name + len - 4, ".log"))
		return;
	snprintf(rel, sizeof(rel), "var/log/libvirt/qemu/%s", name);
	snprintf(vm, sizeof(vm), "%.*s", (int)(len - 4), name);
	if (snap_root__read_tail(&text, &tlen, &sb, &w->c.r, rel, QEMU_LOG_TAIL) < 0)
		return;
	for (char *line = text, *nl; line < text + tlen; line = nl + 1) {
		struct tm tm = {0};
		const char *p;
		char when[32], *msg;
		int64_t t;

		if (!(nl = memchr(line, '\n', (size_t)(text + tlen - line))))
			nl = text + tlen;
		*nl = '\0';
		/* "2024-03-10T12:00:05.456789Z qemu-system-x86_64: ..." (-msg timestamp=on) */
		if (!(p = strptime(line, "%Y-%m-%dT%H:%M:%S", &tm)))
			continue;
		if (*p == '.')
			p += 1 + strspn(p + 1, "0123456789");
		if (p[0] != 'Z' || p[1] != ' ' || (t = (int64_t)timegm(&tm)) < from || t > until)
			continue;
		snap_time__format(when, sizeof(when), t, false);
		if (!(msg = snap_collect__utf8(&w->c, strdup(p + 2), "libvirt's QEMU log")))
			continue;
		json_array_append_new(found,
		                      json_pack("{s:s, s:s, s:s, s:s, s:s}", "at", when, "message",
		                                msg, "kind", "qemu", "source", "qemu", "vm", vm));
		free(msg);
	}
	free(text);
}

/*
 * QEMU's own messages (docs/boot.md): libvirt starts each domain's QEMU with -msg
 * timestamp=on and its stderr in var/log/libvirt/qemu/DOMAIN.log, so each line QEMU writes
 * there (vfio's "Cannot reset device", "failed to setup container", ...) carries its time.
 * Those of the dead boot's time, from its start to its last kernel message, join its
 * timeline as kind "qemu" (the last QEMU_LINES_MAX of them). Proxmox's QEMU writes to the
 * task log, whose lines carry no time: not read.
 */
static void qemu_lines(struct words *w, json_t *lines, const json_t *last)
{
	int64_t from = w->o->previous_started, until = snap_time__parse(snap_json__str(last, "at"));
	json_t *found;
	char **names = NULL;
	size_t n = 0, i;
	json_t *l;

	if (from < 0 || until < 0 || !json_is_array(lines) ||
	    snap_root__list(&names, &n, &w->c.r, "var/log/libvirt/qemu") < 0)
		return;
	found = json_array();
	for (i = 0; i < n && i < QEMU_LOGS_MAX; i++)
		qemu_log(w, found, names[i], from, until);
	snap_strv__free(names, n);
	if (snap_json__sort_by_key(found, "at") == 0) {
		while (json_array_size(found) > QEMU_LINES_MAX)
			json_array_remove(found, 0);
		json_array_foreach (found, i, l)
			json_array_append(lines, l);
		/* one timeline: stable, so the journal's order stays within a second */
		if (snap_json__sort_by_key(lines, "at") == 0)
			while (json_array_size(lines) > JOURNAL_LINES_MAX)
				json_array_remove(lines, 0);
	}
	json_decref(found);
}

int snap_collect_last_words_ext(char **out, const snap_last_words_options *opts, snap_error *err)
{
	static const snap_collect_options defaults = SNAP_COLLECT_OPTIONS_INIT;
	static const snap_last_words_options none = SNAP_LAST_WORDS_OPTIONS_INIT;
	struct words w = {0};
	const char *root;
	json_t *doc, *lines = json_null(), *jerr = NULL, *vm_faults = json_array(), *last = NULL;
	size_t filtered = 0;
	int error;

	SNAP_ASSERT_ARG(out);
	w.o = opts ? opts : &none;
	root = w.o->root && *w.o->root ? w.o->root : "/";
	w.c.o = &defaults;
	if ((error = snap_root__open(&w.c.r, root, err)) < 0)
		return error;
	w.c.escaped = json_array();
	w.records = json_array();
	pstore_records(&w);
	if (w.o->previous_boot_id) {
		json_decref(lines);
		lines = journal_lines(&w.c, root, w.o->previous_boot_id, &jerr, &filtered,
		                      vm_faults, &last);
		qemu_lines(&w, lines, last);
	}
	doc = json_pack("{s:s, s:o, s:o, s:o, s:o*, s:o, s:o, s:{s:I, s:I, s:I}}", "schema",
	                "pcisnap.last-words/1", "previous_boot",
	                snap_json__str_or_null(w.o->previous_boot_id), "pstore", w.records,
	                "journal", lines, "journal_error", jerr, "vm_faults", vm_faults,
	                "last_message", last ? last : json_null(), "left_out", "journal_lines",
	                (json_int_t)filtered, "pstore_older", (json_int_t)w.skipped_old,
	                "pstore_kept_before", (json_int_t)w.skipped_kept);
	snap_root__close(&w.c.r);
	json_decref(w.c.escaped);
	if (!doc)
		return snap_error__set(err, SNAP_ENOMEM, "out of memory");
	error = snap_json__dump(out, doc, err);
	json_decref(doc);
	return error;
}

int snap_collect_last_words(char **out, const char *root, const char *previous_boot_id,
                            snap_error *err)
{
	snap_last_words_options o = SNAP_LAST_WORDS_OPTIONS_INIT;

	o.root = root;
	o.previous_boot_id = previous_boot_id;
	return snap_collect_last_words_ext(out, &o, err);
}
