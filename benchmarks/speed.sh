#!/usr/bin/env bash
# Speed of every shipped config against FP32 and against PyTorch's own int8 (the peer,
# torch quantize_dynamic on the same weights), at batch 1, 8 and 32, by `embq bench`;
# also int8.json with one activation range per call ("grid", "exact") for the per-row
# default's gain.
#
#   benchmarks/speed.sh [OUT_DIR]        (default build/bench/speed)
#   SPEED_MODELS="use-lite minilm" SPEED_ROUNDS=5 benchmarks/speed.sh
#
# Models: USE-Lite (the real model, tools/setup.sh fetches it) and a MiniLM-sized BERT-style
# encoder (benchmarks/make_bench_model.py: random weights, for speed only). Every variant is
# timed in its own `embq bench FP32 VARIANT` process: quantized models in one process share
# oneDNN's kernel cache and would evict each other's kernels, which a deployed model does not
# suffer. Texts: the WordNet calibration glosses (speed needs real lengths, not labels).
# Prints the Markdown table; OUT_DIR keeps the models and each bench's JSON and Markdown.
set -euo pipefail
repo="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
embq="${EMBQ_BINARY:-$repo/build/embq}"
python=/usr/bin/python3
out="${1:-$repo/build/bench/speed}"
models="${SPEED_MODELS:-use-lite minilm}"
rounds="${SPEED_ROUNDS:-5}"
data="$repo/.cache/wordnet/calib.txt"
mkdir -p "$out"

for kind in $models; do
  dir="$out/$kind"
  mkdir -p "$dir"
  case "$kind" in
    use-lite)
      fp32="$repo/.cache/use-lite/use_lite.pt"
      text=(--card "$repo/.cache/use-lite/card.json")
      texts_per_turn=128 ;;
    minilm)
      fp32="$repo/build/bench/bert_minilm.pt"
      [[ -f "$fp32" ]] || "$python" "$repo/benchmarks/make_bench_model.py" --out "$fp32" >&2
      text=(--tokenizer "$repo/build/fixtures/vocab.txt")
      texts_per_turn=64 ;;
    *) echo "speed.sh: unknown model '$kind' (use-lite or minilm)" >&2; exit 2 ;;
  esac

  variants=()
  for config in "$repo"/configs/*.json; do
    name="$(basename "$config" .json)"
    [[ "$name" == embq-config.schema ]] && continue
    "$embq" --log-level warn quantize "$fp32" "$config" -o "$dir/$name.pt" "${text[@]}" \
      --allow-unmatched-rules >/dev/null
    variants+=("$name")
  done
  # int8.json with one activation range per call: on a grid (the default before per-row
  # ranges) and each call's own (what the peer does).
  for range in grid exact; do
    "$python" "$repo/benchmarks/config_variant.py" "$repo/configs/int8.json" \
      "$dir/int8-$range-range.json" activation_range "$range"
    "$embq" --log-level warn quantize "$fp32" "$dir/int8-$range-range.json" -o "$dir/int8-$range-range.pt" \
      "${text[@]}" >/dev/null
    variants+=("int8-$range-range")
  done
  "$python" "$repo/benchmarks/bench_peer.py" --kind "$kind" --fp32 "$fp32" --out "$dir/peer.pt" >&2
  variants+=(peer)

  for name in "${variants[@]}"; do
    "$embq" --log-level warn bench "$fp32" "$dir/$name.pt" "${text[@]}" --data "$data" \
      --batch 1,8,32 --rounds "$rounds" --texts-per-turn "$texts_per_turn" \
      --report-json "$dir/$name.bench.json" --report-md "$dir/$name.bench.md" >/dev/null
    echo "speed.sh: $kind $name done" >&2
  done
done

"$python" "$repo/benchmarks/speed_table.py" "$out" $models
