#!/bin/bash
# SPDX-License-Identifier: MIT
#
# build.sh [NAME...]: compile programs/selftests/NAME.bpf.c to NAME.bpf.o (all of them without
# arguments) the way the committed objects were made (../clang-bpf.sh says how and why). A
# rebuilt object needs new goldens (goldens.sh). ../common.h is included by a relative path, so
# the prefix map of this folder keeps absolute paths out of the objects.
set -euo pipefail
HERE=$(cd "$(dirname "$0")" && pwd)
source "$HERE/../clang-bpf.sh"
check_clang
cd "$HERE"
build_all "$@"
