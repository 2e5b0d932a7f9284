#!/usr/bin/python3
"""Generate the small, deterministic TorchScript models the embq C++ tests load.

Usage:  /usr/bin/python3 tools/make_fixtures.py [--out DIR]    (default: build/fixtures)

Everything is built on the CPU from fixed seeds, so two runs produce models with
identical weights and outputs. The script takes a few seconds. The files are:

bert_traced.pt
    A two-layer BERT-style sentence encoder (hidden 64, 4 heads, intermediate 256,
    128 positions, 2 token types), compiled with torch.jit.trace. Its modules use the
    Hugging Face names (embeddings.word_embeddings, encoder.layer.N.attention.self.query,
    ...) because that is the layout embq meets in real exported models, and the tests
    refer to layers by those paths. forward(input_ids[N,T], attention_mask[N,T]) returns
    the masked mean of the last hidden states, [N,64], not L2-normalised.
    Traced because that is how most embedding models reach TorchScript; the forward is
    written with tensor ops only (positions from cumsum, heads from unflatten) so the
    trace does not bake in the example's batch size or sequence length.

bert_scripted.pt
    The same model with the same weights, compiled with torch.jit.script. Scripted and
    traced modules differ in graph shape and in how TorchScript assigns class types, so
    embq has to handle both; the two files must give the same outputs.

    Both BERT files carry "outlier channels" on purpose: real trained transformers have
    a few hidden channels with huge activations, and a quantizer that ignores them
    loses most of its accuracy. Plain random weights would hide that failure, so
    embeddings.LayerNorm and every attention.output.LayerNorm have gamma = 20 on
    channels 7 and 42, and each intermediate.dense weight has two input columns
    scaled by 8.

embedding_bag.pt
    nn.EmbeddingBag `bag` (vocab x 64, mode='sum') fed per-sample weights of
    mask / mask count (a masked mean), then nn.Linear `proj` (64 -> 32). Scripted.
    It is the only fixture with an aten::embedding_bag layer.

shared_linear.pt
    embed (nn.Embedding) -> block_a, block_b (two instances of one module class, each
    holding an nn.Linear `fc`) -> `shared` (one bias-free nn.Linear applied twice,
    with a ReLU between) -> masked mean. Scripted. It covers two awkward cases: a
    layer with two call sites, and two layers whose TorchScript class type is shared,
    so rewriting one type's methods would silently change the other layer too.
    `shared` has no bias, which also gives it a class type of its own.

vocab.txt
    The WordPiece vocabulary for the BERT fixtures, one token per line: [PAD] [UNK]
    [CLS] [SEP] [MASK] at ids 0-4, then punctuation, digits, letters, common English
    words and ## continuation pieces (##a..##z, ##0..##9, common suffixes), so any
    lowercase English text tokenizes. Every fixture's vocabulary size is its length.

fragile.pt
    embed (nn.Embedding, 64 wide) -> blocks.0..3 (each x + tanh(fc(x * boost))) -> masked
    mean. Scripted. One layer is fragile on purpose, for the sensitivity and tune tests:
    blocks.2 multiplies three input channels by 300 before its fc and divides those
    weight columns by 300, so FP32 computes the same function as without the boost, but
    a per-tensor activation scale (int8_dynamic) spends its whole range on the three
    channels and 4-bit weights round their columns to zero. The other blocks have boost 1.

expected_layers.json
    What a correct `embq inspect` must report for each .pt file, computed here
    independently of the C++ code: kinds by isinstance on the eager modules, shapes
    and parameter counts from the eager parameters, call counts from forward hooks
    on an eager run, and type sharing from the TorchScript class types of the saved
    file as torch.jit.load sees them.

After writing, the script reloads every model and checks it: traced vs eager at a
batch/length unlike the trace example, scripted vs traced, that pairwise cosines
of random inputs are not degenerate, and that shared_linear's block_a.fc and
block_b.fc really share a class type. It exits non-zero if a check fails.
"""

import argparse
import json
import math
import os
import sys
import time
from pathlib import Path

import torch
from torch import nn

REPO_ROOT = Path(__file__).resolve().parent.parent
DEFAULT_OUT = REPO_ROOT / "build" / "fixtures"

