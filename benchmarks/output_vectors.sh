#!/usr/bin/env bash
# What a search system stores, measured together with the model's quantization: USE-Lite FP32
# and configs/int8.json embed the 10,000 WordNet eval glosses (corpus.txt) as float32, as
# int8 codes (ranges calibrated on the FP32 vectors of the 10,000 calibration glosses,
# calib.txt: other text than the corpus) and as sign bits. `embq eval` scores each against
# the FP32 model's float32 vectors, 1,000 sampled queries, K = 10, exact search, no
# rescoring.
#
#   benchmarks/output_vectors.sh [OUT_DIR]      (default build/bench/output_vectors)
# Prints the Markdown table; OUT_DIR keeps the vectors and one report per row.
# Needs tools/setup.sh to have run (the build, .cache/use-lite, .cache/wordnet).
set -euo pipefail
repo="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
embq="${EMBQ_BINARY:-$repo/build/embq}"
out="${1:-$repo/build/bench/output_vectors}"
mkdir -p "$out"
use="$repo/.cache/use-lite"
corpus="$repo/.cache/wordnet/corpus.txt"
calib="$repo/.cache/wordnet/calib.txt"

"$embq" --log-level warn quantize "$use/use_lite.pt" "$repo/configs/int8.json" \
  -o "$out/int8.pt" > /dev/null
embed() {  # MODEL OUT [embed options]
  local model="$1" dest="$2"
  shift 2
  "$embq" --log-level warn embed "$model" --card "$use/card.json" --data "$corpus" \
    --out "$out/$dest" "$@" > /dev/null
}
"$embq" --log-level warn embed "$use/use_lite.pt" --card "$use/card.json" --data "$calib" \
  --out "$out/calib-fp32.npy" > /dev/null
for model in fp32 int8; do
  path="$use/use_lite.pt"
  [[ $model == int8 ]] && path="$out/int8.pt"
  embed "$path" "$model-float32.npy"
  embed "$path" "$model-int8.npy" --vectors int8 --calibration-vectors "$out/calib-fp32.npy"
  embed "$path" "$model-binary.npy" --vectors binary
done

echo "machine: $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | sed 's/^ //'), $(nproc) CPUs;" \
  "USE-Lite (512 dims) on $(wc -l < "$corpus") WordNet eval glosses, int8 ranges from" \
  "$(wc -l < "$calib") calibration glosses, 1,000 queries, K = 10"
echo
echo "| model | vectors | bytes/vector | vs float32 | recall@10 | cosine p5 |"
echo "| --- | --- | ---: | ---: | ---: | ---: |"
for model in fp32 int8; do
  for codes in float32 int8 binary; do
    [[ $model == fp32 && $codes == float32 ]] && continue  # the reference itself
    name="$model-$codes"
    "$embq" --log-level error eval --baseline "$out/fp32-float32.npy" \
      --candidate "$out/$name.npy" --k 10 --queries-sample 1000 \
      --report-json "$out/$name.json" > /dev/null
    case $codes in float32) bytes=2048 ;; int8) bytes=512 ;; binary) bytes=64 ;; esac
    label="FP32"
    [[ $model == int8 ]] && label="int8.json"
    jq -r --arg m "$label" --arg c "$codes" --argjson b "$bytes" '.metrics as $x
      | "| \($m) | \($c) | \($b) | \(2048 / $b | floor)x"
        + " | \($x["recall@10"] | . * 10000 | round / 10000)"
        + " | \($x["cosine.p5"] | . * 10000 | round / 10000) |"' "$out/$name.json"
  done
done
