#!/usr/bin/env python3
# SPDX-License-Identifier: GPL-2.0-or-later
"""genfleet.py PCISNAP STORE N [--seed-every K]: a fleet of N hosts of three hardware models in
one store, collected through `pcisnap collect --store`. Every K-th pve-intel host (default 10)
carries a seeded regression (a kernel update without vfio, ACS override added, interrupt remapping off, in
turn). Prints the seeded hosts, one per line, as "host variant"."""
import argparse
import os
import shutil
import subprocess
import sys
import tempfile

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(HERE, "..", "tests", "gen"))
import hosts  # noqa: E402
import sysfs  # noqa: E402

MODELS = ["pve-intel", "amd-epyc", "consumer-noacs"]
SEEDS = {"pve-intel": ["kernel-no-vfio", "acs-override", "ir-off"],
         "amd-epyc": None, "consumer-noacs": None}


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("pcisnap")
    ap.add_argument("store")
    ap.add_argument("n", type=int)
    ap.add_argument("--seed-every", type=int, default=10)
    a = ap.parse_args()
    tmp = tempfile.mkdtemp(prefix="pcisnap-fleet.")
    roots = {}
    try:
        for name in MODELS + SEEDS["pve-intel"]:
            roots[name] = os.path.join(tmp, name)
            sysfs.build(hosts.get(name), roots[name])
        seeded, k = [], 0
        for i in range(a.n):
            model = MODELS[i % len(MODELS)]
            variant = model
            j = i // len(MODELS)  # index among the hosts of this model
            if model == "pve-intel" and j % a.seed_every == a.seed_every - 1:
                variant = SEEDS[model][k % len(SEEDS[model])]
                k += 1
            host = "%s-%04d" % (model, i)
            env = dict(os.environ, SOURCE_DATE_EPOCH=str(1700000000 + i))
            p = subprocess.run([a.pcisnap, "collect", "--root", roots[variant], "--host", host,
                                "--store", a.store], stdout=subprocess.DEVNULL,
                               stderr=subprocess.PIPE, env=env)
            if p.returncode:  # "stored ..." on stderr is the normal case; say the rest
                sys.stderr.write(p.stderr.decode(errors="replace"))
                sys.exit(p.returncode)
            if variant != model:
                seeded.append((host, variant))
        for h, v in seeded:
            print(h, v)
    finally:
        shutil.rmtree(tmp)


if __name__ == "__main__":
    main()
