#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0-or-later
# preflight against real initramfs images: Debian's own mkinitramfs (initramfs-tools) builds
# them for the installed linux-image-amd64 with the modprobe.d of each case (bind-mounted over
# /etc/modprobe.d in a private mount namespace: the machine's own is never touched), and the
# next boot's root is a captured host (the pve-intel fixture: a GPU, its audio function and
# an SAS HBA bound to vfio-pci) with that kernel's real modules indexes. Then hostile and odd
# images, the boot loader sources of the command line, and a prediction kept in the store and
# held against the snapshot after the reboot.
. "$(dirname "$0")/lib.bash"

KVER=$(for d in /lib/modules/*/modules.dep; do [ -e "$d" ] && basename "$(dirname "$d")"; done |
	sort -V | tail -1)
real=1
if [ -z "$KVER" ] || ! command -v mkinitramfs >/dev/null || [ "$(id -u)" != 0 ] ||
	! unshare -m true 2>/dev/null; then
	# CI installs linux-image-amd64 and initramfs-tools (make deps) and runs as root
	if [ "${CI:-}" = true ]; then
		not_ok "real images: no installed kernel, mkinitramfs or mount namespace in CI"
		finish
	fi
	echo "skip: real images (needs root, unshare, mkinitramfs and an installed kernel)"
	real=0
fi

export TMPDIR="$T/tmp" # every private directory preflight makes is below here, and removed
mkdir -p "$TMPDIR"
R=$T/root
$MKROOT pve-intel "$R" >/dev/null
if [ "$real" = 1 ]; then
	mkdir -p "$R/lib/modules/$KVER" "$R/boot/grub" "$R/etc/default" "$R/etc/modules-load.d"
	cp /lib/modules/"$KVER"/modules.* "$R/lib/modules/$KVER/"
	[ -e /boot/config-"$KVER" ] && cp /boot/config-"$KVER" "$R/boot/"
fi
cat >"$R/etc/default/grub" <<'EOF'
GRUB_DEFAULT=0
GRUB_CMDLINE_LINUX_DEFAULT="quiet intel_iommu=on iommu=pt"
GRUB_CMDLINE_LINUX=""
EOF
grubcfg() { # the generated entry of the release, with these arguments
	cat >"$R/boot/grub/grub.cfg" <<EOF
menuentry 'Debian GNU/Linux' --class debian {
	linux	/boot/vmlinuz-$KVER root=UUID=0b7d ro $1
	initrd	/boot/initrd.img-$KVER
}
submenu 'Advanced options for Debian GNU/Linux' {
	menuentry 'Debian GNU/Linux, with Linux $KVER (recovery mode)' {
		linux	/boot/vmlinuz-$KVER root=UUID=0b7d ro single
	}
}
EOF
}
grubcfg "quiet intel_iommu=on iommu=pt"

IDS="options vfio-pci ids=10de:1e87,10de:10f8,1000:0097"
SOFTDEPS="softdep mpt3sas pre: vfio-pci
softdep snd_hda_intel pre: vfio-pci"
VFIO="vfio vfio_iommu_type1 vfio_pci"

n=0
mkimage() { # OUT COMPRESS "MODULES" "MODPROBE.D CONTENT": also the root's modprobe.d
	local out=$1 comp=$2 mods=$3 conf=$4 d
	n=$((n + 1))
	d=$T/initramfs-tools.$n
	mkdir -p "$d/conf.d" "$d/scripts" "$d/hooks"
	printf 'MODULES=list\nBUSYBOX=auto\nCOMPRESS=%s\nRUNSIZE=10%%\nFSTYPE=auto\n' "$comp" \
		>"$d/initramfs.conf"
	printf '%s\n' $mods >"$d/modules"
	printf '%s\n' "$conf" >"$R/etc/modprobe.d/pcisnap-case.conf"
	unshare -m sh -c "mount --bind '$R/etc/modprobe.d' /etc/modprobe.d &&
		mkinitramfs -d '$d' -o '$out' '$KVER'" >"$T/mkinitramfs.log" 2>&1 ||
		{ cat "$T/mkinitramfs.log"; return 1; }
}

pf() { # EXPECTED-RC NAME ARGS...: run preflight into $T/NAME.json (and .txt)
	local want=$1 name=$2 rc=0
	shift 2
	"$PCISNAP" preflight --root "$R" --format json "$@" >"$T/$name.json" 2>"$T/$name.err" ||
		rc=$?
	"$PCISNAP" preflight --root "$R" "$@" >"$T/$name.txt" 2>/dev/null || true
	if [ "$rc" = "$want" ]; then ok "$name: exit $rc"; else
		not_ok "$name: exit $rc, wanted $want"
		cat "$T/$name.err" "$T/$name.txt"
	fi
	$VALIDATE "$SNAP_SOURCE_DIR/schema/preflight.v1.schema.json" "$T/$name.json" >/dev/null 2>&1 && ok "$name: schema" ||
		not_ok "$name: schema ($($VALIDATE "$SNAP_SOURCE_DIR/schema/preflight.v1.schema.json" "$T/$name.json" 2>&1 | tail -1))"
}

expect() { # NAME DESCRIPTION PYTHON-EXPRESSION over d (the JSON) and dev(bdf)
	local name=$1 what=$2 expr=$3
	if python3 - "$T/$name.json" "$expr" <<'EOF'; then ok "$name: $what"; else not_ok "$name: $what"; fi
import json, sys
d = json.load(open(sys.argv[1]))
def dev(bdf):
    return next(x for x in d["devices"] if x["bdf"] == bdf)
def check(cid, status):
    return [c["message"] for c in d["checks"] if c["id"] == cid and c["status"] == status]
ok = eval(sys.argv[2])
if not ok:
    print(json.dumps(d, indent=1)[:6000])
sys.exit(0 if ok else 1)
EOF
}

no_leftovers() { # nothing left in TMPDIR, nothing written outside it
	if [ -z "$(ls -A "$TMPDIR")" ]; then ok "$1: private directories removed"; else
		not_ok "$1: left in TMPDIR: $(ls -A "$TMPDIR")"
	fi
}

HBA=0000:02:00.0 GPU=0000:01:00.0 AUDIO=0000:01:00.1

if [ "$real" = 1 ]; then
	# vfio-pci in the image, ids and softdeps: every device bound to vfio-pci
	mkimage "$T/good.img" zstd "$VFIO mpt3sas" "$IDS
$SOFTDEPS"
	pf 0 good --initramfs "$T/good.img"
	expect good "the HBA: vfio-pci from the initramfs, by the softdep" \
		'dev("'$HBA'")["predicted"] == "vfio_pci" and dev("'$HBA'")["stage"] == "initramfs" and "modprobe mpt3sas loads vfio_pci first" in dev("'$HBA'")["how"]'
	expect good "the GPU (nouveau blacklisted, nvidia absent): vfio-pci, loaded for the HBA" \
		'dev("'$GPU'")["predicted"] == "vfio_pci" and dev("'$GPU'")["stage"] == "initramfs" and "no host driver claims it" in dev("'$GPU'")["how"]'
	expect good "vfio, vfio_pci, vfio_iommu_type1 found in the image" \
		'd["initramfs"]["vfio"] == {"vfio": True, "vfio_pci": True, "vfio_iommu_type1": True}'
	expect good "one zstd archive" \
		'[s["compression"] for s in d["initramfs"]["segments"]] == ["zstd"]'
	expect good "the command line from grub.cfg, IOMMU options kept" \
		'd["cmdline"]["source"] == "boot/grub/grub.cfg" and "intel_iommu=on" in d["cmdline"]["cmdline"] and check("cmdline", "PASS")'
	expect good "the HBA's alias candidates in the image are the real module" \
		'[c["name"] for c in dev("'$HBA'")["candidates"]["initramfs"]] == ["mpt3sas"]'
	no_leftovers good

	# the same image, compressed otherwise, and behind an early microcode archive
	for comp in gzip xz lz4; do
		mkimage "$T/$comp.img" "$comp" "$VFIO mpt3sas" "$IDS
$SOFTDEPS"
		pf 0 "$comp" --initramfs "$T/$comp.img"
		expect "$comp" "read as $comp, same prediction" \
			'[s["compression"] for s in d["initramfs"]["segments"]] == ["'$comp'"] and dev("'$HBA'")["predicted"] == "vfio_pci"'
	done
	mkdir -p "$T/early/kernel/x86/microcode"
	head -c 3000 /dev/urandom >"$T/early/kernel/x86/microcode/GenuineIntel.bin"
	(cd "$T/early" && find kernel | cpio -o -H newc --quiet) >"$T/early.cpio"
	cat "$T/early.cpio" "$T/good.img" >"$T/microcode.img"
	pf 0 microcode --initramfs "$T/microcode.img"
	expect microcode "an uncompressed early archive, then the zstd one at its end" \
		'[s["compression"] for s in d["initramfs"]["segments"]] == ["none", "zstd"] and d["initramfs"]["segments"][1]["offset"] == '"$(stat -c %s "$T/early.cpio")"' and dev("'$HBA'")["predicted"] == "vfio_pci"'

	# vfio missing from the image: mpt3sas claims the HBA there (no softdep either: with
	# "softdep mpt3sas pre: vfio-pci", mkinitramfs puts vfio-pci in the image by itself)
	mkimage "$T/novfio.img" zstd "mpt3sas" "$IDS"
	pf 1 novfio --initramfs "$T/novfio.img"
	expect novfio "FAIL: mpt3sas from the initramfs, vfio-pci not in it" \
		'dev("'$HBA'")["predicted"] == "mpt3sas" and dev("'$HBA'")["stage"] == "initramfs" and dev("'$HBA'")["status"] == "FAIL" and "vfio-pci is not in the initramfs" in dev("'$HBA'")["message"] and "alias pci:v00001000d00000097" in dev("'$HBA'")["message"]'
	expect novfio "vfio modules reported absent" \
		'd["initramfs"]["vfio"]["vfio_pci"] is False'
	expect novfio "FAIL: the GPU: nothing loads vfio-pci after the switch either" \
		'dev("'$GPU'")["predicted"] is None and "nothing loads vfio-pci" in dev("'$GPU'")["message"]'
	# the softdep alone brings vfio-pci into the image (initramfs-tools follows softdeps)
	mkimage "$T/softdep-only.img" zstd "mpt3sas" "$IDS
$SOFTDEPS"
	pf 0 softdep-only --initramfs "$T/softdep-only.img"
	expect softdep-only "vfio-pci pulled in by the softdep, and first" \
		'd["initramfs"]["vfio"]["vfio_pci"] and dev("'$HBA'")["predicted"] == "vfio_pci"'

	# two host drivers in the image, a softdep for one: vfio-pci, loaded for the HBA, races
	# snd_hda_intel for the audio function
	mkimage "$T/race.img" zstd "$VFIO mpt3sas snd_hda_intel" "$IDS
softdep mpt3sas pre: vfio-pci"
	pf 0 race --initramfs "$T/race.img"
	expect race "WARN: snd_hda_intel and vfio-pci unordered in the initramfs" \
		'dev("'$AUDIO'")["status"] == "WARN" and dev("'$AUDIO'")["race_with"] == "mpt3sas" and dev("'$AUDIO'")["predicted"] == "snd_hda_intel" and dev("'$HBA'")["predicted"] == "vfio_pci"'

	# "softdep drm pre: vfio-pci", the widely copied recipe, with nouveau not blacklisted:
	# libkmod fills the softdeps of every module of nouveau's dependency chain
	# (__kmod_module_get_probe_list()), so modprobe nouveau loads vfio-pci before drm (modprobe
	# -D shows it); without that softdep nouveau takes the GPU
	mv "$R/etc/modprobe.d/blacklist-gpu.conf" "$T/blacklist-gpu.conf.saved"
	mkimage "$T/drm.img" zstd "$VFIO mpt3sas nouveau" "$IDS
softdep drm pre: vfio-pci
$SOFTDEPS"
	pf 0 softdep-drm --initramfs "$T/drm.img"
	expect softdep-drm "softdep drm pre: vfio-pci: the GPU to vfio-pci, through nouveau's chain" \
		'dev("'$GPU'")["predicted"] == "vfio_pci" and "modprobe nouveau loads vfio_pci first" in dev("'$GPU'")["how"]'
	modprobe -D -S "$KVER" -C "$R/etc/modprobe.d" nouveau 2>/dev/null |
		awk '/vfio-pci.ko/ {v = NR} /nouveau.ko/ {n = NR} END {exit !(v && n && v < n)}' &&
		ok "softdep-drm: modprobe -D agrees (vfio-pci before nouveau)" ||
		not_ok "softdep-drm: modprobe -D disagrees"
	mkimage "$T/nodrm.img" zstd "$VFIO mpt3sas nouveau" "$IDS
$SOFTDEPS"
	pf 0 no-softdep-drm --initramfs "$T/nodrm.img"
	expect no-softdep-drm "no softdep on nouveau's chain: nouveau may take the GPU (WARN, a race)" \
		'dev("'$GPU'")["predicted"] == "nouveau" and dev("'$GPU'")["status"] == "WARN"'
	# "install nouveau /bin/false": libkmod runs the command instead of loading nouveau
	mkimage "$T/install.img" zstd "$VFIO mpt3sas nouveau" "$IDS
install nouveau /bin/false
$SOFTDEPS"
	pf 0 install-false --initramfs "$T/install.img"
	expect install-false "install nouveau /bin/false: nouveau never loads, vfio-pci takes the GPU" \
		'dev("'$GPU'")["predicted"] == "vfio_pci" and dev("'$GPU'")["status"] == "PASS"'
	mv "$T/blacklist-gpu.conf.saved" "$R/etc/modprobe.d/blacklist-gpu.conf"

	# vfio-pci loaded from an image whose ids cover only the HBA; the root's modprobe.d has
	# the GPU's ids too: modprobe of a loaded module is a no-op in libkmod, the root's options
	# never apply, the GPU stays unbound
	mv "$R/etc/modprobe.d/vfio.conf" "$T/vfio.conf.saved"
	mkimage "$T/hbaids.img" zstd "$VFIO mpt3sas" "options vfio-pci ids=1000:0097
$SOFTDEPS"
	mv "$T/vfio.conf.saved" "$R/etc/modprobe.d/vfio.conf"
	printf '%s\n' "$SOFTDEPS" >"$R/etc/modprobe.d/pcisnap-case.conf"
	pf 1 root-ids-late --initramfs "$T/hbaids.img"
	expect root-ids-late "the root's ids come too late for the GPU: FAIL, update-initramfs" \
		'dev("'$GPU'")["status"] == "FAIL" and dev("'$GPU'")["predicted"] != "vfio_pci" and "come too late" in dev("'$GPU'")["message"] and dev("'$HBA'")["predicted"] == "vfio_pci"'

	# vfio in the image (conf/modules) but no softdep: udev loads mpt3sas first
	mkimage "$T/nosoftdep.img" zstd "$VFIO mpt3sas" "$IDS"
	pf 1 nosoftdep --initramfs "$T/nosoftdep.img"
	expect nosoftdep "FAIL: no softdep, conf/modules comes after udev" \
		'dev("'$HBA'")["predicted"] == "mpt3sas" and "no softdep orders vfio-pci before mpt3sas" in dev("'$HBA'")["message"] and "after udev" in dev("'$HBA'")["message"]'

	# an image built before the ids and softdeps were added to modprobe.d
	mkimage "$T/stale.img" zstd "$VFIO mpt3sas" "# nothing yet"
	printf '%s\n%s\n' "$IDS" "$SOFTDEPS" >"$R/etc/modprobe.d/pcisnap-case.conf"
	pf 1 stale --initramfs "$T/stale.img"
	expect stale "WARN: the image's modprobe.d is older than the root's" \
		'check("initramfs_config", "WARN") and "update-initramfs -u" in check("initramfs_config", "WARN")[0]'
	expect stale "FAIL: the image has the fixture's ids but not the new softdep" \
		'dev("'$HBA'")["predicted"] == "mpt3sas" and "no softdep orders vfio-pci before mpt3sas" in dev("'$HBA'")["message"]'
	# the ids taken out of modprobe.d before the reboot: held against the snapshot taken
	# while they were there (the state now no longer says they were meant)
	"$PCISNAP" collect --root "$R" -o "$T/with-ids.json" 2>/dev/null
	mv "$R/etc/modprobe.d/vfio.conf" "$T/vfio.conf.saved"
	mkimage "$T/noids.img" zstd "$VFIO mpt3sas" "$SOFTDEPS"
	pf 1 noids "$T/with-ids.json" --initramfs "$T/noids.img"
	expect noids "FAIL: no ids anywhere" \
		'"do not cover it" in dev("'$HBA'")["message"] or "no longer cover it" in dev("'$HBA'")["message"]'
	grubcfg "quiet intel_iommu=on iommu=pt vfio-pci.ids=10de:1e87,10de:10f8,1000:0097"
	pf 0 cmdline-ids "$T/with-ids.json" --initramfs "$T/noids.img"
	expect cmdline-ids "vfio-pci.ids on the command line: vfio-pci" \
		'all(x["predicted"] == "vfio_pci" for x in d["devices"])'
	grubcfg "quiet intel_iommu=on iommu=pt"
	mv "$T/vfio.conf.saved" "$R/etc/modprobe.d/vfio.conf"

	# the default image path: ROOT/boot/initrd.img-KVER
	cp "$T/good.img" "$R/boot/initrd.img-$KVER"
	pf 0 default-path
	expect default-path "found boot/initrd.img-$KVER" \
		'd["initramfs"]["path"] == "boot/initrd.img-'"$KVER"'"'

	# the command line: grub.cfg not regenerated after /etc/default/grub gained intel_iommu=on
	grubcfg "quiet"
	pf 1 grub-stale
	expect grub-stale "grub.cfg stale: said, and the IOMMU predicted off" \
		'check("cmdline_source", "WARN") and "update-grub" in check("cmdline_source", "WARN")[0] and any("intel_iommu=on is gone" in m for m in check("cmdline", "FAIL"))'
	grubcfg "quiet intel_iommu=on iommu=pt intremap=off"
	pf 1 intremap-off
	expect intremap-off "intremap=off: FAIL" 'any("interrupt remapping will be off" in m for m in check("cmdline", "FAIL"))'
	grubcfg "quiet intel_iommu=on iommu=pt"
	# Proxmox's proxmox-boot-tool: /etc/kernel/cmdline wins over a leftover grub.cfg
	echo "root=ZFS=rpool/ROOT/pve-1 boot=zfs" >"$R/etc/kernel/cmdline" 2>/dev/null ||
		{ mkdir -p "$R/etc/kernel" && echo "root=ZFS=rpool/ROOT/pve-1 boot=zfs" >"$R/etc/kernel/cmdline"; }
	touch "$R/etc/kernel/proxmox-boot-uuids"
	pf 1 proxmox-boot-tool
	expect proxmox-boot-tool "etc/kernel/cmdline, without intel_iommu=on: FAIL" \
		'd["cmdline"]["source"] == "etc/kernel/cmdline" and check("cmdline", "FAIL")'
	# a systemd-boot entry for the release comes first
	mkdir -p "$R/boot/loader/entries"
	printf 'title Proxmox\nversion %s\nlinux /EFI/proxmox/%s/vmlinuz-%s\noptions root=ZFS=rpool/ROOT/pve-1 boot=zfs intel_iommu=on iommu=pt\n' \
		"$KVER" "$KVER" "$KVER" >"$R/boot/loader/entries/proxmox-$KVER.conf"
	pf 0 bls-entry
	expect bls-entry "the loader entry, and the stale etc/kernel/cmdline said" \
		'd["cmdline"]["source"].startswith("boot/loader/entries/") and d["cmdline"]["stale"] and check("cmdline", "PASS")'
	rm -rf "$R/boot/loader" "$R/etc/kernel"

	# grub's own variables: grub.cfg sets one before the entry uses it; one it never sets
	# makes the command line unknown, never the literal "$extra_cmdline"
	grubcfg 'quiet intel_iommu=on iommu=pt $extra_cmdline'
	sed -i '1i set extra_cmdline="intel_iommu=off"' "$R/boot/grub/grub.cfg"
	pf 1 grub-var --initramfs "$T/good.img"
	expect grub-var "set extra_cmdline=intel_iommu=off before the entry: the IOMMU off (FAIL)" \
		'd["cmdline"]["cmdline"].endswith("intel_iommu=off") and any("intel_iommu=off is last" in m for m in check("cmdline", "FAIL"))'
	grubcfg 'quiet intel_iommu=on iommu=pt $extra_cmdline'
	pf 3 grub-var-unset --initramfs "$T/good.img"
	expect grub-var-unset "a variable grub.cfg never sets: unknown, named" \
		'd["cmdline"]["cmdline"] is None and any("$extra_cmdline" in m for m in check("cmdline_source", "WARN"))'
	# a BLS entry with $kernelopts (Fedora/RHEL style): taken from grubenv
	mkdir -p "$R/boot/loader/entries" "$R/boot/grub2"
	printf 'title Debian\nversion %s\nlinux /vmlinuz-%s\noptions root=UUID=0b7d ro $kernelopts\n' \
		"$KVER" "$KVER" >"$R/boot/loader/entries/debian-$KVER.conf"
	printf '# GRUB Environment Block\nkernelopts=intel_iommu=on iommu=pt\n####\n' >"$R/boot/grub2/grubenv"
	pf 0 bls-kernelopts --initramfs "$T/good.img"
	expect bls-kernelopts "BLS \$kernelopts from grubenv" \
		'd["cmdline"]["cmdline"] == "root=UUID=0b7d ro intel_iommu=on iommu=pt" and check("cmdline", "PASS")'
	rm -f "$R/boot/grub2/grubenv"
	pf 3 bls-kernelopts-unset --initramfs "$T/good.img"
	expect bls-kernelopts-unset "BLS \$kernelopts with no grubenv: unknown" \
		'd["cmdline"]["cmdline"] is None'
	rm -rf "$R/boot/loader" "$R/boot/grub2"
	grubcfg "quiet intel_iommu=on iommu=pt"
	# /etc/default/grub that doubles a variable forty times: bounded, said, at once
	cp "$R/etc/default/grub" "$T/default-grub.saved"
	{ echo 'X=a'; for i in $(seq 40); do echo 'X="$X$X"'; done; echo 'GRUB_CMDLINE_LINUX="$X"'; } >"$R/etc/default/grub"
	rm -f "$R/boot/grub/grub.cfg"
	start=$(date +%s)
	pf 3 grub-doubling --initramfs "$T/good.img"
	[ $(($(date +%s) - start)) -le 5 ] && ok "grub-doubling: bounded (within seconds)" || not_ok "grub-doubling: took too long"
	expect grub-doubling "the expansion refused, said" \
		'd["cmdline"]["cmdline"] is None and any("grows past" in m for m in check("cmdline_source", "WARN"))'
	cp "$T/default-grub.saved" "$R/etc/default/grub"
	grubcfg "quiet intel_iommu=on iommu=pt"

	# a prediction kept with its snapshot, then held against the snapshot after the reboot
	S=$T/store
	"$PCISNAP" preflight --root "$R" --record --store "$S" >/dev/null 2>"$T/record.err" &&
		ok "record: exit 0" || { not_ok "record"; cat "$T/record.err"; }
	grep -q "recorded the prediction" "$T/record.err" && ok "record: said" || not_ok "record: said"
	"$PCISNAP" show pve-ws-01 --store "$S" --format json >"$T/before.json"
	python3 - "$T/before.json" "$KVER" "$T/after-held.json" "$T/after-missed.json" <<'EOF'
import json, sys
d = json.load(open(sys.argv[1]))
d["kernel"]["release"] = sys.argv[2]
d["host"]["collected_at"] = "2026-12-02T10:00:00Z"
json.dump(d, open(sys.argv[3], "w"), indent=2, sort_keys=True)
for x in d["devices"]:
    if x["bdf"] == "0000:02:00.0":
        x["driver"] = x["driver_module"] = "mpt3sas"
json.dump(d, open(sys.argv[4], "w"), indent=2, sort_keys=True)
EOF
	"$PCISNAP" diff pve-ws-01 "$T/after-held.json" --store "$S" >"$T/held.txt" || true
	grep -q "preflight prediction for $KVER: held" "$T/held.txt" && ok "diff: the prediction held" ||
		{ not_ok "diff: the prediction held"; cat "$T/held.txt"; }
	"$PCISNAP" diff pve-ws-01 "$T/after-missed.json" --store "$S" >"$T/missed.txt" || true
	grep -q "0000:02:00.0: predicted vfio_pci, bound to mpt3sas: MISSED" "$T/missed.txt" &&
		ok "diff: the prediction missed, for the HBA" ||
		{ not_ok "diff: the prediction missed"; cat "$T/missed.txt"; }
	"$PCISNAP" diff pve-ws-01 "$T/after-missed.json" --store "$S" --format json >"$T/missed.json" || true
	expect missed "diff --format json: preflight.held false" \
		'd["preflight"]["held"] is False and d["schema"] == "pcisnap.diff/1"'
	no_leftovers record

	# the hooks: loud on a predicted regression, never failing the installation unless
	# the configuration says gate = preflight
	H=$(dirname "$PCISNAP")/hooks
	hook() { # EXPECTED-RC NAME HOOK ARGS...
		local want=$1 name=$2 h=$3 rc=0
		shift 3
		PCISNAP_HOOK=$H/pcisnap-preflight-hook PCISNAP_ROOT=$R PCISNAP_CONF=$T/pcisnap.conf \
			PCISNAP_STORE=$T/hook-store "$H/$h" "$@" >"$T/hook.out" 2>"$T/hook.err" || rc=$?
		if [ "$rc" = "$want" ]; then ok "hook $name: exit $rc"; else
			not_ok "hook $name: exit $rc, wanted $want"
			cat "$T/hook.out" "$T/hook.err"
		fi
	}
	: >"$T/pcisnap.conf"
	hook 0 "post-update, vfio missing" initramfs-post-update "$KVER" "$T/novfio.img"
	grep -q "PASSTHROUGH WILL BREAK after reboot into $KVER" "$T/hook.err" &&
		grep -q "will be claimed by mpt3sas" "$T/hook.err" && ok "hook: said loudly" ||
		not_ok "hook: said loudly"
	"$PCISNAP" hosts --store "$T/hook-store" | grep -q pve-ws-01 &&
		ok "hook: the snapshot and its prediction kept" || not_ok "hook: nothing kept"
	printf '# pcisnap\ngate = preflight\n' >"$T/pcisnap.conf"
	hook 1 "post-update, gate = preflight" initramfs-post-update "$KVER" "$T/novfio.img"
	hook 0 "postinst.d, the good image (boot/initrd.img-VER)" zz-pcisnap "$KVER"
	grep -q "PASS" "$T/hook.out" && ok "hook: the prediction printed" || not_ok "hook: printed"
	hook 1 "kernel-install add, gated" 90-pcisnap.install add "$KVER" "$T/entry" \
		/boot/vmlinuz "$T/novfio.img"
	hook 0 "kernel-install remove: nothing to do" 90-pcisnap.install remove "$KVER"
	head -c 100000 "$T/good.img" >"$T/cut.img"
	hook 0 "an unreadable image is not a regression, even gated" initramfs-post-update \
		"$KVER" "$T/cut.img"
fi

# hostile and odd images: a clear word, exit 3, nothing written outside TMPDIR
K=${KVER:-6.1.0-test}
python3 "$SNAP_SOURCE_DIR/tests/tools/mkcpio.py" "$T/dotdot.img" "../../../evil=x" \
	"usr/lib/modules/$K/../../../../../evil2=x" "etc/modprobe.d/link.conf@link=/etc/passwd" \
	"usr/lib/modules/$K/modules.dep=" "./etc/modprobe.d/ok.conf=options vfio-pci ids=1:2\n"
pf 3 dotdot --initramfs "$T/dotdot.img" --kernel "$K" --cmdline "intel_iommu=on iommu=pt" ||
	true
expect dotdot "the '..' names resolved inside the root, as the VFS resolves them" \
	'not any("not a name" in w for w in d["initramfs"]["warnings"])'
[ ! -e "$T/evil" ] && [ ! -e "$T/evil2" ] && [ ! -e /evil ] && [ ! -e /evil2 ] &&
	ok "dotdot: nothing written outside" || not_ok "dotdot: a file escaped"
no_leftovers dotdot

head -c 4096 /dev/urandom | tr '\0' '\1' >"$T/garbage"
python3 "$SNAP_SOURCE_DIR/tests/tools/mkcpio.py" "$T/early-only.cpio" "kernel/x86/microcode/AuthenticAMD.bin=abc"
cat "$T/early-only.cpio" "$T/garbage" >"$T/unknown.img"
pf 3 unknown-compression --initramfs "$T/unknown.img" --kernel "$K" --cmdline "intel_iommu=on"
expect unknown-compression "cannot tell, after the early archive was read" \
	'not d["conclusive"] and d["initramfs"]["segments"][0]["compression"] == "none" and check("initramfs", "WARN")'

python3 "$SNAP_SOURCE_DIR/tests/tools/mkcpio.py" "$T/huge.img" --declare-size 4000000000 \
	"usr/lib/modules/$K/modules.alias=abc"
pf 3 huge-member --initramfs "$T/huge.img" --kernel "$K" --cmdline "intel_iommu=on"
expect huge-member "a member declaring 4 GB: not read" \
	'not d["conclusive"] and any("not read" in w for w in d["initramfs"]["warnings"])'
no_leftovers huge

if [ "$real" = 1 ]; then
	head -c $(($(stat -c %s "$T/good.img") / 2)) "$T/good.img" >"$T/truncated.img"
	pf 3 truncated --initramfs "$T/truncated.img"
	expect truncated "a truncated image: cannot tell, and why" \
		'not d["conclusive"] and any("cannot tell what the initramfs does" in m for m in check("initramfs", "WARN"))'
	grep -q "^cannot tell: the initramfs" "$T/truncated.txt" && ok "truncated: said in text" ||
		not_ok "truncated: said in text"
	rc=0
	"$PCISNAP" preflight --root "$R" --initramfs "$T/truncated.img" --allow-inconclusive \
		>/dev/null 2>&1 || rc=$?
	[ "$rc" = 0 ] && ok "truncated: --allow-inconclusive turns 3 into 0" ||
		not_ok "truncated: --allow-inconclusive: exit $rc"
	no_leftovers truncated
fi

if [ "$real" = 1 ]; then
	# the command line by the kernel's own parsers, on an AMD host (amd-epyc): intel_iommu= means
	# nothing to it, amd_iommu=off anywhere turns it off, intel_iommu=on then igfx_off stays on
	RA=$T/root-amd
	$MKROOT amd-epyc "$RA" >/dev/null
	mkdir -p "$RA/lib/modules/$KVER" && cp /lib/modules/"$KVER"/modules.* "$RA/lib/modules/$KVER/"
	pfa() { # NAME CMDLINE: preflight of the AMD root with this next command line
		"$PCISNAP" preflight --root "$RA" --format json --initramfs "$T/good.img" \
			--kernel "$KVER" --cmdline "$2" >"$T/$1.json" 2>"$T/$1.err" || true
	}
	pfa amd-intel-off "amd_iommu=on intel_iommu=off iommu=pt"
	expect amd-intel-off "intel_iommu=off on an AMD host: no cmdline FAIL" 'not check("cmdline", "FAIL")'
	pfa amd-off-later "iommu=pt amd_iommu=off amd_iommu=fullflush"
	expect amd-off-later "amd_iommu=off then amd_iommu=fullflush: still off (FAIL)" \
		'any("amd_iommu=off" in m for m in check("cmdline", "FAIL"))'
	# vfio-pci's own refusal: the VM names the ConnectX-5 PF (VFs enabled), its id is covered
	# and a softdep loads vfio-pci first after the switch: vfio_pci_probe() returns -EBUSY
	RP=$T/root-pf
	$MKROOT sriov-pf-named "$RP" >/dev/null
	mkdir -p "$RP/lib/modules/$KVER" "$RP/etc/modprobe.d" && cp /lib/modules/"$KVER"/modules.* "$RP/lib/modules/$KVER/"
	printf 'options vfio-pci ids=15b3:1017\nsoftdep mlx5_core pre: vfio-pci\n' >"$RP/etc/modprobe.d/vfio.conf"
	"$PCISNAP" preflight --root "$RP" --format json --initramfs "$T/novfio.img" --kernel "$KVER" \
		--cmdline "amd_iommu=on iommu=pt" >"$T/pf-refused.json" 2>/dev/null || true
	expect pf-refused "a PF with VFs enabled: vfio-pci refuses it, FAIL" \
		'dev("0000:41:00.0")["status"] == "FAIL" and "SR-IOV PF with VFs enabled" in dev("0000:41:00.0")["message"] and dev("0000:41:00.0")["predicted"] is None'
	# module_blacklist= (kernel/module/main.c blacklisted()): the kernel refuses to load vfio_pci
	pf 1 module-blacklist --initramfs "$T/good.img" --cmdline "quiet intel_iommu=on iommu=pt module_blacklist=vfio_pci"
	expect module-blacklist "module_blacklist=vfio_pci: mpt3sas takes the HBA, FAIL" \
		'dev("'$HBA'")["predicted"] == "mpt3sas" and dev("'$HBA'")["status"] == "FAIL"'
	pf 0 intel-igfx-off --initramfs "$T/good.img" --cmdline "quiet intel_iommu=on iommu=pt intel_iommu=igfx_off"
	expect intel-igfx-off "intel_iommu=on then intel_iommu=igfx_off: on (PASS)" 'not check("cmdline", "FAIL")'
	pf 1 intel-on-then-off --initramfs "$T/good.img" --cmdline "quiet intel_iommu=on iommu=pt intel_iommu=off"
	expect intel-on-then-off "intel_iommu=on then intel_iommu=off: off (FAIL)" \
		'any("intel_iommu=off is last" in m for m in check("cmdline", "FAIL"))'
fi

if [ "$real" = 1 ]; then
	# libkmod indexes it would read out of bounds or loop in (a 12-byte modules.alias.bin
	# whose root is past its end; a node that is its own child): refused before libkmod sees
	# them, inconclusive within seconds
	for kind in past-end self-child; do
		RB=$T/root-$kind
		rm -rf "$RB" && cp -a "$R" "$RB"
		python3 - "$RB/lib/modules/$KVER/modules.alias.bin" "$kind" <<'PY'
import struct, sys
path, kind = sys.argv[1:3]
head = struct.pack(">II", 0xB007F457, 0x00020001)
if kind == "past-end":
    data = head + struct.pack(">I", 0x7FFFFFFF)
else:  # root at 12: children 'a'..'a', the only child the root itself
    data = head + struct.pack(">I", 0x2000000C) + b"aa" + struct.pack(">I", 0x2000000C)
open(path, "wb").write(data)
PY
		rc=0
		start=$(date +%s)
		timeout 20 "$PCISNAP" preflight --root "$RB" --initramfs "$T/good.img" >"$T/idx-$kind.txt" 2>&1 || rc=$?
		[ "$rc" = 3 ] && [ $(($(date +%s) - start)) -le 5 ] &&
			grep -q "modules.alias.bin: " "$T/idx-$kind.txt" &&
			ok "index $kind: inconclusive at once, the index named" ||
			not_ok "index $kind: exit $rc $(head -5 "$T/idx-$kind.txt")"
		rm -rf "$RB"
	done
fi

if [ "$real" = 1 ]; then
	# the image as init/initramfs.c unpacks it: a later member of another type at a module's
	# name removes it (clean_path()), "." and ".." in names resolve as the VFS resolves them,
	# an empty vfio-pci.ko loads nothing
	M=usr/lib/modules/$KVER
	KO=$M/kernel/drivers/vfio/pci/vfio-pci.ko
	idx=""
	for f in modules.dep modules.dep.bin modules.alias.bin modules.builtin.bin modules.builtin \
		modules.softdep modules.symbols.bin; do
		[ -e "/lib/modules/$KVER/$f" ] && idx="$idx $M/$f</lib/modules/$KVER/$f"
	done
	crafted() { # NAME EXPECTED-VFIO_PCI MEMBERS...
		local name=$1 want=$2
		shift 2
		# shellcheck disable=SC2086
		python3 "$SNAP_SOURCE_DIR/tests/tools/mkcpio.py" "$T/$name.img" $idx "$@"
		"$PCISNAP" preflight --root "$R" --format json --initramfs "$T/$name.img" \
			>"$T/$name.json" 2>"$T/$name.err" || true
		expect "$name" "vfio_pci in the image: $want" \
			'd["initramfs"]["vfio"]["vfio_pci"] is '"$want"
	}
	crafted ko-then-symlink False "$KO=not-empty" "$KO@link=/dev/null"
	crafted ko-then-dir False "$KO=not-empty" "$KO/"
	crafted ko-empty False "$KO="
	crafted ko-empty-then-data True "$KO=" "$KO=not-empty"
	crafted ko-dotted True "$M/kernel/drivers/vfio/pci/../pci/./vfio-pci.ko=not-empty"
	# symlinks along a member's path are followed, as the VFS's path walk follows them
	# (merged /usr: lib -> usr/lib); a symlink member onto a directory that is not empty
	# removes nothing (clean_path()'s rmdir fails) and is not created
	crafted via-symlink True "lib@link=usr/lib" "lib/modules/$KVER/kernel/drivers/vfio/pci/vfio-pci.ko=not-empty"
	crafted symlink-onto-full-dir True "$KO=" "$M/kernel/drivers/vfio/pci@link=/nowhere" "$KO=not-empty"
	crafted symlink-onto-parent False "$M/kernel/drivers/vfio/pci@link=/nowhere" "$KO=not-empty"
	# hard links as maybe_link() makes them (find_link(): the same ino, major, minor and type
	# earlier in the same archive): GNU cpio gives the data to the group's last member, and the
	# earlier names see it (the link is opened without O_TRUNC, vfs_truncate() to the body); a
	# group whose data never comes leaves an empty module; a directory member carrying data is
	# skipped by do_header(), and the module below it has no directory to be created in
	crafted hardlink-data-last True "$KO%77:2=" "$M/kernel/drivers/vfio/pci/alias.ko%77:2=not-empty"
	crafted hardlink-data-first True "$KO%77:2=not-empty" "$M/kernel/drivers/vfio/pci/alias.ko%77:2="
	crafted hardlink-never-filled False "$KO%77:2="
	crafted dir-with-data False "$M/kernel/drivers/vfio/pci/%data" "$KO=not-empty"
	"$PCISNAP" preflight --root "$R" --format json --list-files --initramfs "$T/hardlink-data-last.img" \
		>"$T/hardlink-files.json" 2>/dev/null || true
	$VALIDATE "$SNAP_SOURCE_DIR/schema/preflight.v1.schema.json" "$T/hardlink-files.json" >/dev/null 2>&1 &&
		ok "hardlink-files: schema" || not_ok "hardlink-files: schema"
	expect hardlink-files "--list-files: both names of the group hold the data's 9 bytes" \
		'all(d["initramfs"]["files"]["'"$M"'/kernel/drivers/vfio/pci/" + n] == {"type": "f", "size": 9} for n in ("vfio-pci.ko", "alias.ko"))'
	"$PCISNAP" preflight --root "$R" --list-files --initramfs "$T/hardlink-data-last.img" \
		>"$T/hardlink-files.txt" 2>/dev/null || true
	check "--list-files, text: a line per name, sorted" \
		grep -q "^f          9 $KO\$" "$T/hardlink-files.txt"
	# find_link()'s table is emptied at each TRAILER!!! (free_hash()): no link across archives
	python3 "$SNAP_SOURCE_DIR/tests/tools/mkcpio.py" "$T/hl1.cpio" $idx "$KO%77:2="
	python3 "$SNAP_SOURCE_DIR/tests/tools/mkcpio.py" "$T/hl2.cpio" "$M/kernel/drivers/vfio/pci/alias.ko%77:2=not-empty"
	cat "$T/hl1.cpio" "$T/hl2.cpio" >"$T/hardlink-two-archives.img"
	"$PCISNAP" preflight --root "$R" --format json --initramfs "$T/hardlink-two-archives.img" \
		>"$T/hardlink-two-archives.json" 2>/dev/null || true
	expect hardlink-two-archives "no hard link across two archives: vfio_pci stays empty" \
		'd["initramfs"]["vfio"]["vfio_pci"] is False' 

	# several archives, as init/initramfs.c unpack_to_rootfs() takes them one after the other
	# shellcheck disable=SC2086
	python3 "$SNAP_SOURCE_DIR/tests/tools/mkcpio.py" "$T/idx.cpio" $idx
	python3 "$SNAP_SOURCE_DIR/tests/tools/mkcpio.py" "$T/ko.cpio" "$KO=not-empty"
	python3 "$SNAP_SOURCE_DIR/tests/tools/mkcpio.py" "$T/ko-nodirs.cpio" --no-dirs "$KO=not-empty"
	multi() { # NAME EXPECTED-VFIO_PCI STOPPED-REASON|- : the image already at $T/NAME.img
		local name=$1 want=$2 why=$3
		"$PCISNAP" preflight --root "$R" --format json --initramfs "$T/$name.img" \
			>"$T/$name.json" 2>"$T/$name.err" || true
		expect "$name" "vfio_pci in the image: $want, stopped: $why" \
			'd["initramfs"]["vfio"]["vfio_pci"] is '"$want"' and (d["initramfs"].get("stopped") or {}).get("reason", "-") == "'"$why"'"'
	}
	for z in zstd gzip; do
		$z -q -c "$T/idx.cpio" >"$T/idx.$z" && $z -q -c "$T/ko.cpio" >"$T/ko.$z"
		cat "$T/idx.$z" "$T/ko.$z" >"$T/two-$z.img"
		multi "two-$z" True -
		cat "$T/idx.cpio" "$T/ko.cpio" | $z -q -c >"$T/one-stream-two-archives-$z.img"
		multi "one-stream-two-archives-$z" True -
	done
	expect two-zstd "two zstd streams: one frame each, the second where the first ends" \
		'[(s["compression"], s["offset"], "stream_offset" in s) for s in d["initramfs"]["segments"]] == [("zstd", 0, False), ("zstd", '"$(stat -c %s "$T/idx.zstd")"', False)]'
	expect one-stream-two-archives-zstd "two archives in one stream: the second after the first" \
		'[(s["compression"], s["offset"], "stream_offset" in s) for s in d["initramfs"]["segments"]] == [("zstd", 0, False), ("zstd", 0, True)]'
	cat "$T/idx.cpio" "$T/ko.cpio" >"$T/two-plain.img"
	multi two-plain True -
	{ cat "$T/idx.cpio"; printf '\0'; cat "$T/ko.cpio"; } >"$T/broken-padding.img"
	multi broken-padding False "broken padding"
	{ cat "$T/idx.cpio"; printf '\0'; zstd -q -c "$T/ko.cpio"; } >"$T/broken-padding-zstd.img"
	multi broken-padding-zstd False "broken padding"
	{ cat "$T/idx.cpio"; printf '\0\0\0\0'; zstd -q -c "$T/ko.cpio"; } >"$T/padded-zstd.img"
	multi padded-zstd True -
	{ cat "$T/idx.cpio"; printf 'junk'; } >"$T/junk-after.img"
	multi junk-after False "invalid magic at start of compressed archive"
	{ cat "$T/idx.cpio" "$T/ko.cpio"; printf 'junk'; } | zstd -q -c >"$T/junk-in-stream.img"
	multi junk-in-stream True "junk within compressed archive"
	cat "$T/idx.cpio" "$T/ko-nodirs.cpio" >"$T/no-parent.img"
	multi no-parent False -
	expect no-parent "a member whose directory is missing: not created, said" \
		'any("its directory does not exist" in w for w in d["initramfs"]["warnings"])'
	expect broken-padding "the kernel's stop is a WARN with its words" \
		'any("broken padding" in m and "Initramfs unpacking failed" in m for m in check("initramfs", "WARN"))'
fi

if [ "$real" = 1 ] && [ -e /boot/config-"$KVER" ]; then
	# the boot GPU to vfio-pci (boot-gpu-passthrough: the only GPU): the firmware framebuffer
	# Debian's kernel builds in (efifb, vesafb) is removed by its vfio-pci, which calls
	# aperture_remove_conflicting_pci_devices(); with a vfio-pci that does not, a WARN naming
	# the fix; initcall_blacklist=sysfb_init keeps them off; the host loses its only console
	RG=$T/root-gpu
	$MKROOT boot-gpu-passthrough "$RG" >/dev/null
	mkdir -p "$RG/lib/modules/$KVER/kernel/drivers/vfio/pci" "$RG/boot"
	cp /lib/modules/"$KVER"/modules.* "$RG/lib/modules/$KVER/"
	cp /boot/config-"$KVER" "$RG/boot/"
	cp /lib/modules/"$KVER"/kernel/drivers/vfio/pci/* "$RG/lib/modules/$KVER/kernel/drivers/vfio/pci/"
	pfg() { # NAME CMDLINE
		"$PCISNAP" preflight --root "$RG" --format json --initramfs "$T/good.img" --kernel "$KVER" \
			--cmdline "$2" >"$T/$1.json" 2>"$T/$1.err" || true
	}
	pfg fb-kicked "intel_iommu=on iommu=pt"
	expect fb-kicked "the only GPU to vfio-pci: framebuffer PASS (vfio-pci removes it), console WARN" \
		'check("framebuffer", "PASS") and "aperture_remove_conflicting_pci_devices" in check("framebuffer", "PASS")[0] and check("console", "WARN")'
	for ko in "$RG/lib/modules/$KVER/kernel/drivers/vfio/pci/"*; do
		python3 -c 'import sys; p=sys.argv[1]; d=open(p,"rb").read().replace(b"aperture_remove_conflicting_pci_devices", b"aperture_remove_conflicting_xxx_devices"); open(p,"wb").write(d)' "$ko"
	done
	pfg fb-held "intel_iommu=on iommu=pt"
	expect fb-held "a vfio-pci that does not remove it: WARN, BAR 0 and the fix named" \
		'check("framebuffer", "WARN") and "BAR 0: can'"'"'t reserve" in check("framebuffer", "WARN")[0] and "initcall_blacklist=sysfb_init" in check("framebuffer", "WARN")[0]'
	pfg fb-off "intel_iommu=on iommu=pt initcall_blacklist=sysfb_init"
	expect fb-off "initcall_blacklist=sysfb_init: no framebuffer driver holds it" \
		'check("framebuffer", "PASS") and "none built into" in check("framebuffer", "PASS")[0]'
	pfg fb-video-off "intel_iommu=on iommu=pt video=efifb:off video=vesafb:off"
	expect fb-video-off "video=efifb:off and video=vesafb:off (Debian builds no simplefb for sysfb): PASS" \
		'check("framebuffer", "PASS") and not check("framebuffer", "WARN")'
	pf 0 fb-not-boot-gpu --initramfs "$T/good.img"
	expect fb-not-boot-gpu "pve-intel (the iGPU is the boot GPU): neither check" \
		'not check("framebuffer", "PASS") and not check("framebuffer", "WARN") and not check("console", "WARN")'
fi

# an initramfs path that is a FIFO, a device or a huge sparse file: refused or inconclusive at once
mkfifo "$T/fifo.img"
for bad in "$T/fifo.img" /dev/zero; do
	rc=0
	timeout 10 "$PCISNAP" preflight --root "$R" --initramfs "$bad" >/dev/null 2>"$T/err" || rc=$?
	[ "$rc" = 2 ] && grep -q "not a regular file" "$T/err" && ok "$bad: exit 2, not a regular file" ||
		not_ok "$bad: exit $rc $(cat "$T/err")"
done
truncate -s 20G "$T/sparse.img"
rc=0
timeout 10 "$PCISNAP" preflight --root "$R" --initramfs "$T/sparse.img" >"$T/sparse.txt" 2>&1 || rc=$?
[ "$rc" = 3 ] && grep -q "larger than any initramfs" "$T/sparse.txt" && ok "a 20 GB sparse image: exit 3 at once" ||
	not_ok "a 20 GB sparse image: exit $rc"
rm -f "$T/sparse.img" "$T/fifo.img"

# usage errors: exit 2 and one line
rc=0
"$PCISNAP" preflight --root "$R" --kernel 9.9.9-none >/dev/null 2>"$T/err" || rc=$?
[ "$rc" = 2 ] && grep -q "^pcisnap: kernel 9.9.9-none is not installed" "$T/err" &&
	ok "an unknown --kernel: exit 2" || not_ok "an unknown --kernel: exit $rc $(cat "$T/err")"
rc=0
"$PCISNAP" preflight --root "$R" --initramfs "$T/none.img" >/dev/null 2>"$T/err" || rc=$?
[ "$rc" = 2 ] && [ "$(wc -l <"$T/err")" = 1 ] && ok "a missing --initramfs: exit 2, one line" ||
	not_ok "a missing --initramfs: exit $rc $(cat "$T/err")"
finish
