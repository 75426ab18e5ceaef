#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0-or-later
# Public headers compile alone as C99 -pedantic and as C++; libsnap.a defines only snap_*;
# libsnap.so exports the public API only: no snap_<noun>__ internal is visible outside it.
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
# (an ASan build adds an ODR indicator beside each global: __odr_asan.<name>)
bad=$(nm -g --defined-only "$lib" | awk 'NF==3 {print $3}' | grep -v '^snap_' | grep -v '^__odr_asan\.snap_' || true)
check "libsnap.a exports only snap_* symbols" test -z "$bad"
so=$(dirname "$PCISNAP")/libsnap.so
exported=$(nm -D --defined-only "$so" | awk 'NF==3 && $2 != "A" {print $3}')
check "libsnap.so exports symbols" test -n "$exported"
check "libsnap.so exports only snap_* symbols" test -z "$(grep -v '^snap_' <<<"$exported" || true)"
check "libsnap.so exports no __ internals" test -z "$(grep '__' <<<"$exported" || true)"
# every function a public header declares is exported, and nothing else is
declared=$(cat "$inc"/snap/*.h | grep -v '^#define' | grep -o 'SNAP_EXTERN[^(]*(' | sed 's/.*[ *]\(snap_[a-z0-9_]*\)($/\1/' | sort -u)
check "every SNAP_EXTERN function is exported, nothing more" \
	diff <(echo "$declared") <(sed 's/@.*//' <<<"$exported" | sort -u)
check "its soname is libsnap.so.0" bash -c "objdump -p '$so' | grep -q 'SONAME *libsnap.so.0'"
finish
