#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0-or-later
# Ticket bundles: reproducible, checksummed, every suffix round-trips, export -> import -> diff
# equals diffing the originals, redaction leaks nothing, hostile archives are refused with
# nothing written.
. "$(dirname "$0")/lib.bash"
cd "$T"
$MKROOT amd-epyc root
SOURCE_DATE_EPOCH=100 "$PCISNAP" collect --root root --dmesg root/var/log/dmesg -o a.json
$MKROOT amd-epyc root2
# B differs from A for real: a passthrough VF lost its vfio-pci binding
rm root2/sys/bus/pci/devices/0000:41:00.2/driver
SOURCE_DATE_EPOCH=200 "$PCISNAP" collect --root root2 --dmesg root2/var/log/dmesg -o b.json
check "B's passthrough VF is unbound (the comparisons below compare something)" python3 -c "
import json, sys
a = {d['bdf']: d for d in json.load(open('a.json'))['devices']}
b = {d['bdf']: d for d in json.load(open('b.json'))['devices']}
assert a['0000:41:00.2']['driver'] == 'vfio-pci' and b['0000:41:00.2']['driver'] is None
"
for sfx in tar tar.gz tar.xz tar.zst; do
	"$PCISNAP" export b.json --against a.json -o "one.$sfx"
	SOURCE_DATE_EPOCH=999 "$PCISNAP" export b.json --against a.json -o "two.$sfx"
	check "$sfx: exporting twice gives identical bytes" cmp -s "one.$sfx" "two.$sfx"
	rm -rf "x.$sfx" && mkdir "x.$sfx" && tar -xf "one.$sfx" -C "x.$sfx"
	check "$sfx: one top directory" test "$(ls "x.$sfx" | wc -l)" = 1
	check "$sfx: sha256sum -c MANIFEST.sha256 passes" sh -c "cd x.$sfx/* && sha256sum --quiet -c MANIFEST.sha256"
	"$PCISNAP" show --format json "one.$sfx" >"rt.$sfx.json"
	check "$sfx: the bundle is a SNAP, round-trips the snapshot" cmp -s b.json "rt.$sfx.json"
done
check "members: report, diff, old snapshot, evidence, readme" sh -c \
	"cd x.tar/* && test -s report.md -a -s diff.json -a -s diff.md -a -s old-snapshot.json -a -s README.txt -a -s evidence/cmdline.txt"
check "gzip header has no timestamp" test "$(od -An -tu4 -j4 -N4 one.tar.gz | tr -d ' ')" = 0
check "members owned by 0:0 with fixed modes" sh -c "tar -tvf one.tar | awk '{print \$1, \$2}' | sort -u | tr '\n' ' ' | grep -qx -- '-rw-r--r-- 0/0 drwxr-xr-x 0/0 '"

# export -> import -> diff gives the same result as diffing the originals
"$PCISNAP" import one.tar.zst --store st >/dev/null
"$PCISNAP" import one.tar.zst --store st >/dev/null # idempotent
check "import adds both snapshots once" test "$(git -C st rev-list --count kvm-epyc-07)" = 2
set +e
"$PCISNAP" diff --format json a.json b.json >d-orig.json
"$PCISNAP" diff --format json --store st kvm-epyc-07~1 kvm-epyc-07 >d-store.json
"$PCISNAP" diff --format json one.tar.gz one.tar.xz >d-bundles.json
set -e
check "diff through the store equals diff of the originals" cmp -s d-orig.json d-store.json
check "and that diff found the lost binding" grep -q '"binding_regression"' d-orig.json

# a bundle is imported whole or not at all: its second snapshot unusable -> nothing written
SOURCE_DATE_EPOCH=300 "$PCISNAP" collect --root root2 --host "bad host" -o bad.json
"$PCISNAP" export bad.json --against a.json -o mixed.tar
set +e
"$PCISNAP" import mixed.tar --store st-mixed >/dev/null 2>err; rc=$?
set -e
check "half-importable bundle: exit 2" test "$rc" = 2
check "half-importable bundle: no branch written" test -z "$(git -C st-mixed for-each-ref 2>/dev/null)"
check "bundles are SNAPs in diff too" test -s d-bundles.json