SEED = 1234

# BERT sizes. Small so the fixtures load in milliseconds, but with the real structure.
HIDDEN = 64
HEADS = 4
INTERMEDIATE = 256
LAYERS = 2
MAX_POSITIONS = 128
TYPE_VOCAB = 2

# The outlier channels (see the module docstring): LayerNorm gamma on these hidden
# channels, and a larger scale on a few input columns of intermediate.dense.
OUTLIER_CHANNELS = (7, 42)
OUTLIER_GAMMA = 20.0
HEAVY_COLUMNS = (13, 51)
HEAVY_COLUMN_SCALE = 8.0

# -1e4 rather than -inf: fully masked rows (padding queries) stay finite, as in BERT.
MASK_BIAS = -10000.0


# --------------------------------------------------------------------------------------
# vocab.txt
# --------------------------------------------------------------------------------------

SPECIAL_TOKENS = ["[PAD]", "[UNK]", "[CLS]", "[SEP]", "[MASK]"]

PUNCTUATION = list("!\"#$%&'()*+,-./:;<=>?@[\\]^_`{|}~")

COMMON_WORDS = """
the of and to in is was for on that with as by at from his it an were are which this
be or has had not but have one their first its new after who they two her she he been
other all also into more time during only some can would there may about these up over
most such many three when out no between so than where year years world made any
them school used then through city state people part him both later well while because
film under each before known team series same name being second under game should what
we you your our my me us how why very just like make good back day way even much take
see get come go work life down still own old long great little here place since last
right high small end found around however three set four five six seven eight nine ten
zero number house music book play show home group family system water power country
government company general public member war history area river south north east west
black white red green blue man woman men women child children love death body language
word text sentence model embedding vector query search document question answer data
learn learning machine computer information language quick brown fox jumps lazy dog
cat fish bird tree sun moon star sky sea light dark night morning today tomorrow
yesterday every never always sometimes often nothing something anything everything
again already almost also another against among away become became begin began best
better big both bring build call called case change city close could different does
done each early enough example fact far feel few find follow form full give given
hand hard head help hold important keep kind know large least leave let line live
look lot mean might mind move must near need next open order point problem put read
real really run say said seem several side start story study sure tell thing think
those though thought together too top try turn understand until use want watch week
whole without word write yes young
""".split()

# Continuation pieces beyond single letters and digits: the common English suffixes,
# so frequent inflections tokenize as word + one piece rather than letter by letter.
SUFFIXES = """
s es ed ing ly er est ion tion sion ment ness able ible al ful less ous ive ity ize ise
ate en ers ings ies ied ier y ic ical ism ist ists ance ence ant ent ward wards
""".split()


def build_vocab():
    """Return the WordPiece vocabulary as a list; the index of a token is its id."""
    letters = [chr(c) for c in range(ord("a"), ord("z") + 1)]
    digits = [str(d) for d in range(10)]
    tokens = (
        SPECIAL_TOKENS
        + PUNCTUATION
        + digits
        + letters
        + COMMON_WORDS
        + ["##" + c for c in letters + digits]
        + ["##" + s for s in SUFFIXES]
    )
    # Keep the first occurrence so the order (and therefore every id) is fixed.
    seen, vocab = set(), []
    for token in tokens:
        if token not in seen:
            seen.add(token)
            vocab.append(token)
    return vocab


# --------------------------------------------------------------------------------------
# BERT, with Hugging Face module names
# --------------------------------------------------------------------------------------

class BertEmbeddings(nn.Module):
    def __init__(self, vocab_size):
        super().__init__()
        self.word_embeddings = nn.Embedding(vocab_size, HIDDEN)
        self.position_embeddings = nn.Embedding(MAX_POSITIONS, HIDDEN)
        self.token_type_embeddings = nn.Embedding(TYPE_VOCAB, HIDDEN)
        self.LayerNorm = nn.LayerNorm(HIDDEN, eps=1e-12)

    def forward(self, input_ids: torch.Tensor) -> torch.Tensor:
        # Positions and token types derived with tensor ops from input_ids, so a
        # trace follows the actual sequence length instead of the example's. Arithmetic
        # rather than ones_like/zeros_like, which a trace records with device=cpu baked
        # in; this way the traced model also runs where its weights are moved.
        token_type_ids = input_ids * 0
        position_ids = torch.cumsum(token_type_ids + 1, dim=1) - 1
        x = (
            self.word_embeddings(input_ids)
            + self.position_embeddings(position_ids)
            + self.token_type_embeddings(token_type_ids)
        )
        return self.LayerNorm(x)


