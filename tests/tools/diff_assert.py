#!/usr/bin/env python3
# SPDX-License-Identifier: GPL-2.0-or-later
"""diff_assert.py DIFF_JSON [--present C,..] [--absent C,..] [--kinds K,..] [--verdict C]

Assert on a pcisnap diff (JSON): classes that must be present, classes that must be absent,
change kinds that must appear. Golden cases use it so a scenario is judged by what it means,
not only by its text."""
import argparse
import json
import sys


def split(s):
    return [x for x in (s or "").split(",") if x]


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("diff")
    ap.add_argument("--present")
    ap.add_argument("--absent")
    ap.add_argument("--kinds")
    ap.add_argument("--verdict")
    a = ap.parse_args()
    d = json.load(open(a.diff))
    classes = {c["class"] for c in d["changes"]}
    kinds = {c["kind"] for c in d["changes"]}
    bad = []
    assert set(d["classes"]) == classes, "classes list disagrees with the changes"
    for c in split(a.present):
        if c not in classes:
            bad.append("class %s expected, not present" % c)
    for c in split(a.absent):
        if c in classes:
            bad.append("class %s must be absent: %s" % (
                c, [x["message"] for x in d["changes"] if x["class"] == c]))
    for k in split(a.kinds):
        if k not in kinds:
            bad.append("kind %s expected; kinds are %s" % (k, sorted(kinds)))
    if a.verdict and d["verdict"] != a.verdict:
        bad.append("verdict %s, expected %s" % (d["verdict"], a.verdict))
    for c in d["changes"]:
        if c["class"] != "harmless" and not c.get("next_step"):
            bad.append("regression without a next step: %s" % c["message"])
    for b in bad:
        print(b)
    sys.exit(1 if bad else 0)


if __name__ == "__main__":
    main()
