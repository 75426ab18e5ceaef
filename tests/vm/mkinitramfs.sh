#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0-or-later
# Build the real-kernel lab's initramfs: busybox, the freshly built pcisnap with the shared
# libraries ldd names and those it loads on first use, kmod (modprobe), lspci and pci.ids, the kernel modules the topologies need
# (with modules.dep from depmod), and tests/vm/init.
#
#   mkinitramfs.sh PCISNAP KVER OUT.cpio.gz
set -euo pipefail
pcisnap=$1 kver=$2 out=$3
here=$(cd "$(dirname "$0")" && pwd)
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
r=$work/root

mkdir -p "$r"/{bin,sbin,etc,proc,sys,dev,tmp,out,usr/share/misc,lib/modules/"$kver"}
cp /bin/busybox "$r/bin/busybox"
for app in $(/bin/busybox --list); do
	case $app in busybox | modprobe | insmod | lsmod | rmmod | depmod | modinfo) continue ;; esac
	ln -sf busybox "$r/bin/$app"
done

# binaries with their shared libraries and the dynamic loader
copy_elf() {
	local src=$1 dst=$2 lib
	install -D -m 0755 "$src" "$r/$dst"
	for lib in $(ldd "$src" | awk '/=> \// { print $3 } /^\t\/lib/ { print $1 }'); do
		[ -e "$r$lib" ] || install -D -m 0755 "$lib" "$r$lib"
	done
}
copy_elf "$pcisnap" bin/pcisnap
copy_elf /usr/bin/kmod bin/kmod
copy_elf "$(command -v lspci)" bin/lspci
for app in modprobe insmod lsmod rmmod modinfo; do ln -sf kmod "$r/bin/$app"; done
# usrmerge: /lib64 is where the loader is asked for
if [ -e /lib64/ld-linux-x86-64.so.2 ] && [ ! -e "$r/lib64/ld-linux-x86-64.so.2" ]; then
	install -D -m 0755 /lib64/ld-linux-x86-64.so.2 "$r/lib64/ld-linux-x86-64.so.2"
fi
cp /usr/share/misc/pci.ids "$r/usr/share/misc/pci.ids"

# modules: the vfio stack, the emulated devices' drivers, and enough others that /proc/modules
# and /proc/interrupts are longer than one page, as on any real host
mods="vfio vfio_iommu_type1 vfio_pci vfio_pci_core e1000e e1000 8139too nvme ahci
	snd_hda_intel xhci_pci ehci_pci uhci_hcd virtio_pci virtio_net virtio_blk
	pcnet32 ne2k_pci i6300esb megaraid_sas sym53c8xx mptsas vmxnet3 igb ixgbe
	tg3 bnx2 r8169 8139cp sky2 tulip via_rhine sis900 atl1c alx bnxt_en
	mlx4_core usb_storage uas sd_mod sr_mod loop dm_mod raid1 raid0 crc32c_generic
	xfs btrfs ext4 vfat nls_utf8 nls_cp437 isofs udf fuse overlay squashfs
	nf_tables bridge 8021q bonding tun veth macvlan vxlan kvm kvm_intel"
mdir=/lib/modules/$kver
# aer_inject: in the image for lab.inject=, loaded only by the boots that inject
for m in $mods aer_inject; do
	# modprobe resolves names, aliases and dependencies exactly as the guest will
	modprobe -S "$kver" --show-depends "$m" 2>/dev/null | awk '$1 == "insmod" { print $2 }'
done | sort -u | while read -r ko; do
	install -D -m 0644 "$ko" "$r$ko"
done
cp "$mdir"/modules.builtin "$mdir"/modules.builtin.modinfo "$mdir"/modules.order "$r$mdir/"
depmod -b "$r" "$kver"
printf '%s\n' $mods >"$r/etc/lab-modules"

install -m 0755 "$here/init" "$r/init"
(cd "$r" && find . -print0 | sort -z | cpio --null -o -H newc --quiet) | gzip -1 >"$out"
