/* SPDX-License-Identifier: GPL-2.0-or-later */
/**
 * @file snap.h
 * libsnap in one include: snapshots, collection and the show report. The other modules have
 * their own headers: check.h, diff.h, store.h, fleet.h, bundle.h.
 */
#ifndef SNAP_SNAP_H
#define SNAP_SNAP_H

#include "collect.h"
#include "common.h"
#include "error.h"
#include "report.h"
#include "snapshot.h"

#endif
