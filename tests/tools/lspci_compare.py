#!/usr/bin/env python3
# SPDX-License-Identifier: GPL-2.0-or-later
"""lspci_compare.py SNAPSHOT DUMP: check that pcisnap decoded ACS, FLR and link fields of
every device in an `lspci -xxxx` dump as lspci itself decodes them (`lspci -A dump -vvv`)."""
import json
import re
import subprocess
import sys

FLAG = {"SrcValid": "SV", "TransBlk": "TB", "ReqRedir": "RR", "CmpltRedir": "CR",
        "UpstreamFwd": "UF", "EgressCtrl": "EC", "DirectTrans": "DT"}


def speed(s):
    return None if s == "unknown" else "%.1f GT/s" % float(s)


def parse(text):
    devs, cur = {}, None
    for line in text.splitlines():
        if line and not line[0].isspace():
            cur = line.split()[0]
            if cur.count(":") == 1:
                cur = "0000:" + cur
            devs[cur] = []
        elif cur:
            devs[cur].append(line.strip())
    return {k: "\n".join(v) for k, v in devs.items()}


def flags(line):
    return sorted(FLAG[m.group(1)] for m in re.finditer(r"(\w+)\+", line) if m.group(1) in FLAG)


def main():
    snap = json.load(open(sys.argv[1]))
    out = subprocess.run(["lspci", "-A", "dump", "-F", sys.argv[2], "-vvv", "-D"],
                         capture_output=True, text=True, check=True).stdout
    lspci = parse(out)
    devs = {d["bdf"]: d for d in snap["devices"]}
    bad = []
    if sorted(lspci) != sorted(devs):
        bad.append("device sets differ: %s" % sorted(set(lspci) ^ set(devs)))
    checked = {"acs": 0, "flr": 0, "link": 0}
    for bdf, block in lspci.items():
        d = devs.get(bdf)
        if not d:
            continue
        m = re.search(r"ACSCap:\s*(.*)", block)
        if m:
            ctl = re.search(r"ACSCtl:\s*(.*)", block).group(1)
            want = {"present": True, "cap": flags(m.group(1)), "ctl": flags(ctl)}
            got = d["acs"] and {"present": d["acs"]["present"], "cap": sorted(d["acs"]["cap"]),
                                "ctl": sorted(d["acs"]["ctl"])}
            if got != want:
                bad.append("%s acs: lspci %s, pcisnap %s" % (bdf, want, got))
            checked["acs"] += 1
        elif d["acs"] is not None and d["acs"]["present"]:
            bad.append("%s acs: lspci shows none, pcisnap %s" % (bdf, d["acs"]))
        devcap = re.search(r"DevCap:(.*?)DevCtl:", block, re.S)
        af = re.search(r"AFCap:\s*(.*)", block)
        if devcap or af:
            want = bool((devcap and "FLReset+" in devcap.group(1)) or (af and "FLR+" in af.group(1)))
            if d["flr"] is not want:
                bad.append("%s flr: lspci %s, pcisnap %s" % (bdf, want, d["flr"]))
            checked["flr"] += 1
        cap = re.search(r"LnkCap:.*?Speed ([0-9.]+|unknown)GT/s.*?Width x(\d+)", block)
        sta = re.search(r"LnkSta:.*?Speed ([0-9.]+|unknown)(?:GT/s)?.*?Width x(\d+)", block)
        if cap and sta:
            want = {"max_speed": speed(cap.group(1)), "max_width": int(cap.group(2)),
                    "cur_speed": speed(sta.group(1)), "cur_width": int(sta.group(2))}
            if d["link"] != want:
                bad.append("%s link: lspci %s, pcisnap %s" % (bdf, want, d["link"]))
            checked["link"] += 1
    for b in bad:
        print(b)
    print("%s: %d devices; compared acs %d, flr %d, link %d; %d mismatches" %
          (sys.argv[2], len(lspci), checked["acs"], checked["flr"], checked["link"], len(bad)))
    sys.exit(1 if bad else 0)


if __name__ == "__main__":
    main()
