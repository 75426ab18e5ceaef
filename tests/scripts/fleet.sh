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

# The rows of earlier runs, by tip commit (<git dir>/pcisnap/fleet.cache): the same answer with
# it, without it and from a damaged one; a host's new snapshot is read, never an old row.
cache="$(cd "$T/store" && git rev-parse --absolute-git-dir)/pcisnap/fleet.cache"
rows() { grep -c '^[0-9a-f]\{40\}	' "$cache"; }
check "fleet left its cache, one row per host and its sum" \
	sh -c "test \"\$(grep -c '^[0-9a-f]\{40\}	' '$cache')\" = 18 && tail -1 '$cache' | grep -q '^md5 [0-9a-f]\{32\}\$'"
fleet_json() { SOURCE_DATE_EPOCH=1700100000 "$PCISNAP" fleet --format json --store "$T/store" >"$1" || true; }
fleet_json "$T/cached.json"
check "from the cache: the same document" cmp -s "$T/fleet.json" "$T/cached.json"
sed -i '2s/\t[0-9a-f]\{16\}\t/\tzz\t/; 3s/^/x/; 4d' "$cache"
printf 'cut\tline' >>"$cache"
fleet_json "$T/damaged.json"
check "from a damaged cache: the same document" cmp -s "$T/fleet.json" "$T/damaged.json"
check "and the cache is whole again" test "$(rows)" = 18
host=$(python3 -c "import json,sys; print([h['host'] for h in json.load(open(sys.argv[1]))['hosts'] if h['verdict'] != 'harmless'][0])" "$T/fleet.json")
$MKROOT pve-intel "$T/healthy"
SOURCE_DATE_EPOCH=1700200000 "$PCISNAP" collect --root "$T/healthy" --host "$host" --store "$T/store" \
	>/dev/null 2>&1
fleet_json "$T/after.json"
check "a host's new snapshot: its row is read again, not the cached one" python3 - "$T/after.json" "$host" <<'PY'
import json, sys
h = [h for h in json.load(open(sys.argv[1]))["hosts"] if h["host"] == sys.argv[2]][0]
assert h["verdict"] == "harmless", h
PY
# A snapshot stored before commit messages carried fingerprints: fleet computes them from the
# snapshot (its JSON written and freed while the listing is cut from chunks, util/jarena.c)
git -C "$T/store" log -1 --format=%B "refs/heads/$host" | grep -v '^\(inventory\|config\): ' \
	>"$T/old-msg"
old=$(GIT_AUTHOR_NAME=t GIT_AUTHOR_EMAIL=t@t GIT_COMMITTER_NAME=t GIT_COMMITTER_EMAIL=t@t git -C "$T/store" commit-tree "refs/heads/$host^{tree}" -p "refs/heads/$host" -F "$T/old-msg")
git -C "$T/store" update-ref "refs/heads/$host" "$old"
fleet_json "$T/old.json"
check "a snapshot with no fingerprints in its message: computed, the same as stored" \
	python3 - "$T/after.json" "$T/old.json" "$host" <<'PY'
import json, sys
a, b = (json.load(open(p)) for p in sys.argv[1:3])
pick = lambda d: [h for h in d["hosts"] if h["host"] == sys.argv[3]][0]
assert (pick(a)["inventory"], pick(a)["config"]) == (pick(b)["inventory"], pick(b)["config"]), (pick(a), pick(b))
PY
# A DEL (0x7f) in a commit's field: jansson leaves it as it is, the output filter makes it '?'
git -C "$T/store" log -1 --format=%B "refs/heads/$host" | sed 's/^\(bios: .*\)$/\1\x7f[2J/' \
	>"$T/del-msg"
del=$(GIT_AUTHOR_NAME=t GIT_AUTHOR_EMAIL=t@t GIT_COMMITTER_NAME=t GIT_COMMITTER_EMAIL=t@t git -C "$T/store" commit-tree "refs/heads/$host^{tree}" -p "refs/heads/$host" -F "$T/del-msg")
git -C "$T/store" update-ref "refs/heads/$host" "$del"
fleet_json "$T/del.json"
check "a DEL in a field is written as '?', in JSON too" python3 - "$T/del.json" "$host" <<'PY'
import json, sys
raw = open(sys.argv[1], "rb").read()
assert b"\x7f" not in raw
h = [h for h in json.loads(raw)["hosts"] if h["host"] == sys.argv[2]][0]
assert h["bios"].endswith("?[2J"), h["bios"]
PY
finish
