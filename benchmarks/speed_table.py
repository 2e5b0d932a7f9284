#!/usr/bin/python3
"""The Markdown table benchmarks/speed.sh prints, from the `embq bench` JSON reports it wrote.

    /usr/bin/python3 benchmarks/speed_table.py OUT_DIR MODEL [MODEL...]

One row per model and variant: size against FP32, then for each batch size the median
ratio of texts/s to FP32 over the rounds with its range, and the verdict (faster or slower
only when every round agrees). A last line per model names what missed the targets of
issue 15 (every shipped config >= 1.0x FP32 at every batch size; int8 >= 3x at batch 32
and >= 1.5x at batch 1; int8 >= the peer).
"""
import json
import pathlib
import sys

MARK = {"faster": "", "slower": " **slower**", "even (within noise)": " (even)"}


def load(out, model):
    reports = {}
    for path in sorted((out / model).glob("*.bench.json")):
        reports[path.name[: -len(".bench.json")]] = json.loads(path.read_text())
    return reports


def cells(report):
    """{batch: (ratio median, min, max, verdict)} of the candidate, and the FP32 texts/s."""
    base, cand = report["models"]
    out, fp32 = {}, {}
    for b, c in zip(base["batches"], cand["batches"]):
        r = c["ratio_to_first"]
        out[c["batch_size"]] = (r["median"], r["min"], r["max"], c["verdict"])
        fp32[b["batch_size"]] = b["texts_per_second"]["median"]
    return out, fp32, cand["file_bytes"] / base["file_bytes"]


def main():
    out = pathlib.Path(sys.argv[1])
    first = True
    for model in sys.argv[2:]:
        reports = load(out, model)
        if not reports:
            sys.exit(f"speed_table.py: no *.bench.json under {out / model}")
        any_report = next(iter(reports.values()))
        if first:
            print(f"Machine: {any_report['machine']}; {any_report['threads']} intra-op threads, "
                  f"{any_report['blas_threads']} BLAS threads, {any_report.get('allocator', 'glibc defaults')}; "
                  f"{any_report['rounds']} rounds per "
                  f"batch size, FP32 and the variant taking turns on the same fresh texts; "
                  f"{any_report['embq']}.\n")
            first = False
        batches = any_report["batch_sizes"]
        _, fp32, _ = cells(any_report)
        print(f"**{model}** (FP32: " + ", ".join(f"{fp32[b]:.0f} texts/s at batch {b}" for b in batches) + ")\n")
        print("| variant | size vs FP32 | " + " | ".join(f"b{b} vs FP32" for b in batches) + " |")
        print("| --- | ---: | " + " | ".join("---:" for _ in batches) + " |")
        ratios = {}
        for name, report in reports.items():
            c, _, size = cells(report)
            ratios[name] = c
            row = [f"{c[b][0]:.2f}x ({c[b][1]:.2f}-{c[b][2]:.2f}){MARK.get(c[b][3], '')}" for b in batches]
            print(f"| {name} | {size:.1%} | " + " | ".join(row) + " |")
        print()
        missed = []
        for name, c in ratios.items():
            if name in ("peer", "int8-grid-range", "int8-exact-range"):
                continue
            slow = [f"b{b} {c[b][0]:.2f}x" for b in batches if c[b][3] == "slower"]
            if slow:
                missed.append(f"{name} slower than FP32 at " + ", ".join(slow))
        if "int8" in ratios:
            c = ratios["int8"]
            if 32 in c and c[32][0] < 3:
                missed.append(f"int8 {c[32][0]:.2f}x at batch 32 (target 3x)")
            if 1 in c and c[1][0] < 1.5:
                missed.append(f"int8 {c[1][0]:.2f}x at batch 1 (target 1.5x)")
            if "peer" in ratios:
                behind = [f"b{b} {c[b][0]:.2f}x vs {ratios['peer'][b][0]:.2f}x" for b in batches
                          if c[b][0] < ratios["peer"][b][0]]
                if behind:
                    missed.append("int8 behind the peer at " + ", ".join(behind))
        print("Targets missed: " + ("; ".join(missed) if missed else "none") + ".\n")


if __name__ == "__main__":
    main()
