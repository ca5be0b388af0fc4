#!/bin/bash
# SPDX-License-Identifier: MIT
#
# goldens.sh [5.10|6.1 ...]: run every scenario of this folder on Linux 5.10.223 and 6.1.192
# with the shared kvm-oracle (root needed; the first run downloads the kernels) and keep the
# results as programs/expected/<release>/: one koracle document per scenario (<name>.json),
# the verifier's messages of rejected programs (<name>.stderr.txt), meta.json (kernel
# package, qemu CPU model, mitigations) and kallsyms.txt (thunk and helper addresses).
set -euo pipefail

HERE=$(cd "$(dirname "$0")" && pwd)
ORACLE=${ORACLE:-$HERE/../../shared/oracle/kvm-oracle/run.sh}
[ -f "$ORACLE" ] || { echo "goldens.sh: no $ORACLE (set ORACLE=.../kvm-oracle/run.sh)" >&2; exit 1; }
[ $# -gt 0 ] || set -- 5.10 6.1

for k in "$@"; do
	case "$k" in
	5.10) rel=5.10.223 ;;
	6.1) rel=6.1.192 ;;
	*) echo "goldens.sh: unknown kernel $k (5.10 or 6.1)" >&2; exit 2 ;;
	esac
	tmp=$(mktemp -d /tmp/goldens.XXXXXX)
	ACCEL=${ACCEL:-tcg} bash "$ORACLE" "$k" "$HERE" "$tmp"
	out=$HERE/expected/$rel
	rm -rf "$out"; mkdir -p "$out"
	cp "$tmp"/meta.json "$tmp"/kallsyms.txt "$out"/
	for f in "$tmp"/*.json; do
		n=$(basename "$f")
		[ "$n" = meta.json ] || cp "$f" "$out/$n"
	done
	cp "$tmp"/*.stderr.txt "$out"/ 2>/dev/null || true
	rm -rf "$tmp"
	echo "goldens.sh: $out" >&2
done
