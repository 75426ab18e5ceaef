#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0-or-later
# bench/fleet.sh PCISNAP [N]: generate a fleet of N hosts (default 1000) in a fresh store and
# time `pcisnap fleet` over it (5 runs), with peak RSS from GNU time.
set -euo pipefail
P=$(realpath "$1"); N=${2:-1000}
T=$(mktemp -d); trap 'rm -rf "$T"' EXIT
start=$(date +%s.%N)
python3 "$(dirname "$0")/genfleet.py" "$P" "$T/store" "$N" >"$T/seeded"
end=$(date +%s.%N)
echo "generated $N hosts ($(wc -l <"$T/seeded") seeded regressions) in $(echo "$end - $start" | bc) s"
for i in 1 2 3 4 5; do
	/usr/bin/time -f "fleet over $N hosts: %e s wall, %M KB peak RSS" \
		"$P" fleet --store "$T/store" --format json >"$T/fleet.json" || true
done
python3 -c "import json,sys; d=json.load(open(sys.argv[1])); print('failing hosts:', d['failing_hosts'], 'models:', len(d['models']))" "$T/fleet.json"
