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

host_meta() { # host_meta OUT: the fields of kvm-oracle's meta.json that describe this machine
	python3 - "$1" <<'PY'
import glob, json, os, platform, sys
def read(p):
    try:
        return open(p).read().strip()
    except OSError:
        return None
cpu = {}
for line in open('/proc/cpuinfo'):
    k, _, v = line.partition(':')
    k = k.strip()
    if k in ('model name', 'cpu family', 'model') and k not in cpu:
        cpu[k] = v.strip()
meta = {
    'oracle': 'koracle on the host kernel',
    'uname': ' '.join(platform.uname()),
    'proc_version': read('/proc/version'),
    'cpu': cpu.get('model name'), 'cpu_family': cpu.get('cpu family'), 'cpu_model': cpu.get('model'),
    'sysctl': {f: read('/proc/sys/net/core/' + f) for f in
               ('bpf_jit_enable', 'bpf_jit_harden', 'bpf_jit_kallsyms', 'bpf_jit_limit')},
    'unprivileged_bpf_disabled': read('/proc/sys/kernel/unprivileged_bpf_disabled'),
    'vulnerabilities': {os.path.basename(p): read(p) for p in
                        sorted(glob.glob('/sys/devices/system/cpu/vulnerabilities/*'))},
}
json.dump(meta, open(sys.argv[1] + '/meta.json', 'w'), indent=2)
PY
	# The same symbols as kvm-oracle's kallsyms.txt (thunks and BPF functions); the
	# addresses hold for this boot only (the host runs with KASLR).
	grep -E ' [tTwW] [^ ]*(thunk|untrain|srso|retbleed|bpf|_ret$)' /proc/kallsyms >"$1/kallsyms.txt" || true
}

run_host() {
	local rel tmp out s n rc major minor
	rel=$(uname -r)
	out=$HERE/expected/host-$rel
	tmp=$(mktemp -d /tmp/goldens-host.XXXXXX)
	cp "$KORACLE_DIR"/koracle.c "$KORACLE_DIR"/Makefile "$tmp"/
	make -s -C "$tmp" koracle >&2
	rm -rf "$out"; mkdir -p "$out"
	IFS=. read -r major minor _ <<<"$rel"
	for s in "$HERE"/*.json; do
		n=$(basename "$s" .json)
		if [ "$major" -lt 6 ] || { [ "$major" -eq 6 ] && [ "${minor%%[^0-9]*}" -lt 12 ]; }; then
			case " $HANGS_BY_VALUE " in *" $n "*)
				echo "goldens.sh: host $rel: skipping $n (would stall this kernel)" >&2
				continue ;;
			esac
		fi
		rc=0
		"$tmp"/koracle "$s" >"$tmp/out.json" 2>"$tmp/err.txt" || rc=$?
		if [ "$rc" -eq 0 ]; then
			cp "$tmp/out.json" "$out/$n.json"
		else # the shape kvm-oracle gives a failed koracle run
			python3 -c 'import json,sys; print(json.dumps({"koracle_error": True, "rc": int(sys.argv[1]),
				"stderr": open(sys.argv[2]).read().strip(), "stdout": open(sys.argv[3]).read()}))' \
				"$rc" "$tmp/err.txt" "$tmp/out.json" >"$out/$n.json"
		fi
		[ -s "$tmp/err.txt" ] && cp "$tmp/err.txt" "$out/$n.stderr.txt"
		echo "goldens.sh: host $rel: $n rc=$rc" >&2
	done
	host_meta "$out"
	rm -rf "$tmp"
	echo "goldens.sh: $out" >&2
}

for k in "$@"; do
	case "$k" in
	5.10) rel=5.10.223 ;;
	6.1) rel=6.1.192 ;;
	host) run_host; continue ;;
	*) echo "goldens.sh: unknown kernel $k (5.10, 6.1 or host)" >&2; exit 2 ;;
	esac
	[ -f "$ORACLE" ] || { echo "goldens.sh: no $ORACLE (set ORACLE=.../kvm-oracle/run.sh)" >&2; exit 1; }
	tmp=$(mktemp -d /tmp/goldens.XXXXXX)
	ACCEL=${ACCEL:-tcg} SCEN_TIMEOUT=${SCEN_TIMEOUT:-60} bash "$ORACLE" "$k" "$HERE" "$tmp"
	keep_kvm "$tmp" "$HERE/expected/$rel"
	rm -rf "$tmp"
	echo "goldens.sh: $HERE/expected/$rel" >&2
done
