#!/bin/bash
# SPDX-License-Identifier: MIT
#
# build.sh [NAME...]: compile programs/NAME.bpf.c to programs/NAME.bpf.o (all
# of them without arguments) the way the committed objects were made.
#
# The objects are committed because xlated programs and JIT bytes in
# programs/expected/ belong to exactly these files: another clang major
# version generates different BPF code from the same C, so the script refuses
# one unless FORCE=1. Flags are koracle's (../shared/oracle/koracle/Makefile);
# -fdebug-prefix-map keeps the build folder out of the debug info, so an
# object is the same file wherever it is built.
#
# nobtf.bpf.o (maps.bpf.c without -g) is a test input for the loader's
# "missing BTF" error; it has no scenario.
set -euo pipefail

HERE=$(cd "$(dirname "$0")" && pwd)
CLANG=${CLANG:-clang}
WANT_MAJOR=14

version=$("$CLANG" --version | head -1)
major=$(echo "$version" | sed -n 's/.*clang version \([0-9]*\)\..*/\1/p')
echo "build.sh: $version" >&2
if [ "$major" != "$WANT_MAJOR" ] && [ "${FORCE:-0}" != 1 ]; then
	echo "build.sh: clang $major is not clang $WANT_MAJOR, the version the committed objects" \
		"come from; FORCE=1 to build anyway" >&2
	exit 1
fi

cd "$HERE"
FLAGS=(-O2 -target bpf -I/usr/include/x86_64-linux-gnu "-fdebug-prefix-map=$PWD=." -Wall -Wno-unused-function)

if [ $# -eq 0 ]; then
	set -- $(ls *.bpf.c | sed 's/\.bpf\.c$//')
fi
for name in "$@"; do
	echo "  CLANG $name.bpf.o" >&2
	"$CLANG" "${FLAGS[@]}" -g -c "$name.bpf.c" -o "$name.bpf.o"
done
echo "  CLANG nobtf.bpf.o (maps.bpf.c, no -g)" >&2
"$CLANG" "${FLAGS[@]}" -c maps.bpf.c -o nobtf.bpf.o
