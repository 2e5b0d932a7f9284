#!/usr/bin/env bash
# Calibration on the real model (Universal Sentence Encoder Lite, tools/use_lite): what it
# costs, and static against dynamic int8, all in one run on one machine.
#
#   1. Cost: `embq calibrate` on N calibration glosses (.cache/wordnet/calib.txt, disjoint
#      from the eval corpus) with every observer kind at once, next to `embq embed` of the
#      same texts (the forward passes alone): wall time, texts/s and peak RSS of each.
#   2. Agreement: `embq compare` of int8_dynamic and int8_static on every linear layer
#      (tables int8 row-wise in both) against FP32 on the WordNet sets, once per observer:
#      recall@10, cosine p5 and hit@1, FP32 embedded once per observer.
#   3. Speed: `embq eval --baseline <dynamic> --candidate <static>` at batch 1, 8 and 32,
#      the two models taking turns on the same chunks; throughput_ratio = static / dynamic.
#
#   benchmarks/calibration.sh [OUT_DIR] [SAMPLES]   (default build/bench/calibration 10000)
# Prints Markdown; OUT_DIR keeps the calibration file, configs, models and reports.
# Needs tools/setup.sh to have run (the build, .cache/use-lite, .cache/wordnet).
set -euo pipefail
repo="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
embq="${EMBQ_BINARY:-$repo/build/embq}"
out="${1:-$repo/build/bench/calibration}"
samples="${2:-10000}"
model="$repo/.cache/use-lite/use_lite.pt"
card="$repo/.cache/use-lite/card.json"
sets="$repo/.cache/wordnet"
mkdir -p "$out"

