"""Token ids for the *timing inputs* of bench_models.py, made in Python.

embq's own tokenizers live in C++ and have no Python binding, and the timing loop runs the
TorchScript files in Python (torch.jit.load), so the timed batches need token ids from
somewhere. These two small tokenizers give ids whose *lengths* match embq's closely (what
matters for speed); exact ids do not matter for timing. Quality is never measured on these
ids: quality comes from `embq eval`, which tokenizes in C++.

- UnigramTokenizer: a plain Viterbi over tokenizer.json's Unigram vocabulary with the
  normalizer USE-Lite's tokenizer.json declares (NFKC, ' ' -> U+2581, U+2581 prepended).
  bench_models.py checks it against the 60 sentences of tests/data/use_lite/reference.json
  and reports how many match exactly.
- WordPieceTokenizer: lowercase, split on whitespace and punctuation, greedy longest-match
  WordPiece with '##' continuations, [CLS] ... [SEP] (a BERT vocab.txt).
"""
import json
import unicodedata

import torch

SPACE = "\u2581"


class UnigramTokenizer:
    def __init__(self, path):
        with open(path, encoding="utf-8") as f:
            doc = json.load(f)
        model = doc["model"]
        if model.get("type") != "Unigram":
            raise ValueError(f"{path}: model type {model.get('type')}, expected Unigram")
        self.unk_id = model.get("unk_id", 0)
        self.pieces = {}
        for i, (piece, score) in enumerate(model["vocab"]):
            self.pieces.setdefault(piece, (i, float(score)))
        self.max_piece = max(len(p) for p in self.pieces)
        # The lowest score stands in for an unknown character, as SentencePiece does
        # (minus a margin so a known piece always wins).
        self.unk_score = min(s for _, s in self.pieces.values()) - 10.0

    def normalize(self, text):
        text = unicodedata.normalize("NFKC", text).replace(" ", SPACE)
        return SPACE + text if text else text

    def encode(self, text):
        s = self.normalize(text)
        n = len(s)
        # best[i] = (score, start of last piece, id of last piece) of the best path to i.
        best = [(0.0, -1, -1)] + [(-float("inf"), -1, -1)] * n
        for end in range(1, n + 1):
            for start in range(max(0, end - self.max_piece), end):
                if best[start][0] == -float("inf"):
                    continue
                hit = self.pieces.get(s[start:end])
                if hit is not None:
                    score = best[start][0] + hit[1]
                    if score > best[end][0]:
                        best[end] = (score, start, hit[0])
            if best[end][0] == -float("inf"):  # no piece ends here: one unknown character
                best[end] = (best[end - 1][0] + self.unk_score, end - 1, self.unk_id)
        ids, end = [], n
        while end > 0:
            _, start, token = best[end]
            ids.append(token)
            end = start
        ids.reverse()
        # Consecutive unknowns merge into one, as the package's tokenizer does.
        merged = [t for k, t in enumerate(ids) if not (t == self.unk_id and k and ids[k - 1] == self.unk_id)]
        return merged


class WordPieceTokenizer:
    def __init__(self, vocab_path):
        with open(vocab_path, encoding="utf-8") as f:
            self.vocab = {line.rstrip("\n"): i for i, line in enumerate(f) if line.strip()}
        self.cls, self.sep, self.unk = self.vocab["[CLS]"], self.vocab["[SEP]"], self.vocab["[UNK]"]
        self.pad_id = self.vocab["[PAD]"]

    def words(self, text):
        """Lowercased words, punctuation split off as words of its own (BERT's pre-tokenizer)."""
        text = unicodedata.normalize("NFD", text.lower())
        text = "".join(c for c in text if unicodedata.category(c) != "Mn")
        out, word = [], ""
        for c in text:
            if c.isspace() or unicodedata.category(c).startswith("P"):
                if word:
                    out.append(word)
                word = ""
                if not c.isspace():
                    out.append(c)
            else:
                word += c
        if word:
            out.append(word)
        return out

    def encode(self, text):
        ids = [self.cls]
        for word in self.words(text):
            start, pieces = 0, []
            while start < len(word):
                end = len(word)
                while end > start:
                    piece = word[start:end] if start == 0 else "##" + word[start:end]
                    if piece in self.vocab:
                        pieces.append(self.vocab[piece])
                        break
                    end -= 1
                if end == start:  # no piece fits: the whole word is unknown
                    pieces = [self.unk]
                    break
                start = end
            ids.extend(pieces)
        ids.append(self.sep)
        return ids


def make_batches(id_lists, batch_size, max_length, pad_id=0):
    """Padded (input_ids, attention_mask) batches, texts sorted by length first as
    `embq embed` does (so little of each batch is padding)."""
    ordered = sorted((ids[:max_length] for ids in id_lists), key=len)
    batches = []
    for k in range(0, len(ordered), batch_size):
        chunk = [ids if ids else [pad_id] for ids in ordered[k:k + batch_size]]
        width = max(len(ids) for ids in chunk)
        input_ids = torch.full((len(chunk), width), pad_id, dtype=torch.long)
        mask = torch.zeros((len(chunk), width), dtype=torch.long)
        for row, ids in enumerate(chunk):
            input_ids[row, :len(ids)] = torch.tensor(ids, dtype=torch.long)
            mask[row, :len(ids)] = 1
        batches.append((input_ids, mask))
    return batches
