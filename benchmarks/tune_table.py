#!/usr/bin/env python3
"""Markdown tables from benchmarks/tune.sh's reports (README, "Finding the config").

    python3 benchmarks/tune_table.py OUT_DIR
"""
import json
import sys
from pathlib import Path


def load(out, name):
    return json.loads((out / name).read_text())


def main():
    out = Path(sys.argv[1])
    seconds = dict(line.split("\t") for line in (out / "timings.tsv").read_text().splitlines())
    seconds = {k: float(v) for k, v in seconds.items()}

    print("| run | seconds | vs the run it replaces |")
    print("| --- | ---: | ---: |")
    print(f"| one `embq eval` (int8-mixed, main job) | {seconds['eval']:.0f} | |")
    sens = load(out, "sensitivity.json")
    trials = len(sens["entries"])
    print(f"| `embq sensitivity`, {trials} layer x scheme trials on "
          f"{sens['texts_per_trial']} texts | {seconds['sensitivity']:.0f} | "
          f"{seconds['sensitivity'] / seconds['eval']:.2f}x one eval |")
    print(f"| five-config `embq compare` | {seconds['compare']:.0f} | |")
    tunes = sorted(k for k in seconds if k.startswith("tune-"))
    for name in tunes:
        print(f"| `embq tune --gate 'recall@10>={name[5:]}'` | {seconds[name]:.0f} | "
              f"{seconds[name] / seconds['compare']:.2f}x one compare |")

    mixed = load(out, "eval.json")["metrics"]
    print()
    print("| target (recall@10 vs FP32) | config | size vs FP32 | recall@10 search | "
          "recall@10 held-out | cosine.p5 held-out | configs verified | stopped |")
    print("| --- | --- | ---: | ---: | ---: | ---: | ---: | --- |")
    print(f"| (hand-made) | configs/int8-mixed.json | {100 * mixed['size_ratio']:.1f}% | | "
          f"{mixed['recall@10']:.4f} | {mixed['cosine.p5']:.4f} | | |")
    for name in tunes:
        t = load(out, name + ".json")
        steps = {c["step"]: c for c in t["candidates"]}
        if "best_step" not in t:
            print(f"| >= {name[5:]} | none found | | | | | {len(steps)} | {t['stopped']} |")
            continue
        best = steps[t["best_step"]]
        held = t["holdout"]["metrics"]
        schemes = {}
        for rule in best["config"]["rules"]:
            schemes[rule["scheme"]] = schemes.get(rule["scheme"], 0) + 1
        mix = ", ".join(f"{s} {n}" for s, n in sorted(schemes.items()))
        verdict = "" if t["found"] else " (fails held-out)"
        print(f"| >= {name[5:]} | {mix}{verdict} | {100 * best['size_ratio']:.1f}% | "
              f"{best['metrics']['recall@10']:.4f} | {held['recall@10']:.4f} | "
              f"{held['cosine.p5']:.4f} | {len(steps)} | {t['stopped']} |")

    # What each point of recall costs in size: the frontier of the 0.99 search.
    for name in tunes[-1:]:
        t = load(out, name + ".json")
        print()
        print(f"Frontier of the `recall@10>={name[5:]}` search (search texts):")
        print()
        print("| step | move | size vs FP32 | recall@10 | eps_recall@10 | passed |")
        print("| ---: | --- | ---: | ---: | ---: | --- |")
        for c in sorted((c for c in t["candidates"] if c["frontier"]),
                        key=lambda c: c["size_ratio"]):
            m = c["metrics"]
            print(f"| {c['step']} | {c['move']} | {100 * c['size_ratio']:.1f}% | "
                  f"{m['recall@10']:.4f} | {m['eps_recall@10']:.4f} | "
                  f"{'yes' if c['passed'] else 'no'} |")


if __name__ == "__main__":
    main()
