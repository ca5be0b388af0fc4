#!/bin/bash
# SPDX-License-Identifier: MIT
#
# build.sh: compile programs/demo/chain.bpf.c to chain.bpf.o with the flags and the clang
# major version of ../build.sh (koracle's flags; -fdebug-prefix-map keeps the build folder
# out of the debug info). The object is committed because the goldens in expected/ belong to
# exactly this file; another clang major version is refused unless FORCE=1. A rebuilt object
# needs new goldens (see README.md).
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
FLAGS=(-O2 -g -target bpf -I/usr/include/x86_64-linux-gnu "-fdebug-prefix-map=$PWD=." -Wall -Wno-unused-function)
echo "  CLANG chain.bpf.o" >&2
"$CLANG" "${FLAGS[@]}" -c chain.bpf.c -o chain.bpf.o
