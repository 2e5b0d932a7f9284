#!/usr/bin/env bash
# Thread oversubscription, measured side by side: `embq embed` of the same texts with
# embq's thread settings (libtorch's pool owns the cores, OpenBLAS single-threaded) and
# with OpenBLAS given a pool of its own again (OPENBLAS_NUM_THREADS=<CPUs>, what a
# process got before embq set it), the two taking turns, REPEATS rounds each.
#
#   benchmarks/threads.sh [BUILD_DIR] [TEXTS] [REPEATS]
#
# Models: FP32 USE-Lite and configs/int8-mixed.json on it (tools/setup.sh makes
# .cache/use-lite and the WordNet sets). Texts: the first TEXTS (2,000) WordNet glosses.
# Prints texts/s per run and the ratio of the medians.
set -euo pipefail
repo="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
build="${1:-$repo/build}"
texts="${2:-2000}"
repeats="${3:-3}"
work="$(mktemp -d)"
trap 'rm -rf "$work"' EXIT
use="$repo/.cache/use-lite"
head -n "$texts" "$repo/.cache/wordnet/corpus.txt" > "$work/texts.txt"
"$build/embq" --log-level warn quantize "$use/use_lite.pt" "$repo/configs/int8-mixed.json" \
  -o "$work/int8-mixed.pt" > /dev/null
cpus=$(nproc)
echo "machine: $cpus CPUs,$(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2); $texts WordNet glosses; $repeats rounds"

rate() {  # MODEL [ENV...]: texts/s of one `embq embed`
  local model=$1; shift
  env "$@" "$build/embq" embed "$model" --card "$use/card.json" --data "$work/texts.txt" \
    --out "$work/v.npy" 2>&1 | sed -n 's/.* \([0-9.]*\) texts\/s.*/\1/p' | head -1
}
median() { sort -n | awk '{a[NR]=$1} END {print (NR % 2) ? a[(NR+1)/2] : (a[NR/2] + a[NR/2+1]) / 2}'; }

for model in "$use/use_lite.pt" "$work/int8-mixed.pt"; do
  ours=() theirs=()
  for _ in $(seq 1 "$repeats"); do
    ours+=("$(rate "$model" -u OPENBLAS_NUM_THREADS)")
    theirs+=("$(rate "$model" OPENBLAS_NUM_THREADS="$cpus")")
  done
  m_ours=$(printf '%s\n' "${ours[@]}" | median)
  m_theirs=$(printf '%s\n' "${theirs[@]}" | median)
  echo "$(basename "$model" .pt): embq's settings ${ours[*]} texts/s; OpenBLAS pool of $cpus ${theirs[*]} texts/s;" \
       "median ratio $(awk -v a="$m_ours" -v b="$m_theirs" 'BEGIN {printf "%.2f", a / b}')x"
done
