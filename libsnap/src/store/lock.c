/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * The store's writer lock, and what a dead writer leaves behind.
 *
 * git's locks are files created with O_EXCL beside what they guard (refs/heads/HOST.lock,
 * packed-refs.lock), renamed into place when the write is done. A writer killed (kill -9, the
 * OOM killer, a power loss) between the two leaves the file forever, and every later writer is
 * refused: at boot, a gate that holds the VMs until someone deletes a file. The file says
 * nothing of who made it, so it cannot tell a dead writer from a live one.
 *
 * Every pcisnap writer therefore first takes pcisnap-write.lock in the store with flock(2): the
 * kernel releases it when its holder dies, however it dies, so holding it proves that no other
 * pcisnap is writing. Its holder writes its record there (pid, boot id, time) and empties it when
 * it is done; a record found non-empty by the next holder is a writer that died. Holding the
 * lock, a git lock file is taken over (removed, with a warning naming its maker) when a pcisnap
 * died holding the lock (its record is still there), or when the file was made before this boot
 * began (a power loss, whoever made it). Any other git lock file belongs to a live writer outside
 * pcisnap (git itself): it is left alone, and the write waits or fails as before.
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "snap/store.h"
#include "store/store_internal.h"

#define LOCK_NAME     "pcisnap-write.lock"
#define LOCK_WAIT_MS  60000 /* a writer holds it for a commit: milliseconds, not a minute */
#define LOCK_SCAN_MAX 4096  /* ref directory entries looked at for stale git locks */

/* When this boot began, in seconds since the epoch; -1 when unknown. */
static int64_t boot_started(void)
{
	struct timespec up, now;

	if (clock_gettime(CLOCK_BOOTTIME, &up) < 0 || clock_gettime(CLOCK_REALTIME, &now) < 0)
		return -1;
	return (int64_t)now.tv_sec - (int64_t)up.tv_sec;
}

static void this_boot_id(char *buf, size_t n)
{
	FILE *f = fopen("/proc/sys/kernel/random/boot_id", "re");

	buf[0] = '\0';
	if (f) {
		if (fgets(buf, (int)n, f))
			buf[strcspn(buf, "\n")] = '\0';
		fclose(f);
	}
	if (!snap_boot_id_valid(buf))
		snprintf(buf, n, "unknown");
}

/* Append "WHAT (WHY)" to the store's warning, "; " between two. */
static void add_warning(snap_store *st, const char *what, const char *why)
{
	size_t used = strlen(st->warning);

	snprintf(st->warning + used, sizeof(st->warning) - used, "%s%s (%s)", used ? "; " : "",
	         what, why);
}

/*
 * Remove the git lock file rel (relative to the store, sb its lstat) when it is stale: made by
 * a pcisnap that died (holder != "") or before this boot began; said in the store's warning.
 */
static void take_over(snap_store *st, const char *rel, const struct stat *sb, const char *holder,
                      int64_t booted)
{
	char full[8192], what[4200];
	size_t n = strlen(rel);

	if (!S_ISREG(sb->st_mode) || n < 5 || strcmp(rel + n - 5, ".lock"))
		return;
	snprintf(full, sizeof(full), "%s/%s", st->path, rel);
	snprintf(what, sizeof(what), "took over the stale lock %s", rel);
	if (*holder || (booted >= 0 && (int64_t)sb->st_mtime < booted)) {
		if (unlink(full) == 0)
			add_warning(st, what, *holder ? holder : "made before this boot began");
	}
}

/* take_over() every lock file below rel (a directory of refs); *budget bounds the walk. */
static void take_over_in(snap_store *st, const char *rel, const char *holder, int64_t booted,
                         int *budget)
{
	char path[4096];
	struct dirent *e;
	DIR *d;

	snprintf(path, sizeof(path), "%s/%s", st->path, rel);
	if (!(d = opendir(path)))
		return;
	while ((e = readdir(d)) && (*budget)-- > 0) {
		char sub[4096], full[8192];
		struct stat sb;

		if (e->d_name[0] == '.' && (!e->d_name[1] || !strcmp(e->d_name, "..")))
			continue;
		snprintf(sub, sizeof(sub), "%s/%s", rel, e->d_name);
		snprintf(full, sizeof(full), "%s/%s", st->path, sub);
		if (lstat(full, &sb) < 0)
			continue;
		if (S_ISDIR(sb.st_mode))
			take_over_in(st, sub, holder, booted, budget);
		else
			take_over(st, sub, &sb, holder, booted);
	}
	closedir(d);
}