class BertSelfAttention(nn.Module):
    def __init__(self):
        super().__init__()
        self.num_heads = HEADS
        self.head_dim = HIDDEN // HEADS
        self.scale = 1.0 / math.sqrt(self.head_dim)
        self.query = nn.Linear(HIDDEN, HIDDEN)
        self.key = nn.Linear(HIDDEN, HIDDEN)
        self.value = nn.Linear(HIDDEN, HIDDEN)

    def split_heads(self, x: torch.Tensor) -> torch.Tensor:
        # [N,T,H*D] -> [N,H,T,D]. unflatten uses only the constant head sizes, so no
        # batch or length ints from the trace example end up in the graph.
        return x.unflatten(-1, (self.num_heads, self.head_dim)).transpose(1, 2)

    def forward(self, hidden: torch.Tensor, mask_bias: torch.Tensor) -> torch.Tensor:
        q = self.split_heads(self.query(hidden))
        k = self.split_heads(self.key(hidden))
        v = self.split_heads(self.value(hidden))
        scores = torch.matmul(q, k.transpose(-1, -2)) * self.scale + mask_bias
        context = torch.matmul(torch.softmax(scores, dim=-1), v)
        return context.transpose(1, 2).flatten(-2)


class BertSelfOutput(nn.Module):
    def __init__(self):
        super().__init__()
        self.dense = nn.Linear(HIDDEN, HIDDEN)
        self.LayerNorm = nn.LayerNorm(HIDDEN, eps=1e-12)

    def forward(self, context: torch.Tensor, residual: torch.Tensor) -> torch.Tensor:
        return self.LayerNorm(self.dense(context) + residual)


class BertAttention(nn.Module):
    def __init__(self):
        super().__init__()
        self.self = BertSelfAttention()
        self.output = BertSelfOutput()

    def forward(self, hidden: torch.Tensor, mask_bias: torch.Tensor) -> torch.Tensor:
        return self.output(self.self(hidden, mask_bias), hidden)


class BertIntermediate(nn.Module):
    def __init__(self):
        super().__init__()
        self.dense = nn.Linear(HIDDEN, INTERMEDIATE)

    def forward(self, hidden: torch.Tensor) -> torch.Tensor:
        # Exact (erf) GELU, as BERT uses.
        return nn.functional.gelu(self.dense(hidden))


class BertOutput(nn.Module):
    def __init__(self):
        super().__init__()
        self.dense = nn.Linear(INTERMEDIATE, HIDDEN)
        self.LayerNorm = nn.LayerNorm(HIDDEN, eps=1e-12)

    def forward(self, intermediate: torch.Tensor, residual: torch.Tensor) -> torch.Tensor:
        return self.LayerNorm(self.dense(intermediate) + residual)


class BertLayer(nn.Module):
    def __init__(self):
        super().__init__()
        self.attention = BertAttention()
        self.intermediate = BertIntermediate()
        self.output = BertOutput()

    def forward(self, hidden: torch.Tensor, mask_bias: torch.Tensor) -> torch.Tensor:
        attended = self.attention(hidden, mask_bias)
        return self.output(self.intermediate(attended), attended)


class BertEncoderStack(nn.Module):
    def __init__(self):
        super().__init__()
        self.layer = nn.ModuleList([BertLayer() for _ in range(LAYERS)])

    def forward(self, hidden: torch.Tensor, mask_bias: torch.Tensor) -> torch.Tensor:
        for layer in self.layer:
            hidden = layer(hidden, mask_bias)
        return hidden


