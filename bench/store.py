#!/usr/bin/env python3
# SPDX-License-Identifier: GPL-2.0-or-later
"""store.py PCISNAP [--count N]: store costs. Commits N snapshots of an unchanged host (the
pve-intel scenario) through the CLI, timing each commit (the `collect --store` process minus a
plain `collect -o` of the same root), then times `log` over all of them and measures how much
the store grew."""
import argparse
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time

HERE = os.path.dirname(os.path.abspath(__file__))


def timed(argv, env):
    t0 = time.perf_counter()
    subprocess.run(argv, check=True, stdout=subprocess.DEVNULL, env=env)
    return (time.perf_counter() - t0) * 1000


def du(path):
    apparent = sum(os.path.getsize(os.path.join(d, f)) for d, _, fs in os.walk(path) for f in fs)
    blocks = int(subprocess.run(["du", "-sk", path], capture_output=True, text=True).stdout.split()[0])
    return apparent / 1e6, blocks / 1e3


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("pcisnap")
    ap.add_argument("--count", type=int, default=10000)
    a = ap.parse_args()
    tmp = tempfile.mkdtemp(prefix="pcisnap-store-bench.")
    try:
        root, store = os.path.join(tmp, "root"), os.path.join(tmp, "store")
        subprocess.run([sys.executable, os.path.join(HERE, "..", "tests", "gen", "mkroot.py"),
                        "pve-intel", root], check=True)
        env = dict(os.environ)
        env["SOURCE_DATE_EPOCH"] = "1"
        subprocess.run([a.pcisnap, "collect", "--root", root, "--store", store], check=True,
                       stdout=subprocess.DEVNULL, env=env)
        size0 = du(store)
        plain, stored = [], []
        for i in range(a.count):
            env["SOURCE_DATE_EPOCH"] = str(100 + i)
            if i < 50:
                plain.append(timed([a.pcisnap, "collect", "--root", root, "-o",
                                    os.path.join(tmp, "s.json")], env))
            stored.append(timed([a.pcisnap, "collect", "--root", root, "--store", store], env))
        size1 = du(store)
        logs = [timed([a.pcisnap, "log", "--store", store, "pve-ws-01"], env) for _ in range(5)]
        commit = [s - statistics.median(plain) for s in stored[:50]]
        print("| what | measured |")
        print("|---|---|")
        print("| collect -o (no store), median of 50 | %.1f ms |" % statistics.median(plain))
        print("| collect --store, median of %d | %.1f ms (min %.1f, max %.1f) |" % (
            len(stored), statistics.median(stored), min(stored), max(stored)))
        print("| commit alone (difference of medians, first 50) | %.1f ms |" %
              statistics.median(commit))
        print("| commit alone, last 100 (store holding %d) | %.1f ms |" % (
            a.count, statistics.median(stored[-100:]) - statistics.median(plain)))
        print("| log of %d snapshots, median of 5 | %.1f ms (min %.1f, max %.1f) |" % (
            a.count + 1, statistics.median(logs), min(logs), max(logs)))
        objs = os.path.join(store, "objects")
        loose = sum(len(fs) for d, _, fs in os.walk(objs) if os.path.basename(d) != "pack"
                    and len(os.path.basename(d)) == 2)
        packs = len([f for f in os.listdir(os.path.join(objs, "pack")) if f.endswith(".pack")])
        blob = subprocess.run(["git", "-C", store, "cat-file", "-s", "pve-ws-01:snapshot.json"],
                              capture_output=True, text=True).stdout.strip()
        print("| store growth for %d unchanged snapshots | %.2f MB apparent, %.1f MB on disk "
              "(%d loose objects, %d packs) |" % (a.count, size1[0] - size0[0],
                                                 size1[1] - size0[1], loose, packs))
        print("| whole store on disk | %.1f MB |" % size1[1])
        print("| stored snapshot.json (16 devices) | %s bytes |" % blob)
    finally:
        shutil.rmtree(tmp)


if __name__ == "__main__":
    main()
