#!/usr/bin/env python3
# SPDX-License-Identifier: GPL-2.0-or-later
"""Write a cpio "newc" archive as the kernel's initramfs reads it, for the hostile and odd
images of the preflight tests: member names and declared sizes of our choosing.

mkcpio.py OUT [--declare-size N] [--no-dirs] [--no-trailer] NAME=CONTENT ... ;
NAME@link=TARGET makes a symlink, NAME/ a directory, NAME<PATH a file with PATH's bytes,
NAME%INO:NLINK=CONTENT a file with that inode number and link count (the members of one hard
link group share INO, GNU cpio gives the data to the last), NAME/%DATA a directory carrying DATA.
--declare-size gives the last member a size field of N bytes (data cut). Each member's parent
directories come first, as `find | cpio -o` lists them (the kernel creates no parents:
filp_open() of a name whose directory is missing fails), unless --no-dirs; --no-trailer leaves
out TRAILER!!! and the block padding (one archive's members to append to another's).
"""
import sys


def header(name, mode, size, nlink=1, ino=1):
    fields = [ino, mode, 0, 0, nlink, 0, size, 0, 0, 0, 0, len(name) + 1, 0]
    return b"070701" + b"".join(b"%08X" % f for f in fields)


def pad(n):
    return b"\0" * ((4 - n % 4) % 4)


def member(name, data, mode, declared=None, nlink=1, ino=1):
    nb = name.encode()
    h = header(nb, mode, len(data) if declared is None else declared, nlink, ino)
    out = h + nb + b"\0"
    out += pad(len(out))
    return out + data + pad(len(data))


def main():
    args = sys.argv[1:]
    out, declare = args.pop(0), None
    if args and args[0] == "--declare-size":
        args.pop(0)
        declare = int(args.pop(0))
    dirs = True
    trailer = True
    while args and args[0] in ("--no-dirs", "--no-trailer"):
        if args.pop(0) == "--no-dirs":
            dirs = False
        else:
            trailer = False
    blob = b""
    made = set()
    for i, spec in enumerate(args):
        last = i == len(args) - 1
        raw = spec.split("@link=", 1)[0].split("=", 1)[0].split("<", 1)[0].split("%", 1)[0]
        raw = raw.rstrip("/")
        parts = raw.split("/")[:-1]
        for k in range(1, len(parts) + 1):
            d = "/".join(parts[:k])
            if not dirs or parts[k - 1] in ("", ".", "..") or d in made:
                if parts[k - 1] in ("..",):
                    break
                continue
            made.add(d)
            blob += member(d, b"", 0o40755)
        made.add(raw)  # a name already given is not listed again as a directory
        if "@link=" in spec:
            name, target = spec.split("@link=", 1)
            blob += member(name, target.encode(), 0o120777)
        elif spec.endswith("/"):
            blob += member(spec.rstrip("/"), b"", 0o40755)
        elif "/%" in spec:
            name, data = spec.split("/%", 1)
            blob += member(name, data.encode(), 0o40755)
        elif "%" in spec.split("=", 1)[0]:
            name, _, content = spec.partition("=")
            name, meta = name.split("%", 1)
            ino, nlink = (int(x) for x in meta.split(":"))
            blob += member(name, content.encode(), 0o100644, None, nlink, ino)
        elif "<" in spec and "=" not in spec.split("<", 1)[0]:
            name, path = spec.split("<", 1)
            blob += member(name, open(path, "rb").read(), 0o100644)
        else:
            name, _, content = spec.partition("=")
            blob += member(name, content.encode().decode("unicode_escape").encode("latin-1"),
                           0o100644, declare if last else None)
    if trailer:
        blob += member("TRAILER!!!", b"", 0)
        blob += b"\0" * ((512 - len(blob) % 512) % 512)
    with open(out, "wb") as f:
        f.write(blob)


if __name__ == "__main__":
    main()