/* The record a holder left: "pid P, boot B, since T" when it did not release the lock. */
static void read_holder(int fd, char *buf, size_t n)
{
	ssize_t got = pread(fd, buf, n - 1, 0);
	long pid = 0;
	char boot[64] = "", me[64];

	buf[got > 0 ? got : 0] = '\0';
	buf[strcspn(buf, "\n")] = '\0';
	if (!*buf)
		return;
	/* the record is ours to write: read it back without trusting it */
	for (char *p = buf; *p; p++)
		if ((unsigned char)*p < 0x20 || *p == 0x7f)
			*p = '?';
	this_boot_id(me, sizeof(me));
	if (sscanf(buf, "pid %ld boot %63s", &pid, boot) == 2) {
		char how[160];

		/* flock() was granted: that holder is gone whatever its pid now names */
		snprintf(how, sizeof(how), "%s",
		         strcmp(boot, me) ? "of another boot"
		         : (pid > 0 && kill((pid_t)pid, 0) < 0 && errno == ESRCH)
		             ? "its process is gone"
		             : "it released nothing before it ended");
		if (strlen(buf) + strlen(how) + 4 < n) {
			size_t used = strlen(buf);

			snprintf(buf + used, n - used, ": %s", how);
		}
	}
}

int snap_store__write_lock(snap_store *st, snap_error *err)
{
	char path[4096], holder[256], record[160], boot[64];
	int fd, waited = 0, budget = LOCK_SCAN_MAX;
	struct stat sb;
	int64_t booted;

	if (st->lock_fd >= 0)
		return 0;
	snprintf(path, sizeof(path), "%s/%s", st->path, LOCK_NAME);
	fd = open(path, O_RDWR | O_CREAT | O_CLOEXEC | O_NOFOLLOW | O_NONBLOCK, 0644);
	if (fd < 0)
		return snap_error__errno(err, "lock store", path);
	if (fstat(fd, &sb) < 0 || !S_ISREG(sb.st_mode)) {
		close(fd);
		return snap_error__set(err, SNAP_ERROR, "cannot lock store '%s': %s is not a file",
		                       st->path, LOCK_NAME);
	}
	while (flock(fd, LOCK_EX | LOCK_NB) < 0) {
		struct timespec ts = {0, 20 * 1000000L};

		if (errno != EWOULDBLOCK && errno != EINTR) {
			close(fd);
			return snap_error__errno(err, "lock store", path);
		}
		if ((waited += 20) > LOCK_WAIT_MS) {
			read_holder(fd, holder, sizeof(holder));
			close(fd);
			return snap_error__set(
			    err, SNAP_ERROR,
			    "store '%s' is busy: another pcisnap has been writing "
			    "for a minute (%s); it is alive (the lock is released "
			    "when it ends): find it with 'fuser %s'",
			    st->path, *holder ? holder : "no record", path);
		}
		nanosleep(&ts, NULL);
	}
	read_holder(fd, holder, sizeof(holder));
	if (*holder)
		add_warning(st, "a pcisnap writing to this store died", holder);
	booted = boot_started();
	take_over_in(st, "refs", holder, booted, &budget);
	{
		/* packed-refs.lock and config.lock sit in the store's top directory */
		static const char *const top[] = {"packed-refs.lock", "config.lock"};

		for (size_t i = 0; i < sizeof(top) / sizeof(top[0]); i++) {
			char full[4096];

			snprintf(full, sizeof(full), "%s/%s", st->path, top[i]);
			if (lstat(full, &sb) == 0)
				take_over(st, top[i], &sb, holder, booted);
		}
	}
	this_boot_id(boot, sizeof(boot));
	snprintf(record, sizeof(record), "pid %ld boot %s since %lld\n", (long)getpid(), boot,
	         (long long)time(NULL));
	/* best effort: without the record, a crash is still found by the lock's age */
	if (ftruncate(fd, 0) == 0 && pwrite(fd, record, strlen(record), 0) < 0)
		(void)ftruncate(fd, 0);
	st->lock_fd = fd;
	return 0;
}

void snap_store__write_unlock(snap_store *st)
{
	if (st->lock_fd < 0)
		return;
	/* an empty record: released, not died */
	if (ftruncate(st->lock_fd, 0) < 0) {
		/* the next holder will think this writer died: only a warning there */
	}
	close(st->lock_fd);
	st->lock_fd = -1;
}

const char *snap_store_warning(const snap_store *st)
{
	return st && st->warning[0] ? st->warning : NULL;
}
