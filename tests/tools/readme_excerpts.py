#!/usr/bin/env python3
# SPDX-License-Identifier: GPL-2.0-or-later
"""readme_excerpts.py README [--update]: the README's output excerpts are real runs.

Each excerpt is a fenced block right after a marker line
    <!-- golden DIR [head N] [prompt CMD] -->
naming a golden case (tests/golden/...): the block is that case's expected.stdout (its first N
lines and a '...' with head), after '$ CMD' and followed by 'exit RC' with prompt. The goldens
are run outputs (UPDATE_GOLDEN=1 regenerates them, every test run checks them), so a README
whose excerpts match them says what the binary prints, byte for byte. --update rewrites them."""
import os
import re
import sys

MARK = re.compile(r'^<!-- golden (\S+)((?: head \d+)?)((?: prompt .*?)?) -->$')


def excerpt(top, case, head, prompt):
    d = os.path.join(top, case)
    out = open(os.path.join(d, "expected.stdout")).read()
    if head:
        out = "".join(out.splitlines(True)[:head]) + "...\n"
    if prompt:
        rc = open(os.path.join(d, "expected.rc")).read().strip() if os.path.exists(os.path.join(d, "expected.rc")) else "0"
        out = "$ %s\n%sexit %s\n" % (prompt, out, rc)
    return out


def main():
    path = sys.argv[1]
    top = os.path.dirname(os.path.abspath(path))
    lines = open(path).read().splitlines(True)
    out, bad, i, n = [], 0, 0, 0
    while i < len(lines):
        out.append(lines[i])
        m = MARK.match(lines[i].rstrip("\n"))
        i += 1
        if not m:
            continue
        n += 1
        head = int(m.group(2).split()[1]) if m.group(2) else 0
        prompt = m.group(3)[len(" prompt "):] if m.group(3) else ""
        want = excerpt(top, m.group(1), head, prompt)
        assert lines[i].startswith("```"), "line %d: a fenced block must follow the marker" % (i + 1)
        j = i + 1
        while not lines[j].startswith("```"):
            j += 1
        have = "".join(lines[i + 1:j])
        if have != want:
            bad += 1
            print("%s: the excerpt of %s differs from its golden output" % (path, m.group(1)))
        out.append(lines[i])
        out.append(want)
        out.append(lines[j])
        i = j + 1
    if "--update" in sys.argv:
        open(path, "w").write("".join(out))
        print("%d excerpt(s) written" % n)
        return 0
    print("%d excerpt(s), %d out of date" % (n, bad))
    return 1 if bad or not n else 0


if __name__ == "__main__":
    sys.exit(main())
