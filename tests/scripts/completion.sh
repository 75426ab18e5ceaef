#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0-or-later
# The bash completion: commands, options, formats, and the store's hosts and labels.
. "$(dirname "$0")/lib.bash"
cd "$T"
mkdir bin && ln -s "$PCISNAP" bin/pcisnap
export PATH="$T/bin:$PATH"
$MKROOT pve-intel a
"$PCISNAP" collect --root a --store st --label before 2>/dev/null
"$PCISNAP" collect --root a --host web-07 --store st 2>/dev/null
complete_line() { # complete_line WORDS...: what completing the last word offers
	bash -c '. "$1"; shift; COMP_WORDS=("$@"); COMP_CWORD=$((${#COMP_WORDS[@]} - 1)); _pcisnap; printf "%s\n" "${COMPREPLY[@]}"' \
		_ "$SNAP_SOURCE_DIR/contrib/completion/pcisnap.bash" "$@" | sort | tr '\n' ' '
}
check "commands" test "$(complete_line pcisnap di)" = "diff "
check "every command" test "$(complete_line pcisnap '' | wc -w)" -ge 13
check "diff options" grep -q -- '--fail-on' <<<"$(complete_line pcisnap diff --f)"
check "show formats" test "$(complete_line pcisnap show --format t)" = "text tree "
check "log formats" test "$(complete_line pcisnap log --format j)" = "json jsonl "
check "hosts and labels of --store" test "$(complete_line pcisnap diff --store st '')" != ""
check "HOST@LABEL" grep -q 'pve-ws-01@before' <<<"$(complete_line pcisnap diff --store st pve)"
check "a host by prefix" grep -q 'web-07' <<<"$(complete_line pcisnap show --store st we)"
check "log takes hosts, not labels" test "$(complete_line pcisnap log --store st pve)" = "pve-ws-01 "
check "boot's subcommands" test "$(complete_line pcisnap boot s)" = "start stop "
check "boot --gate policies" test "$(complete_line pcisnap boot start --gate r)" = "regression "
check "check --format prometheus" test "$(complete_line pcisnap check --format p)" = "prometheus "
check "help takes commands" test "$(complete_line pcisnap help fl)" = "fleet "
finish
