#!/usr/bin/env python3
# SPDX-License-Identifier: GPL-2.0-or-later
"""fleet_large.py PCISNAP [--hosts N] [--snapshots K] [--runs R]: `pcisnap fleet` over a store
of N hosts (default 10,000) with K snapshots each (default 10), against `git for-each-ref` over
the same store, median of R runs (default 11), the two alternating run by run.

Collecting N x K snapshots through the CLI would take an hour, so one host of each of three
hardware models is collected by pcisnap and its commit is cloned with `git fast-import`: the
same tree (snapshot.json), the same message (the fields fleet reads), under N branch names, K
commits each. Every host is then like its model's baseline, as in a healthy fleet."""
import argparse
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time

HERE = os.path.dirname(os.path.abspath(__file__))
MODELS = ["pve-intel", "amd-epyc", "consumer-noacs"]


def timed(argv, runs):
    out = []
    for _ in range(runs):
        t0 = time.perf_counter()
        # fleet exits 1 when a host fails (the consumer model's check fails by design)
        if subprocess.run(argv, stdout=subprocess.DEVNULL).returncode not in (0, 1):
            raise SystemExit("failed: %s" % argv)
        out.append((time.perf_counter() - t0) * 1000)
    return out


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("pcisnap")
    ap.add_argument("--hosts", type=int, default=10000)
    ap.add_argument("--snapshots", type=int, default=10)
    ap.add_argument("--runs", type=int, default=11)
    ap.add_argument("--keep", help="leave the store here (for profiling)")
    a = ap.parse_args()
    tmp = tempfile.mkdtemp(prefix="pcisnap-fleet-bench.")
    try:
        store = os.path.join(tmp, "store")
        seeds = []
        for m in MODELS:
            root = os.path.join(tmp, m)
            subprocess.run([sys.executable, os.path.join(HERE, "..", "tests", "gen", "mkroot.py"),
                            m, root], check=True, stdout=subprocess.DEVNULL)
            subprocess.run([a.pcisnap, "collect", "--root", root, "--host", "seed-" + m,
                            "--store", store], check=True, stdout=subprocess.DEVNULL,
                           stderr=subprocess.DEVNULL, env=dict(os.environ, SOURCE_DATE_EPOCH="1000"))
            ref = "refs/heads/seed-" + m
            blob = subprocess.run(["git", "-C", store, "rev-parse", ref + ":snapshot.json"],
                                  capture_output=True, text=True, check=True).stdout.strip()
            msg = subprocess.run(["git", "-C", store, "log", "-1", "--format=%B", ref],
                                 capture_output=True, text=True, check=True).stdout
            seeds.append((m, blob, msg))
            subprocess.run(["git", "-C", store, "update-ref", "-d", ref], check=True)
        stream = []
        for i in range(a.hosts):
            m, blob, msg = seeds[i % len(seeds)]
            host = "%s-%05d" % (m, i)
            body = msg.replace("seed-" + m, host)
            for k in range(a.snapshots):
                data = body.encode()
                stream.append(b"commit refs/heads/%s\ncommitter pcisnap <pcisnap@%s> %d +0000\n"
                              b"data %d\n%s\nM 100644 %s snapshot.json\n\n" % (
                                  host.encode(), host.encode(), 100000 + k * 3600, len(data), data,
                                  blob.encode()))
        t0 = time.perf_counter()
        subprocess.run(["git", "-C", store, "fast-import", "--quiet"], input=b"".join(stream),
                       check=True)
        gen = time.perf_counter() - t0
        refs = len(subprocess.run(["git", "-C", store, "for-each-ref"], capture_output=True,
                                  check=True).stdout.splitlines())
        # the first run reads every tip commit and leaves the row cache; the others read it
        gitdir = subprocess.run(["git", "-C", store, "rev-parse", "--absolute-git-dir"],
                                capture_output=True, text=True, check=True).stdout.strip()
        cache = os.path.join(gitdir, "pcisnap", "fleet.cache")
        if os.path.exists(cache):
            os.unlink(cache)
        cold_t = timed([a.pcisnap, "fleet", "--store", store, "--format", "json"], 1)
        # alternating, run by run, so that both see the same machine
        ref_t, fleet_t = [], []
        for _ in range(a.runs):
            ref_t += timed(["git", "-C", store, "for-each-ref"], 1)
            fleet_t += timed([a.pcisnap, "fleet", "--store", store, "--format", "json"], 1)
        print("| what (%d hosts, %d snapshots each: %d refs, %d commits; fast-import %.1f s) "
              "| median of %d | min | max |" % (a.hosts, a.snapshots, refs, a.hosts * a.snapshots,
                                              gen, a.runs))
        print("|---|---|---|---|")
        for name, t in (("git for-each-ref", ref_t), ("pcisnap fleet, first run (no cache)", cold_t),
                        ("pcisnap fleet", fleet_t)):
            print("| %s | %.1f ms | %.1f | %.1f |" % (name, statistics.median(t), min(t), max(t)))
        print("| ratio fleet / for-each-ref | %.2fx | | |" % (
            statistics.median(fleet_t) / statistics.median(ref_t)))
        if a.keep:
            shutil.move(store, a.keep)
    finally:
        shutil.rmtree(tmp)


if __name__ == "__main__":
    main()
