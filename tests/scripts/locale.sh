#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0-or-later
# A program that links libsnap and sets a locale with a decimal comma (de_DE) gets the same
# snapshot and diff bytes as in the C locale: link speeds are parsed and printed without the
# locale's help. The locale is built into the scratch directory (localedef, LOCPATH).
. "$(dirname "$0")/lib.bash"
inc="$SNAP_SOURCE_DIR/libsnap/include"
lib=$(dirname "$PCISNAP")/libsnap.a
mkdir -p "$T/loc"
check "build the de_DE.UTF-8 locale" localedef -i de_DE -f UTF-8 "$T/loc/de_DE.UTF-8"
cat >"$T/prog.c" <<'C'
#include <locale.h>
#include <stdio.h>
#include <stdlib.h>
#include "snap/snap.h"
#include "snap/diff.h"
int main(int argc, char **argv)
{
	snap_collect_options o = SNAP_COLLECT_OPTIONS_INIT;
	snap_snapshot *s = NULL;
	snap_diff *d = NULL;
	char *json = NULL, *text = NULL;

	(void)argc;
	if (!setlocale(LC_ALL, ""))
		return 3;
	fprintf(stderr, "decimal point '%s'\n", localeconv()->decimal_point);
	o.root = argv[1];
	o.timestamp = 0;
	if (snap_snapshot_collect(&s, &o, NULL) < 0 || snap_snapshot_to_json(&json, s, NULL) < 0 ||
	    snap_diff_compute(&d, s, s, NULL) < 0 || snap_diff_render(&text, d, SNAP_DIFF_JSON, NULL) < 0)
		return 2;
	fputs(json, stdout);
	fputs(text, stdout);
	free(json);
	free(text);
	snap_diff_free(d);
	snap_snapshot_free(s);
	return 0;
}
C
san=
if nm "$lib" 2>/dev/null | grep -c __asan_ >/dev/null; then san="-fsanitize=address,undefined"; fi
check "compile a program against libsnap" sh -c "cc -std=c11 $san -I'$inc' '$T/prog.c' '$lib' \
	\$(pkg-config --libs jansson libpci libgit2 libarchive nettle libxml-2.0 libkmod) -o '$T/prog'"
$MKROOT pve-intel "$T/root"
LC_ALL=C "$T/prog" "$T/root" >"$T/c.out" 2>"$T/c.err"
LOCPATH="$T/loc" LC_ALL=de_DE.UTF-8 "$T/prog" "$T/root" >"$T/de.out" 2>"$T/de.err"
check "the German locale is in force (decimal comma)" grep -q "decimal point ','" "$T/de.err"
check "the snapshot has link speeds" grep -q '"8.0 GT/s"' "$T/c.out"
check "same bytes under a decimal-comma locale" cmp -s "$T/c.out" "$T/de.out"
finish
