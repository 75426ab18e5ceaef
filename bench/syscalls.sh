#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0-or-later
# bench/syscalls.sh PCISNAP [N]: system calls of `collect` on the generated N-device host
# (default 1000) and of `lspci -vvv` on the same root, counted by strace -f -c: a figure that
# does not depend on the machine's load. Prints the totals, the per-device figure and the
# calls that dominate.
set -euo pipefail
P=$(realpath "$1"); N=${2:-1000}
T=$(mktemp -d); trap 'rm -rf "$T"' EXIT
python3 "$(dirname "$0")/genhost.py" "$N" "$T/root" >/dev/null
devices=$(ls "$T/root/sys/bus/pci/devices" | wc -l)
strace -f -c -o "$T/collect.txt" "$P" collect --root "$T/root" -o "$T/s.json"
strace -f -c -o "$T/lspci.txt" lspci -A linux-sysfs -O "sysfs.path=$T/root/sys/bus/pci" -vvv \
	>/dev/null 2>&1 || true
total() { awk '$NF == "total" {print $(NF-2)}' "$1"; }
c=$(total "$T/collect.txt") l=$(total "$T/lspci.txt")
echo "| what | system calls | per device |"
echo "|---|---|---|"
printf '| collect, %d devices | %d | %.1f |\n' "$devices" "$c" "$(echo "$c / $devices" | bc -l)"
printf '| lspci -vvv, same root | %d | %.1f |\n' "$l" "$(echo "$l / $devices" | bc -l)"
echo
echo "collect, the calls that dominate:"
sed -n '3,10p' "$T/collect.txt" | awk '{printf "  %-12s %s\n", $NF, $4}'
