#!/usr/bin/env bash
# Deployment targets, measured where they can be and documented where they cannot:
#  1. configs/int8.json on USE-Lite written three ways: for this machine (its engine, a .pt),
#     for arm64 (qnnpack's kernels, a .pt) and for mobile (qnnpack, a .ptl the lite
#     interpreter runs). `embq eval` runs each artefact itself here against FP32 on the
#     WordNet eval glosses (corpus.txt, 2,000 of them, 500 sampled queries; int8.json needs
#     no calibration, so nothing was fitted to any text), throughput side by side.
#  2. Per target, what `embq doctor --target` expects of each scheme from the profile's
#     features (arm64 and mobile are not measured here: no Arm machine).
#
#   benchmarks/deploy.sh [OUT_DIR]      (default build/bench/deploy)
# Prints two Markdown tables; OUT_DIR keeps the models and the reports.
# Needs tools/setup.sh to have run (the build, .cache/use-lite, .cache/wordnet).
set -euo pipefail
repo="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
embq="${EMBQ_BINARY:-$repo/build/embq}"
out="${1:-$repo/build/bench/deploy}"
mkdir -p "$out"
use="$repo/.cache/use-lite"
head -n 2000 "$repo/.cache/wordnet/corpus.txt" > "$out/corpus.txt"

"$embq" --log-level warn quantize "$use/use_lite.pt" "$repo/configs/int8.json" \
  -o "$out/native.pt" > /dev/null
"$embq" --log-level warn quantize "$use/use_lite.pt" "$repo/configs/int8.json" \
  --target arm64 -o "$out/arm64.pt" > /dev/null
"$embq" --log-level warn quantize "$use/use_lite.pt" "$repo/configs/int8.json" \
  --target mobile -o "$out/mobile.ptl" > /dev/null

echo "machine: $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | sed 's/^ //'), $(nproc) CPUs;" \
  "USE-Lite FP32 vs configs/int8.json, $(wc -l < "$out/corpus.txt") WordNet eval glosses, 500 queries"
echo
echo "| artefact | runs as (here) | file | recall@10 | cosine p5 | texts/s FP32 / candidate | speed vs FP32 |"
echo "| --- | --- | ---: | ---: | ---: | ---: | ---: |"
for artefact in native.pt arm64.pt mobile.ptl; do
  "$embq" --log-level error eval --baseline "$use/use_lite.pt" --candidate "$out/$artefact" \
    --card "$use/card.json" --data "$out/corpus.txt" --queries-sample 500 --k 10 \
    --report-json "$out/$artefact.json" > /dev/null
  jq -r --arg name "$artefact" '.metrics as $m | .timing as $t
    | "| \($name) | \(.inputs.candidate.runs_as) | \(.inputs.candidate.bytes / 1048576 | . * 10 | round / 10) MiB"
      + " | \($m["recall@10"] | . * 10000 | round / 10000) | \($m["cosine.p5"] | . * 10000 | round / 10000)"
      + " | \($t.baseline_texts_per_second | round) / \($t.candidate_texts_per_second | round)"
      + " | \($m.throughput_ratio | . * 100 | round / 100)x |"' "$out/$artefact.json"
done

echo
targets=(native x86-64 x86-64-v4 arm64 mobile)
for t in "${targets[@]}"; do "$embq" doctor --target "$t" --json > "$out/doctor-$t.json"; done
echo "| scheme | $(IFS='|'; echo "${targets[*]}" | sed 's/|/ | /g') |"
echo "| --- |$(printf ' --- |%.0s' "${targets[@]}")"
for scheme in int8_dynamic int8_static bf16 fp16 int4_weight int8_rowwise; do
  row="| $scheme |"
  for t in "${targets[@]}"; do
    row+=" $(jq -r --arg s "$scheme" '.schemes[] | select(.scheme == $s) | .outlook' \
      "$out/doctor-$t.json") |"
  done
  echo "$row"
done
