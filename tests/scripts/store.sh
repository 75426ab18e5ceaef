#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0-or-later
# The store through the CLI, checked with the git CLI: layout, revisions, labels, log, hosts,
# bad stores left untouched.
. "$(dirname "$0")/lib.bash"
S=$T/store
$MKROOT pve-intel "$T/a"
$MKROOT acs-hidden "$T/b"
$MKROOT canary-peer "$T/c"
SOURCE_DATE_EPOCH=1000 "$PCISNAP" collect --root "$T/a" --store "$S" 2>"$T/out1"
SOURCE_DATE_EPOCH=2000 "$PCISNAP" collect --root "$T/a" --store "$S" --label pre-bios >"$T/out2"
SOURCE_DATE_EPOCH=3000 "$PCISNAP" collect --root "$T/b" --store "$S" >"$T/out3"
SOURCE_DATE_EPOCH=3000 "$PCISNAP" collect --root "$T/c" --store "$S" >/dev/null
check "collect says the commit on stderr" grep -Eq '^stored pve-ws-01 [0-9a-f]{40}$' "$T/out1"
check "store is a bare git repository" test "$(git -C "$S" rev-parse --is-bare-repository)" = true
check "store is marked" test "$(git -C "$S" config --get pcisnap.store)" = 1
check "git fsck is clean" git -C "$S" fsck --no-progress
check "one branch per host" test "$(git -C "$S" for-each-ref --format='%(refname)' refs/heads | tr '\n' ' ')" = "refs/heads/pve-ws-01 refs/heads/pve-ws-02 "
check "three snapshots of pve-ws-01" test "$(git -C "$S" rev-list --count refs/heads/pve-ws-01)" = 3
check "tree holds snapshot.json" test "$(git -C "$S" ls-tree --name-only pve-ws-01)" = snapshot.json
check "label is a tag under the host" git -C "$S" rev-parse -q --verify refs/tags/pve-ws-01/pre-bios
check "unchanged host reuses the blob and tree" test \
	"$(git -C "$S" rev-parse pve-ws-01~2^{tree})" = "$(git -C "$S" rev-parse pve-ws-01~1^{tree})"
check "stored snapshot leaves collected_at to the commit" sh -c "! git -C '$S' cat-file -p pve-ws-01:snapshot.json | grep -q collected_at"
check "commit message summarises" sh -c "git -C '$S' log -1 --format=%B pve-ws-01 | grep -q '^verdict: isolation_loss'"
check "commit time is the collection time" test "$(git -C "$S" log -1 --format=%ct pve-ws-01)" = 3000
# revisions everywhere
set +e
"$PCISNAP" diff --store "$S" pve-ws-01~1 pve-ws-01 >"$T/d1"; rc1=$?
"$PCISNAP" diff --store "$S" pve-ws-01@pre-bios pve-ws-01~1 >"$T/d2"; rc2=$?
"$PCISNAP" diff --store "$S" pve-ws-02 pve-ws-01@pre-bios >"$T/d3"; rc3=$?
id=$(git -C "$S" rev-parse --short=12 pve-ws-01~2)
"$PCISNAP" show --store "$S" "$id" >"$T/s1"; rc4=$?
PCISNAP_STORE=$S "$PCISNAP" check pve-ws-01~2 >"$T/c1"; rc5=$?
"$PCISNAP" show --store "$S" pve-ws-01~9 2>"$T/e1"; rc6=$?
"$PCISNAP" show --store "$S" nosuchhost 2>"$T/e2"; rc7=$?
set -e
check "diff HOST~1 HOST finds the regression (exit 1)" test "$rc1" = 1
check "HOST@LABEL resolves (exit 0, same snapshot content)" test "$rc2" = 0
check "canary against peer: harmless" test "$rc3" = 0
check "commit id prefix resolves" test "$rc4" = 0 -a -s "$T/s1"
check "PCISNAP_STORE is the default store" test "$rc5" = 0
check "HOST~N past the start: exit 2" test "$rc6" = 2 -a "$(wc -l <"$T/e1")" = 1
check "unknown host: exit 2" test "$rc7" = 2
PCISNAP_STORE="$T/dflt" SOURCE_DATE_EPOCH=5 "$PCISNAP" collect --root "$T/a" --store "" >/dev/null
check '--store "" commits into the default store' test "$(git -C "$T/dflt" rev-list --count pve-ws-01)" = 1
"$PCISNAP" log --store "$S" pve-ws-01 >"$T/log"
check "log: a header, then one line per snapshot" test "$(wc -l <"$T/log")" = 4
check "log shows the label" grep -q 'pre-bios' "$T/log"
check "log shows the verdict" grep -q 'isolation_loss (against' "$T/log"
"$PCISNAP" hosts --store "$S" >"$T/hosts"
check "hosts: one line per host with model and check" test "$(grep -c 'Supermicro X12SCA-F' "$T/hosts")" = 2
"$PCISNAP" label --store "$S" pve-ws-01~2 first-ever
check "label an older snapshot" git -C "$S" rev-parse -q --verify refs/tags/pve-ws-01/first-ever
set +e
"$PCISNAP" label --store "$S" pve-ws-01 first-ever 2>"$T/e3"; rc8=$?
set -e
check "duplicate label: exit 2" test "$rc8" = 2

