/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * The store packs itself, as `git gc --auto` does, through libgit2's packbuilder. An unchanged
 * host adds one commit object per snapshot; as a loose object each takes a file system block
 * (4 KiB for ~300 bytes), packed and delta-compressed it takes a few dozen bytes.
 *
 * After each commit the fan-out directory of the new object (objects/ab/) is listed: with a
 * uniform hash, one directory holding two or more objects is the sign that the store may have
 * a few hundred loose ones, and only then are all 256 counted. Past SNAP_STORE_LOOSE_MAX, the
 * loose objects go into one new pack and their files are removed (those written meanwhile by
 * another pcisnap are not in the list, so they stay). Past SNAP_STORE_PACKS_MAX packs,
 * everything reachable from every ref (branches, labels, notes) and every loose object is
 * written into one pack, and the other packs are removed, as `git repack -a -d` does. A reader
 * holding an old pack keeps its mapping; libgit2 finds the new pack when it looks again.
 */
#include <dirent.h>
#include <git2.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "store/store_internal.h"

static bool hexes(const char *s, size_t n)
{
	for (size_t i = 0; i < n; i++)
		if (!((s[i] >= '0' && s[i] <= '9') || (s[i] >= 'a' && s[i] <= 'f')))
			return false;
	return s[n] == '\0';
}

/* objects/ of the repository, with a final '/' */
static void objects_dir(char *buf, size_t n, const snap_store *st)
{
	snprintf(buf, n, "%sobjects/", git_repository_path(st->repo));
}

/* The loose objects of one fan-out directory: appended to ids (when not NULL); the count */
static size_t loose_in(const char *objdir, unsigned fan, git_oid **ids, size_t *n, size_t *cap)
{
	char path[4200];
	DIR *d;
	struct dirent *de;
	size_t count = 0;

	snprintf(path, sizeof(path), "%s%02x", objdir, fan);
	if (!(d = opendir(path)))
		return 0;
	while ((de = readdir(d))) {
		char hex[64];

		if (strlen(de->d_name) != GIT_OID_HEXSZ - 2 ||
		    !hexes(de->d_name, GIT_OID_HEXSZ - 2))
			continue;
		count++;
		if (!ids)
			continue;
		if (*n == *cap) {
			size_t nc = *cap ? *cap * 2 : 256;
			git_oid *grown = realloc(*ids, nc * sizeof(**ids));

			if (!grown)
				break;
			*ids = grown;
			*cap = nc;
		}
		snprintf(hex, sizeof(hex), "%02x%.38s", fan & 0xffu, de->d_name);
		if (git_oid_fromstr(&(*ids)[*n], hex) == 0)
			(*n)++;
	}
	closedir(d);
	return count;
}

static size_t count_packs(const char *objdir)
{
	char path[4200];
	DIR *d;
	struct dirent *de;
	size_t n = 0;

	snprintf(path, sizeof(path), "%spack", objdir);
	if (!(d = opendir(path)))
		return 0;
	while ((de = readdir(d))) {
		size_t l = strlen(de->d_name);

		n += l > 5 && !strcmp(de->d_name + l - 5, ".pack");
	}
	closedir(d);
	return n;
}

/* Remove every pack but the one named keep ("pack-HASH"): its .pack, .idx (and .rev, .keep
 * is left alone: a kept pack is the operator's) */
static void remove_other_packs(const char *objdir, const char *keep)
{
	char path[4200];
	DIR *d;
	struct dirent *de;

	snprintf(path, sizeof(path), "%spack", objdir);
	if (!(d = opendir(path)))
		return;
	while ((de = readdir(d))) {
		const char *dot = strrchr(de->d_name, '.');
		char base[512], keepfile[4800], victim[4800];

		if (strncmp(de->d_name, "pack-", 5) || !dot ||
		    (strcmp(dot, ".pack") && strcmp(dot, ".idx") && strcmp(dot, ".rev")))
			continue;
		snprintf(base, sizeof(base), "%.*s", (int)(dot - de->d_name), de->d_name);
		if (!strcmp(base + 5, keep))
			continue;
		snprintf(keepfile, sizeof(keepfile), "%s/%s.keep", path, base);
		if (access(keepfile, F_OK) == 0)
			continue;
		snprintf(victim, sizeof(victim), "%s/%s", path, de->d_name);
		unlink(victim);
	}
	closedir(d);
}

int snap_store__pack(snap_store *st, bool all)
{
	char objdir[4096];
	git_packbuilder *pb = NULL;
	git_revwalk *walk = NULL;
	git_oid *ids = NULL;
	size_t n = 0, cap = 0;
	int rc = -1;

	objects_dir(objdir, sizeof(objdir), st);
	for (unsigned fan = 0; fan < 256; fan++)
		loose_in(objdir, fan, &ids, &n, &cap);
	if (!n && !all) {
		free(ids);
		return 0;
	}
	if (git_packbuilder_new(&pb, st->repo) < 0)
		goto done;
	for (size_t i = 0; i < n; i++)
		if (git_packbuilder_insert(pb, &ids[i], NULL) < 0)
			goto done;
	if (all) {
		if (git_revwalk_new(&walk, st->repo) < 0 || git_revwalk_push_glob(walk, "*") < 0 ||
		    git_packbuilder_insert_walk(pb, walk) < 0)
			goto done;
	}
	if (git_packbuilder_write(pb, NULL, 0, NULL, NULL) < 0)
		goto done;
	/* the packed objects' loose files go; objects written since the listing stay */
	for (size_t i = 0; i < n; i++) {
		char hex[GIT_OID_HEXSZ + 1], path[4300];

		git_oid_tostr(hex, sizeof(hex), &ids[i]);
		snprintf(path, sizeof(path), "%s%.2s/%s", objdir, hex, hex + 2);
		unlink(path);
	}
	if (all && git_packbuilder_name(pb))
		remove_other_packs(objdir, git_packbuilder_name(pb));
	{
		git_odb *odb = NULL;

		if (git_repository_odb(&odb, st->repo) == 0) {
			git_odb_refresh(odb);
			git_odb_free(odb);
		}
	}
	rc = 0;
done:
	git_revwalk_free(walk);
	git_packbuilder_free(pb);
	free(ids);
	return rc;
}

void snap_store__auto_pack(snap_store *st, const git_oid *new_object)
{
	char objdir[4096];
	size_t loose = 0;

	if (getenv("PCISNAP_NO_AUTO_PACK"))
		return;
	objects_dir(objdir, sizeof(objdir), st);
	if (loose_in(objdir, new_object->id[0], NULL, NULL, NULL) < 2)
		return;
	for (unsigned fan = 0; fan < 256; fan++)
		loose += loose_in(objdir, fan, NULL, NULL, NULL);
	if (loose <= SNAP_STORE_LOOSE_MAX)
		return;
	(void)snap_store__pack(st, count_packs(objdir) >= SNAP_STORE_PACKS_MAX);
}
