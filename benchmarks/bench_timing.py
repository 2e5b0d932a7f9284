#!/usr/bin/python3
"""Timing, peak memory and profiling of TorchScript files for bench_models.py.

As a script it is the peak-memory child: a fresh process that loads one model and embeds
the benchmark batches, then prints its peak RSS (ru_maxrss) as JSON:

    /usr/bin/python3 benchmarks/bench_timing.py rss MODEL.pt BATCHES.pt --threads N --executor E
    /usr/bin/python3 benchmarks/bench_timing.py rss - BATCHES.pt ...   (no model: the baseline of
                                                                        python + torch + batches)
"""
import argparse
import json
import resource
import statistics
import sys
import time

import bench_threads  # noqa: F401,E402 (before torch: OpenBLAS reads it when it loads)
import torch

EXECUTORS = ("legacy", "profiling", "simple")


def configure_jit(executor):
    """Pick how TorchScript runs every model in this process, the same for all variants.

    - legacy: the pre-1.10 graph executor. It optimises each graph once, with no
      per-shape specialisation, so varying batch shapes do not trigger recompiles.
    - profiling: PyTorch's default. It records shapes in the first runs of a graph and
      re-specialises (and may fuse) for them; with the varying shapes of real text its
      timings depend on which shapes it happened to see first.
    - simple: no graph optimisation at all (torch.jit's optimized_execution(False)).
    """
    if executor not in EXECUTORS:
        raise ValueError(f"executor {executor!r}: expected one of {EXECUTORS}")
    profiling = executor == "profiling"
    torch._C._jit_set_profiling_executor(profiling)
    torch._C._jit_set_profiling_mode(profiling)
    torch._C._set_graph_executor_optimize(executor != "simple")


def _run_all(model, batches, latencies=None):
    for ids, mask in batches:
        start = time.perf_counter()
        model(ids, mask)
        if latencies is not None:
            latencies.append(time.perf_counter() - start)


def percentile(values, q):
    ordered = sorted(values)
    pos = (len(ordered) - 1) * q
    lo, hi = int(pos), min(int(pos) + 1, len(ordered) - 1)
    return ordered[lo] + (ordered[hi] - ordered[lo]) * (pos - lo)


def time_interleaved(models, batches, repeats, warmup):
    """Time every model on the same batches, interleaved: repeat r runs FP32, A, B, ... in
    turn, so load from other work on the machine lands on all of them alike.

    models: {name: module}, the first one is the reference. Returns {name: stats}, where
    stats has sent_per_s (from the median pass), ratio (median over repeats of
    reference pass time / this pass time: paired, so slow drifts of the machine cancel),
    latency p50/p95 in ms over every call, and the raw pass times.
    """
    sentences = sum(ids.shape[0] for ids, _ in batches)
    names = list(models)
    passes = {n: [] for n in names}
    calls = {n: [] for n in names}
    with torch.inference_mode():
        for name in names:  # warm-up: first-call compilation and allocator growth
            for _ in range(warmup):
                _run_all(models[name], batches)
        for _ in range(repeats):
            for name in names:
                start = time.perf_counter()
                _run_all(models[name], batches, calls[name])
                passes[name].append(time.perf_counter() - start)
    ref = passes[names[0]]
    out = {}
    for name in names:
        out[name] = {
            "sent_per_s": sentences / statistics.median(passes[name]),
            "ratio": statistics.median(r / p for r, p in zip(ref, passes[name])),
            "latency_ms_p50": 1000 * percentile(calls[name], 0.50),
            "latency_ms_p95": 1000 * percentile(calls[name], 0.95),
            "pass_seconds": passes[name],
        }
    return out


def profile_ops(model, batch, runs=3, top=12):
    """Top ops by self CPU time of `runs` forward calls (after a warm-up call)."""
    with torch.inference_mode():
        model(*batch)
        with torch.autograd.profiler.profile() as prof:
            for _ in range(runs):
                model(*batch)
    events = prof.key_averages()
    total = sum(e.self_cpu_time_total for e in events) or 1.0
    rows = sorted(events, key=lambda e: e.self_cpu_time_total, reverse=True)[:top]
    return {
        "total_self_cpu_ms_per_call": total / 1000.0 / runs,
        "ops": [{"op": e.key, "self_cpu_ms_per_call": e.self_cpu_time_total / 1000.0 / runs,
                 "share": e.self_cpu_time_total / total, "calls_per_forward": e.count / runs}
                for e in rows],
    }


def _rss_child(args):
    configure_jit(args.executor)
    torch.set_num_threads(args.threads)
    batches = torch.load(args.batches)
    if args.model != "-":
        model = torch.jit.load(args.model).eval()
        with torch.inference_mode():
            _run_all(model, batches)
    # ru_maxrss is in KiB on Linux.
    print(json.dumps({"peak_rss_mib": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024}))


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    sub = ap.add_subparsers(dest="cmd", required=True)
    rss = sub.add_parser("rss", help="peak RSS of loading MODEL and embedding BATCHES")
    rss.add_argument("model")
    rss.add_argument("batches")
    rss.add_argument("--threads", type=int, required=True)
    rss.add_argument("--executor", choices=EXECUTORS, required=True)
    args = ap.parse_args()
    _rss_child(args)


if __name__ == "__main__":
    sys.exit(main())
