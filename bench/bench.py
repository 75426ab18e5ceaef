#!/usr/bin/env python3
# SPDX-License-Identifier: GPL-2.0-or-later
"""bench.py PCISNAP [--runs N] [--sizes 100,1000,5000]: time pcisnap on generated large hosts.

For each size: `collect` wall time and peak RSS (median, min, max of N runs, each a fresh
process; RSS from GNU time, in a run of its own), against `lspci -vvv` reading the same root
through libpci (the two alternating, run by run), and against
the shell loop operators use (for each link in /sys/kernel/iommu_groups/*/devices, lspci -nns).
Then `diff` of two snapshots of the largest-but-one size (JSON parsing included) and `check`.
Prints a Markdown table for docs/PERFORMANCE.md.
"""
import argparse
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time

HERE = os.path.dirname(os.path.abspath(__file__))


def wall_once(argv, env=None):
    """One run's wall time, in ms, the child started straight from here (no wrapper)."""
    t0 = time.perf_counter()
    p = subprocess.run(argv, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, env=env)
    wall = (time.perf_counter() - t0) * 1000
    if p.returncode not in (0, 1):
        raise SystemExit("failed: %s" % argv)
    return wall


def rss_once(argv, env=None):
    """One run's peak RSS, in MB, from GNU time (a child forked from Python would report
    Python's own pages as its peak)."""
    with tempfile.NamedTemporaryFile("r") as tf:
        p = subprocess.run(["/usr/bin/time", "-o", tf.name, "-f", "%M"] + argv,
                           stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, env=env)
        if p.returncode not in (0, 1):
            raise SystemExit("failed: %s" % argv)
        return int(tf.read().split()[-1]) / 1024


def run_alternating(cmds, runs):
    """cmds: [(argv, env)]. Each round runs every command once for its wall time, then once
    more under GNU time for its peak RSS, one after the other: the machine's drift over the
    runs falls on every command alike. Returns [(walls, rss)] in the order of cmds."""
    res = [([], []) for _ in cmds]
    for _ in range(runs):
        for (argv, env), (walls, rss) in zip(cmds, res):
            walls.append(wall_once(argv, env))
            rss.append(rss_once(argv, env))
    return res


def run(argv, runs, env=None):
    return run_alternating([(argv, env)], runs)[0]


def fmt(vals, unit):
    return "%.1f %s (min %.1f, max %.1f)" % (statistics.median(vals), unit, min(vals), max(vals))


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("pcisnap")
    ap.add_argument("--runs", type=int, default=11)
    ap.add_argument("--sizes", default="100,1000,5000")
    ap.add_argument("--loop-runs", type=int, default=3, help="runs of the slow shell loop")
    a = ap.parse_args()
    tmp = tempfile.mkdtemp(prefix="pcisnap-bench.")
    env = dict(os.environ, SOURCE_DATE_EPOCH="0")
    rows = []
    try:
        for n in map(int, a.sizes.split(",")):
            root = os.path.join(tmp, "host-%d" % n)
            subprocess.run([sys.executable, os.path.join(HERE, "genhost.py"), str(n), root],
                           check=True, stdout=subprocess.DEVNULL)
            out = os.path.join(tmp, "snap-%d.json" % n)
            (w, r), (lw, lr) = run_alternating(
                [([a.pcisnap, "collect", "--root", root, "-o", out], env),
                 (["lspci", "-A", "linux-sysfs", "-O", "sysfs.path=%s/sys/bus/pci" % root,
                   "-vvv"], None)], a.runs)
            rows.append(("collect, %d devices" % n, fmt(w, "ms"), fmt(r, "MB")))
            rows.append(("lspci -vvv, same root", fmt(lw, "ms"), fmt(lr, "MB")))
            rows.append(("ratio collect / lspci -vvv, %d devices" % n,
                         "%.2fx" % (statistics.median(w) / statistics.median(lw)), ""))
            loop = ("for d in %s/sys/kernel/iommu_groups/*/devices/*; do "
                    "lspci -A linux-sysfs -O sysfs.path=%s/sys/bus/pci -nns \"${d##*/}\"; "
                    "done" % (root, root))
            if a.loop_runs > 0:
                w, r = run(["bash", "-c", loop], a.loop_runs)
                rows.append(("shell loop over iommu_groups + lspci -nns", fmt(w, "ms"),
                             fmt(r, "MB")))
        n = sorted(map(int, a.sizes.split(",")))[-2 if "," in a.sizes else -1]
        old = os.path.join(tmp, "snap-%d.json" % n)
        new = os.path.join(tmp, "snap-%d-b.json" % n)
        subprocess.run([a.pcisnap, "collect", "--root", os.path.join(tmp, "host-%d" % n),
                        "-o", new], check=True, env=dict(env, SOURCE_DATE_EPOCH="86400"))
        (w, r), (lw, lr) = run_alternating(
            [([a.pcisnap, "diff", "--format", "json", old, new], None),
             (["lspci", "-A", "linux-sysfs", "-O",
               "sysfs.path=%s/host-%d/sys/bus/pci" % (tmp, n), "-vvv"], None)], a.runs)
        rows.append(("diff, two %d-device snapshots (parse included)" % n, fmt(w, "ms"),
                     fmt(r, "MB")))
        rows.append(("ratio diff / lspci -vvv (%.1f ms in these runs), %d devices"
                     % (statistics.median(lw), n),
                     "%.2fx" % (statistics.median(w) / statistics.median(lw)), ""))
        w, r = run([a.pcisnap, "check", old], a.runs)
        rows.append(("check, %d devices" % n, fmt(w, "ms"), fmt(r, "MB")))
    finally:
        shutil.rmtree(tmp)
    print("| what | wall time, median of runs | peak RSS |")
    print("|---|---|---|")
    for r in rows:
        print("| %s | %s | %s |" % r)


if __name__ == "__main__":
    main()
