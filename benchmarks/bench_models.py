#!/usr/bin/python3
"""One benchmark run over real models: size, speed, memory, quality and quantizing cost of
every embq config and of PyTorch's own quantize_dynamic (the peer), all against FP32.

    /usr/bin/python3 benchmarks/bench_models.py --out DIR [--embq build/embq] [--smoke]
        [--models use-lite,fixture] [--threads N] [--executor legacy|profiling|simple]
        [--repeats 5] [--batch-sizes 1,8,32] [--corpus-lines 2000] [--queries-sample 1000]

Models: Universal Sentence Encoder Lite (.cache/use-lite, tools/use_lite/fetch.sh) and the
BERT-style test fixture (build/fixtures, tools/make_fixtures.py). Text: the WordNet glosses
and example/gloss pairs in .cache/wordnet (tools/make_wordnet_sets.py).

Variants per model: FP32; every configs/*.json; one config per scheme applied alone (other
layers FP32); the peer (benchmarks/bench_peer.py). Writes DIR/bench_models.json (every number,
plus the machine) and DIR/bench_models.md (a table per model, the targets, a profile of where
the time goes). Exit status: 0 when every step ran, 1 when any step failed (the outputs are
still written, naming the failures).

--smoke (for CI: keeps this script working, numbers meaningless): the fixture only, 100 corpus
lines, FP32 + configs/int8.json + int8_dynamic alone + int8_static alone + the peer, one repeat
at batch 8.
"""
import argparse
import datetime
import json
import os
import platform
import shutil
import subprocess
import sys
import tempfile
import time

sys.dont_write_bytecode = True  # leave no __pycache__ in benchmarks/ or tools/
import bench_threads  # noqa: F401,E402 (before torch: OpenBLAS reads it when it loads)
import torch  # noqa: E402

import bench_report  # noqa: E402
import bench_timing  # noqa: E402
import bench_tokens  # noqa: E402

REPO = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
HERE = os.path.join(REPO, "benchmarks")
PEER = "peer: torch quantize_dynamic"

# Each scheme applied alone to every layer kind it supports; the rest stays FP32.
SCHEMES = {
    "fp16": {"linear": {"scheme": "fp16"}, "embedding": {"scheme": "fp16"},
             "embedding_bag": {"scheme": "fp16"}},
    "bf16": {"linear": {"scheme": "bf16"}},
    "int8_dynamic": {"linear": {"scheme": "int8_dynamic", "granularity": "per_channel"}},
    "int8_static": {"linear": {"scheme": "int8_static", "granularity": "per_channel"}},
    "int4_weight": {"linear": {"scheme": "int4_weight", "granularity": "group:64"}},
    "int8_rowwise": {"embedding": {"scheme": "int8_rowwise"}, "embedding_bag": {"scheme": "int8_rowwise"}},
    "int4_rowwise": {"embedding": {"scheme": "int4_rowwise"}, "embedding_bag": {"scheme": "int4_rowwise"}},
}

MODELS = {
    "use-lite": {"model": ".cache/use-lite/use_lite.pt", "card": ".cache/use-lite/card.json",
                 "tokenizer": ".cache/use-lite/tokenizer.json", "pad_id": 0},
    "fixture": {"model": "build/fixtures/bert_traced.pt", "card": None,
                "tokenizer": "build/fixtures/vocab.txt", "pad_id": 0},
}
CORPUS = ".cache/wordnet/corpus.txt"
PAIRS = ".cache/wordnet/pairs.tsv"
# Calibration text for the schemes that need it, disjoint from CORPUS and PAIRS; embq
# quantize runs the calibration itself (the config's "calibration"), so its quantize cost
# includes calibrating.
CALIBRATION = {"data": ".cache/wordnet/calib.txt", "samples": 1000}


def repo_path(p):
    return p if os.path.isabs(p) else os.path.join(REPO, p)


# A child forked from this process inherits its resident set: Linux carries the forked
# copy's high-water mark through exec into the child's ru_maxrss, so a child of a parent
# that holds a dozen models would report the parent's size. This launcher is a fresh, small
# python that forks the real child and reports that grandchild's own wait4 rusage.
LAUNCHER = """
import json, os, sys, time
start = time.perf_counter()
pid = os.fork()
if pid == 0:
    os.execvp(sys.argv[2], sys.argv[2:])
_, status, usage = os.wait4(pid, 0)
with open(sys.argv[1], "w") as f:
    json.dump({"rc": os.waitstatus_to_exitcode(status), "wall_s": time.perf_counter() - start,
               "peak_rss_mib": usage.ru_maxrss / 1024}, f)
"""


