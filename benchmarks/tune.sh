#!/usr/bin/env bash
# `embq sensitivity` and `embq tune` on the real model (USE-Lite) and the WordNet sets, with
# what each costs next to the runs they replace, all in one run on one machine:
#
#   1. one `embq eval` of configs/int8-mixed.json (the main job: 10,000 glosses + 2,000 pairs);
#   2. `embq sensitivity` of every layer with two schemes each, no groups;
#   3. one five-config `embq compare` (benchmarks/real_model_quality.sh's);
#   4. `embq tune --gate 'recall@10>=0.97' --objective size`, and 5. with recall@10 >= 0.99.
#
# Tune searches on the calibration glosses (.cache/wordnet/calib.txt) and reports on the
# eval glosses (corpus.txt), which it never sees: the held-out figures are the ones to
# compare with int8-mixed's.
#
#   benchmarks/tune.sh [OUT_DIR]      (default build/bench/tune)
# Prints the Markdown tables (benchmarks/tune_table.py); OUT_DIR keeps every report and
# the tuned configs. Needs tools/setup.sh to have run. About 20 minutes on 2 CPUs.
set -euo pipefail
repo="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
embq="${EMBQ_BINARY:-$repo/build/embq}"
out="${1:-$repo/build/bench/tune}"
mkdir -p "$out"
model="$repo/.cache/use-lite/use_lite.pt"
card="$repo/.cache/use-lite/card.json"
wordnet="$repo/.cache/wordnet"
timings="$out/timings.tsv"
: > "$timings"

# Runs a command, appends "name<TAB>seconds" to timings.tsv; exit 1 (a gate) is a result.
timed() {
  local name="$1"; shift
  local start end
  start=$(date +%s.%N)
  "$@" > "$out/$name.out" 2> "$out/$name.err" || [[ $? -eq 1 ]]
  end=$(date +%s.%N)
  printf '%s\t%s\n' "$name" "$(echo "$end - $start" | bc)" >> "$timings"
}

"$embq" quantize "$model" "$repo/configs/int8-mixed.json" -o "$out/int8-mixed.pt" > /dev/null 2>&1
timed eval "$embq" eval --baseline "$model" --candidate "$out/int8-mixed.pt" --card "$card" \
  --data "$wordnet/corpus.txt" --pairs "$wordnet/pairs.tsv" --k 1,10 --report-json "$out/eval.json"
timed sensitivity "$embq" sensitivity "$model" --card "$card" --data "$wordnet/calib.txt" \
  --groups none --report-json "$out/sensitivity.json" --report-md "$out/sensitivity.md"
configs=()
for config in "$repo"/configs/*.json; do
  [[ "$(basename "$config")" == embq-config.schema.json ]] || configs+=("$config")
done
timed compare "$embq" compare "$model" "${configs[@]}" --card "$card" \
  --data "$wordnet/corpus.txt" --pairs "$wordnet/pairs.tsv" --k 1,10 \
  --report-json "$out/compare.json"
for target in 0.97 0.99; do
  timed "tune-$target" "$embq" tune "$model" --card "$card" --data "$wordnet/calib.txt" \
    --holdout "$wordnet/corpus.txt" --gate "recall@10>=$target" --objective size \
    -o "$out/tuned-$target.json" --report-json "$out/tune-$target.json" \
    --report-md "$out/tune-$target.md"
done

echo "machine: $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | sed 's/^ //'), $(nproc) CPUs"
python3 "$repo/benchmarks/tune_table.py" "$out"
