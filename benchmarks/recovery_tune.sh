#!/usr/bin/env bash
# `embq tune` on USE-Lite with the recovery candidates (GPTQ rounding, smoothing, NF4,
# group-wise table scales) next to the plain ones, against the two size targets of the
# recovery work: recall@10 >= 0.90 within 20% of FP32, and >= 0.99 within 30%.
#
# Calibration and the search run on the calibration glosses (.cache/wordnet/calib.txt);
# the held-out check, the figure to read, on the eval glosses (corpus.txt), which neither
# saw. Reuses benchmarks/recovery.sh's calibration when OUT_DIR has it.
#
#   benchmarks/recovery_tune.sh [OUT_DIR]      (default build/bench/recovery)
# Prints the tune reports' summaries; OUT_DIR keeps the reports and tuned configs. About
# 30 minutes on 2 CPUs (each tune measures 46 single-layer trials first).
set -euo pipefail
repo="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
embq="${EMBQ_BINARY:-$repo/build/embq}"
out="${1:-$repo/build/bench/recovery}"
mkdir -p "$out"
model="$repo/.cache/use-lite/use_lite.pt"
card="$repo/.cache/use-lite/card.json"
wordnet="$repo/.cache/wordnet"
[[ -f "$out/calib.gram.bin" ]] ||
  "$embq" calibrate "$model" --card "$card" --data "$wordnet/calib.txt" --samples 1000 \
    --input-gram -o "$out/calib.json" > /dev/null 2> "$out/calibrate.err"

candidates="nf4/rounding=gptq,nf4/rounding=gptq/granularity=group:32"
candidates+=",int8_static/smoothing=0.5/rounding=gptq,int8_rowwise,int4_rowwise/granularity=group:32"
for target in "0.90 0.20" "0.99 0.30"; do
  read -r recall size <<< "$target"
  name="tune-$recall-$size"
  # Exit 1 (no config passed) is a result here.
  "$embq" tune "$model" --card "$card" --data "$wordnet/calib.txt" \
    --holdout "$wordnet/corpus.txt" --gate "recall@10>=$recall" --max-size "$size" \
    --objective size --calibration "$out/calib.json" --schemes "$candidates" \
    -o "$out/$name.json" --report-json "$out/$name.report.json" --report-md "$out/$name.md" \
    > "$out/$name.out" 2> "$out/$name.err" || [[ $? -eq 1 ]]
done
echo "machine: $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | sed 's/^ //'), $(nproc) CPUs"
for target in "0.90 0.20" "0.99 0.30"; do
  read -r recall size <<< "$target"
  echo; echo "## recall@10 >= $recall within $size of FP32"
  sed -n '1,/^## /p' "$out/tune-$recall-$size.md" | head -n -1
done
