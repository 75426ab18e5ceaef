#!/usr/bin/env python3
# SPDX-License-Identifier: GPL-2.0-or-later
"""Write a cpio "newc" archive as the kernel's initramfs reads it, for the hostile and odd
images of the preflight tests: member names and declared sizes of our choosing.

mkcpio.py OUT [--declare-size N] NAME=CONTENT ... ; NAME@link=TARGET makes a symlink,
NAME/ a directory, NAME<PATH a file with PATH's bytes. --declare-size gives the last member a
size field of N bytes (data cut).
"""
import sys


def header(name, mode, size, nlink=1, ino=1):
    fields = [ino, mode, 0, 0, nlink, 0, size, 0, 0, 0, 0, len(name) + 1, 0]
    return b"070701" + b"".join(b"%08X" % f for f in fields)


def pad(n):
    return b"\0" * ((4 - n % 4) % 4)


def member(name, data, mode, declared=None):
    nb = name.encode()
    h = header(nb, mode, len(data) if declared is None else declared)
    out = h + nb + b"\0"
    out += pad(len(out))
    return out + data + pad(len(data))


def main():
    args = sys.argv[1:]
    out, declare = args.pop(0), None
    if args and args[0] == "--declare-size":
        args.pop(0)
        declare = int(args.pop(0))
    blob = b""
    for i, spec in enumerate(args):
        last = i == len(args) - 1
        if "@link=" in spec:
            name, target = spec.split("@link=", 1)
            blob += member(name, target.encode(), 0o120777)
        elif spec.endswith("/"):
            blob += member(spec.rstrip("/"), b"", 0o40755)
        elif "<" in spec and "=" not in spec.split("<", 1)[0]:
            name, path = spec.split("<", 1)
            blob += member(name, open(path, "rb").read(), 0o100644)
        else:
            name, _, content = spec.partition("=")
            blob += member(name, content.encode().decode("unicode_escape").encode("latin-1"),
                           0o100644, declare if last else None)
    blob += member("TRAILER!!!", b"", 0)
    blob += b"\0" * ((512 - len(blob) % 512) % 512)
    with open(out, "wb") as f:
        f.write(blob)


if __name__ == "__main__":
    main()
