# SPDX-License-Identifier: MIT
#
# host-goldens.sh: sourced by goldens.sh here and in selftests/. The host mode: the running
# kernel's answers through koracle (built from $KORACLE_DIR into a temporary folder), kept as
# expected/host-<uname -r>/ in the shape kvm-oracle gives (<name>.json, <name>.stderr.txt,
# meta.json, kallsyms.txt). Needs KORACLE_DIR set.

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

# run_host DIR [NAME...]: every DIR/*.json through koracle into DIR/expected/host-<uname -r>/;
# the NAMEs (scenarios that never return while the counter travels by value) are skipped on
# kernels older than 6.12.
run_host() {
	local dir=$1 rel tmp out s n rc major minor
	shift
	local hangs=" $* "
	rel=$(uname -r)
	out=$dir/expected/host-$rel
	tmp=$(mktemp -d /tmp/goldens-host.XXXXXX)
	cp "$KORACLE_DIR"/koracle.c "$KORACLE_DIR"/Makefile "$tmp"/
	make -s -C "$tmp" koracle >&2
	rm -rf "$out"; mkdir -p "$out"
	IFS=. read -r major minor _ <<<"$rel"
	for s in "$dir"/*.json; do
		n=$(basename "$s" .json)
		if [ "$major" -lt 6 ] || { [ "$major" -eq 6 ] && [ "${minor%%[^0-9]*}" -lt 12 ]; }; then
			case "$hangs" in *" $n "*)
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

