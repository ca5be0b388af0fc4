#!/bin/bash
# SPDX-License-Identifier: MIT
# build.sh [NAME...]: NAME.bpf.c -> NAME.bpf.o with the flags of ../clang-bpf.sh (clang 14).
set -euo pipefail
cd "$(dirname "$0")"
. ../clang-bpf.sh
check_clang
build_all "$@"
