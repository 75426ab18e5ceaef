/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * check: forensics readiness, its own section: whether the previous boot ended cleanly and
 * whether a host that dies now leaves evidence (persistent journal, pstore, kdump, netconsole,
 * panic settings).
 */
#include "analyse/analyse.h"
#include "analyse/check.h"
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* The previous boot's end (snapshots of pcisnap 0.1 before it have none: nothing said). */
static void check_previous_boot(snap_check *c, json_t *checks, const json_t *root)
{
	const json_t *boot = json_object_get(root, "boot");

	if (json_is_boolean(json_object_get(boot, "previous_clean"))) {
		if (json_is_true(json_object_get(boot, "previous_clean")))
			snap_check__add(c, checks, SNAP_CHECK_PASS, SNAP_CHK_PREVIOUS_BOOT, "boot",
			                "the previous boot (%s) ended with a clean shutdown",
			                snap_json__str(boot, "previous_id"));
		else
			snap_check__add(
			    c, checks, SNAP_CHECK_WARN, SNAP_CHK_PREVIOUS_BOOT, "boot",
			    "the previous boot (%s) has no record of a clean end: a crash, a power "
			    "loss or a hard lockup; read its last words ('pcisnap boot "
			    "last-words')",
			    snap_json__str(boot, "previous_id"));
	}
}

/* Whether the journal of a boot that dies survives it: journald's Storage= and the mount. */
static void check_journal(snap_check *c, json_t *checks, const json_t *f)
{
	const json_t *j = json_object_get(f, "journal"), *m;
	const char *st, *from;

	st = snap_json__str(j, "storage");
	from = snap_json__str(j, "storage_from");
	m = json_object_get(j, "mount");
	if (json_is_true(json_object_get(j, "mount_volatile")))
		snap_check__add(
		    c, checks, SNAP_CHECK_WARN, SNAP_CHK_JOURNAL_PERSISTENT, "journal",
		    "/var/log/journal is in RAM (%s %s at %s: log2ram or folder2ram): what the "
		    "journal held since the last sync dies with the host; keep the journal on "
		    "disk (log2ram: exclude it, or Storage=persistent with the journal outside "
		    "the RAM disk)",
		    snap_json__str(m, "fstype"),
		    snap_json__str(m, "source") ? snap_json__str(m, "source") : "?",
		    snap_json__str(m, "mount_point"));
	else if (json_is_true(json_object_get(j, "persistent")))
		snap_check__add(c, checks, SNAP_CHECK_PASS, SNAP_CHK_JOURNAL_PERSISTENT, "journal",
		                "persistent (Storage=%s%s%s, /var/log/journal on %s)",
		                st ? st : "auto", from ? " in " : "", from ? from : "",
		                json_is_object(m) ? snap_json__str(m, "fstype")
		                                  : "an unknown mount");
	else if (json_is_false(json_object_get(j, "persistent")) && st &&
	         (!strcmp(st, "volatile") || !strcmp(st, "none")))
		snap_check__add(
		    c, checks, SNAP_CHECK_WARN, SNAP_CHK_JOURNAL_PERSISTENT, "journal",
		    "journald Storage=%s%s%s: the journal of a boot that dies is lost; set "
		    "Storage=persistent (a drop-in in /etc/systemd/journald.conf.d/)",
		    st, from ? " in " : "", from ? from : "");
	else if (json_is_false(json_object_get(j, "persistent")))
		snap_check__add(
		    c, checks, SNAP_CHECK_WARN, SNAP_CHK_JOURNAL_PERSISTENT, "journal",
		    "Storage=auto and no /var/log/journal: the journal stays in /run and dies "
		    "with the boot; mkdir /var/log/journal && systemd-tmpfiles --create --prefix "
		    "/var/log/journal, or set Storage=persistent");
	else
		snap_check__add(c, checks, SNAP_CHECK_WARN, SNAP_CHK_JOURNAL_PERSISTENT, "journal",
		                "unknown: journald's Storage=%s is not a value journald knows",
		                st ? st : "?");
}

/* Whether a panic's last messages are kept: a registered pstore backend. */
static void check_pstore(snap_check *c, json_t *checks, const json_t *f)
{
	const json_t *ps = json_object_get(f, "pstore");
	const char *backend;

	backend = snap_json__str(ps, "backend");
	if (backend && *backend)
		snap_check__add(c, checks, SNAP_CHECK_PASS, SNAP_CHK_PSTORE_BACKEND, "pstore",
		                "backend %s registered (%" JSON_INTEGER_FORMAT " record(s) kept)",
		                backend, json_integer_value(json_object_get(ps, "records")));
	else
		snap_check__add(
		    c, checks, SNAP_CHECK_WARN, SNAP_CHK_PSTORE_BACKEND, "pstore",
		    "%s: a panic's last messages are kept nowhere; on UEFI load efi_pstore "
		    "(and efi_pstore.pstore_disable=0), else reserve ramoops memory",
		    backend ? "no backend registered" : "unknown (no pstore module)");
}