# redaction
printf "pcisnap redaction test key 0001" >key # fixed: a random one could spell db01 in hex
"$PCISNAP" export b.json --against a.json --redact-key key -o red.tar
"$PCISNAP" export a.json --redact-key key -o red-a.tar.gz
"$PCISNAP" export b.json --redact-key key -o red-b.tar.gz
rm -rf xr && mkdir xr && tar -xf red.tar -C xr
leaks=0
for v in kvm-epyc-07 7XK2Q53 CNFCP0012300J3 4c4c4544-0058-4b10-8032-b7c04f513533 \
	b8-ce-f6-03-00-a1-b2-c3 db01 3c:ec:ef:12:34:56; do
	if grep -rqi -- "$v" xr red.tar; then echo "leaked: $v"; leaks=$((leaks + 1)); fi
done
check "redaction leaves no original value in any member or the archive" test "$leaks" = 0
check "REDACTIONS.md lists the fields" grep -q 'firmware.product_serial' xr/*/REDACTIONS.md
check "REDACTIONS.md lists no values" sh -c "! grep -q 7XK2Q53 xr/*/REDACTIONS.md"
check "redacted bundle still validates" $VALIDATE "$SNAP_SOURCE_DIR/schema/snapshot.v1.schema.json" xr/*/snapshot.json
set +e
"$PCISNAP" diff red-a.tar.gz red-b.tar.gz >red-diff.txt; rc=$?
set -e
check "two redacted bundles of one host still diff (the lost binding: exit 1)" test "$rc" = 1
check "same pseudonyms on both sides" sh -c "! grep -q 'device_added\|device_removed\|firmware' red-diff.txt"
# one export with --against: the old and the new snapshot of one host get the same pseudonyms
# (a pseudonym's hex digits are never taken for a MAC address and redacted again)
python3 - xr/*/diff.json xr/*/snapshot.json xr/*/old-snapshot.json >red-one.txt <<'PY'
import json, sys
d, new, old = (json.load(open(f)) for f in sys.argv[1:4])
kinds = {c["kind"] for c in d["changes"]}
print(d["same_host"], new["host"]["hostname"] == old["host"]["hostname"],
      bool(kinds & {"serial_number", "hostdev_removed", "hostdev_added", "vm_removed"}))
PY
check "one redacted export: same host, same pseudonyms in old and new" test "$(cat red-one.txt)" = "True True False"
"$PCISNAP" export b.json --redact --store keystore -o red-store.tar >/dev/null
check "a key kept in the store by default" test -s keystore/pcisnap-redact.key
# --store "" is the default store (PCISNAP_STORE here), never "/pcisnap-redact.key"
PCISNAP_STORE="$T/envstore" "$PCISNAP" export b.json --redact --store "" -o red-env.tar >/dev/null
check "--store \"\" keeps the key in the default store" test -s "$T/envstore/pcisnap-redact.key"
check "and not at the file system's root" test ! -e /pcisnap-redact.key
for i in 1 2 3 4; do "$PCISNAP" export b.json --redact --store raced -o "race$i.tar" >/dev/null & done
wait
check "concurrent first exports agree on one key" test "$(for i in 1 2 3 4; do tar -xOf "race$i.tar" --wildcards '*/snapshot.json' | sha256sum; done | sort -u | wc -l)" = 1

# every spelling of a MAC address, MACs in option names, a short host name inside other text
$MKROOT amd-epyc leaky
printf 'BOOT_IMAGE=/vmlinuz ro BOOTIF=01-a0-b1-c2-d3-e4-f5 ifname=uplink:a1:b2:c3:d4:e5:f6 ip=10.0.0.5::10.0.0.1:255.255.255.0:web:uplink:none cisco=aabb.ccdd.ee01 bare=0a1b2c3d4e5f dsn=b8-ce-f6-03-00-a1-b2-c3\n' >leaky/proc/cmdline
mkdir -p leaky/etc/modprobe.d && printf 'options mlx5_core 3c:ec:ef:99:88:77=1\n' >leaky/etc/modprobe.d/mac-key.conf
SOURCE_DATE_EPOCH=300 "$PCISNAP" collect --root leaky --host web -o leaky.json
"$PCISNAP" export leaky.json --redact-key key -o leaky.tar
rm -rf xl && mkdir xl && tar -xf leaky.tar -C xl
leaks=0
for v in a0-b1-c2-d3-e4-f5 a1:b2:c3:d4:e5:f6 aabb.ccdd.ee01 0a1b2c3d4e5f 3c:ec:ef:99:88:77 ':web:'; do
	if grep -rqi -- "$v" xl leaky.tar; then echo "leaked: $v"; leaks=$((leaks + 1)); fi
