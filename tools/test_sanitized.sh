#!/usr/bin/env bash
# The unit and CLI tests of an AddressSanitizer + UndefinedBehaviorSanitizer build, in its
# own build directory (default build-sanitize). Run tools/test.sh (or tools/setup.sh) first:
# it installs the packages.
set -euo pipefail
repo="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
build_dir="${EMBQ_SANITIZE_BUILD_DIR:-$repo/build-sanitize}"
# -O1 -g1: the sanitizers' advice for speed, and line tables are all a report's stack
# needs (full debug info made the build about 650 MiB and its link the slowest step).
# The instrumented code runs several times slower, so every test timeout is scaled by 4.
cmake -S "$repo" -B "$build_dir" -DCMAKE_BUILD_TYPE=RelWithDebInfo \
  -DCMAKE_CXX_FLAGS_RELWITHDEBINFO="-O1 -g1 -DNDEBUG" -DEMBQ_TEST_TIMEOUT_SCALE=4 \
  -DEMBQ_SANITIZE=address,undefined -DEMBQ_BUILD_BENCHMARKS=OFF >/dev/null
cmake --build "$build_dir" -j"$(nproc)"
# Any finding ends the process with an error, which fails its test.
export ASAN_OPTIONS="abort_on_error=0:halt_on_error=1:detect_leaks=1:strict_string_checks=1"
export UBSAN_OPTIONS="halt_on_error=1:print_stacktrace=1"
cd "$build_dir"
# InstallCli checks packaging (install tree, .deb, a program linking the library), not
# memory safety.
ctest --output-on-failure -j"$(nproc)" -L "unit|e2e" -E '^InstallCli$'

