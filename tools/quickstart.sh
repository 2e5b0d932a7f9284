#!/usr/bin/env bash
# The main job, from nothing to a quantized model: install, build, make the default
# model, show its layers, dry-run the recommended config, quantize it.
# (The default model is the BERT-style fixture until the real-model issue lands; the
# FAISS quality report joins here when `embq eval` lands.)
set -euo pipefail
repo="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
build_dir="${EMBQ_BUILD_DIR:-$repo/build}"
"$repo/tools/setup.sh"

embq="$build_dir/embq"
model="$build_dir/fixtures/bert_traced.pt"
config="$repo/configs/int8-fp16-embeddings.json"
output="$build_dir/bert_traced.int8.pt"

echo "== embq inspect $model"
"$embq" inspect "$model"
echo
echo "== embq quantize (recommended config: $config)"
"$embq" quantize "$model" "$config" -o "$output"
