#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0-or-later
# pull takes only what keeps the store's rules: every fetched branch, tag and commit is checked
# before a local ref moves, and a refused pull leaves the local store exactly as it was.
. "$(dirname "$0")/lib.bash"
export GIT_AUTHOR_NAME=mallory GIT_AUTHOR_EMAIL=m@example.invalid GIT_COMMITTER_NAME=mallory \
	GIT_COMMITTER_EMAIL=m@example.invalid
$MKROOT pve-intel "$T/root"
SOURCE_DATE_EPOCH=100 "$PCISNAP" collect --root "$T/root" --host web-01 --store "$T/src" >/dev/null
"$PCISNAP" pull --store "$T/local" "$T/src"
check "a clean pull works" test "$(git -C "$T/local" rev-list --count refs/heads/web-01)" = 1
check "pulling again changes nothing" "$PCISNAP" pull --store "$T/local" "$T/src"
refs() { git -C "$T/local" for-each-ref --format='%(refname) %(objectname)' | grep -v '^refs/pcisnap/'; }
refs >"$T/before"

# refused: REMOTE_SETUP runs in a fresh copy of the source store
refused() { # refused WHAT WORDS-IN-ERROR
	local what=$1 words=$2 rc
	set +e
	"$PCISNAP" pull --store "$T/local" "$T/evil" 2>"$T/err"; rc=$?
	set -e
	check "$what: exit 2" test "$rc" = 2
	check "$what: says why" grep -q "$words" "$T/err"
	check "$what: one line" test "$(wc -l <"$T/err")" = 1
	refs >"$T/after"
	check "$what: local store untouched" cmp -s "$T/before" "$T/after"
	check "$what: nothing left in quarantine" test -z "$(git -C "$T/local" for-each-ref refs/pcisnap/)"
}
fresh() { rm -rf "$T/evil"; cp -a "$T/src" "$T/evil"; }
tip() { git -C "$T/evil" rev-parse refs/heads/web-01; }

# a commit message claiming a verdict its snapshot does not give
fresh
msg=$(git -C "$T/evil" log -1 --format=%B web-01 | sed 's/^check: .*/check: PASS/; s/^model: .*/model: forged/')
c=$(git -C "$T/evil" commit-tree "$(tip)^{tree}" -p "$(tip)" -m "$msg")
git -C "$T/evil" update-ref refs/heads/web-01 "$c"
refused "forged commit message" "refusing the pull"

# host names that break the store's rules
for bad in -rf a/b; do
	fresh
	git -C "$T/evil" update-ref "refs/heads/$bad" "$(tip)"
	refused "branch '$bad'" "not a host name"
done

# a tag outside HOST/LABEL, and one naming another host's snapshot
fresh
git -C "$T/evil" update-ref refs/tags/release "$(tip)"
refused "tag outside the label scheme" "not HOST/LABEL"
fresh
git -C "$T/evil" update-ref refs/heads/web-02 "$(tip)"
refused "branch holding another host's snapshot" "another host"

# a commit whose snapshot is not a snapshot
fresh
blob=$(printf '{}\n' | git -C "$T/evil" hash-object -w --stdin)
tree=$(printf '100644 blob %s\tsnapshot.json\n' "$blob" | git -C "$T/evil" mktree)
c=$(git -C "$T/evil" commit-tree "$tree" -p "$(tip)" -m "pcisnap: web-01")
git -C "$T/evil" update-ref refs/heads/web-01 "$c"
refused "commit with an invalid snapshot" "not a pcisnap snapshot"

# a commit dated in the future (it would read as collected "0m" ago forever)
fresh
c=$(GIT_AUTHOR_DATE='@4070908800 +0000' GIT_COMMITTER_DATE='@4070908800 +0000' \
	git -C "$T/evil" commit-tree "$(tip)^{tree}" -p "$(tip)" -m "$(git -C "$T/evil" log -1 --format=%B web-01)")
git -C "$T/evil" update-ref refs/heads/web-01 "$c"
refused "a commit dated 2099" "is dated 2099-01-01T00:00:00Z, more than 24 hours ahead"

# a commit dated otherwise than its snapshot says it was collected
fresh
blob=$(git -C "$T/evil" cat-file blob "$(tip):snapshot.json" | python3 -c '
import json, sys
d = json.load(sys.stdin); d["host"]["collected_at"] = "1999-01-01T00:00:00Z"
sys.stdout.write(json.dumps(d, indent=2, sort_keys=True) + "\n")' | git -C "$T/evil" hash-object -w --stdin)
tree=$(printf '100644 blob %s\tsnapshot.json\n' "$blob" | git -C "$T/evil" mktree)
c=$(GIT_AUTHOR_DATE='@200 +0000' git -C "$T/evil" commit-tree "$tree" -p "$(tip)" -m "pcisnap: web-01")
git -C "$T/evil" update-ref refs/heads/web-01 "$c"
refused "a commit dated otherwise than its collection" "dated otherwise than its snapshot was collected (1999-01-01T00:00:00Z)"

# entries beside snapshot.json are not carried
fresh
extra=$(printf 'x\n' | git -C "$T/evil" hash-object -w --stdin)
tree=$( (git -C "$T/evil" ls-tree "$(tip)"; printf '100644 blob %s\textra\n' "$extra") | git -C "$T/evil" mktree)
c=$(git -C "$T/evil" commit-tree "$tree" -p "$(tip)" -m "$(git -C "$T/evil" log -1 --format=%B web-01)")
git -C "$T/evil" update-ref refs/heads/web-01 "$c"
refused "a tree with an entry beside snapshot.json" "holds 2 tree entries: a store commit holds snapshot.json alone"

# a blob above the loader's bound is refused by its size, before it is inflated
fresh
blob=$(head -c $((65 << 20)) /dev/zero | git -C "$T/evil" hash-object -w --stdin)
tree=$(printf '100644 blob %s\tsnapshot.json\n' "$blob" | git -C "$T/evil" mktree)
c=$(git -C "$T/evil" commit-tree "$tree" -p "$(tip)" -m "pcisnap: web-01")
git -C "$T/evil" update-ref refs/heads/web-01 "$c"
refused "a 65 MiB snapshot.json" "holds a snapshot.json of 68157440 bytes, above the 64 MiB"

# history that does not continue the local one
fresh
SOURCE_DATE_EPOCH=300 "$PCISNAP" collect --root "$T/root" --host web-01 --store "$T/other" >/dev/null
rm -rf "$T/evil"; cp -a "$T/other" "$T/evil"
refused "diverged history" "does not continue"
finish
