#!/usr/bin/env bash
# What a search system pays to store the vectors, next to what the model's quantization
# costs: USE-Lite FP32 and configs/int8.json embed the 10,000 WordNet glosses once each,
# then `embq eval` of the two vector files searches them through every index kind: exact,
# the scalar quantizers, product quantization and sign bits, alone and with the float
# vectors re-ranking 4x k candidates (--rescore 4). 1,000 of the glosses are the queries
# (each one's own row excluded), K = 10.
#
#   benchmarks/compressed_index.sh [OUT_DIR]      (default build/bench/compressed_index)
# Prints the Markdown table; OUT_DIR keeps the vectors and one report per index.
# Needs tools/setup.sh to have run (the build, .cache/use-lite, .cache/wordnet).
set -euo pipefail
repo="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
embq="${EMBQ_BINARY:-$repo/build/embq}"
out="${1:-$repo/build/bench/compressed_index}"
mkdir -p "$out"
use="$repo/.cache/use-lite"
corpus="$repo/.cache/wordnet/corpus.txt"

"$embq" --log-level warn quantize "$use/use_lite.pt" "$repo/configs/int8.json" \
  -o "$out/int8.pt" > /dev/null
for model in "$use/use_lite.pt" "$out/int8.pt"; do
  "$embq" --log-level warn embed "$model" --card "$use/card.json" --data "$corpus" \
    --out "$out/$(basename "$model" .pt).npy" > /dev/null
done

echo "machine: $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | sed 's/^ //'), $(nproc) CPUs;" \
  "USE-Lite (512 dims) on $(wc -l < "$corpus") WordNet glosses, 1,000 queries, K = 10"
echo
echo "| index | bytes/vector | vs FP32 | index_recall@10 (FP32 vectors) | recall@10 (int8 vs FP32, same index) | search_recall@10 (int8 in index vs exact FP32) |"
echo "| --- | ---: | ---: | ---: | ---: | ---: |"
for spec in exact sq8 sq4 pq pq:64 binary "sq4 4" "pq:64 4" "binary 4" "binary 10"; do
  read -r index rescore <<< "$spec"
  name="$index${rescore:+-rescore$rescore}"
  "$embq" --log-level error eval --baseline "$out/use_lite.npy" --candidate "$out/int8.npy" \
    --k 10 --queries-sample 1000 --index "$index" ${rescore:+--rescore "$rescore"} \
    --report-json "$out/$name.json" > /dev/null
  jq -r --arg name "$index${rescore:+, rescore ${rescore}x}" '.metrics as $m
    | ($m.index_code_bytes // 2048) as $b
    | "| \($name) | \($b) | \(2048 / $b | floor)x | \($m["index_recall@10"] // 1 | . * 10000 | round / 10000)"
      + " | \($m["recall@10"] | . * 10000 | round / 10000)"
      + " | \($m["search_recall@10"] // $m["recall@10"] | . * 10000 | round / 10000) |"' \
    "$out/$name.json"
done
