#!/usr/bin/python3
"""Per-scheme size, speed and agreement of `embq quantize` against FP32, in one run.

    /usr/bin/python3 benchmarks/quantize_schemes.py [--embq build/embq]
        [--model build/fixtures/bert_traced.pt] [--threads N] [--repeats 20] [--quick]

For each scheme it writes a config that applies the scheme to every layer it supports
(other layers stay FP32), and it also runs the shipped whole-model configs. It quantizes
the model with embq, then loads FP32 and quantized models in this one
process (stock PyTorch, as users would) and measures, side by side: file size ratio,
forward-time ratio (FP32 time / quantized time, median of --repeats) at batch 1, 8, 32
and sequence 32 and 128, and cosine to FP32. Prints a Markdown table and the machine.
Ratios only: absolute times on shared machines are noise.
"""
import argparse
import json
import os
import platform
import statistics
import subprocess
import sys
import tempfile
import time

import torch

SCHEMES = {
    "fp16": {"linear": {"scheme": "fp16"}, "embedding": {"scheme": "fp16"}},
    "bf16": {"linear": {"scheme": "bf16"}},
    "int8_dynamic": {"linear": {"scheme": "int8_dynamic"}},
    "int4_weight": {"linear": {"scheme": "int4_weight", "granularity": "group:32"}},
    "int8_rowwise": {"embedding": {"scheme": "int8_rowwise"}},
    "int4_rowwise": {"embedding": {"scheme": "int4_rowwise"}},
}
WARMUP_RUNS = 5
SHIPPED = ["configs/int8-fp16-embeddings.json", "configs/int8.json", "configs/int4-weights.json"]


def batch(n, t, vocab=400):
    g = torch.Generator().manual_seed(n * 1000 + t)
    ids = torch.randint(5, vocab, (n, t), generator=g)
    mask = torch.ones(n, t, dtype=torch.long)
    return ids, mask


def speedup(baseline, candidate, inputs, repeats):
    """Median baseline time / median candidate time, the two runs interleaved so that
    noise from other work on the machine hits both alike."""
    times = {id(baseline): [], id(candidate): []}
    with torch.inference_mode():
        # Warm-up: TorchScript's profiling executor profiles the first runs of each new
        # input shape and compiles after them; that cost must not land in the timings.
        for model in (baseline, candidate):
            for _ in range(WARMUP_RUNS):
                model(*inputs)
        for _ in range(repeats):
            for model in (baseline, candidate):
                start = time.perf_counter()
                model(*inputs)
                times[id(model)].append(time.perf_counter() - start)
    return statistics.median(times[id(baseline)]) / statistics.median(times[id(candidate)])


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--embq", default="build/embq")
    ap.add_argument("--model", default="build/fixtures/bert_traced.pt")
    ap.add_argument("--threads", type=int, default=os.cpu_count())
    ap.add_argument("--repeats", type=int, default=20)
    ap.add_argument("--quick", action="store_true", help="smoke mode: 2 repeats, one shape")
    args = ap.parse_args()
    torch.set_num_threads(args.threads)
    repeats = 2 if args.quick else args.repeats
    shapes = [(32, 128)] if args.quick else [(1, 32), (8, 32), (32, 32), (1, 128), (8, 128), (32, 128)]

    fp32 = torch.jit.load(args.model).eval()
    fp32_bytes = os.path.getsize(args.model)
    configs = {name + " only": {"defaults": d} for name, d in SCHEMES.items()}
    configs["int4 everywhere (int4_weight group:64 + int4_rowwise)"] = {"defaults": {
        "linear": {"scheme": "int4_weight", "granularity": "group:64"},
        "embedding": {"scheme": "int4_rowwise"}}}
    for path in SHIPPED:  # whole-model configs, as users run them
        with open(path) as f:
            configs[os.path.basename(path)] = json.load(f)

    rows = []
    with tempfile.TemporaryDirectory() as tmp:
        for name, config in configs.items():
            cfg_path = os.path.join(tmp, "config.json")
            out_path = os.path.join(tmp, "q.pt")
            with open(cfg_path, "w") as f:
                json.dump(config, f)
            subprocess.run([args.embq, "--log-level", "warn", "quantize", args.model, cfg_path,
                            "-o", out_path, "--allow-unmatched-rules"],
                           check=True, stdout=subprocess.DEVNULL)
            q = torch.jit.load(out_path).eval()
            ids, mask = batch(64, 48)
            mask[:, 40:] = 0
            with torch.inference_mode():
                cos = torch.nn.functional.cosine_similarity(fp32(ids, mask), q(ids, mask))
            speed = {}
            for n, t in shapes:
                speed[(n, t)] = speedup(fp32, q, batch(n, t), repeats)
            rows.append((name, os.path.getsize(out_path) / fp32_bytes, cos.mean().item(),
                         cos.quantile(0.05).item(), speed))

    print(f"model: {args.model} ({fp32_bytes / 1024:.1f} KiB); machine: {platform.processor() or platform.machine()}, "
          f"{os.cpu_count()} CPUs, {args.threads} threads; torch {torch.__version__}, engine {torch.backends.quantized.engine}\n")
    header = "| scheme | size vs FP32 | cosine mean | cosine p5 | " + " | ".join(
        f"speed-up b{n}x{t}" for n, t in shapes) + " |"
    print(header)
    print("|" + " --- |" * (4 + len(shapes)))
    for name, size, cmean, cp5, speed in rows:
        print(f"| {name} | {size:.1%} | {cmean:.4f} | {cp5:.4f} | " +
              " | ".join(f"{speed[s]:.2f}x" for s in shapes) + " |")


if __name__ == "__main__":
    sys.exit(main())
