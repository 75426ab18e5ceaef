#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0-or-later
# The layers of docs/architecture.md: every #include "..." of libsnap/src, of the public headers
# and of cmd/ names a header of its own layer or of one it may use; a lower layer never includes
# a higher one, and cmd/ uses the public API only.
. "$(dirname "$0")/lib.bash"
src="$SNAP_SOURCE_DIR/libsnap/src"
pub="$SNAP_SOURCE_DIR/libsnap/include/snap"

# layer -> the layers it may include (itself too)
declare -A may=(
	[util]="util"
	[model]="util model"
	[analyse]="util model analyse"
	[collect]="util model analyse collect"
	[render]="util model analyse render"
	[store]="util model store"
	[bundle]="util model analyse render bundle"
	[fleet]="util model analyse render store fleet"
	[preflight]="util model analyse collect render preflight"
	[cmd]="util model analyse collect render store bundle fleet preflight umbrella"
)
# a public header's layer
declare -A public=(
	[common.h]=util [error.h]=util [snapshot.h]=model [check.h]=analyse [diff.h]=analyse [policy.h]=analyse
	[collect.h]=collect [report.h]=render [store.h]=store [bundle.h]=bundle [fleet.h]=fleet
	[preflight.h]=preflight
	[snap.h]=umbrella
)

layer_of_include() { # the layer of an included name, as written in a file of layer $2
	local inc=$1 from=$2
	case $inc in
	snap/*) echo "${public[${inc#snap/}]:-unknown}" ;;
	*/*) echo "${inc%%/*}" ;;
	*) if [ "$from" = public ]; then echo "${public[$inc]:-unknown}"; else echo "$from-local"; fi ;;
	esac
}

bad=0
check_file() { # file layer
	local f=$1 layer=$2 inc l
	while IFS= read -r inc; do
		if [ "$layer" = public ]; then
			l=$(layer_of_include "$inc" public)
			own=${public[$(basename "$f")]:-unknown}
			allowed="${may[$own]:-}"
			[ "$own" = umbrella ] && allowed="util model collect render"
		else
			l=$(layer_of_include "$inc" "$layer")
			allowed="${may[$layer]}"
			[ "$l" = "$layer-local" ] && { [ "$layer" = cmd ] && continue; l=unknown; }
			# cmd/ sees the library only through its public headers
			[ "$layer" = cmd ] && case $inc in snap/*) ;; *) l=internal ;; esac
		fi
		case " $allowed " in
		*" $l "*) ;;
		*) echo "# ${f#"$SNAP_SOURCE_DIR"/} ($layer) includes \"$inc\" (layer $l)"; bad=$((bad + 1)) ;;
		esac
	done < <(sed -n 's/^[[:space:]]*#[[:space:]]*include[[:space:]]*"\([^"]*\)".*/\1/p' "$f")
}

for dir in "$src"/*/; do
	layer=$(basename "$dir")
	check "layer $layer is known" test -n "${may[$layer]:-}"
	for f in "$dir"*.[ch]; do check_file "$f" "$layer"; done
done
for f in "$pub"/*.h; do
	check "public header $(basename "$f") has a layer" test -n "${public[$(basename "$f")]:-}"
	check_file "$f" public
done
for f in "$SNAP_SOURCE_DIR"/cmd/*.[ch]; do check_file "$f" cmd; done
check "no include crosses the layers upwards" test "$bad" = 0
check "no source file sits outside a layer" test -z "$(find "$src" -maxdepth 1 -name '*.[ch]')"

# and in the objects: nothing store/ compiles to calls into the analysis
objdir=$(dirname "$PCISNAP")/CMakeFiles/snap_objects.dir/libsnap/src
check "store/ objects are built" test -f "$objdir/store/store.c.o"
analysis=$(nm -u "$objdir"/store/*.o | grep -E ' snap_(check|diff|topo|passthrough|fingerprint|intremap|class|fleet)_' || true)
check "no analysis symbol is linked from store/" test -z "$analysis"

# the rule works: a store file that includes the analysis is caught
printf '#include "analyse/analyse.h"\n' >"$T/probe.c"
bad=0
check_file "$T/probe.c" store >/dev/null
check "a store file including analyse/ is refused" test "$bad" = 1
bad=0
check_file "$T/probe.c" util >/dev/null
check "a util file including analyse/ is refused" test "$bad" = 1
printf '#include "util/util.h"\n' >"$T/probe.c"
bad=0
check_file "$T/probe.c" cmd >/dev/null
check "cmd/ including an internal header is refused" test "$bad" = 1
finish