def run_measured(cmd, log_path):
    """Run a child to completion; return (exit code, wall seconds, its own peak RSS MiB).
    Its output goes to log_path."""
    env = dict(os.environ, PYTHONDONTWRITEBYTECODE="1")
    result_path = log_path + ".rusage.json"
    with open(log_path, "w") as log:
        subprocess.run([sys.executable, "-c", LAUNCHER, result_path, *cmd], stdout=log,
                       stderr=subprocess.STDOUT, env=env)
    try:
        with open(result_path) as f:
            r = json.load(f)
    except (OSError, ValueError):
        return 127, 0.0, 0.0  # the launcher itself failed (e.g. no such program): see the log
    return r["rc"], r["wall_s"], r["peak_rss_mib"]


def log_tail(path, lines=3):
    with open(path, errors="replace") as f:
        return " / ".join(l.strip() for l in f.read().strip().splitlines()[-lines:])


def variant_configs(work, smoke):
    """[(name, config path)] for embq: shipped configs, then one per scheme."""
    shipped = sorted(f for f in os.listdir(os.path.join(REPO, "configs"))
                     if f.endswith(".json") and "schema" not in f)
    out = [(f"configs/{f}", os.path.join(REPO, "configs", f)) for f in shipped]
    for scheme, defaults in SCHEMES.items():
        path = os.path.join(work, f"scheme_{scheme}.json")
        config = {"description": f"{scheme} alone", "defaults": defaults}
        if scheme == "int8_static":
            config["calibration"] = dict(CALIBRATION, data=repo_path(CALIBRATION["data"]))
        with open(path, "w") as f:
            json.dump(config, f)
        out.append((f"{scheme} only", path))
    if smoke:
        out = [(n, p) for n, p in out if n in ("configs/int8.json", "int8_dynamic only", "int8_static only")]
    return out


def head_lines(src, dst, n):
    with open(src, encoding="utf-8") as f, open(dst, "w", encoding="utf-8") as g:
        for k, line in enumerate(f):
            if n and k >= n:
                break
            g.write(line)
    with open(dst, encoding="utf-8") as g:
        return sum(1 for _ in g)


def timing_inputs(key, spec, lines, batch_sizes, max_length, b1_sentences):
    """Token ids for the timing batches (see bench_tokens.py for why Python tokenizes).
    Batch size 1 uses only the first b1_sentences lines: one call per sentence is the
    slowest way through the text, and its latency percentiles need fewer calls."""
    if spec["tokenizer"].endswith(".json"):
        tok = bench_tokens.UnigramTokenizer(repo_path(spec["tokenizer"]))
        ref = json.load(open(os.path.join(REPO, "tests/data/use_lite/reference.json"), encoding="utf-8"))
        same = sum(tok.encode(s) == ids for s, ids in zip(ref["sentences"], ref["ids"]))
        how = (f"a Python Unigram Viterbi over tokenizer.json (timing only; equals embq's ids on "
               f"{same}/{len(ref['ids'])} reference sentences)")
    else:
        tok = bench_tokens.WordPieceTokenizer(repo_path(spec["tokenizer"]))
        how = "a Python whitespace/punctuation + WordPiece lookup over vocab.txt (timing only)"
    ids = [tok.encode(line) for line in lines]
    batches = {b: bench_tokens.make_batches(ids[:b1_sentences] if b == 1 else ids, b, max_length, spec["pad_id"])
               for b in batch_sizes}
    mean_len = sum(min(len(i), max_length) for i in ids) / len(ids)
    return batches, how, mean_len


