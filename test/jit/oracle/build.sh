#!/bin/bash
# Rebuilds the oracle objects from src/ with the pinned toolchain (clang 14, Debian 12) and
# writes one koracle scenario per program. The objects are committed: the expected images in
# expected-5.10.223/ belong to exactly these bytes.
set -euo pipefail
cd "$(dirname "$0")"
[ "$(clang --version | head -1 | grep -o 'version [0-9]*')" = "version 14" ] || { echo "need clang 14" >&2; exit 1; }
mkdir -p obj
for s in src/*.s; do
  n=$(basename "$s" .s)
  clang -target bpf -c "$s" -o "obj/$n.bpf.o"
done
for c in src/*.c; do
  [ -e "$c" ] || continue
  n=$(basename "$c" .c)
  clang -O2 -g -target bpf -I/usr/include/x86_64-linux-gnu -fdebug-prefix-map="$PWD"=. -c "$c" -o "obj/$n.bpf.o"
done