# not a store, a plain git repository, a corrupt store: exit 2, one line, nothing changed
mkdir -p "$T/notstore" && echo data >"$T/notstore/file"
git init -q --bare "$T/plain.git"
cp -a "$S" "$T/corrupt"
tip=$(git -C "$T/corrupt" rev-parse pve-ws-01)
rm -f "$T/corrupt/objects/${tip:0:2}/${tip:2}" # the tip commit of a host is gone
for bad in notstore plain.git corrupt; do
	(cd "$T/$bad" && find . -printf '%p %s %T@\n' | sort) >"$T/before"
	set +e
	SOURCE_DATE_EPOCH=4000 "$PCISNAP" collect --root "$T/a" --store "$T/$bad" >/dev/null 2>"$T/err"; rc=$?
	"$PCISNAP" log --store "$T/$bad" >/dev/null 2>>"$T/err"; rc2=$?
	set -e
	(cd "$T/$bad" && find . -printf '%p %s %T@\n' | sort) >"$T/after"
	check "$bad: collect exits 2" test "$rc" = 2
	check "$bad: log exits 2" test "$rc2" = 2
	check "$bad: one pcisnap: line each" test "$(grep -c '^pcisnap: ' "$T/err")" = 2 -a "$(wc -l <"$T/err")" = 2
	check "$bad: nothing modified" cmp -s "$T/before" "$T/after"
done

# import keeps HOST the newest by collection time: an older snapshot goes into its history
$MKROOT consumer-noacs "$T/ord"
SOURCE_DATE_EPOCH=100 "$PCISNAP" collect --root "$T/ord" --host ord --store "$T/ordst" >/dev/null
SOURCE_DATE_EPOCH=300 "$PCISNAP" collect --root "$T/ord" --host ord --store "$T/ordst" >/dev/null
echo 0 >"$(readlink -f "$T/ord/sys/bus/pci/devices/0000:00:00.0")/numa_node" # a difference
SOURCE_DATE_EPOCH=200 "$PCISNAP" collect --root "$T/ord" --host ord -o "$T/ord200.json"
"$PCISNAP" export "$T/ord200.json" -o "$T/ord200.tar"
"$PCISNAP" import "$T/ord200.tar" --store "$T/ordst" >/dev/null
check "import of an older snapshot: HOST is still the newest" sh -c \
	"'$PCISNAP' show --format json --store '$T/ordst' ord | grep -q '\"collected_at\": \"1970-01-01T00:05:00Z\"'"
"$PCISNAP" log --store "$T/ordst" ord >"$T/ordlog"
check "log shows all three, newest first" test "$(tail -n +2 "$T/ordlog" | awk '{print $2}' | tr '\n' ' ')" = \
	"1970-01-01T00:05:00Z 1970-01-01T00:03:20Z 1970-01-01T00:01:40Z "
"$PCISNAP" import "$T/ord200.tar" --store "$T/ordst" >/dev/null
check "importing it again adds nothing" test "$("$PCISNAP" log --store "$T/ordst" ord --format jsonl | wc -l)" = 3
"$PCISNAP" pull --store "$T/ordcopy" "$T/ordst"
check "pull carries the imported history" test "$("$PCISNAP" log --store "$T/ordcopy" ord --format jsonl | wc -l)" = 3

# a store owned by another user: said so, with what to do (not "not a git repository")
if [ "$(id -u)" = 0 ]; then
	cp -a "$T/ordst" "$T/theirs" && chown -R nobody "$T/theirs"
	set +e
	"$PCISNAP" log --store "$T/theirs" >/dev/null 2>"$T/err"; rc=$?
	set -e
	check "another user's store: exit 2" test "$rc" = 2
	check "another user's store: says whose and what to do" grep -q "belongs to another user.*safe.directory" "$T/err"
else
	not_ok "another user's store: needs root to chown (run the suite as root, as CI does)"
fi

# a branch ref that is not a ref: hosts, log and fleet say so (exit 2), never leave it out
$MKROOT consumer-noacs "$T/g"
SOURCE_DATE_EPOCH=100 "$PCISNAP" collect --root "$T/g" --host good --store "$T/garbage" >/dev/null
echo garbage >"$T/garbage/refs/heads/bad"
for cmd in hosts log fleet; do
	set +e
	"$PCISNAP" $cmd --store "$T/garbage" >/dev/null 2>"$T/err"; rc=$?
	set -e
	check "garbage branch: $cmd exits 2" test "$rc" = 2
	check "garbage branch: $cmd names it" grep -q "branch 'bad' cannot be read" "$T/err"
