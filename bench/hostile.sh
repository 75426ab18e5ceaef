#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0-or-later
# Bounded work on hostile-but-valid snapshots: every command on every shape, at two sizes, so
# the cost can be seen to grow linearly. Prints a Markdown table; see docs/PERFORMANCE.md.
#   bench/hostile.sh [build/pcisnap] [N1 N2]
set -euo pipefail
pcisnap=${1:-build/pcisnap}
n1=${2:-10000} n2=${3:-40000}
here=$(cd "$(dirname "$0")" && pwd)
t=$(mktemp -d)
trap 'rm -rf "$t"' EXIT
secs() { local s e; s=$(date +%s%N); "$@" >/dev/null 2>&1 || true; e=$(date +%s%N); echo "$(((e - s) / 1000000))"; }
echo "| shape | devices | bytes | show | show tree | check | diff self | diff changed |"
echo "|---|---|---|---|---|---|---|---|"
for kind in flat chains mf group tokens; do
	for n in "$n1" "$n2"; do
		python3 "$here/hostile.py" "$kind" "$n" "$t/a.json"
		python3 - "$t/a.json" "$t/b.json" <<'PY'
import json, sys
s = json.load(open(sys.argv[1]))
for i, d in enumerate(s["devices"]):
    if i % 3 == 0:
        d["driver"] = None
    if i % 5 == 0:
        d["iommu_group"] = (d.get("iommu_group") or 0) + 1
json.dump(s, open(sys.argv[2], "w"))
PY
		printf '| %s | %s | %s | %s ms | %s ms | %s ms | %s ms | %s ms |\n' "$kind" "$n" \
			"$(stat -c %s "$t/a.json")" \
			"$(secs "$pcisnap" show "$t/a.json")" "$(secs "$pcisnap" show --format tree "$t/a.json")" \
			"$(secs "$pcisnap" check "$t/a.json")" "$(secs "$pcisnap" diff "$t/a.json" "$t/a.json")" \
			"$(secs "$pcisnap" diff "$t/a.json" "$t/b.json")"
	done
done
