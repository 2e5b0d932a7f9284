#!/usr/bin/env bash
# The test command: set up (install + build), then run every test with CTest.
set -euo pipefail
repo="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
build_dir="${EMBQ_BUILD_DIR:-$repo/build}"
"$repo/tools/setup.sh"
cd "$build_dir"
ctest --output-on-failure -j"$(nproc)"