done

# a full disk: exit 2, the reason said, the store as it was (tmpfs needs root)
trap 'umount "$T/full" 2>/dev/null || true; rm -rf "$T"' EXIT
if [ "$(id -u)" = 0 ] && mkdir -p "$T/full" && mount -t tmpfs -o size=160k tmpfs "$T/full"; then
	full_rc=0
	for i in $(seq 1 60); do
		(cd "$T/full" && find . -type f | sort | xargs -r sha256sum) >"$T/before-full" 2>/dev/null
		set +e
		SOURCE_DATE_EPOCH=$((5000 + i)) "$PCISNAP" collect --root "$T/g" --host "h$i" \
			--store "$T/full/st" >/dev/null 2>"$T/err"; full_rc=$?
		set -e
		[ "$full_rc" = 0 ] || break
	done
	check "full disk: exit 2" test "$full_rc" = 2
	check "full disk: says so" grep -q "No space left on device" "$T/err"
	check "full disk: refs as they were" git -C "$T/full/st" fsck --no-progress --connectivity-only
	umount "$T/full"
else
	not_ok "full disk: needs root to mount a small tmpfs (run the suite as root, as CI does)"
fi

# what the store records about a snapshot cannot be forged by the snapshot: a kernel release
# (or any field) with newlines does not add "check:"/"model:" lines that log and hosts trust
$MKROOT consumer-noacs "$T/inject"
printf '6.1.0\ncheck: PASS\nmodel: forged model\nverdict: harmless\n' >"$T/inject/proc/sys/kernel/osrelease"
SOURCE_DATE_EPOCH=100 "$PCISNAP" collect --root "$T/inject" --host injected --store "$T/inj" >/dev/null
"$PCISNAP" hosts --store "$T/inj" >"$T/hosts"
"$PCISNAP" log --store "$T/inj" injected >"$T/log"
"$PCISNAP" check --store "$T/inj" injected >/dev/null && real=PASS || real=FAIL
check "injected: hosts shows no forged model" sh -c "\"$PCISNAP\" hosts --store '$T/inj' --format jsonl | grep -q '\"model\": *\"[^\"]*\"' && ! \"$PCISNAP\" hosts --store '$T/inj' --format jsonl | grep -q '\"model\": *\"forged'"
check "injected: log shows the real check" sh -c "\"$PCISNAP\" log --store '$T/inj' injected --format jsonl | grep -q '\"check\": *\"$real\"'"
check "injected: the release is kept, escaped, in the message" \
	sh -c "git -C '$T/inj' log -1 --format=%B injected | grep -q '^kernel: 6.1.0\\\\x0acheck: PASS'"
check "injected: one kernel line in the message" \
	test "$(git -C "$T/inj" log -1 --format=%B injected | grep -c '^check: ')" = 1
# a hostname that is not UTF-8 (or no branch name): a clear word with the fix, never "corrupt"
$MKROOT pve-intel "$T/badname" >/dev/null
printf 'h\xff\xfeost\n' >"$T/badname/proc/sys/kernel/hostname"
set +e
"$PCISNAP" collect --root "$T/badname" --store "$T/badname-st" >/dev/null 2>"$T/badname.err"; rc=$?
set -e
check "a hostname no branch can have: exit 2, says --host, not 'corrupt'" sh -c "test $rc = 2 && grep -q 'collect with --host NAME' '$T/badname.err' && ! grep -q corrupt '$T/badname.err'"
check "and --host stores it" sh -c "'$PCISNAP' collect --root '$T/badname' --host renamed --store '$T/badname-st' >/dev/null 2>&1"
# import is idempotent even where a host's clock went back (its history's times too)
SOURCE_DATE_EPOCH=300 "$PCISNAP" collect --root "$T/badname" --host skew --store "$T/skew" >/dev/null 2>&1
$MKROOT kernel-no-vfio "$T/skew-root" >/dev/null
SOURCE_DATE_EPOCH=200 "$PCISNAP" collect --root "$T/skew-root" --host skew --store "$T/skew" >/dev/null 2>&1
"$PCISNAP" export --store "$T/skew" skew~1 -o "$T/skew300.tar" 2>/dev/null
"$PCISNAP" import --store "$T/skew" "$T/skew300.tar" >/dev/null 2>&1
check "re-importing a snapshot older in history but newer in time adds nothing" test "$("$PCISNAP" log --store "$T/skew" skew --format jsonl | wc -l)" = 2
finish
