# SPDX-License-Identifier: MIT
#
# Sourced by the build.sh scripts of programs/, programs/selftests/ and programs/demo/: the one
# place that knows how the committed objects are compiled.
#
# The objects are committed because the xlated programs and JIT bytes in the expected/ folders
# belong to exactly these files: another clang major version generates different BPF code from
# the same C, so it is refused unless FORCE=1. The flags are koracle's
# (../shared/oracle/koracle/Makefile); -fdebug-prefix-map keeps the build folder out of the debug
# info, so an object is the same file wherever it is built. A rebuilt object needs new goldens.

CLANG=${CLANG:-clang}
WANT_MAJOR=14

# check_clang: print the compiler's version; refuse another major version unless FORCE=1.
check_clang() {
	local version major
	version=$("$CLANG" --version | head -1)
	major=$(echo "$version" | sed -n 's/.*clang version \([0-9]*\)\..*/\1/p')
	echo "build.sh: $version" >&2
	if [ "$major" != "$WANT_MAJOR" ] && [ "${FORCE:-0}" != 1 ]; then
		echo "build.sh: clang $major is not clang $WANT_MAJOR, the version the committed objects" \
			"come from; FORCE=1 to build anyway" >&2
		exit 1
	fi
}

# bpf_compile SRC OUT [EXTRA...]: one object, in the current folder, with debug info unless
# EXTRA says otherwise (pass --no-g for an object without BTF).
bpf_compile() {
	local src=$1 out=$2 g=-g
	shift 2
	if [ "${1:-}" = --no-g ]; then g=; shift; fi
	echo "  CLANG $out" >&2
	"$CLANG" -O2 $g -target bpf -I/usr/include/x86_64-linux-gnu "-fdebug-prefix-map=$PWD=." \
		-Wall -Wno-unused-function "$@" -c "$src" -o "$out"
}

# build_all [NAME...]: NAME.bpf.c -> NAME.bpf.o for the names given, or for every *.bpf.c here.
build_all() {
	if [ $# -eq 0 ]; then
		set -- $(ls *.bpf.c | sed 's/\.bpf\.c$//')
	fi
	for name in "$@"; do
		bpf_compile "$name.bpf.c" "$name.bpf.o"
	done
}
