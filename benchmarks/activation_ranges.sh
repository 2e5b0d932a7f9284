#!/usr/bin/env bash
# Quality of int8_dynamic's activation ranges on the real model: configs/int8.json with
# "activation_range" row (the default), grid and exact, against FP32 USE-Lite by
# `embq compare` on the WordNet eval sets (the same data and gates as
# real_model_quality.sh). Their speed is in benchmarks/speed.sh (int8, int8-grid-range,
# int8-exact-range).
#
#   benchmarks/activation_ranges.sh [OUT_DIR]      (default build/bench/activation_ranges)
set -euo pipefail
repo="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
embq="${EMBQ_BINARY:-$repo/build/embq}"
out="${1:-$repo/build/bench/activation_ranges}"
mkdir -p "$out"

configs=()
for range in row grid exact; do
  /usr/bin/python3 "$repo/benchmarks/config_variant.py" "$repo/configs/int8.json" \
    "$out/int8-$range-range.json" activation_range "$range"
  configs+=("$out/int8-$range-range.json")
done
"$embq" compare "$repo/.cache/use-lite/use_lite.pt" "${configs[@]}" \
  --card "$repo/.cache/use-lite/card.json" \
  --data "$repo/.cache/wordnet/corpus.txt" --pairs "$repo/.cache/wordnet/pairs.tsv" --k 1,10 \
  --gate 'recall@10>=0.95' --gate 'hit@1_delta>=-0.01' --gate 'size_ratio<=0.35' \
  --report-json "$out/compare.json" --report-md "$out/compare.md" >&2 || [[ $? -eq 1 ]]
echo "machine: $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | sed 's/^ //'), $(nproc) CPUs"
cat "$out/compare.md"
