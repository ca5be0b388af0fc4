#!/bin/bash
# SPDX-License-Identifier: MIT
#
# goldens.sh [5.10|6.1|host ...]: run every scenario of this folder and keep the answers as
# programs/expected/<release>/ (root needed): one koracle document per scenario (<name>.json),
# the verifier's messages of rejected programs (<name>.stderr.txt), meta.json (kernel
# package or host, CPU model, mitigations) and kallsyms.txt (thunk and helper addresses).
#   5.10, 6.1  Linux 5.10.223 / 6.1.192 with the shared kvm-oracle (the first run downloads
#              the kernels).
#   host       the running kernel through koracle (built from shared/oracle/koracle into a
#              temporary folder): expected/host-<uname -r>/ (host-goldens.sh).
# Default: 5.10 6.1.
set -euo pipefail

HERE=$(cd "$(dirname "$0")" && pwd)
SHARED=${SHARED:-$HERE/../../shared/oracle}
ORACLE=${ORACLE:-$SHARED/kvm-oracle/run.sh}
KORACLE_DIR=${KORACLE_DIR:-$SHARED/koracle}
[ $# -gt 0 ] || set -- 5.10 6.1

# host_meta and run_host
. "$HERE/host-goldens.sh"

for k in "$@"; do
	case "$k" in
	5.10) rel=5.10.223 ;;
	6.1) rel=6.1.192 ;;
	host) run_host "$HERE"; continue ;;
	*) echo "goldens.sh: unknown kernel $k (5.10, 6.1 or host)" >&2; exit 2 ;;
	esac
	[ -f "$ORACLE" ] || { echo "goldens.sh: no $ORACLE (set ORACLE=.../kvm-oracle/run.sh)" >&2; exit 1; }
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
