#!/usr/bin/env bash
# Quality, size and speed of every shipped config on the real model: Universal Sentence
# Encoder Lite (tools/use_lite) against FP32, by `embq compare` on the WordNet sets
# (10,000 glosses as the corpus, 2,000 example -> definition pairs for labelled hit@1).
# FP32 is embedded once; each config is quantized and embedded once.
#
#   benchmarks/real_model_quality.sh [OUT_DIR]      (default build/bench/real_model)
# Prints the Markdown table; OUT_DIR keeps compare.json, compare.md and the models.
# Needs tools/setup.sh to have run (the build, .cache/use-lite, .cache/wordnet).
set -euo pipefail
repo="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
embq="${EMBQ_BINARY:-$repo/build/embq}"
out="${1:-$repo/build/bench/real_model}"
mkdir -p "$out"

# The recommended config first: the layer differences below the table are relative to it.
configs=("$repo/configs/int8-mixed.json")
for config in "$repo"/configs/*.json; do
  case "$(basename "$config")" in
    embq-config.schema.json | int8-mixed.json) ;;
    *) configs+=("$config") ;;
  esac
done

# The same gates as the main job; compare exits 1 when a config fails one, which is a
# result here, not an error.
"$embq" compare "$repo/.cache/use-lite/use_lite.pt" "${configs[@]}" \
  --card "$repo/.cache/use-lite/card.json" \
  --data "$repo/.cache/wordnet/corpus.txt" --pairs "$repo/.cache/wordnet/pairs.tsv" --k 1,10 \
  --gate 'recall@10>=0.95' --gate 'hit@1_delta>=-0.01' --gate 'size_ratio<=0.35' \
  --keep "$out" --report-json "$out/compare.json" --report-md "$out/compare.md" >&2 || [[ $? -eq 1 ]]
echo "machine: $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | sed 's/^ //'), $(nproc) CPUs"
cat "$out/compare.md"