/* Whether a panic leaves a dump: memory reserved and a crash kernel loaded. */
static void check_crash_kernel(snap_check *c, json_t *checks, const json_t *f)
{
	const json_t *ck = json_object_get(f, "crash_kernel");
	json_int_t reserved;

	reserved = json_integer_value(json_object_get(ck, "reserved_bytes"));
	if (!json_is_integer(json_object_get(ck, "reserved_bytes")))
		snap_check__add(
		    c, checks, SNAP_CHECK_WARN, SNAP_CHK_CRASH_KERNEL, "kdump",
		    "unknown (no /sys/kernel/kexec_crash_size: a kernel without kexec)");
	else if (reserved <= 0)
		snap_check__add(
		    c, checks, SNAP_CHECK_WARN, SNAP_CHK_CRASH_KERNEL, "kdump",
		    "no memory reserved for a crash kernel: a panic leaves no dump; add "
		    "crashkernel=384M to the command line and install kdump-tools");
	else if (json_integer_value(json_object_get(ck, "loaded")) != 1)
		snap_check__add(c, checks, SNAP_CHECK_WARN, SNAP_CHK_CRASH_KERNEL, "kdump",
		                "%" JSON_INTEGER_FORMAT
		                " MiB reserved but no crash kernel loaded: enable "
		                "kdump-tools (kdump-config load)",
		                reserved >> 20);
	else
		snap_check__add(c, checks, SNAP_CHECK_PASS, SNAP_CHK_CRASH_KERNEL, "kdump",
		                "%" JSON_INTEGER_FORMAT " MiB reserved, a crash kernel loaded",
		                reserved >> 20);
}

/* Whether a hard lockup's last messages reach another host. */
static void check_netconsole(snap_check *c, json_t *checks, const json_t *f)
{
	const json_t *nc = json_object_get(f, "netconsole");

	if (json_integer_value(json_object_get(nc, "enabled")) > 0)
		snap_check__add(c, checks, SNAP_CHECK_PASS, SNAP_CHK_NETCONSOLE, "netconsole",
		                "%" JSON_INTEGER_FORMAT
		                " target(s) enabled: the kernel's last messages "
		                "reach another host",
		                json_integer_value(json_object_get(nc, "enabled")));
	else if (json_array_size(json_object_get(nc, "configured")))
		snap_check__add(
		    c, checks, SNAP_CHECK_PASS, SNAP_CHK_NETCONSOLE, "netconsole",
		    "configured (%s%s)",
		    json_string_value(json_array_get(json_object_get(nc, "configured"), 0)),
		    json_is_true(json_object_get(nc, "loaded")) ? ", module loaded"
		                                                : ", module not loaded");
	else
		snap_check__add(
		    c, checks, SNAP_CHECK_WARN, SNAP_CHK_NETCONSOLE, "netconsole",
		    "no target: a hard lockup's last messages reach no other host; set "
		    "netconsole=@/,6666@LOGHOST/ (command line or modprobe.d) or a configfs "
		    "target");
}

/* Panic settings: a hung host that never panics leaves nothing to pstore or kdump. */
static void check_panic(snap_check *c, json_t *checks, const json_t *f)
{
	const json_t *pn = json_object_get(f, "panic");
	snap_buf b = SNAP_BUF_INIT;
	char *list;
	static const char *const keys[] = {"panic", "hardlockup_panic", "softlockup_panic"};
	bool unknown = false;

	for (size_t k = 0; k < SNAP_ARRAY_SIZE(keys); k++) {
		const json_t *v = json_object_get(pn, keys[k]);

		if (!json_is_integer(v))
			unknown |= k == 0; /* hardlockup_panic is absent without the detector */
		else if (json_integer_value(v) == 0)
			snap_buf__printf(&b, "%skernel.%s=0", b.len ? ", " : "", keys[k]);
	}
	list = snap_buf__detach(&b);
	if (list && *list)
		snap_check__add(
		    c, checks, SNAP_CHECK_WARN, SNAP_CHK_PANIC_SETTINGS, "sysctl",
		    "%s: %s; set kernel.panic=10, kernel.hardlockup_panic=1 and "
		    "kernel.softlockup_panic=1 (sysctl.d) so a hung host panics, leaves "
		    "its "
		    "record in pstore or a dump, and reboots",
		    list,
		    strstr(list, "kernel.panic=0") ? "a panic hangs the host until someone "
		                                     "power-cycles it"
		                                   : "a lockup only logs, the host stays hung");
	else if (unknown)
		snap_check__add(c, checks, SNAP_CHECK_WARN, SNAP_CHK_PANIC_SETTINGS, "sysctl",
		                "unknown (no /proc/sys/kernel/panic)");
	else
		snap_check__add(c, checks, SNAP_CHECK_PASS, SNAP_CHK_PANIC_SETTINGS, "sysctl",
		                "a panic reboots the host (kernel.panic=%" JSON_INTEGER_FORMAT
		                "); lockups panic",
		                json_integer_value(json_object_get(pn, "panic")));
	free(list);
}

/* The previous boot's end, and whether a host that dies now leaves evidence. */
void snap_check__boot_and_forensics(snap_check *c, json_t *checks, const json_t *root)
{
	const json_t *f = json_object_get(root, "forensics");

	check_previous_boot(c, checks, root);
	if (!json_is_object(f))
		return;
	check_journal(c, checks, f);
	check_pstore(c, checks, f);
	check_crash_kernel(c, checks, f);
	check_netconsole(c, checks, f);
	check_panic(c, checks, f);
}
