#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0-or-later
# contrib/prometheus/pcisnap.rules.yml: valid (promtool check rules), each alert proven by
# promtool test rules on series as pcisnap writes them, and every metric it names is one
# pcisnap writes (check --format prometheus on a generated host).
. "$(dirname "$0")/lib.bash"
if ! command -v promtool >/dev/null; then
	not_ok "promtool is installed (make test installs prometheus)"
	finish
fi
rules=$SNAP_SOURCE_DIR/contrib/prometheus/pcisnap.rules.yml
check "the rules are valid" sh -c "promtool check rules '$rules' >/dev/null"
check "each alert fires on its series and on nothing else" sh -c "cd '$SNAP_SOURCE_DIR/tests/prometheus' && promtool test rules pcisnap.rules.test.yml >/dev/null"
cd "$T"
$MKROOT pve-intel r >/dev/null
SOURCE_DATE_EPOCH=100 "$PCISNAP" collect --root r --store st >/dev/null 2>&1
SOURCE_DATE_EPOCH=200 "$PCISNAP" collect --root r --store st >/dev/null 2>&1
"$PCISNAP" check --store st --format prometheus pve-ws-01 >m.prom || true
check "the metrics pass promtool check metrics" sh -c "promtool check metrics <m.prom"
for m in $(grep -o 'pcisnap_[a-z_]*' "$rules" | sort -u); do
	if [ "$m" = pcisnap_previous_boot_clean ]; then # only of a snapshot boot start took
		check "$m is a metric pcisnap writes" grep -q "\"$m\"" "$SNAP_SOURCE_DIR/libsnap/src/render/metrics.c"
	else
		check "$m is a metric pcisnap writes" grep -q "^$m{" m.prom
	fi
done
check "the passthrough and forensics verdicts apart" sh -c "grep -q 'pcisnap_section_verdict{host=\"pve-ws-01\",section=\"passthrough\"} 0' m.prom && grep -q 'pcisnap_section_verdict{host=\"pve-ws-01\",section=\"forensics\"} 1' m.prom"
finish
