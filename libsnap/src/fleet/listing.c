// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * fleet/listing.c: `pcisnap log` and `pcisnap hosts`: the store's rows (store/listing.c)
 * rendered (render/listing.c). The store only stores; what its listing looks like is render/'s.
 */
#include "render/render.h"
#include "snap/store.h"
#include "store/store_internal.h"

_Static_assert(SNAP_RENDER_TEXT == (int)SNAP_LIST_TEXT && SNAP_RENDER_JSON == (int)SNAP_LIST_JSON &&
                   SNAP_RENDER_JSONL == (int)SNAP_LIST_JSONL,
               "render/'s list formats are snap_list_format's");

int snap_store_log_ext(char **out, snap_store *st, const char *host, const snap_log_options *opts,
                       snap_error *err)
{
	static const snap_log_options defaults = SNAP_LOG_OPTIONS_INIT;
	json_t *rows = NULL;
	int error;

	SNAP_ASSERT_ARG(out && st);
	if (!opts)
		opts = &defaults;
	if (opts->version != SNAP_LOG_OPTIONS_VERSION)
		return snap_error__set(err, SNAP_EINVALID, "unsupported log options version");
	if ((error = snap_store__log_rows(&rows, st, host, opts, err)) < 0)
		return error;
	error = snap_render__list(out, rows, (enum snap_render_list)opts->format, false, err);
	json_decref(rows);
	return error;
}

int snap_store_log(char **out, snap_store *st, const char *host, snap_error *err)
{
	return snap_store_log_ext(out, st, host, NULL, err);
}

int snap_store_hosts_ext(char **out, snap_store *st, snap_list_format format, snap_error *err)
{
	json_t *rows = NULL;
	int error;

	SNAP_ASSERT_ARG(out && st);
	if ((error = snap_store__hosts_rows(&rows, st, err)) < 0)
		return error;
	error = snap_render__list(out, rows, (enum snap_render_list)format, true, err);
	json_decref(rows);
	return error;
}

int snap_store_hosts(char **out, snap_store *st, snap_error *err)
{
	return snap_store_hosts_ext(out, st, SNAP_LIST_TEXT, err);
}
