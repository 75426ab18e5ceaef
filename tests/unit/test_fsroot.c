/* SPDX-License-Identifier: GPL-2.0-or-later */
/* Reading a captured root never leaves it: escapes, absolute links and loops. */
#include <criterion/criterion.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "util/fsroot.h"

static char dir[256];
static snap_root r;

static void mkfile(const char *rel, const char *text)
{
	char p[512];
	FILE *f;

	snprintf(p, sizeof(p), "%s/%s", dir, rel);
	f = fopen(p, "w");
	cr_assert_not_null(f);
	fputs(text, f);
	fclose(f);
}

static void mklink(const char *target, const char *rel)
{
	char p[512];

	snprintf(p, sizeof(p), "%s/%s", dir, rel);
	cr_assert_eq(symlink(target, p), 0);
}

static void setup(void)
{
	char p[512];

	snprintf(dir, sizeof(dir), "/tmp/pcisnap-fsroot-XXXXXX");
	cr_assert_not_null(mkdtemp(dir));
	snprintf(p, sizeof(p), "%s/a", dir);
	mkdir(p, 0755);
	snprintf(p, sizeof(p), "%s/a/b", dir);
	mkdir(p, 0755);
	mkfile("a/b/file", "inside\n");
	mkfile("secret", "root-level\n");
	mklink("../b/file", "a/b/rel");               /* a/b/../b/file */
	mklink("../../../../../../secret", "a/b/up"); /* climbs far above: clamps at root */
	mklink("/a/b/file", "a/b/abs");               /* absolute: relative to the root */
	mklink("loop2", "a/loop1");
	mklink("loop1", "a/loop2");
	cr_assert_eq(snap_root__open(&r, dir, NULL), 0);
}

static void teardown(void)
{
	char cmd[600];

	snap_root__close(&r);
	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", dir);
	cr_assert_eq(system(cmd), 0);
}

TestSuite(fsroot, .init = setup, .fini = teardown);

Test(fsroot, relative_link_resolves_inside)
{
	char *out = NULL;

	cr_assert_eq(snap_root__resolve(&out, &r, "a/b/rel"), 0);
	cr_assert_str_eq(out, "a/b/file");
	free(out);
}

Test(fsroot, dotdot_stops_at_root)
{
	char *out = NULL, *data = NULL;

	cr_assert_eq(snap_root__resolve(&out, &r, "a/b/up"), 0);
	cr_assert_str_eq(out, "secret");
	free(out);
	cr_assert_eq(snap_root__read(&data, NULL, &r, "../../../a/b/../../secret", 64), 0);
	cr_assert_str_eq(data, "root-level\n");
	free(data);
}

Test(fsroot, absolute_link_is_rooted)
{
	char *out = NULL;

	cr_assert_eq(snap_root__resolve(&out, &r, "a/b/abs"), 0);
	cr_assert_str_eq(out, "a/b/file");
	free(out);
}

Test(fsroot, loop_is_eloop)
{
	char *out = NULL;

	cr_assert_eq(snap_root__resolve(&out, &r, "a/loop1"), -ELOOP);
}

Test(fsroot, read_at_does_not_follow_final_link)
{
	char *data = NULL, *canon = NULL;
	int fd;

	cr_assert_eq(snap_root__resolve(&canon, &r, "a/b"), 0);
	fd = snap_root__opendir(&r, canon);
	cr_assert_geq(fd, 0);
	cr_assert_eq(snap_root__read_at(&data, NULL, fd, "abs", 64), -ELOOP);
	cr_assert_eq(snap_root__read_at(&data, NULL, fd, "file", 64), 0);
	cr_assert_str_eq(data, "inside\n");
	free(data);
	free(canon);
	close(fd);
}

Test(fsroot, read_respects_max)
{
	char *data = NULL;
	size_t len = 0;

	cr_assert_eq(snap_root__read(&data, &len, &r, "a/b/file", 3), 0);
	cr_assert_eq(len, 3);
	cr_assert_str_eq(data, "ins");
	free(data);
}

Test(fsroot, procfs_files_are_read_to_end_of_file)
{
	/* a seq_file hands out one page per read(); this process's maps are longer than that
	 * (every shared library has several lines), so a reader that stops at the first short
	 * read loses the rest, as /proc/modules on a host with 40+ modules lost its vfio lines */
	snap_root self;
	char *data = NULL;
	size_t len = 0;

	cr_assert_eq(snap_root__open(&self, "/proc/self", NULL), 0);
	cr_assert_eq(snap_root__read(&data, &len, &self, "maps", 1u << 22), 0);
	cr_assert_gt(len, 4096, "read %zu bytes", len);
	cr_assert_eq(data[len - 1], '\n');
	free(data);
	snap_root__close(&self);
}

Test(fsroot, a_link_inside_a_canonical_path_is_never_followed)
{
	/* snap_root__resolve() hands out paths without links; a component that is a link when
	 * the open comes (swapped in meanwhile) must not be followed (openat2's
	 * RESOLVE_NO_SYMLINKS where the kernel has it) */
	char *data = NULL;
	snap_root self;
	char d[] = "/tmp/pcisnap-fsroot-XXXXXX", p[512];
	FILE *f;

	cr_assert_not_null(mkdtemp(d));
	snprintf(p, sizeof(p), "%s/real", d);
	cr_assert_eq(mkdir(p, 0755), 0);
	snprintf(p, sizeof(p), "%s/real/file", d);
	cr_assert_not_null(f = fopen(p, "w"));
	fputs("secret\n", f);
	fclose(f);
	snprintf(p, sizeof(p), "%s/swapped", d);
	cr_assert_eq(symlink("real", p), 0);
	cr_assert_eq(snap_root__open(&self, d, NULL), 0);
	/* through the resolver: fine, the link is resolved to real/file */
	cr_assert_eq(snap_root__read(&data, NULL, &self, "swapped/file", 64), 0);
	free(data);
	data = NULL;
	/* a "canonical" path that has a link in it, last component or not: refused */
	cr_assert_lt(snap_root__opendir(&self, "swapped"), 0);
	cr_assert_lt(snap_root__read_at(&data, NULL, self.fd, "swapped/file", 64), 0);
	cr_assert_eq(snap_root__read_at(&data, NULL, self.fd, "real/file", 64), 0);
	cr_assert_str_eq(data, "secret\n");
	free(data);
	{
		int fd = snap_root__opendir(&self, "real");

		cr_assert_geq(fd, 0);
		close(fd);
	}
	snap_root__close(&self);
	snprintf(p, sizeof(p), "rm -rf '%s'", d);
	cr_assert_eq(system(p), 0);
}
