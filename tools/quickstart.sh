#!/usr/bin/env bash
# The main job, from nothing to a quality report: install and build (tools/setup.sh, which
# also fetches Universal Sentence Encoder Lite and builds the WordNet sets), quantize the
# model with the recommended config, and evaluate it against FP32 on WordNet: sizes,
# speed, recall@10 agreement, index compatibility and labelled hit@1 for both models.
#
#   tools/quickstart.sh                 # exit 0: the gates below passed; 1: one failed
#   EMBQ_CONFIG=configs/int8.json tools/quickstart.sh
set -euo pipefail
repo="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
build_dir="${EMBQ_BUILD_DIR:-$repo/build}"
"$repo/tools/setup.sh"

embq="$build_dir/embq"
model_dir="$repo/.cache/use-lite"
data_dir="$repo/.cache/wordnet"
config="${EMBQ_CONFIG:-$repo/configs/int8-mixed.json}"
output="$build_dir/use_lite.quantized.pt"

echo "== embq quantize (config: $config)"
"$embq" quantize "$model_dir/use_lite.pt" "$config" -o "$output"
echo
echo "== embq eval: FP32 vs quantized on WordNet (reports in $build_dir/use_lite.report.*)"
"$embq" eval --baseline "$model_dir/use_lite.pt" --candidate "$output" --card "$model_dir/card.json" \
  --data "$data_dir/corpus.txt" --pairs "$data_dir/pairs.tsv" --k 1,10,100 \
  --gate 'recall@10>=0.95' --gate 'hit@1_delta>=-0.01' --gate 'size_ratio<=0.35' \
  --report-json "$build_dir/use_lite.report.json" --report-md "$build_dir/use_lite.report.md"