def quantize_all(key, spec, args, work, failures):
    """Quantize with embq (each config) and with the peer; return {name: variant dict}."""
    fp32 = repo_path(spec["model"])
    fp32_bytes = os.path.getsize(fp32)
    variants = {"FP32": {"path": fp32, "bytes": fp32_bytes, "size_ratio": 1.0}}
    for name, cfg in variant_configs(work, args.smoke):
        out = os.path.join(work, f"{key}_{len(variants)}.pt")
        log = out + ".log"
        # How to read text, for configs that calibrate.
        text = ["--card", repo_path(spec["card"])] if spec["card"] else ["--tokenizer", repo_path(spec["tokenizer"])]
        rc, wall, rss = run_measured([args.embq, "--threads", str(args.threads), "--log-level", "warn",
                                      "quantize", fp32, cfg, "-o", out, "--allow-unmatched-rules", *text], log)
        variants[name] = record(name, out, rc, wall, rss, log, fp32_bytes, failures, key)
    out = os.path.join(work, f"{key}_peer.pt")
    rc, wall, rss = run_measured([sys.executable, os.path.join(HERE, "bench_peer.py"), "--kind", key,
                                  "--fp32", fp32, "--out", out, "--threads", str(args.threads)],
                                 out + ".log")
    variants[PEER] = record(PEER, out, rc, wall, rss, out + ".log", fp32_bytes, failures, key)
    return variants


def record(name, path, rc, wall, rss, log, fp32_bytes, failures, key):
    if rc != 0 or not os.path.exists(path):
        failures.append(f"{key} / {name}: quantizing failed (exit {rc}): {log_tail(log)}")
        return {"error": f"quantize exit {rc}", "quantize_cost": {"wall_s": wall, "peak_rss_mib": rss}}
    size = os.path.getsize(path)
    return {"path": path, "bytes": size, "size_ratio": size / fp32_bytes,
            "quantize_cost": {"wall_s": wall, "peak_rss_mib": rss}}


def measure_speed(variants, batches, args):
    """Interleaved timing of every variant, per batch size, in this process."""
    models = {n: torch.jit.load(v["path"]).eval() for n, v in variants.items() if not v.get("error")}
    for b, bb in batches.items():
        stats = bench_timing.time_interleaved(models, bb, args.repeats, args.warmup)
        for name, s in stats.items():
            variants[name].setdefault("speed", {})[str(b)] = s
        print(f"  speed b{b}: " + ", ".join(f"{n} {s['ratio']:.2f}x" for n, s in stats.items()), flush=True)
    return models


def cosine_min(a, b, batches):
    with torch.inference_mode():
        cos = [torch.nn.functional.cosine_similarity(a(*x), b(*x)).min().item() for x in batches]
    return min(cos)


def measure_rss(variants, batches_path, args, work, failures, key):
    base = [sys.executable, os.path.join(HERE, "bench_timing.py"), "rss"]
    opts = [batches_path, "--threads", str(args.threads), "--executor", args.executor]

    def child(model, log):
        rc, _, _ = run_measured(base + [model] + opts, log)
        if rc != 0:
            failures.append(f"{key}: peak-RSS child for {model} failed: {log_tail(log)}")
            return None
        with open(log) as f:
            return json.loads(f.read().strip().splitlines()[-1])["peak_rss_mib"]

    baseline = child("-", os.path.join(work, f"{key}_rss_base.log"))
    for name, v in variants.items():
        if not v.get("error"):
            v["peak_rss_mib"] = child(v["path"], v["path"] + ".rss.log")
    return baseline


def measure_quality(key, spec, variants, args, corpus, pairs, work, failures):
    fp32 = variants["FP32"]["path"]
    model_opts = (["--card", repo_path(spec["card"])] if spec["card"]
                  else ["--tokenizer", repo_path(spec["tokenizer"])])
    for name, v in variants.items():
        if v.get("error") or name == "FP32":
            continue
        report = v["path"] + ".eval.json"
        log = v["path"] + ".eval.log"
        rc, wall, _ = run_measured([args.embq, "--threads", str(args.threads), "--log-level", "warn", "eval",
                                    "--baseline", fp32, "--candidate", v["path"], *model_opts,
                                    "--data", corpus, "--pairs", pairs, "--k", "1,10",
                                    "--queries-sample", str(args.queries_sample), "--report-json", report], log)
        if rc != 0 or not os.path.exists(report):
            failures.append(f"{key} / {name}: embq eval failed (exit {rc}): {log_tail(log)}")
            continue
        with open(report) as f:
            metrics = json.load(f)["metrics"]
        v["quality"] = {m: metrics.get(m) for m in (
            "recall@10", "cross_recall@10", "cosine.p5", "cosine.mean", "hit@1_baseline",
            "hit@1_candidate", "hit@1_delta", "mrr@10_delta", "throughput_ratio")}
        variants["FP32"]["quality"] = {"hit@1_baseline": metrics.get("hit@1_baseline")}
        print(f"  quality {name}: recall@10 {metrics.get('recall@10'):.4f} ({wall:.0f} s)", flush=True)


