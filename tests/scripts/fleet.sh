#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0-or-later
# pcisnap fleet on a generated fleet finds exactly the seeded regressions, no others.
. "$(dirname "$0")/lib.bash"
python3 "$SNAP_SOURCE_DIR/bench/genfleet.py" "$PCISNAP" "$T/store" 18 --seed-every 2 >"$T/seeded"
check "three regressions were seeded" test "$(wc -l <"$T/seeded")" = 3
set +e
SOURCE_DATE_EPOCH=1700100000 "$PCISNAP" fleet --format json --store "$T/store" >"$T/fleet.json"; rc=$?
SOURCE_DATE_EPOCH=1700100000 "$PCISNAP" fleet --store "$T/store" >"$T/fleet.txt"; rc2=$?
set -e
check "exit 1: some hosts regressed" test "$rc" = 1 -a "$rc2" = 1
check "fleet JSON validates" $VALIDATE "$SNAP_SOURCE_DIR/schema/fleet.v1.schema.json" "$T/fleet.json"
check "exactly the seeded hosts have regressions" python3 - "$T/fleet.json" "$T/seeded" <<'PY'
import json, sys
fleet = json.load(open(sys.argv[1]))
seeded = {l.split()[0]: l.split()[1] for l in open(sys.argv[2]) if l.strip()}
found = {h["host"]: h["verdict"] for h in fleet["hosts"] if h["verdict"] != "harmless"}
want = {"kernel-no-vfio": "binding_regression", "acs-override": "isolation_loss",
        "ir-off": "isolation_loss"}
assert set(found) == set(seeded), (found, seeded)
for h, v in seeded.items():
    assert found[h] == want[v], (h, found[h], want[v])
assert len(fleet["models"]) == 3, fleet["models"]
for m in fleet["models"]:
    assert m["hosts"] == 6
    assert m["baseline"] not in seeded, m
PY
check "text names each model and a summary" sh -c "grep -q 'PowerEdge R7525' '$T/fleet.txt' && grep -q '^summary:' '$T/fleet.txt'"
check "worst first: hosts by verdict then check, models by their worst host" python3 - "$T/fleet.json" <<'PY'
import json, sys
fleet = json.load(open(sys.argv[1]))
order = ["harmless", "binding_regression", "grouping_regression", "isolation_loss"]
checks = ["PASS", "WARN", "FAIL", "?"]
rank = lambda h: (order.index(h["verdict"]), checks.index(h["check"]) if h["check"] in checks else 3)
ranks = [rank(h) for h in fleet["hosts"]]
assert ranks == sorted(ranks, reverse=True), ranks
worst = [max(rank(h) for h in fleet["hosts"] if h["model"] == m["model"]) for m in fleet["models"]]
assert worst == sorted(worst, reverse=True), worst
for h in fleet["hosts"]:
    assert h["kernel"] and h["bios"], h
    if h["verdict"] != "harmless":
        assert h["next"] == "pcisnap diff %s %s" % (h["baseline"], h["host"]), h
    elif h["check"] == "FAIL":
        assert h["next"] == "pcisnap check %s" % h["host"], h
    else:
        assert h["next"] is None, h
PY
check "text: the next command for each regressed host" sh -c "test \"\$(grep -c '^  pcisnap diff ' '$T/fleet.txt')\" = \"\$(wc -l <'$T/seeded')\""
check "text: kernel and BIOS columns" grep -q '6.8.12-5-pve .*American Megatrends' "$T/fleet.txt"
finish
