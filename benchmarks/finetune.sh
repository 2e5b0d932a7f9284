#!/usr/bin/env bash
# Quantization-aware fine-tuning on the real model (USE-Lite): for each config, post-training
# quantization (`embq quantize`) against `embq finetune` of the same config, both measured
# with `embq eval` on the WordNet eval sets (corpus.txt: 10,000 glosses, 1,000 sampled
# queries; pairs.tsv), which neither saw. Fine-tuning trains on the calibration glosses
# (.cache/wordnet/calib.txt; its first 512 are held out to pick the best step).
#
#   benchmarks/finetune.sh [OUT_DIR]      (default build/bench/finetune)
# FINETUNE_FLAGS adds fine-tuning options (default: none, embq finetune's defaults). Prints the Markdown
# table; OUT_DIR keeps the models, the logs and eval's reports. Needs tools/setup.sh to
# have run. About 30 minutes on 2 CPUs.
set -euo pipefail
repo="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
embq="${EMBQ_BINARY:-$repo/build/embq}"
out="${1:-$repo/build/bench/finetune}"
mkdir -p "$out"
model="$repo/.cache/use-lite/use_lite.pt"
card="$repo/.cache/use-lite/card.json"
wordnet="$repo/.cache/wordnet"
read -r -a flags <<< "${FINETUNE_FLAGS:-}"
configs=(int4-weights int8)

for name in "${configs[@]}"; do
  config="$repo/configs/$name.json"
  "$embq" quantize "$model" "$config" -o "$out/$name.ptq.pt" > /dev/null 2> "$out/$name.ptq.err"
  start=$(date +%s)
  "$embq" finetune "$model" "$config" --card "$card" --data "$wordnet/calib.txt" ${flags[@]+"${flags[@]}"} \
    -o "$out/$name.tuned.pt" > "$out/$name.finetune.out" 2> "$out/$name.finetune.err"
  echo $(( $(date +%s) - start )) > "$out/$name.finetune.seconds"
  # The written files on the held-out texts, against what training reported (simulated).
  head -512 "$wordnet/calib.txt" > "$out/held_out.txt"
  for kind in ptq tuned; do
    "$embq" eval --baseline "$model" --candidate "$out/$name.$kind.pt" --card "$card" \
      --data "$out/held_out.txt" --queries-sample 0 --k 10 \
      --report-json "$out/$name.$kind.held_out.json" > /dev/null 2> "$out/$name.$kind.held_out.err"
  done
  for kind in ptq tuned; do
    "$embq" eval --baseline "$model" --candidate "$out/$name.$kind.pt" --card "$card" \
      --data "$wordnet/corpus.txt" --pairs "$wordnet/pairs.tsv" --k 1,10 \
      --report-json "$out/$name.$kind.json" > /dev/null 2> "$out/$name.$kind.eval.err"
  done
done

echo "machine: $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | sed 's/^ //'), $(nproc) CPUs"
echo "finetune flags: ${flags[*]:-(the defaults)}"
python3 - "$out" "${configs[@]}" <<'PY'
import json, sys, zipfile
out, names = sys.argv[1], sys.argv[2:]

def record(model):
    # The fine-tuning record the output carries in extra/embq.json.
    with zipfile.ZipFile(model) as z:
        entry = next(n for n in z.namelist() if n.endswith("extra/embq.json"))
        return json.loads(z.read(entry))["finetune"]

print("| config | size vs FP32 | recall@10 PTQ | recall@10 fine-tuned | cosine p5 PTQ | "
      "cosine p5 fine-tuned | hit@1 PTQ / fine-tuned (FP32) | held-out recall@10 before -> "
      "after (simulated) | best step / steps run | minutes |")
print("| --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: |")
for name in names:
    ptq = json.load(open(f"{out}/{name}.ptq.json"))["metrics"]
    tuned = json.load(open(f"{out}/{name}.tuned.json"))["metrics"]
    ft = record(f"{out}/{name}.tuned.pt")
    minutes = int(open(f"{out}/{name}.finetune.seconds").read()) / 60
    held = ft["held_out"]
    print(f"| {name} | {tuned['size_ratio']:.3f} | {ptq['recall@10']:.4f} | "
          f"{tuned['recall@10']:.4f} | {ptq['cosine.p5']:.4f} | {tuned['cosine.p5']:.4f} | "
          f"{ptq['hit@1_candidate']:.4f} / {tuned['hit@1_candidate']:.4f} "
          f"({tuned['hit@1_baseline']:.4f}) | {held['before']['recall@10']:.4f} -> "
          f"{held['best']['recall@10']:.4f} | {ft['best_step']} / {ft['steps_run']} | "
          f"{minutes:.1f} |")
PY
echo
python3 - "$out" "${configs[@]}" <<'PY'
import json, sys, zipfile
out, names = sys.argv[1], sys.argv[2:]
print("| config | held-out recall@10 PTQ: simulated / written | fine-tuned: simulated / written |")
print("| --- | ---: | ---: |")
for name in names:
    with zipfile.ZipFile(f"{out}/{name}.tuned.pt") as z:
        entry = next(n for n in z.namelist() if n.endswith("extra/embq.json"))
        held = json.loads(z.read(entry))["finetune"]["held_out"]
    written = {k: json.load(open(f"{out}/{name}.{k}.held_out.json"))["metrics"]["recall@10"]
               for k in ("ptq", "tuned")}
    print(f"| {name} | {held['before']['recall@10']:.4f} / {written['ptq']:.4f} | "
          f"{held['best']['recall@10']:.4f} / {written['tuned']:.4f} |")
PY
