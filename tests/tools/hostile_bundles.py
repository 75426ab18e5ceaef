#!/usr/bin/env python3
# SPDX-License-Identifier: GPL-2.0-or-later
"""hostile_bundles.py GOOD.tar OUTDIR: write one hostile or tampered variant of a good bundle per
class a bundle reader must refuse. Prints the names it wrote."""
import gzip
import hashlib
import io
import shutil
import os
import sys
import tarfile


def members(path):
    with tarfile.open(path) as t:
        top = t.getmembers()[0].name.split("/")[0]
        files = {m.name[len(top) + 1:]: t.extractfile(m).read() for m in t.getmembers() if m.isfile()}
    return top, files


def manifest(files):
    return "".join("%s  %s\n" % (hashlib.sha256(files[n]).hexdigest(), n)
                   for n in sorted(files) if n != "MANIFEST.sha256").encode()


def write(path, top, files, extra=None, fix_manifest=True):
    files = dict(files)
    if fix_manifest:
        files["MANIFEST.sha256"] = manifest(files)
    with tarfile.open(path, "w") as t:
        d = tarfile.TarInfo(top)
        d.type = tarfile.DIRTYPE
        d.mode = 0o755
        t.addfile(d)
        for n in sorted(files):
            ti = tarfile.TarInfo(top + "/" + n)
            ti.size = len(files[n])
            t.addfile(ti, io.BytesIO(files[n]))
        for ti, data in (extra or []):
            t.addfile(ti, io.BytesIO(data) if data is not None else None)


def main():
    good, out = sys.argv[1], sys.argv[2]
    os.makedirs(out, exist_ok=True)
    top, files = members(good)

    def special(name, kind, **kw):
        ti = tarfile.TarInfo(name)
        ti.type = kind
        for k, v in kw.items():
            setattr(ti, k, v)
        return ti

    cases = {
        "absolute-path": dict(extra=[(special("/etc/cron.d/x", tarfile.REGTYPE, size=2), b"x\n")]),
        "dotdot": dict(extra=[(special(top + "/../../evil", tarfile.REGTYPE, size=2), b"x\n")]),
        "symlink": dict(extra=[(special(top + "/link", tarfile.SYMTYPE, linkname="/etc/passwd"), None)]),
        "hardlink": dict(extra=[(special(top + "/hard", tarfile.LNKTYPE, linkname=top + "/README.txt"), None)]),
        "device": dict(extra=[(special(top + "/dev", tarfile.CHRTYPE, devmajor=1, devminor=3), None)]),
        "fifo": dict(extra=[(special(top + "/fifo", tarfile.FIFOTYPE), None)]),
        "outside-top": dict(extra=[(special("other/file", tarfile.REGTYPE, size=2), b"x\n")]),
    }
    for name, kw in cases.items():
        write(os.path.join(out, name + ".tar"), top, files, **kw)
    big = dict(files)
    big["evidence/huge.bin"] = b"\0" * (65 << 20)
    write(os.path.join(out, "oversized.tar"), top, big)
    many = dict(files)
    for i in range(40):
        many["evidence/f%02d.txt" % i] = b"x\n"
    write(os.path.join(out, "too-many-members.tar"), top, many)
    missing = dict(files)
    missing["MANIFEST.sha256"] = manifest(files) + ("%s  %s\n" % ("0" * 64, "ghost.json")).encode()
    write(os.path.join(out, "manifest-names-missing.tar"), top, missing, fix_manifest=False)
    unlisted = dict(files)
    unlisted["MANIFEST.sha256"] = manifest(files)
    unlisted["extra.txt"] = b"not in the manifest\n"
    write(os.path.join(out, "member-not-in-manifest.tar"), top, unlisted, fix_manifest=False)
    tampered = dict(files)
    tampered["MANIFEST.sha256"] = manifest(files)
    tampered["snapshot.json"] = files["snapshot.json"].replace(b'"hostname": "', b'"hostname": "x', 1)
    assert tampered["snapshot.json"] != files["snapshot.json"], "the tamper changed nothing"
    write(os.path.join(out, "tampered-member.tar"), top, tampered, fix_manifest=False)
    # a decompression bomb: 3 members of 48 MiB of zeros, about 150 KB compressed; each is
    # under the member limit, together over the total, and the ratio gives it away first
    bomb = dict(files)
    for i in range(3):
        bomb["evidence/zeros%d.bin" % i] = b"\0" * (48 << 20)
    write(os.path.join(out, "bomb.tar"), top, bomb)
    with open(os.path.join(out, "bomb.tar"), "rb") as f, \
            gzip.open(os.path.join(out, "bomb.tar.gz"), "wb", compresslevel=1) as g:
        shutil.copyfileobj(f, g)
    os.unlink(os.path.join(out, "bomb.tar"))
    nomanifest = dict(files)
    del nomanifest["MANIFEST.sha256"]
    write(os.path.join(out, "no-manifest.tar"), top, nomanifest, fix_manifest=False)
    with open(os.path.join(out, "not-a-tar.tar.gz"), "wb") as f:
        f.write(b"\x1f\x8b garbage")
    for n in sorted(os.listdir(out)):
        print(n)


if __name__ == "__main__":
    main()
