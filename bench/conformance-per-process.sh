#!/usr/bin/env bash
# The conformance suite the way its own runner drives a plugin: one process per test file.
# Compare with one in-process run:  node bin/tailjit.js conformance SUITE
set -u
suite=${1:?usage: conformance-per-process.sh SUITE_DIR}
here=$(cd "$(dirname "$0")/.." && pwd)
pass=0; fail=0
for f in "$suite"/*.data; do
  if node "$here/bin/tailjit.js" conformance "$f" >/dev/null 2>&1; then pass=$((pass+1)); else fail=$((fail+1)); fi
done
echo "$pass passed, $fail failed"
