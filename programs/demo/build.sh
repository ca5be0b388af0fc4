#!/bin/bash
# SPDX-License-Identifier: MIT
#
# build.sh: compile programs/demo/chain.bpf.c to chain.bpf.o the way the committed object was
# made (../clang-bpf.sh says how and why). A rebuilt object needs new goldens (see README.md).
set -euo pipefail
HERE=$(cd "$(dirname "$0")" && pwd)
source "$HERE/../clang-bpf.sh"
check_clang
cd "$HERE"
build_all chain
