#!/usr/bin/env bash
# Recovery without training on the real model (USE-Lite) and the WordNet sets: what GPTQ
# rounding, SmoothQuant smoothing, NF4 and group-wise table scales buy over plain rounding,
# each row one config, all in one `embq compare` run (FP32 embedded once).
#
# Calibration (ranges, per-channel ranges and the input Gram matrices GPTQ needs) is
# measured on the first 1,000 calibration glosses (.cache/wordnet/calib.txt); every figure
# is on the eval sets (corpus.txt: 10,000 other glosses; pairs.tsv), which no method saw.
#
#   benchmarks/recovery.sh [OUT_DIR]      (default build/bench/recovery)
# Prints the Markdown table; OUT_DIR keeps the configs, the calibration and compare's
# reports. Needs tools/setup.sh to have run. About 8 minutes on 2 CPUs.
set -euo pipefail
repo="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
embq="${EMBQ_BINARY:-$repo/build/embq}"
out="${1:-$repo/build/bench/recovery}"
mkdir -p "$out/configs"
model="$repo/.cache/use-lite/use_lite.pt"
card="$repo/.cache/use-lite/card.json"
wordnet="$repo/.cache/wordnet"

"$embq" calibrate "$model" --card "$card" --data "$wordnet/calib.txt" --samples 1000 \
  --input-gram -o "$out/calib.json" > /dev/null 2> "$out/calibrate.err"

# name, the linear choice, the table choice (JSON objects without braces).
rows=(
  "int8-dynamic|\"scheme\": \"int8_dynamic\"|\"scheme\": \"int8_rowwise\""
  "int8-dynamic-gptq|\"scheme\": \"int8_dynamic\", \"rounding\": \"gptq\"|\"scheme\": \"int8_rowwise\""
  "int8-static|\"scheme\": \"int8_static\"|\"scheme\": \"int8_rowwise\""
  "int8-static-smooth|\"scheme\": \"int8_static\", \"smoothing\": 0.5|\"scheme\": \"int8_rowwise\""
  "int8-static-smooth-gptq|\"scheme\": \"int8_static\", \"smoothing\": 0.5, \"rounding\": \"gptq\"|\"scheme\": \"int8_rowwise\""
  "int4-weight|\"scheme\": \"int4_weight\"|\"scheme\": \"int8_rowwise\""
  "int4-weight-gptq|\"scheme\": \"int4_weight\", \"rounding\": \"gptq\"|\"scheme\": \"int8_rowwise\""
  "nf4-gptq|\"scheme\": \"nf4\", \"rounding\": \"gptq\"|\"scheme\": \"int8_rowwise\""
  "nf4-g32-gptq|\"scheme\": \"nf4\", \"granularity\": \"group:32\", \"rounding\": \"gptq\"|\"scheme\": \"int8_rowwise\""
  "table-int4-rowwise|\"scheme\": \"fp32\"|\"scheme\": \"int4_rowwise\""
  "table-int4-g32|\"scheme\": \"fp32\"|\"scheme\": \"int4_rowwise\", \"granularity\": \"group:32\""
  "table-nf4-g64|\"scheme\": \"fp32\"|\"scheme\": \"nf4\""
)
configs=()
for row in "${rows[@]}"; do
  IFS='|' read -r name linear table <<< "$row"
  printf '{"defaults": {"linear": {%s}, "embedding": {%s}}}\n' "$linear" "$table" \
    > "$out/configs/$name.json"
  configs+=("$out/configs/$name.json")
done

# No gates: every row is a result.
"$embq" compare "$model" "${configs[@]}" --calibration "$out/calib.json" --card "$card" \
  --data "$wordnet/corpus.txt" --pairs "$wordnet/pairs.tsv" --k 1,10 --keep "$out/models" \
  --report-json "$out/compare.json" --report-md "$out/compare.md" > "$out/compare.out" \
  2> "$out/compare.err"
# Speed of the int8 rows against FP32, side by side on the calibration glosses (lengths
# only; no quality is measured on them).
"$embq" bench "$model" "$out/models/int8-dynamic.pt" "$out/models/int8-static.pt" \
  "$out/models/int8-static-smooth.pt" --card "$card" --data "$wordnet/calib.txt" \
  --batch 1,8,32 --report-md "$out/bench.md" > "$out/bench.out" 2> "$out/bench.err"
echo "machine: $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | sed 's/^ //'), $(nproc) CPUs"
# The table in the order of the rows above (compare sorts by name).
python3 - "$out/compare.json" "${rows[@]}" <<'PY'
import json, sys
report = json.load(open(sys.argv[1]))
by_name = {r["name"]: r for r in report["configs"]}
print(f"| config | linears | table | size vs FP32 | recall@10 | eps_recall@10 | cosine p5 | hit@1 (FP32 {report['configs'][0]['metrics']['hit@1_baseline']:.4f}) |")
print("| --- | --- | --- | ---: | ---: | ---: | ---: | ---: |")
for row in sys.argv[2:]:
    name, linear, table = row.split("|")
    r = by_name[name]
    m = r["metrics"]
    print(f"| {name} | {linear.replace(chr(34), '')} | {table.replace(chr(34), '')} | "
          f"{m['size_ratio']:.3f} | {m['recall@10']:.4f} | {m['eps_recall@10']:.4f} | "
          f"{m['cosine.p5']:.4f} | {m['hit@1_candidate']:.4f} |")
PY
echo
cat "$out/bench.md"
