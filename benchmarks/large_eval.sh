#!/usr/bin/env bash
# `embq eval` of a corpus too large to copy: ROWS x 384 float32 baseline and candidate
# vector files (1,000,000 rows: 1.43 GiB each), memory-mapped, 1,000 sampled queries with
# exact truth, searched through an IVF index whose lists hold 8-bit codes (ivf:1024,sq8,
# FAISS's "IVF1024,SQ8"). Reports wall time and peak RSS (GNU time's maximum resident set
# size: the mapped pages eval touches count) against the budget of both files + 1 GiB.
#
# The vectors are synthetic (numpy, seed 0), since embedding a million texts twice takes
# this machine most of an hour: unit vectors around 20,000 cluster centres, and a
# candidate that is the baseline plus small Gaussian noise (cosine about 0.995, what an
# int8 model keeps). They measure eval's memory and time, not a model's quality.
#
#   benchmarks/large_eval.sh [ROWS] [OUT_DIR]   (default 1000000, build/bench/large_eval)
# Prints the Markdown table; OUT_DIR keeps the vector files (2 x ROWS x 1,536 bytes) and
# the report. Needs the build (tools/setup.sh) and Debian's python3-numpy and time.
set -euo pipefail
repo="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
embq="${EMBQ_BINARY:-$repo/build/embq}"
rows="${1:-1000000}"
out="${2:-$repo/build/bench/large_eval}"
index="${LARGE_EVAL_INDEX:-ivf:1024,sq8}"
mkdir -p "$out"

if [[ ! -f "$out/baseline-$rows.npy" || ! -f "$out/candidate-$rows.npy" ]]; then
  /usr/bin/python3 - "$out" "$rows" <<'EOF'
import sys
import numpy as np
out, rows, dim = sys.argv[1], int(sys.argv[2]), 384
rng = np.random.default_rng(0)
# Sentence embeddings fill few of their dimensions: points of a 48-dimensional mixture
# (2,000 topics) seen through a random 384 x 48 map, plus a little isotropic noise.
latent, topics = 48, 2000
centres = rng.standard_normal((topics, latent), dtype=np.float32)
lift = rng.standard_normal((latent, dim), dtype=np.float32) / np.sqrt(latent)
base = np.lib.format.open_memmap(f"{out}/baseline-{rows}.npy.tmp", "w+", "<f4", (rows, dim))
cand = np.lib.format.open_memmap(f"{out}/candidate-{rows}.npy.tmp", "w+", "<f4", (rows, dim))
for start in range(0, rows, 65536):
    n = min(65536, rows - start)
    z = centres[rng.integers(0, topics, n)] + 0.5 * rng.standard_normal((n, latent), dtype=np.float32)
    x = z @ lift + 0.05 * rng.standard_normal((n, dim), dtype=np.float32)
    x /= np.linalg.norm(x, axis=1, keepdims=True)
    base[start:start + n] = x
    cand[start:start + n] = x + 0.005 * rng.standard_normal((n, dim), dtype=np.float32)
base.flush()
cand.flush()
EOF
  mv "$out/baseline-$rows.npy.tmp" "$out/baseline-$rows.npy"
  mv "$out/candidate-$rows.npy.tmp" "$out/candidate-$rows.npy"
fi

base="$out/baseline-$rows.npy"
cand="$out/candidate-$rows.npy"
/usr/bin/time -v -o "$out/time.txt" "$embq" --log-level warn eval --baseline "$base" \
  --candidate "$cand" --k 10 --queries-sample 1000 --index "$index" \
  --report-json "$out/report.json" > "$out/eval.txt"

rss_kib=$(awk -F': ' '/Maximum resident set size/ {print $2}' "$out/time.txt")
wall=$(awk -F': ' '/Elapsed \(wall clock\)/ {print $2}' "$out/time.txt")
files=$(( $(stat -c %s "$base") + $(stat -c %s "$cand") ))
echo "machine: $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | sed 's/^ //'), $(nproc) CPUs;" \
  "$rows x 384 synthetic vectors, 1,000 queries, K = 10, --index $index"
echo
echo "| rows | files | peak RSS | budget (files + 1 GiB) | wall | search + metrics | index_recall@10 | recall@10 | search_recall@10 |"
echo "| ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: |"
jq -r --arg rows "$rows" --argjson files "$files" --argjson rss "$rss_kib" --arg wall "$wall" \
  'def gib: . / 1073741824 * 100 | round / 100 | tostring + " GiB";
   def r4: . * 10000 | round / 10000;
   .metrics as $m
   | "| \($rows) | \($files | gib) | \($rss * 1024 | gib) | \($files + 1073741824 | gib)"
     + " | \($wall) | \(.timing.search_seconds | . * 10 | round / 10) s"
     + " | \($m["index_recall@10"] | r4) | \($m["recall@10"] | r4) | \($m["search_recall@10"] | r4) |"' \
  "$out/report.json"
if (( rss_kib * 1024 > files + 1073741824 )); then
  echo "peak RSS is over the budget of both files + 1 GiB" >&2
  exit 1
fi