def masked_mean(hidden: torch.Tensor, attention_mask: torch.Tensor) -> torch.Tensor:
    """Mean over the tokens whose mask is 1: [N,T,D] x [N,T] -> [N,D]."""
    mask = attention_mask.unsqueeze(-1).to(hidden.dtype)
    count = torch.clamp(mask.sum(dim=1), min=1e-9)
    return (hidden * mask).sum(dim=1) / count


class BertEncoder(nn.Module):
    """Sentence encoder: BERT body + masked mean pooling (sentence-transformers style)."""

    def __init__(self, vocab_size):
        super().__init__()
        self.embeddings = BertEmbeddings(vocab_size)
        self.encoder = BertEncoderStack()
        self.mask_bias = MASK_BIAS  # an attribute: TorchScript cannot read globals

    def forward(self, input_ids: torch.Tensor, attention_mask: torch.Tensor) -> torch.Tensor:
        # [N,T] -> [N,1,1,T] additive bias: 0 for real tokens, MASK_BIAS for padding.
        keep = attention_mask.unsqueeze(1).unsqueeze(2).to(torch.float32)
        mask_bias = (1.0 - keep) * self.mask_bias
        hidden = self.encoder(self.embeddings(input_ids), mask_bias)
        return masked_mean(hidden, attention_mask)


def init_bert(model):
    """BERT-like init plus the deliberate outlier channels.

    Linears and the small tables use normal(0, 0.02) like BERT; the word embeddings get
    std 1.0 because with 0.02 the position embeddings and LayerNorm biases dominate
    every token and all sentence embeddings point the same way (cosine ~1), which
    would make accuracy comparisons in the tests meaningless.
    """
    for module in model.modules():
        if isinstance(module, nn.Linear):
            nn.init.normal_(module.weight, std=0.02)
            nn.init.normal_(module.bias, std=0.02)
        elif isinstance(module, nn.Embedding):
            nn.init.normal_(module.weight, std=0.02)
        elif isinstance(module, nn.LayerNorm):
            # Near 1 / near 0 but not exactly, so gamma and beta are not no-ops.
            nn.init.normal_(module.weight, mean=1.0, std=0.05)
            nn.init.normal_(module.bias, std=0.02)
    # The attention/FFN weights at std 0.02 barely move the residual stream; use a
    # Xavier-like scale instead so every layer actually contributes to the output.
    for module in model.encoder.modules():
        if isinstance(module, nn.Linear):
            nn.init.normal_(module.weight, std=1.0 / math.sqrt(module.in_features))
    nn.init.normal_(model.embeddings.word_embeddings.weight, std=1.0)
    nn.init.normal_(model.embeddings.position_embeddings.weight, std=0.1)

    with torch.no_grad():
        outlier_norms = [model.embeddings.LayerNorm] + [
            layer.attention.output.LayerNorm for layer in model.encoder.layer
        ]
        for norm in outlier_norms:
            for c in OUTLIER_CHANNELS:
                norm.weight[c] = OUTLIER_GAMMA
        for layer in model.encoder.layer:
            for c in HEAVY_COLUMNS:
                layer.intermediate.dense.weight[:, c] *= HEAVY_COLUMN_SCALE


# --------------------------------------------------------------------------------------
# embedding_bag.pt
# --------------------------------------------------------------------------------------

class BagEncoder(nn.Module):
    def __init__(self, vocab_size):
        super().__init__()
        self.bag = nn.EmbeddingBag(vocab_size, 64, mode="sum")
        self.proj = nn.Linear(64, 32)

    def forward(self, input_ids: torch.Tensor, attention_mask: torch.Tensor) -> torch.Tensor:
        # 'sum' with per-sample weights mask / count is a masked mean; mode='mean'
        # cannot skip padding, and per_sample_weights only exists for 'sum'.
        mask = attention_mask.to(torch.float32)
        weights = mask / torch.clamp(mask.sum(dim=1, keepdim=True), min=1.0)
        return self.proj(self.bag(input_ids, per_sample_weights=weights))


# --------------------------------------------------------------------------------------
# shared_linear.pt
# --------------------------------------------------------------------------------------

class Block(nn.Module):
    """Instantiated twice, so TorchScript gives block_a.fc and block_b.fc one type."""

    def __init__(self, dim):
        super().__init__()
        self.fc = nn.Linear(dim, dim)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return x + torch.tanh(self.fc(x))


