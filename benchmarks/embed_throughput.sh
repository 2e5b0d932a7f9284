#!/usr/bin/env bash
# Embed throughput and the share of time spent tokenizing, on real English text.
#
#   benchmarks/embed_throughput.sh [BUILD_DIR]
#
# Corpus: the paragraphs of the licence texts every Debian system ships
# (/usr/share/common-licenses), split at sentence ends (lines over 20 characters),
# the set repeated 20 times (capped at 20,000 lines).
# Models: the test fixture (hidden 64) and the MiniLM-size bench model (hidden 384,
# 6 layers; benchmarks/make_bench_model.py), both with the fixture WordPiece vocabulary.
# `embq embed` itself reports texts/s and tokenization's share of the time.
set -euo pipefail
repo="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
build="${1:-$repo/build}"
work="$(mktemp -d)"
trap 'rm -rf "$work"' EXIT

cat /usr/share/common-licenses/{GPL-3,LGPL-3,Apache-2.0,MPL-2.0} \
  | tr -s ' \t' ' ' | tr '\n' ' ' | sed 's/\. /.\n/g' | sed 's/^ *//' | awk 'length > 20' > "$work/lines.txt"
for _ in $(seq 1 20); do cat "$work/lines.txt"; done | head -n 20000 > "$work/corpus.txt"
echo "corpus: $(wc -l < "$work/corpus.txt") lines, $(wc -w < "$work/corpus.txt") words; $(nproc) CPUs; $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2)"

bench_model="$build/bench/bert_minilm.pt"
[[ -f "$bench_model" ]] || /usr/bin/python3 "$repo/benchmarks/make_bench_model.py" --out "$bench_model" >/dev/null

for model in "$build/fixtures/bert_traced.pt" "$bench_model"; do
  echo "== $(basename "$model")"
  "$build/embq" embed "$model" --data "$work/corpus.txt" --tokenizer "$build/fixtures/vocab.txt" \
    --out "$work/vectors.npy" 2>&1 | grep -E "embedded|wrote"
done
