#!/usr/bin/python3
"""What glibc malloc's settings do to a model's speed: FP32, embq's int8 and the peer
(PyTorch's quantize_dynamic) on the MiniLM-sized encoder, each timed with glibc's default
malloc and with the settings embq applies to itself (src/core/allocator.cpp), which a
PyTorch user gets by setting them in the environment:

    MALLOC_MMAP_THRESHOLD_=33554432 MALLOC_TRIM_THRESHOLD_=67108864

    /usr/bin/python3 benchmarks/allocator.py [--dir build/bench/speed/minilm]
        [--fp32 build/bench/bert_minilm.pt] [--rounds 10]

Run benchmarks/speed.sh first (it writes the models). Each setting runs in its own
process (glibc reads the variables at start-up); within it the three models take turns
on the same fresh random token ids (24 tokens a text), 2 intra-op threads, OpenBLAS
single-threaded. Prints a Markdown table: median ms a batch, the ratio to FP32, and the
pages the process faulted in per batch (minor faults, getrusage).
"""
import argparse
import json
import os
import resource
import subprocess
import sys
import time

# The values of src/core/allocator.cpp and bench_threads.py.
EMBQ_SETTINGS = {"MALLOC_MMAP_THRESHOLD_": "33554432", "MALLOC_TRIM_THRESHOLD_": "67108864"}
BATCHES = (1, 8, 32)
TOKENS = 24


def measure(paths, rounds):
    import torch
    torch.set_num_threads(2)
    torch.backends.quantized.engine = "onednn"
    models = {name: torch.jit.load(path) for name, path in paths.items()}
    generator = torch.Generator().manual_seed(0)
    result = {}
    with torch.no_grad():
        for batch in BATCHES:
            def inputs():
                ids = torch.randint(1000, 30000, (batch, TOKENS), generator=generator)
                return ids, torch.ones(batch, TOKENS, dtype=torch.long)
            for model in models.values():
                for _ in range(3):
                    model(*inputs())
            times = {name: [] for name in models}
            faults = {name: 0 for name in models}
            for _ in range(rounds):
                for name, model in models.items():
                    args = inputs()
                    faults_before = resource.getrusage(resource.RUSAGE_SELF).ru_minflt
                    start = time.perf_counter()
                    model(*args)
                    times[name].append(time.perf_counter() - start)
                    faults[name] += resource.getrusage(resource.RUSAGE_SELF).ru_minflt - faults_before
            result[batch] = {name: {"ms": sorted(t)[len(t) // 2] * 1000, "faults": faults[name] / rounds}
                             for name, t in times.items()}
    return result


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--dir", default="build/bench/speed/minilm")
    ap.add_argument("--fp32", default="build/bench/bert_minilm.pt")
    ap.add_argument("--rounds", type=int, default=10)
    ap.add_argument("--measure", help=argparse.SUPPRESS)  # child: JSON of the paths
    args = ap.parse_args()
    if args.measure:
        print(json.dumps(measure(json.loads(args.measure), args.rounds)))
        return
    paths = {"FP32": args.fp32, "int8": os.path.join(args.dir, "int8.pt"),
             "peer": os.path.join(args.dir, "peer.pt")}
    for path in paths.values():
        if not os.path.isfile(path):
            sys.exit(f"allocator.py: {path} is missing; run benchmarks/speed.sh first")
    base = {k: v for k, v in os.environ.items() if not k.startswith("MALLOC_")}
    base["OPENBLAS_NUM_THREADS"] = "1"
    settings = {"glibc defaults": base, "embq's settings": {**base, **EMBQ_SETTINGS}}
    results = {}
    for label, env in settings.items():
        out = subprocess.run([sys.executable, __file__, "--rounds", str(args.rounds),
                              "--measure", json.dumps(paths)], env=env, check=True,
                             capture_output=True, text=True).stdout
        results[label] = {int(b): v for b, v in json.loads(out).items()}

    print(f"MiniLM-sized encoder, {TOKENS} tokens a text, median of {args.rounds} rounds: "
          "ms a batch (x FP32 in the same process), pages faulted in a batch:\n")
    header = ["model"] + [f"b{b} {label}" for b in BATCHES for label in settings]
    print("| " + " | ".join(header) + " |")
    print("| --- " + "| ---: " * (len(header) - 1) + "|")
    for name in paths:
        cells = []
        for b in BATCHES:
            for label in settings:
                cell = results[label][b][name]
                speedup = results[label][b]["FP32"]["ms"] / cell["ms"]
                cells.append(f"{cell['ms']:.1f}" + ("" if name == "FP32" else f" ({speedup:.2f}x)") +
                             f", {cell['faults']:.0f}")
        print(f"| {name} | " + " | ".join(cells) + " |")


if __name__ == "__main__":
    main()
