#!/usr/bin/env bash
# Quality, size and speed of every shipped config on the real model: Universal Sentence
# Encoder Lite (tools/use_lite) evaluated against FP32 by `embq eval` on the WordNet sets
# (10,000 glosses as the corpus, 2,000 example -> definition pairs for labelled hit@k).
# Prints a Markdown table; the JSON reports stay in OUT_DIR.
#
#   benchmarks/real_model_quality.sh [OUT_DIR]      (default build/bench/real_model)
# Needs tools/setup.sh to have run (the build, .cache/use-lite, .cache/wordnet).
set -euo pipefail
repo="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
embq="${EMBQ_BINARY:-$repo/build/embq}"
out="${1:-$repo/build/bench/real_model}"
model="$repo/.cache/use-lite/use_lite.pt"
card="$repo/.cache/use-lite/card.json"
data="$repo/.cache/wordnet"
mkdir -p "$out"

for config in "$repo"/configs/*.json; do
  name="$(basename "$config" .json)"
  [[ "$name" == embq-config.schema ]] && continue
  echo "== $name" >&2
  "$embq" --log-level warn quantize "$model" "$config" -o "$out/$name.pt" >/dev/null
  # Gates are not the point here (every config gets a row), so the exit code is ignored.
  "$embq" --log-level warn eval --baseline "$model" --candidate "$out/$name.pt" --card "$card" \
    --data "$data/corpus.txt" --pairs "$data/pairs.tsv" --k 1,10 \
    --report-json "$out/$name.json" >/dev/null || true
done

/usr/bin/python3 - "$out" <<'PY'
import glob, json, os, platform, sys
rows = []
for path in sorted(glob.glob(os.path.join(sys.argv[1], "*.json"))):
    r = json.load(open(path))
    m = r["metrics"]
    rows.append((os.path.basename(path)[:-5], m, r))
if not rows:
    sys.exit("no reports")
first = rows[0][2]
cpu = next((l.split(":", 1)[1].strip() for l in open("/proc/cpuinfo") if l.startswith("model name")), "?")
print(f"USE-Lite ({first['inputs']['baseline']['bytes'] / 2**20:.1f} MiB FP32) on WordNet: "
      f"{first['counts']['corpus']} glosses, {first['counts']['queries']} sampled queries, "
      f"{first['counts']['pairs']} labelled pairs; {cpu}, {first['tool']['threads']} threads; "
      f"FP32 hit@1 {rows[0][1]['hit@1_baseline']:.4f}\n")
print("| config | size vs FP32 | recall@1 | recall@10 | cross_recall@10 | cosine p5 | hit@1 (FP32 → quantized) | texts/s vs FP32 |")
print("| --- | --- | --- | --- | --- | --- | --- | --- |")
for name, m, _ in rows:
    print(f"| {name} | {100 * m['size_ratio']:.1f}% | {m['recall@1']:.4f} | {m['recall@10']:.4f} | "
          f"{m['cross_recall@10']:.4f} | {m['cosine.p5']:.4f} | "
          f"{m['hit@1_baseline']:.4f} → {m['hit@1_candidate']:.4f} | {m['throughput_ratio']:.2f}x |")
PY
