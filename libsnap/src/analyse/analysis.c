// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * analysis.c: what one snapshot means, computed once. The topology (its index, implied groups
 * and ACS paths), the passthrough set and the vfio-pci id coverage are built the first time a
 * reader asks for them and kept with the snapshot, so check, diff, show, the bundle, the metrics
 * and preflight share one of each (docs/architecture.md counts the builds per command).
 */
#include <stdatomic.h>
#include <stdlib.h>

#include "analyse/analyse.h"

struct snap_analysis {
	const json_t *root; /* borrowed from the snapshot */
	snap_topo topo;
	int topo_state;      /* 0 not built, 1 built, SNAP_ENOMEM failed */
	json_t *covered;     /* owned, NULL until asked: bdf -> [vfio-pci ids] */
	json_t *passthrough; /* owned, NULL until asked: bdf -> [reasons] */
};

static atomic_ulong topo_builds;

static void analysis_free(void *p)
{
	snap_analysis *a = p;

	if (!a)
		return;
	if (a->topo_state == 1)
		snap_topo__release(&a->topo);
	json_decref(a->covered);
	json_decref(a->passthrough);
	free(a);
}

snap_analysis *snap_analysis__get(const snap_snapshot *s)
{
	/* the cache is part of the snapshot's meaning, not of its document: filling it does not
	 * change what the const snapshot says */
	snap_snapshot *w = (snap_snapshot *)s;
	snap_analysis *a;

	if (!s || !s->root)
		return NULL;
	if (s->analysis)
		return s->analysis;
	if (!(a = calloc(1, sizeof(*a))))
		return NULL;
	a->root = s->root;
	w->analysis = a;
	w->analysis_free = analysis_free;
	return a;
}

snap_topo *snap_analysis__topo(snap_analysis *a)
{
	if (!a)
		return NULL;
	if (a->topo_state == 0) {
		unsigned long oom = snap_mem__failures();

		atomic_fetch_add(&topo_builds, 1);
		a->topo_state = snap_topo__build(&a->topo, a->root) == 0 ? 1 : SNAP_ENOMEM;
		if (a->topo_state == 1 && snap_mem__failures() != oom) {
			snap_topo__release(&a->topo); /* incomplete: not kept */
			a->topo_state = 0;
			return NULL;
		}
		if (a->topo_state != 1)
			a->topo_state = 0; /* asked again, built again */
	}
	return a->topo_state == 1 ? &a->topo : NULL;
}

bool snap_analysis__has_topo(const snap_analysis *a)
{
	return a && a->topo_state != 0;
}

json_t *snap_analysis__covered(snap_analysis *a)
{
	if (a && !a->covered) {
		unsigned long oom = snap_mem__failures();

		a->covered = snap_passthrough__covered(a->root);
		if (snap_mem__failures() != oom) { /* incomplete: not kept */
			json_decref(a->covered);
			a->covered = NULL;
		}
	}
	return a ? a->covered : NULL;
}

json_t *snap_analysis__passthrough(snap_analysis *a)
{
	if (a && !a->passthrough && snap_analysis__covered(a)) {
		unsigned long oom = snap_mem__failures();

		a->passthrough = snap_passthrough__compute(a->root, a->covered);
		if (snap_mem__failures() != oom) { /* incomplete: not kept */
			json_decref(a->passthrough);
			a->passthrough = NULL;
		}
	}
	return a ? a->passthrough : NULL;
}

unsigned long snap_analysis__topo_builds(void)
{
	return atomic_load(&topo_builds);
}
