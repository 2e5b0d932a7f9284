#!/usr/bin/python3
"""A MiniLM-sized BERT-style encoder for speed and size benchmarks.

    /usr/bin/python3 benchmarks/make_bench_model.py [--out build/bench/bert_minilm.pt]

The test fixtures (tools/make_fixtures.py) are tiny so tests stay fast; speed and size
ratios need a model where the linears dominate, as in real sentence encoders. This
builds the same architecture (same module names, same outlier channels) at
all-MiniLM-L6 sizes: hidden 384, 12 heads, intermediate 1536, 6 layers, 512
positions, a 30522-token vocabulary; traced, (input_ids, attention_mask) -> (N, 384).
Random weights: good for speed and size, not for quality claims.
"""
import argparse
import pathlib
import sys

import torch

sys.path.insert(0, str(pathlib.Path(__file__).resolve().parent.parent / "tools"))
import make_fixtures as fx  # noqa: E402  (same architecture and init as the fixtures)


# all-MiniLM-L6's sizes, as make_fixtures.py's module constants (bench_peer.py reads them too).
MINILM_SIZES = {"HIDDEN": 384, "HEADS": 12, "INTERMEDIATE": 1536, "LAYERS": 6, "MAX_POSITIONS": 512}


def use_minilm_sizes(fixtures_module):
    """Makes make_fixtures' classes build MiniLM-sized layers (they read these constants)."""
    for name, value in MINILM_SIZES.items():
        setattr(fixtures_module, name, value)


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--out", default="build/bench/bert_minilm.pt")
    args = ap.parse_args()
    use_minilm_sizes(fx)
    torch.manual_seed(fx.SEED)
    model = fx.BertEncoder(30522)
    fx.init_bert(model)
    model.eval()
    ids = torch.randint(5, 30522, (2, 16))
    with torch.no_grad():
        traced = torch.jit.trace(model, (ids, torch.ones_like(ids)))
    out = pathlib.Path(args.out)
    out.parent.mkdir(parents=True, exist_ok=True)
    traced.save(str(out))
    check = torch.jit.load(str(out))
    ids = torch.randint(5, 30522, (3, 40))
    with torch.no_grad():
        assert torch.allclose(check(ids, torch.ones_like(ids)), model(ids, torch.ones_like(ids)), atol=1e-4)
    print(f"wrote {out} ({out.stat().st_size / 2**20:.1f} MiB)")


if __name__ == "__main__":
    main()