class SharedLinearEncoder(nn.Module):
    def __init__(self, vocab_size, dim=32):
        super().__init__()
        self.embed = nn.Embedding(vocab_size, dim)
        self.block_a = Block(dim)
        self.block_b = Block(dim)
        # No bias: besides covering bias-free linears, it gives `shared` a class type
        # of its own, so "called twice" and "type shared" are separate facts here.
        self.shared = nn.Linear(dim, dim, bias=False)

    def forward(self, input_ids: torch.Tensor, attention_mask: torch.Tensor) -> torch.Tensor:
        x = self.block_b(self.block_a(self.embed(input_ids)))
        # The same Linear twice: two call sites of one module.
        x = self.shared(torch.relu(self.shared(x)))
        return masked_mean(x, attention_mask)


# --------------------------------------------------------------------------------------
# fragile.pt
# --------------------------------------------------------------------------------------

FRAGILE_BLOCK = 2
FRAGILE_CHANNELS = (5, 17, 40)
FRAGILE_BOOST = 300.0


class FragileBlock(nn.Module):
    def __init__(self, dim):
        super().__init__()
        self.fc = nn.Linear(dim, dim)
        self.register_buffer("boost", torch.ones(dim))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return x + torch.tanh(self.fc(x * self.boost))


class FragileEncoder(nn.Module):
    def __init__(self, vocab_size, dim=64, blocks=4):
        super().__init__()
        self.embed = nn.Embedding(vocab_size, dim)
        self.blocks = nn.ModuleList([FragileBlock(dim) for _ in range(blocks)])

    def forward(self, input_ids: torch.Tensor, attention_mask: torch.Tensor) -> torch.Tensor:
        x = self.embed(input_ids)
        for block in self.blocks:
            x = block(x)
        return masked_mean(x, attention_mask)


def init_fragile(model):
    nn.init.normal_(model.embed.weight, std=1.0)
    for block in model.blocks:
        nn.init.normal_(block.fc.weight, std=1.0 / math.sqrt(block.fc.in_features))
        nn.init.normal_(block.fc.bias, std=0.02)
    with torch.no_grad():
        fragile = model.blocks[FRAGILE_BLOCK]
        for c in FRAGILE_CHANNELS:
            fragile.boost[c] = FRAGILE_BOOST
            fragile.fc.weight[:, c] /= FRAGILE_BOOST


# --------------------------------------------------------------------------------------
# Building, saving, describing
# --------------------------------------------------------------------------------------

def example_batch(vocab_size, batch, length, seed):
    """Random token ids with [CLS] first, [SEP] at the end of each row and padding
    after it; rows get different lengths so the mask matters."""
    g = torch.Generator().manual_seed(seed)
    ids = torch.randint(len(SPECIAL_TOKENS), vocab_size, (batch, length), generator=g)
    mask = torch.zeros(batch, length, dtype=torch.long)
    for row in range(batch):
        n = int(torch.randint(min(3, length), length + 1, (1,), generator=g)) if row else length
        ids[row, 0] = SPECIAL_TOKENS.index("[CLS]")
        ids[row, n - 1] = SPECIAL_TOKENS.index("[SEP]")
        ids[row, n:] = SPECIAL_TOKENS.index("[PAD]")
        mask[row, :n] = 1
    return ids, mask


def save_atomic(module, path):
    # Write beside the target and rename, so an interrupted run never leaves a
    # half-written .pt that the tests would then fail to load in confusing ways.
    tmp = path.with_name(path.name + ".tmp")
    torch.jit.save(module, str(tmp))
    os.replace(tmp, path)


def write_text_atomic(path, text):
    tmp = path.with_name(path.name + ".tmp")
    tmp.write_text(text)
    os.replace(tmp, path)


# The eager module classes embq can quantize, with the kind names its JSON uses.
QUANTIZABLE = (
    (nn.EmbeddingBag, "embedding_bag"),
    (nn.Embedding, "embedding"),
    (nn.Linear, "linear"),
)


def layer_kind(module):
    for cls, kind in QUANTIZABLE:
        if isinstance(module, cls):
            return kind
    return None


