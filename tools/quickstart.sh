#!/usr/bin/env bash
# The main job, from nothing to a report: install, build, make the default model, and
# show what embq sees in it. (Grows into quantize + quality report as those land.)
set -euo pipefail
repo="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
build_dir="${EMBQ_BUILD_DIR:-$repo/build}"
"$repo/tools/setup.sh"
embq="$build_dir/embq"
model="$build_dir/fixtures/bert_traced.pt"
"$embq" inspect "$model"
