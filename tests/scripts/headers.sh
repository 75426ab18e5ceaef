#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0-or-later
# Public headers compile alone as C99 -pedantic and as C++; libsnap.a exports only snap_*.
. "$(dirname "$0")/lib.bash"
inc="$SNAP_SOURCE_DIR/libsnap/include"
for h in "$inc"/snap/*.h; do
	name=$(basename "$h")
	printf '#include "snap/%s"\nint main(void) { return 0; }\n' "$name" >"$T/t.c"
	check "$name alone, C99 -pedantic" cc -std=c99 -pedantic -Wall -Werror -I"$inc" -c "$T/t.c" -o "$T/t.o"
	if command -v c++ >/dev/null; then
		cp "$T/t.c" "$T/t.cc"
		check "$name as C++" c++ -Wall -Werror -I"$inc" -c "$T/t.cc" -o "$T/t.o"
	fi
done
lib=$(dirname "$PCISNAP")/libsnap.a
bad=$(nm -g --defined-only "$lib" | awk 'NF==3 {print $3}' | grep -v '^snap_' || true)
check "libsnap.a exports only snap_* symbols" test -z "$bad"
finish
