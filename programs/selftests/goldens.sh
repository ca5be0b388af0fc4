#!/bin/bash
# SPDX-License-Identifier: MIT
#
# goldens.sh [5.10|6.1|host ...]: run every scenario of this folder and keep the answers as
# expected/<release>/ (root needed):
#   5.10, 6.1  Linux 5.10.223 / 6.1.192 through shared/oracle/kvm-oracle/run.sh (TCG, one boot
#              per scenario): <name>.json, <name>.stderr.txt, meta.json, kallsyms.txt.
#   host       the running kernel through koracle (built from shared/oracle/koracle into a
#              temporary folder): expected/host-<uname -r>/ with the same files.
# Default: 5.10 6.1 host.
#
# Three scenarios never return on kernels whose tail call counter travels by value (5.10, 6.1:
# 2^34 - 1 or 2^33 - 1 program runs): tailcall_bpf2bpf_hierarchy1, _hierarchy3 and
# _hierarchy_fentry_fexit. kvm-oracle kills such a guest at its first soft-lockup report (or after
# SCEN_TIMEOUT, 60 s here) and keeps the runs before the stuck one ("incomplete" in the JSON).
# On the host nothing can stop them, so host mode skips them on kernels older than 6.12 (the
# release of the shared-counter rework, unverified; selftests.md 0.3).
set -euo pipefail

HERE=$(cd "$(dirname "$0")" && pwd)
SHARED=${SHARED:-$HERE/../../../shared/oracle}
ORACLE=${ORACLE:-$SHARED/kvm-oracle/run.sh}
KORACLE_DIR=${KORACLE_DIR:-$SHARED/koracle}
HANGS_BY_VALUE="tailcall_bpf2bpf_hierarchy1 tailcall_bpf2bpf_hierarchy3 tailcall_bpf2bpf_hierarchy_fentry_fexit"
[ $# -gt 0 ] || set -- 5.10 6.1 host

keep_kvm() { # keep_kvm TMP OUT
	local tmp=$1 out=$2 f n
	rm -rf "$out"; mkdir -p "$out"
	cp "$tmp"/meta.json "$tmp"/kallsyms.txt "$out"/
	for f in "$tmp"/*.json; do
		n=$(basename "$f")
		case "$n" in meta.json | *.p[0-9][0-9].json) continue ;; esac
		cp "$f" "$out/$n"
	done
	cp "$tmp"/*.stderr.txt "$out"/ 2>/dev/null || true
}

# host_meta and run_host
. "$HERE/../host-goldens.sh"

for k in "$@"; do
	case "$k" in
	5.10) rel=5.10.223 ;;
	6.1) rel=6.1.192 ;;
	host) run_host "$HERE" $HANGS_BY_VALUE; continue ;;
	*) echo "goldens.sh: unknown kernel $k (5.10, 6.1 or host)" >&2; exit 2 ;;
	esac
	[ -f "$ORACLE" ] || { echo "goldens.sh: no $ORACLE (set ORACLE=.../kvm-oracle/run.sh)" >&2; exit 1; }
	tmp=$(mktemp -d /tmp/goldens.XXXXXX)
	ACCEL=${ACCEL:-tcg} SCEN_TIMEOUT=${SCEN_TIMEOUT:-60} bash "$ORACLE" "$k" "$HERE" "$tmp"
	keep_kvm "$tmp" "$HERE/expected/$rel"
	rm -rf "$tmp"
	echo "goldens.sh: $HERE/expected/$rel" >&2
done
