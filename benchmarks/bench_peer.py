#!/usr/bin/python3
"""The peer: PyTorch's own `torch.ao.quantization.quantize_dynamic` on the same FP32 model.

    /usr/bin/python3 benchmarks/bench_peer.py --kind use-lite|fixture|minilm --fp32 MODEL.pt --out PEER.pt
        [--threads N] [--granularity per_channel|per_tensor]

quantize_dynamic needs an eager nn.Module, and the FP32 files are TorchScript. So the eager
module is rebuilt from the model's own builder classes (tools/use_lite/convert.py for
USE-Lite, tools/make_fixtures.py for the fixture, imported, not copied), its weights loaded
from the TorchScript file's state_dict, and checked against the TorchScript output before
anything is quantized. The quantized module is compiled back to TorchScript the way the
original was (USE-Lite: torch.jit.script, fixture: torch.jit.trace) and saved, so
`embq eval` and the timing loop treat it exactly like embq's outputs.

bench_models.py runs this as a child process, to measure its wall time and peak RSS.
"""
import argparse
import os
import sys
import time

import bench_threads  # noqa: F401,E402 (before torch: OpenBLAS reads it when it loads)
import torch
from torch import nn

REPO = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


def _import_from(directory, name):
    if directory not in sys.path:
        sys.path.insert(0, directory)
    return __import__(name)


def _layer_norm_eps(script_norm):
    """The epsilon a scripted nn.LayerNorm's forward passes to layer_norm (a graph constant)."""
    for node in script_norm.graph.nodes():
        if node.kind() == "prim::Constant" and node.output().type().kind() == "FloatType":
            return node.output().toIValue()
    raise ValueError("no epsilon constant in the LayerNorm graph")


def eager_use_lite(script):
    """USE-Lite as convert.py's eager classes, sized and filled from the TorchScript file."""
    cv = _import_from(os.path.join(REPO, "tools", "use_lite"), "convert")
    sd = script.state_dict()
    table = sd["embeddings.word_embeddings.weight"]
    emb = cv.Embeddings(table.shape[0], table.shape[1], sd["embeddings.inv_timescales"].clone())
    layers = []
    for i in range(len(list(script.encoder.layer.children()))):
        p = f"encoder.layer.{i}."
        scripted_att = getattr(script.encoder.layer, str(i)).attention
        layers.append(cv.Layer(d_in=sd[p + "attention.norm.weight"].shape[0],
                               d_model=sd[p + "attention.output.dense.weight"].shape[0],
                               d_ff=sd[p + "intermediate.dense.weight"].shape[0],
                               heads=scripted_att.self.heads, scale=scripted_att.self.scale,
                               eps=_layer_norm_eps(scripted_att.norm)))
    model = cv.UseLite(emb, layers, sd["pooler.dense.weight"].shape[0], script.max_length,
                       script.mask_bias, script.l2_floor)
    model.load_state_dict(sd, strict=True)
    return model.eval()


def eager_fixture(script, minilm=False):
    """The BERT fixture (or make_bench_model.py's MiniLM-sized one) as make_fixtures.py's
    BertEncoder, weights from the TorchScript file."""
    mf = _import_from(os.path.join(REPO, "tools"), "make_fixtures")
    if minilm:
        _import_from(os.path.join(REPO, "benchmarks"), "make_bench_model").use_minilm_sizes(mf)
    sd = script.state_dict()
    model = mf.BertEncoder(sd["embeddings.word_embeddings.weight"].shape[0])
    model.load_state_dict(sd, strict=True)
    return model.eval()


def check_batch(vocab_size):
    g = torch.Generator().manual_seed(7)
    ids = torch.randint(6, vocab_size, (4, 24), generator=g)
    mask = torch.ones_like(ids)
    mask[1, 10:] = 0
    mask[3, 3:] = 0
    return ids, mask


def build_peer(kind, fp32_path, granularity):
    """Return (TorchScript peer, largest |eager - TorchScript| of the FP32 rebuild)."""
    script = torch.jit.load(fp32_path).eval()
    eager = eager_use_lite(script) if kind == "use-lite" else eager_fixture(script, kind == "minilm")
    ids, mask = check_batch(script.state_dict()["embeddings.word_embeddings.weight"].shape[0])
    with torch.inference_mode():
        diff = (eager(ids, mask) - script(ids, mask)).abs().max().item()
    if diff > 1e-4:
        raise SystemExit(f"bench_peer.py: the eager rebuild of {fp32_path} differs from it by {diff:g}")

    # onednn is the engine embq uses here (no fbgemm in Debian's build); per-channel weights
    # match configs/int8.json's int8_dynamic per_channel, so the two differ in implementation only.
    torch.backends.quantized.engine = "onednn"
    qconfig = (torch.ao.quantization.per_channel_dynamic_qconfig if granularity == "per_channel"
               else torch.ao.quantization.default_dynamic_qconfig)
    quantized = torch.ao.quantization.quantize_dynamic(eager, {nn.Linear: qconfig}, dtype=torch.qint8)
    with torch.inference_mode():
        if kind == "use-lite":
            compiled = torch.jit.script(quantized)
        else:
            compiled = torch.jit.trace(quantized, (ids, mask), check_trace=False)
    return compiled, diff


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--kind", choices=["use-lite", "fixture", "minilm"], required=True)
    ap.add_argument("--fp32", required=True)
    ap.add_argument("--out", required=True)
    ap.add_argument("--threads", type=int, default=os.cpu_count())
    ap.add_argument("--granularity", choices=["per_channel", "per_tensor"], default="per_channel")
    args = ap.parse_args()
    torch.set_num_threads(args.threads)
    start = time.perf_counter()
    compiled, diff = build_peer(args.kind, args.fp32, args.granularity)
    tmp = args.out + ".tmp"
    torch.jit.save(compiled, tmp)
    os.replace(tmp, args.out)
    print(f"peer: quantize_dynamic ({args.granularity}, engine onednn) -> {args.out} in "
          f"{time.perf_counter() - start:.2f} s; eager rebuild vs FP32 TorchScript max diff {diff:.2e}")


if __name__ == "__main__":
    main()
