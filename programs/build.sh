#!/bin/bash
# SPDX-License-Identifier: MIT
#
# build.sh [NAME...]: compile programs/NAME.bpf.c to programs/NAME.bpf.o (all of them without
# arguments) the way the committed objects were made (clang-bpf.sh says how and why).
#
# nobtf.bpf.o (maps.bpf.c without -g) is a test input for the loader's "missing BTF" error; it
# has no scenario.
set -euo pipefail
HERE=$(cd "$(dirname "$0")" && pwd)
source "$HERE/clang-bpf.sh"
check_clang
cd "$HERE"
build_all "$@"
bpf_compile maps.bpf.c nobtf.bpf.o --no-g
