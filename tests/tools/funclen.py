#!/usr/bin/env python3
# SPDX-License-Identifier: GPL-2.0-or-later
"""The longest functions of C files (kernel style: a function body opens with '{' alone at
column 0 and closes with '}' at column 0). docs/architecture.md quotes its numbers.

    funclen.py [--top N] FILE...
"""
import re
import sys


def functions(path):
    lines = open(path).read().split("\n")
    out = []
    start = None
    for n, line in enumerate(lines):
        if line == "{":
            start = n
            j = n - 1
            while j > 0 and not re.match(r"^[A-Za-z_].*\(", lines[j]):
                j -= 1
            m = re.search(r"([A-Za-z_][A-Za-z0-9_]*)\s*\(", lines[j])
            name = m.group(1) if m else "?"
        elif line == "}" and start is not None:
            out.append((n - start + 1, name, path))
            start = None
    return out


def main():
    args = sys.argv[1:]
    top = 10
    if args[:1] == ["--top"]:
        top = int(args[1])
        args = args[2:]
    allf = [f for p in args for f in functions(p)]
    allf.sort(reverse=True)
    for n, name, path in allf[:top]:
        print(f"{n:5d}  {name}  {path}")


if __name__ == "__main__":
    main()