def count_calls(model, inputs):
    """Run the eager model once with forward hooks; return {path: number of calls}."""
    counts, handles = {}, []
    for path, module in model.named_modules():
        def hook(_module, _args, _output, path=path):
            counts[path] = counts.get(path, 0) + 1
        handles.append(module.register_forward_hook(hook))
    with torch.no_grad():
        model(*inputs)
    for h in handles:
        h.remove()
    return counts


def script_type_names(loaded):
    """{path: TorchScript class type qualified name} for every module of a loaded file."""
    return {path: m._c._type().qualified_name() for path, m in loaded.named_modules()}


def describe(eager, loaded, inputs, how):
    """The expected inventory of one saved model (see expected_layers.json)."""
    calls = count_calls(eager, inputs)
    types = script_type_names(loaded)
    type_uses = {}
    for name in types.values():
        type_uses[name] = type_uses.get(name, 0) + 1

    layers, kept = [], []
    for path, module in eager.named_modules():
        own = list(module.parameters(recurse=False))
        kind = layer_kind(module)
        if kind is None:
            # Non-quantizable modules that hold parameters themselves (LayerNorm).
            if own:
                kept.append(path)
            continue
        weight = module.weight
        bias = getattr(module, "bias", None)
        layers.append({
            "path": path,
            "kind": kind,
            "weight_shape": list(weight.shape),
            "params": weight.numel() + (bias.numel() if bias is not None else 0),
            "has_bias": bias is not None,
            "dtype": str(weight.dtype).replace("torch.", ""),
            "type_name": types[path],
            "type_shared": type_uses[types[path]] > 1,
            "calls": calls.get(path, 0),
        })
    return {
        "compiled_with": how,
        "layers": layers,
        "kept": kept,
        "total_params": sum(p.numel() for p in eager.parameters()),
    }


def build_models(vocab_size):
    """Create the eager models, each from its own seed so adding one fixture never
    changes the weights of another."""
    torch.manual_seed(SEED)
    bert = BertEncoder(vocab_size)
    init_bert(bert)

    torch.manual_seed(SEED + 1)
    bag = BagEncoder(vocab_size)
    nn.init.normal_(bag.bag.weight, std=1.0)

    torch.manual_seed(SEED + 2)
    shared = SharedLinearEncoder(vocab_size)

    torch.manual_seed(SEED + 3)
    fragile = FragileEncoder(vocab_size)
    init_fragile(fragile)

    return {"bert": bert.eval(), "bag": bag.eval(), "shared": shared.eval(),
            "fragile": fragile.eval()}


def compile_fixtures(models, vocab_size):
    """Return [(file name, eager model, compiled module, how)]."""
    trace_inputs = example_batch(vocab_size, batch=2, length=16, seed=SEED)
    with torch.no_grad():
        traced = torch.jit.trace(models["bert"], trace_inputs)
    return [
        ("bert_traced.pt", models["bert"], traced, "trace"),
        ("bert_scripted.pt", models["bert"], torch.jit.script(models["bert"]), "script"),
        ("embedding_bag.pt", models["bag"], torch.jit.script(models["bag"]), "script"),
        ("shared_linear.pt", models["shared"], torch.jit.script(models["shared"]), "script"),
        ("fragile.pt", models["fragile"], torch.jit.script(models["fragile"]), "script"),
    ]


# --------------------------------------------------------------------------------------
# Checks on the saved files
# --------------------------------------------------------------------------------------

class CheckFailed(Exception):
    pass


def check(condition, message):
    if not condition:
        raise CheckFailed(message)


def mean_pairwise_cosine(embeddings):
    unit = nn.functional.normalize(embeddings, dim=-1)
    sim = unit @ unit.T
    n = sim.shape[0]
    return ((sim.sum() - sim.diagonal().sum()) / (n * (n - 1))).item()


