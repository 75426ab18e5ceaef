#!/usr/bin/env python3
# SPDX-License-Identifier: GPL-2.0-or-later
"""mkroot.py HOST OUTDIR [--unprivileged]: write the captured root of a named host scenario."""
import argparse
import os
import shutil
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import hosts  # noqa: E402
import sysfs  # noqa: E402


def main():
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("host", choices=sorted(hosts.BASE))
    ap.add_argument("outdir")
    ap.add_argument("--unprivileged", action="store_true",
                    help="what a capture without root holds: 64-byte config, no root-only files")
    a = ap.parse_args()
    if os.path.exists(a.outdir):
        shutil.rmtree(a.outdir)
    sysfs.build(hosts.get(a.host), a.outdir, unprivileged=a.unprivileged)


if __name__ == "__main__":
    main()