done
check "MACs in every spelling and short host names are redacted" test "$leaks" = 0
check "their shape is kept (BOOTIF, ifname, dotted, bare)" grep -qE \
	'BOOTIF=01-02-..-..-..-..-.. ifname=uplink:02:..:..:..:..:.. .*cisco=02..\.....\..... bare=02[0-9a-f]{10}' \
	xl/*/evidence/cmdline.txt
check "a word that merely contains the short host name is kept" grep -q 'ro ' xl/*/evidence/cmdline.txt

# authentication: with a key, a re-checksummed forgery is refused; without one it is not
# authenticated, and the import says so
head -c 32 /dev/urandom >auth.key
head -c 32 /dev/urandom >other.key
"$PCISNAP" export b.json --key auth.key -o signed.tar
check "an authenticated bundle carries MANIFEST.sha256.hmac" sh -c "tar -tf signed.tar | grep -q 'MANIFEST.sha256.hmac$'"
check "it still passes sha256sum -c" sh -c "rm -rf xs && mkdir xs && tar -xf signed.tar -C xs && cd xs/* && sha256sum --quiet -c MANIFEST.sha256"
"$PCISNAP" import signed.tar --key auth.key --store st-auth 2>imp.out
check "import with the key: authenticated" grep -q '(authenticated)$' imp.out
"$PCISNAP" import one.tar --store st-plain 2>imp2.out
check "import without a key: checksums only" grep -q '(checksums only)$' imp2.out
python3 - <<'PY'
import hashlib, io, tarfile
src = tarfile.open("signed.tar")
files = {m.name: src.extractfile(m).read() for m in src.getmembers() if m.isfile()}
top = src.getmembers()[0].name.split("/")[0]
snap = top + "/snapshot.json"
files[snap] = files[snap].replace(b'"hostname": "', b'"hostname": "forged-', 1)
man = "".join("%s  %s\n" % (hashlib.sha256(files[n]).hexdigest(), n[len(top) + 1:])
              for n in sorted(files) if not n.endswith(("MANIFEST.sha256", ".hmac")))
files[top + "/MANIFEST.sha256"] = man.encode()
with tarfile.open("forged.tar", "w") as t:
    for n in sorted(files):
        ti = tarfile.TarInfo(n); ti.size = len(files[n]); t.addfile(ti, io.BytesIO(files[n]))
PY
set +e
"$PCISNAP" import forged.tar --key auth.key --store st-auth >/dev/null 2>err; rc=$?
"$PCISNAP" import signed.tar --key other.key --store st-auth >/dev/null 2>err2; rc2=$?
"$PCISNAP" import one.tar --key auth.key --store st-auth >/dev/null 2>err3; rc3=$?
PCISNAP_BUNDLE_KEY=auth.key "$PCISNAP" show forged.tar >/dev/null 2>err4; rc4=$?
set -e
check "a re-checksummed forgery is refused with the key (exit 2)" test "$rc" = 2
check "and says authentication failed" grep -q 'authentication failed' err
check "another key is refused" test "$rc2" = 2
check "an unauthenticated bundle is refused when a key is required" sh -c "test $rc3 = 2 && grep -q 'not authenticated' err3"
check "PCISNAP_BUNDLE_KEY makes show refuse the forgery too" test "$rc4" = 2
check "the refused imports wrote nothing" test "$(git -C st-auth rev-list --all | wc -l)" = 1

# hostile archives: refused, exit 2, one line, nothing written
python3 "$SNAP_SOURCE_DIR/tests/tools/hostile_bundles.py" one.tar hostile >hostile.list
git -C st for-each-ref >refs.before
(cd st && find . -type f | sort) >files.before
while read -r name; do
	set +e
	"$PCISNAP" import "hostile/$name" --store st >out 2>err; rc=$?
	"$PCISNAP" show "hostile/$name" >/dev/null 2>err2; rc2=$?
	set -e
	check "$name: import refused with exit 2" test "$rc" = 2
	check "$name: one pcisnap: line" test "$(wc -l <err)" = 1 -a "$(grep -c '^pcisnap: ' err)" = 1
	check "$name: show refused too" test "$rc2" = 2
done <hostile.list
check "a decompression bomb is refused in bounded memory (< 512 MB, ASan included; it took 2 GB)" python3 -c "
import resource, subprocess, sys
subprocess.run([sys.argv[1], 'show', 'hostile/bomb.tar.gz'], capture_output=True)
assert resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss < 512 * 1024
" "$PCISNAP"
git -C st for-each-ref >refs.after
(cd st && find . -type f | sort) >files.after
check "hostile imports wrote nothing to the store" cmp -s refs.before refs.after
check "no new files in the store" cmp -s files.before files.after
check "nothing extracted beside the bundles" test ! -e /etc/cron.d/x -a ! -e evil
finish