def run_checks(out, models, loaded, inventory, vocab_size):
    # A batch and length unlike the trace example (2 x 16): a trace that baked in
    # shapes fails or disagrees here.
    ids, mask = example_batch(vocab_size, batch=3, length=40, seed=SEED + 10)
    with torch.no_grad():
        eager = models["bert"](ids, mask)
        traced = loaded["bert_traced.pt"](ids, mask)
        scripted = loaded["bert_scripted.pt"](ids, mask)
    check(traced.shape == (3, HIDDEN), f"traced BERT output shape {tuple(traced.shape)}")
    diff = (traced - eager).abs().max().item()
    check(diff < 1e-5, f"traced BERT differs from eager at 3x40 by {diff:g}")
    diff = (scripted - traced).abs().max().item()
    check(diff < 1e-5, f"scripted BERT differs from traced by {diff:g}")

    # Not degenerate: different random inputs must not all embed in one direction.
    ids, mask = example_batch(vocab_size, batch=16, length=24, seed=SEED + 11)
    for name in ("bert_traced.pt", "embedding_bag.pt", "shared_linear.pt", "fragile.pt"):
        with torch.no_grad():
            cos = mean_pairwise_cosine(loaded[name](ids, mask))
        print(f"  {name}: mean pairwise cosine of 16 random inputs = {cos:.3f}")
        check(cos < 0.99, f"{name}: embeddings are degenerate (mean cosine {cos:.4f})")

    # The outliers are really there: the LayerNorm output has two huge channels.
    with torch.no_grad():
        hidden = models["bert"].embeddings(ids)
    per_channel = hidden.abs().mean(dim=(0, 1))
    top = sorted(per_channel.topk(len(OUTLIER_CHANNELS)).indices.tolist())
    check(top == sorted(OUTLIER_CHANNELS), f"outlier channels are {top}")

    # The reason shared_linear.pt exists.
    layers = {l["path"]: l for l in inventory["shared_linear.pt"]["layers"]}
    check(layers["block_a.fc"]["type_name"] == layers["block_b.fc"]["type_name"],
          "shared_linear.pt: block_a.fc and block_b.fc have different class types")
    check(not layers["shared"]["type_shared"], "shared_linear.pt: `shared` shares its type")
    check(layers["shared"]["calls"] == 2, "shared_linear.pt: `shared` is not called twice")

    for name, module in loaded.items():
        with torch.no_grad():
            shape = tuple(module(ids, mask).shape)
        size_kb = (out / name).stat().st_size / 1024
        print(f"{name:18s} {size_kb:8.1f} KB  output {list(shape)}")


def main():
    # torch.jit.script writes a module's constants in set-iteration order, which
    # depends on Python's per-process string hash seed. Pin the seed (by re-running
    # this script once) so that two runs write byte-identical .pt files.
    if os.environ.get("PYTHONHASHSEED") != "0":
        env = dict(os.environ, PYTHONHASHSEED="0")
        os.execve(sys.executable, [sys.executable, *sys.argv], env)

    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", type=Path, default=DEFAULT_OUT,
                        help=f"output directory (default: {DEFAULT_OUT})")
    args = parser.parse_args()

    start = time.monotonic()
    torch.set_num_threads(1)  # same float reduction order on every machine and run
    out = args.out
    out.mkdir(parents=True, exist_ok=True)

    vocab = build_vocab()
    write_text_atomic(out / "vocab.txt", "\n".join(vocab) + "\n")

    models = build_models(len(vocab))
    fixtures = compile_fixtures(models, len(vocab))
    for name, _, module, _ in fixtures:
        save_atomic(module, out / name)

    # Describe what was saved, reading the class types back from the files themselves.
    inputs = example_batch(len(vocab), batch=2, length=16, seed=SEED)
    loaded, inventory = {}, {}
    for name, eager, _, how in fixtures:
        loaded[name] = torch.jit.load(str(out / name)).eval()
        inventory[name] = describe(eager, loaded[name], inputs, how)
    write_text_atomic(out / "expected_layers.json",
                      json.dumps(inventory, indent=2) + "\n")

    print(f"vocab.txt          {len(vocab)} tokens")
    try:
        run_checks(out, models, loaded, inventory, len(vocab))
    except CheckFailed as e:
        print(f"make_fixtures: check failed: {e}", file=sys.stderr)
        return 1
    print(f"wrote {out} in {time.monotonic() - start:.1f} s")
    return 0


if __name__ == "__main__":
    sys.exit(main())