# Runs a command quietly and prints "seconds peak_rss_mib" (the child's ru_maxrss).
measure() {
  /usr/bin/python3 - "$@" <<'EOF'
import resource, subprocess, sys, time
start = time.perf_counter()
subprocess.run(sys.argv[1:], check=True, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
seconds = time.perf_counter() - start
print("%.2f %.0f" % (seconds, resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / 1024))
EOF
}

observers=(minmax moving_average_minmax percentile:99.99 mse entropy)
observer_args=()
for o in "${observers[@]}"; do observer_args+=(--observer "$o"); done

echo "machine: $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | sed 's/^ //'), $(nproc) CPUs"
echo
echo "## Cost of calibrating ($samples texts, ${#observers[@]} observers on every linear input and output)"
echo
head -n "$samples" "$sets/calib.txt" > "$out/calib_texts.txt"
read -r embed_s embed_rss < <(measure "$embq" embed "$model" --card "$card" \
  --data "$out/calib_texts.txt" --out "$out/calib_texts.npy")
read -r calib_s calib_rss < <(measure "$embq" calibrate "$model" --card "$card" \
  --data "$out/calib_texts.txt" --samples "$samples" "${observer_args[@]}" -o "$out/calib.json")
# A tenth of the samples too: observer state is bounded, so what calibrating adds to
# embedding's peak memory should not grow with N (embedding's own peak does: longer texts
# turn up in a bigger sample, and their batches are bigger).
small=$((samples / 10))
head -n "$small" "$out/calib_texts.txt" > "$out/calib_texts_small.txt"
read -r small_embed_s small_embed_rss < <(measure "$embq" embed "$model" --card "$card" \
  --data "$out/calib_texts_small.txt" --out "$out/calib_texts_small.npy")
read -r small_s small_rss < <(measure "$embq" calibrate "$model" --card "$card" \
  --data "$out/calib_texts_small.txt" --samples "$small" "${observer_args[@]}" -o "$out/calib_small.json")
# And the default observer alone, the usual case.
read -r one_s one_rss < <(measure "$embq" calibrate "$model" --card "$card" \
  --data "$out/calib_texts_small.txt" --samples "$small" -o "$out/calib_one.json")
python3 - "$samples" "$embed_s" "$embed_rss" "$calib_s" "$calib_rss" \
  "$small_embed_s" "$small_embed_rss" "$small_s" "$small_rss" "$one_s" "$one_rss" "$out/calib.json" <<'EOF'
import os, sys
n = int(sys.argv[1])
es, er, cs, cr, ses, ser, ss, sr, os_, or_ = map(float, sys.argv[2:12])
path = sys.argv[12]
print("| texts | observers | embed s | calibrate s | calibrate / embed time | embed peak RSS | calibrate peak RSS | added by calibrating |")
print("|---|---|---|---|---|---|---|---|")
for count, kinds, e_s, e_r, c_s, c_r in ((n // 10, "default", ses, ser, os_, or_), (n // 10, "all 5", ses, ser, ss, sr),
                                         (n, "all 5", es, er, cs, cr)):
    print("| %d | %s | %.1f | %.1f | %.2fx | %.0f MiB | %.0f MiB | %+.0f MiB |"
          % (count, kinds, e_s, c_s, c_s / e_s, e_r, c_r, c_r - e_r))
print()
print("calibration throughput at %d texts: %.0f texts/s; calibration file %.1f MiB"
      % (n, n / cs, os.path.getsize(path) / 2**20))
EOF

cat > "$out/int8-dynamic-all.json" <<'EOF'
{"description": "Every linear int8_dynamic per channel; tables int8 row-wise.",
 "defaults": {"linear": {"scheme": "int8_dynamic"}, "embedding": {"scheme": "int8_rowwise"}}}
EOF
cat > "$out/int8-static-all.json" <<'EOF'
{"description": "Every linear int8_static per channel; tables int8 row-wise.",
 "defaults": {"linear": {"scheme": "int8_static"}, "embedding": {"scheme": "int8_rowwise"}}}
EOF

echo
echo "## Agreement with FP32: int8_dynamic vs int8_static, by observer"
echo
echo "| observer | config | size vs FP32 | recall@10 | cosine p5 | hit@1 FP32 -> quantized |"
echo "|---|---|---|---|---|---|"
for o in "${observers[@]}"; do
  name="${o%%:*}"
  mkdir -p "$out/$name"
  "$embq" compare "$model" "$out/int8-dynamic-all.json" "$out/int8-static-all.json" \
    --calibration "$out/calib.json" --observer "$o" --card "$card" \
    --data "$sets/corpus.txt" --pairs "$sets/pairs.tsv" --k 1,10 \
    --keep "$out/$name" --report-json "$out/$name/compare.json" > "$out/$name/compare.log" 2>&1 ||
    { cat "$out/$name/compare.log" >&2; exit 1; }
  python3 - "$o" "$out/$name/compare.json" <<'EOF'
import json, sys
observer, report = sys.argv[1], json.load(open(sys.argv[2]))
for row in report["configs"]:
    m = row.get("metrics") or {}
    if row["name"].startswith("int8-dynamic") and observer != "minmax":
        continue  # dynamic int8 does not use the calibration: one row is enough
    print("| %s | %s | %.1f%% | %.4f | %.4f | %.4f -> %.4f |" % (
        observer if "static" in row["name"] else "(none)", row["name"],
        100 * m["size_ratio"], m["recall@10"], m["cosine.p5"],
        m["hit@1_baseline"], m["hit@1_candidate"]))
EOF
done

echo
echo "## Speed: int8_static / int8_dynamic, side by side (models from the minmax run)"
echo
echo "One embq eval per batch size, the two models taking turns on the same chunks"
echo "(the first 2,000 corpus lines; $(nproc) threads)."
echo
echo "| batch size | static / dynamic texts/s | recall@10 of static against dynamic |"
echo "|---|---|---|"
head -n 2000 "$sets/corpus.txt" > "$out/speed_texts.txt"
for batch in 1 8 32; do
  "$embq" eval --baseline "$out/minmax/int8-dynamic-all.pt" --candidate "$out/minmax/int8-static-all.pt" \
    --card "$card" --data "$out/speed_texts.txt" --k 10 --batch-size "$batch" \
    --report-json "$out/speed_b$batch.json" > "$out/speed_b$batch.log" 2>&1 ||
    { cat "$out/speed_b$batch.log" >&2; exit 1; }
  python3 - "$batch" "$out/speed_b$batch.json" <<'EOF'
import json, sys
m = json.load(open(sys.argv[2]))["metrics"]
print("| %s | %.2fx | %.4f |" % (sys.argv[1], m["throughput_ratio"], m["recall@10"]))
EOF
done
