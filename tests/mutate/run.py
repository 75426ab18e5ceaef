#!/usr/bin/env python3
# SPDX-License-Identifier: GPL-2.0-or-later
"""make mutate: apply each mutation of mutations.txt to a scratch copy of the tree, build it, run
the suite (release build, no sanitizers, no lab), and print which mutations survive.

    run.py [--only N,M] [--keep]
    run.py --check      only check that every TEXT occurs exactly once (run by make test)

Slow (a build and a suite run per mutation): not part of CI. Exit 1 when one survives."""
import os
import shutil
import subprocess
import sys
import tempfile

HERE = os.path.dirname(os.path.abspath(__file__))
TOP = os.path.dirname(os.path.dirname(HERE))


def mutations():
    out = []
    for n, line in enumerate(open(os.path.join(HERE, "mutations.txt")), 1):
        if not line.strip() or line.startswith("#"):
            continue
        f, old, new, rule = line.rstrip("\n").split("\t")
        out.append((n, f, old, new, rule))
    return out


def check_list():
    bad = 0
    for n, f, old, _new, _rule in mutations():
        path = os.path.join(TOP, f)
        count = open(path).read().count(old) if os.path.exists(path) else 0
        if count != 1:
            print(f"line {n}: '{old}' occurs {count} times in {f}: fix the list")
            bad += 1
    print(f"{len(mutations()) - bad} of {len(mutations())} mutations apply")
    return 1 if bad else 0


def main():
    if "--check" in sys.argv:
        return check_list()
    only = set()
    if "--only" in sys.argv:
        only = {int(x) for x in sys.argv[sys.argv.index("--only") + 1].split(",")}
    outer = tempfile.mkdtemp(prefix="pcisnap-mutate-")
    scratch = os.path.join(outer, "main")  # beside ../shared, as the tree is
    shared = os.path.join(os.path.dirname(TOP), "shared")
    if os.path.isdir(shared):
        os.symlink(shared, os.path.join(outer, "shared"))
    files = subprocess.run(["git", "ls-files", "-z"], cwd=TOP, capture_output=True, check=True).stdout
    for f in files.decode().split("\0"):
        if f:
            os.makedirs(os.path.join(scratch, os.path.dirname(f)), exist_ok=True)
            shutil.copy2(os.path.join(TOP, f), os.path.join(scratch, f))
    build = os.path.join(scratch, "build")
    subprocess.run(["cmake", "-S", scratch, "-B", build, "-DCMAKE_BUILD_TYPE=RelWithDebInfo"],
                   check=True, stdout=subprocess.DEVNULL)
    def suite():
        if subprocess.run(["cmake", "--build", build, "-j", str(os.cpu_count() or 2)],
                          stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL).returncode:
            return False
        # not the Debian package's test: it installs on this machine and guards no rule
        return subprocess.run(["ctest", "-j", str(os.cpu_count() or 2), "--timeout", "300",
                               "-E", "^script/debian$"],
                              cwd=build, stdout=subprocess.DEVNULL,
                              stderr=subprocess.DEVNULL).returncode == 0

    if not suite():
        print("the suite fails without any mutation: fix that first")
        return 2
    survived = []
    for n, f, old, new, rule in mutations():
        if only and n not in only:
            continue
        path = os.path.join(scratch, f)
        text = open(path).read()
        if text.count(old) != 1:
            print(f"line {n}: '{old}' occurs {text.count(old)} times in {f}: fix the list")
            survived.append((n, rule + " (not applied)"))
            continue
        open(path, "w").write(text.replace(old, new))
        killed = not suite()  # a mutation that does not build is killed by the compiler
        open(path, "w").write(text)
        print(f"line {n}: {'killed  ' if killed else 'SURVIVED'} {rule}", flush=True)
        if not killed:
            survived.append((n, rule))
    subprocess.run(["cmake", "--build", build], stdout=subprocess.DEVNULL)
    if "--keep" not in sys.argv:
        shutil.rmtree(outer)
    print(f"{len(survived)} of the mutations survived" if survived else "every mutation was killed")
    return 1 if survived else 0


if __name__ == "__main__":
    sys.exit(main())