def profile(models, batches):
    """Top ops of FP32 and configs/int8.json on the median-length batch of the largest size."""
    bb = batches[max(batches)]
    batch = bb[len(bb) // 2]
    out = {}
    for name in ("FP32", "configs/int8.json", PEER):
        if name in models:
            p = bench_timing.profile_ops(models[name], batch)
            p.update(batch_shape=list(batch[0].shape), runs=3)
            out[name] = p
    return out


def bench_model(key, args, work, failures):
    spec = MODELS[key]
    print(f"== {key}: {spec['model']}", flush=True)
    for p in (spec["model"], spec["tokenizer"]) + ((spec["card"],) if spec["card"] else ()):
        if not os.path.exists(repo_path(p)):
            raise SystemExit(f"bench_models.py: {repo_path(p)} is missing "
                             f"(tools/use_lite/fetch.sh or tools/make_fixtures.py makes it)")
    corpus = os.path.join(work, "corpus.txt")
    pairs = os.path.join(work, "pairs.tsv")
    n_corpus = head_lines(repo_path(CORPUS), corpus, args.corpus_lines)
    n_pairs = head_lines(repo_path(PAIRS), pairs, args.pairs_lines)
    with open(corpus, encoding="utf-8") as f:
        lines = [l.rstrip("\n") for l in f][:args.timing_sentences]

    variants = quantize_all(key, spec, args, work, failures)
    max_length = 128  # both models' max_length (USE-Lite's card; the fixture's 128 positions)
    batches, tok_how, mean_len = timing_inputs(key, spec, lines, args.batch_sizes, max_length,
                                                args.b1_sentences)
    models = measure_speed(variants, batches, args)
    result = {"model": spec["model"], "fp32_bytes": variants["FP32"]["bytes"], "batch_sizes": args.batch_sizes,
              "timing_sentences": len(lines), "b1_sentences": min(len(lines), args.b1_sentences),
              "timing_tokens_mean": mean_len, "timing_tokenizer": tok_how,
              "eval": {"corpus_lines": n_corpus, "pairs_lines": n_pairs, "queries_sample": args.queries_sample}}
    if "configs/int8.json" in models and PEER in models:
        result["embq_vs_peer_cosine_min"] = cosine_min(models["configs/int8.json"], models[PEER],
                                                       batches[max(batches)])
    if not args.no_profile:
        result["profile"] = profile(models, batches)
    del models

    rss_b = max(args.batch_sizes)
    batches_path = os.path.join(work, f"{key}_batches.pt")
    torch.save(batches[rss_b], batches_path)
    result["rss_batch"] = rss_b
    result["rss_baseline_mib"] = measure_rss(variants, batches_path, args, work, failures, key)
    if not args.no_quality:
        measure_quality(key, spec, variants, args, corpus, pairs, work, failures)
    for v in variants.values():
        v.pop("path", None)
    result["variants"] = variants
    result["targets"] = bench_report.targets(result)
    return result


def machine_info(args):
    cpu = platform.processor() or platform.machine()
    try:
        with open("/proc/cpuinfo") as f:
            cpu = next(l.split(":", 1)[1].strip() for l in f if l.startswith("model name"))
    except (OSError, StopIteration):
        pass
    return {"cpu": cpu, "cpus": os.cpu_count(), "threads": args.threads, "torch": torch.__version__,
            "engine": torch.backends.quantized.engine,
            "supported_engines": torch.backends.quantized.supported_engines,
            "loadavg_start": " ".join(f"{x:.1f}" for x in os.getloadavg()), "python": platform.python_version()}


METHOD = ("every variant is loaded with torch.jit.load in one Python process and timed on the same "
          "padded batches of real text, interleaved (FP32, A, B, ... then again) after warm-up; "
          "a speed ratio is the median over repeats of FP32's pass time / the variant's pass time in "
          "the same repeat; latency percentiles are over every call. Every pass feeds the same batches, "
          "so caches keyed on the input (oneDNN builds an int8 dynamic linear's primitive per "
          "activation scale) hit more often than they would on fresh text. Quality, size and the cost "
          "of quantizing come from child processes (`embq eval`, `embq quantize`, bench_peer.py).")


def parse_args():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--out", required=True, help="folder for bench_models.json and bench_models.md")
    ap.add_argument("--embq", default=os.path.join(REPO, "build", "embq"))
    ap.add_argument("--models", default="use-lite,fixture")
    ap.add_argument("--threads", type=int, default=os.cpu_count())
    ap.add_argument("--executor", choices=bench_timing.EXECUTORS, default="legacy")
    ap.add_argument("--repeats", type=int, default=5)
    ap.add_argument("--warmup", type=int, default=2)
    ap.add_argument("--batch-sizes", default="1,8,32")
    ap.add_argument("--timing-sentences", type=int, default=128, help="corpus lines in the timing batches")
    ap.add_argument("--b1-sentences", type=int, default=32, help="of those, the ones timed at batch 1")
    ap.add_argument("--corpus-lines", type=int, default=2000, help="corpus lines for embq eval (0: all 10,000)")
    ap.add_argument("--pairs-lines", type=int, default=0, help="labelled pairs for embq eval (0: all)")
    ap.add_argument("--queries-sample", type=int, default=1000)
    ap.add_argument("--no-profile", action="store_true")
    ap.add_argument("--no-quality", action="store_true", help="skip embq eval (timing, size, memory only)")
    ap.add_argument("--keep", action="store_true", help="keep the work folder (models, logs)")
    ap.add_argument("--smoke", action="store_true", help="tiny run for CI (see above)")
    args = ap.parse_args()
    if args.smoke:
        args.models, args.repeats, args.warmup, args.batch_sizes = "fixture", 1, 1, "8"
        args.timing_sentences, args.corpus_lines, args.pairs_lines, args.queries_sample = 32, 100, 50, 50
    args.batch_sizes = [int(b) for b in args.batch_sizes.split(",")]
    args.models = args.models.split(",")
    for m in args.models:
        if m not in MODELS:
            ap.error(f"--models: unknown model {m!r} (known: {', '.join(MODELS)})")
    if not os.access(args.embq, os.X_OK):
        ap.error(f"--embq {args.embq} is not an executable (build embq first, or pass --embq)")
    return args


def main():
    args = parse_args()
    bench_timing.configure_jit(args.executor)
    torch.set_num_threads(args.threads)
    torch.backends.quantized.engine = "onednn" if "onednn" in torch.backends.quantized.supported_engines else "qnnpack"
    version = subprocess.run([args.embq, "--version"], capture_output=True, text=True).stdout.strip()
    started = time.perf_counter()
    doc = {"date": datetime.datetime.now(datetime.timezone.utc).strftime("%Y-%m-%d %H:%M UTC"),
           "embq_version": version, "machine": machine_info(args),
           "setup": {"threads": args.threads, "executor": args.executor, "repeats": args.repeats,
                     "warmup": args.warmup, "batch_sizes": args.batch_sizes, "smoke": args.smoke,
                     "method": METHOD},
           "models": {}, "failures": []}
    work = tempfile.mkdtemp(prefix="bench_models.")
    try:
        for key in args.models:
            doc["models"][key] = bench_model(key, args, work, doc["failures"])
    finally:
        if args.keep:
            print(f"work folder kept: {work}")
        else:
            shutil.rmtree(work, ignore_errors=True)
    doc["machine"]["loadavg_end"] = " ".join(f"{x:.1f}" for x in os.getloadavg())
    doc["wall_s"] = time.perf_counter() - started
    os.makedirs(args.out, exist_ok=True)
    with open(os.path.join(args.out, "bench_models.json"), "w") as f:
        json.dump(doc, f, indent=2)
    md = bench_report.render(doc)
    with open(os.path.join(args.out, "bench_models.md"), "w") as f:
        f.write(md + "\n")
    print(md)
    print(f"wrote {args.out}/bench_models.md and bench_models.json in {doc['wall_s']:.0f} s")
    if doc["failures"]:
        print(f"bench_models.py: {len(doc['failures'])} step(s) failed", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
