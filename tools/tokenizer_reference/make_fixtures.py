#!/usr/bin/env python3
"""Writes the tokenizer test fixtures in tests/data/tokenizer/ (no third-party packages).

  wordpiece.json              BERT uncased, built from the fixture vocab.txt
                              (tools/make_fixtures.py; build/fixtures/vocab.txt): BertNormalizer,
                              BertPreTokenizer, WordPiece, TemplateProcessing [CLS] $A [SEP].
  unigram.json                a small SentencePiece-style Unigram model: NFKC + Replace(" {2,}"),
                              Metaspace, ~400 pieces with deterministic scores, unk_id 0,
                              <s> $A </s>, an lstrip <mask> added token.
  unigram_byte_fallback.json  the same pieces plus <0x00>..<0xFF> and byte_fallback, NFC
                              normalizer, RobertaProcessing.
  wordlevel.json              WordLevel: NFKD + StripAccents + Lowercase, Whitespace
                              pre-tokenizer, BertProcessing.
  variant_*.json              the same models with other components and options, one
                              file per group (see VARIANTS), so that every normalizer,
                              pre-tokenizer, post-processor and added-token option embq
                              implements is checked against the reference.
  sentences.json              the sentences the reference ids are computed for.

Then tools/tokenizer_reference/make_reference.mjs computes the expected ids
(reference.json). Rerunning this script reproduces the files byte for byte.
"""

import argparse
import json
import random
from pathlib import Path

REPO_ROOT = Path(__file__).resolve().parents[2]
OUT = REPO_ROOT / "tests" / "data" / "tokenizer"
DEFAULT_VOCAB = REPO_ROOT / "build" / "fixtures" / "vocab.txt"


def added(id_, content, special=True, lstrip=False, normalized=False):
    return {"id": id_, "content": content, "single_word": False, "lstrip": lstrip, "rstrip": False,
            "normalized": normalized, "special": special}


def template(cls, cls_id, sep, sep_id):
    return {
        "type": "TemplateProcessing",
        "single": [{"SpecialToken": {"id": cls, "type_id": 0}}, {"Sequence": {"id": "A", "type_id": 0}},
                   {"SpecialToken": {"id": sep, "type_id": 0}}],
        "pair": [{"SpecialToken": {"id": cls, "type_id": 0}}, {"Sequence": {"id": "A", "type_id": 0}},
                 {"SpecialToken": {"id": sep, "type_id": 0}}, {"Sequence": {"id": "B", "type_id": 1}},
                 {"SpecialToken": {"id": sep, "type_id": 1}}],
        "special_tokens": {cls: {"id": cls, "ids": [cls_id], "tokens": [cls]},
                           sep: {"id": sep, "ids": [sep_id], "tokens": [sep]}},
    }


def wordpiece(vocab_lines):
    vocab = {tok: i for i, tok in enumerate(vocab_lines)}
    specials = ["[PAD]", "[UNK]", "[CLS]", "[SEP]", "[MASK]"]
    return {
        "version": "1.0",
        "truncation": None,
        "padding": None,
        "added_tokens": [added(vocab[s], s) for s in specials],
        "normalizer": {"type": "BertNormalizer", "clean_text": True, "handle_chinese_chars": True,
                       "strip_accents": None, "lowercase": True},
        "pre_tokenizer": {"type": "BertPreTokenizer"},
        "post_processor": template("[CLS]", vocab["[CLS]"], "[SEP]", vocab["[SEP]"]),
        "decoder": {"type": "WordPiece", "prefix": "##", "cleanup": True},
        "model": {"type": "WordPiece", "unk_token": "[UNK]", "continuing_subword_prefix": "##",
                  "max_input_chars_per_word": 100, "vocab": vocab},
    }


UNIGRAM_WORDS = """
the of and to in is was for on that with as by at from it an are this be or has not but
have one they he she we you your how why what when where who which there here then than
some can would could should will may about up over out into more most many much very just
like make good back day way even take see get come go work life down still old long great
little place right high small end world year time people man woman child house book music
home water power family system group country state city school word text sentence model
embedding vector query search document question answer data learn learning machine
computer language quick brown fox jumps lazy dog cat fish bird tree sun moon star sky sea
light dark night morning today number first last new under stand understand play played
playing player run running read reading write writing cafe resume naive deja vu hello
world thanks please yes no
The A I It In This What How We You He She They Hello Machine English French
""".split()

SUBWORDS = """
s es ed ing ly er ers est ion tion tions ment ness able al ful less ous ive ity ize ate
en ic ism ist ance ence ant ent un re in dis pre th he an on at nd ou ha or te es ti
is it ar st to nt ng se of le de me ve ro ri ne ea ra ce li ch ll be ma si om ur ca
""".split()

LETTERS = list("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789")
PUNCT = list("!\"#$%&'()*+,-./:;<=>?@[\\]^_`{|}~")
EXTRA_CHARS = list("éèêëàâäçîïôöûüñßøåæœÉÀÇÖÜ") + list("αβγδεσςωΩπ") + list("абвгдежзиклмнопрстуя") + \
    list("日本語中文人的大") + list("€£¥—–“”‘’«»¿¡…")


def unigram_pieces():
    rng = random.Random(20241125)
    pieces = [("<unk>", 0.0), ("<s>", 0.0), ("</s>", 0.0), ("<pad>", 0.0), ("\u2581", -2.5)]
    seen = {p for p, _ in pieces}

    def add(piece, score):
        if piece not in seen:
            seen.add(piece)
            pieces.append((piece, round(score, 4)))

    for w in UNIGRAM_WORDS:  # whole words: the better the longer, with noise
        add("\u2581" + w, -3.0 - 6.0 / len(w) - rng.uniform(0.0, 3.0))
    for w in UNIGRAM_WORDS[:60]:  # some words also without the word-start marker
        add(w, -6.0 - rng.uniform(0.0, 3.0))
    for s in SUBWORDS:
        add(s, -5.0 - rng.uniform(0.0, 4.0))
    for s in ["un", "re", "dis", "pre", "in", "th", "st"]:
        add("\u2581" + s, -5.5 - rng.uniform(0.0, 3.0))
    for c in LETTERS + PUNCT + EXTRA_CHARS:
        add(c, -8.0 - rng.uniform(0.0, 4.0))
    for c in "0123456789" + "".join(PUNCT[:12]) + "日本中":
        add("\u2581" + c, -7.5 - rng.uniform(0.0, 3.0))
    add("\u2581日本", -6.0)
    add("日本語", -7.0)
    return pieces


def unigram(byte_fallback):
    pieces = unigram_pieces()
    if byte_fallback:
        pieces += [(f"<0x{b:02X}>", -20.0) for b in range(256)]
    pieces.append(("<mask>", 0.0))
    ids = {p: i for i, (p, _) in enumerate(pieces)}
    if byte_fallback:  # as tokenizers >= 0.19 writes it
        metaspace = {"type": "Metaspace", "replacement": "\u2581", "prepend_scheme": "always", "split": True}
    else:  # as tokenizers 0.14 - 0.18 wrote it (transformers.js 2.x reads only this form)
        metaspace = {"type": "Metaspace", "replacement": "\u2581", "add_prefix_space": True,
                     "prepend_scheme": "always"}
    tok = {
        "version": "1.0",
        "truncation": None,
        "padding": None,
        "added_tokens": [added(0, "<unk>"), added(1, "<s>"), added(2, "</s>"), added(3, "<pad>"),
                         added(ids["<mask>"], "<mask>", lstrip=True)],
        "pre_tokenizer": metaspace,
        "decoder": metaspace,
        "model": {"type": "Unigram", "unk_id": 0, "vocab": [[p, s] for p, s in pieces],
                  "byte_fallback": byte_fallback},
    }
    if byte_fallback:
        tok["normalizer"] = {"type": "NFC"}
        tok["post_processor"] = {"type": "RobertaProcessing", "sep": ["</s>", 2], "cls": ["<s>", 1],
                                 "trim_offsets": True, "add_prefix_space": True}
    else:
        tok["normalizer"] = {"type": "Sequence", "normalizers": [
            {"type": "NFKC"}, {"type": "Replace", "pattern": {"Regex": " {2,}"}, "content": " "}]}
        tok["post_processor"] = template("<s>", 1, "</s>", 2)
    # Key order as tokenizers writes it.
    order = ["version", "truncation", "padding", "added_tokens", "normalizer", "pre_tokenizer", "post_processor",
             "decoder", "model"]
    return {k: tok[k] for k in order}


def wordlevel():
    words = ["[UNK]", "[CLS]", "[SEP]", "[PAD]"] + sorted(set(UNIGRAM_WORDS[:200]) | {"cafe", "deja", "vu", "resume"})
    words = list(dict.fromkeys(w.lower() for w in words if w not in ("[UNK]", "[CLS]", "[SEP]", "[PAD]")))
    vocab = {"[UNK]": 0, "[CLS]": 1, "[SEP]": 2, "[PAD]": 3}
    for w in words + PUNCT + ["...", "!!", "?!", "'", "0", "1", "2", "3", "42", "2024"]:
        vocab.setdefault(w, len(vocab))
    return {
        "version": "1.0",
        "truncation": None,
        "padding": None,
        "added_tokens": [added(0, "[UNK]"), added(1, "[CLS]"), added(2, "[SEP]"), added(3, "[PAD]")],
        "normalizer": {"type": "Sequence", "normalizers": [{"type": "NFKD"}, {"type": "StripAccents"},
                                                          {"type": "Lowercase"}]},
        "pre_tokenizer": {"type": "Whitespace"},
        "post_processor": {"type": "BertProcessing", "sep": ["[SEP]", 2], "cls": ["[CLS]", 1]},
        "decoder": None,
        "model": {"type": "WordLevel", "vocab": vocab, "unk_token": "[UNK]"},
    }


def variants(wp, uni, wl):
    """Component and option variants of the base fixtures: name -> tokenizer.json."""
    import copy
    out = {}
    t = copy.deepcopy(wp)
    t["normalizer"] = {"type": "Sequence", "normalizers": [
        {"type": "Strip", "strip_left": True, "strip_right": True},
        {"type": "Replace", "pattern": {"String": "a"}, "content": "b"},
        {"type": "Replace", "pattern": {"Regex": " {2,}"}, "content": " "},
        {"type": "Prepend", "prepend": "x"}, {"type": "Lowercase"}, {"type": "NFC"}]}
    t["pre_tokenizer"] = {"type": "Sequence", "pretokenizers": [
        {"type": "WhitespaceSplit"}, {"type": "Punctuation", "behavior": "MergedWithPrevious"},
        {"type": "Digits", "individual_digits": True}]}
    out["variant_normalizers.json"] = t

    t = copy.deepcopy(wp)  # BERT cased-style: strip accents without lowercase
    t["normalizer"] = {"type": "BertNormalizer", "clean_text": False, "handle_chinese_chars": False,
                       "strip_accents": True, "lowercase": False}
    t["post_processor"] = {"type": "RobertaProcessing", "sep": ["[SEP]", 3], "cls": ["[CLS]", 2],
                           "trim_offsets": True, "add_prefix_space": False}
    t["model"]["max_input_chars_per_word"] = 5
    out["variant_cased.json"] = t

    t = copy.deepcopy(wp)  # no continuation prefix, no accent stripping, no post-processor
    t["normalizer"] = {"type": "BertNormalizer", "clean_text": True, "handle_chinese_chars": True,
                       "strip_accents": False, "lowercase": True}
    t["post_processor"] = None
    t["model"]["continuing_subword_prefix"] = ""
    out["variant_no_prefix.json"] = t

    t = copy.deepcopy(wp)  # added-token options; the file's ids are wrong on purpose: Hugging
    # Face ignores them (vocabulary id, else the next free id), and so must embq
    t["added_tokens"] += [
        {"id": 100, "content": "hello", "single_word": True, "lstrip": False, "rstrip": False,
         "normalized": True, "special": False},
        {"id": 101, "content": "[MASK]x", "single_word": False, "lstrip": True, "rstrip": True,
         "normalized": False, "special": True},
        {"id": 102, "content": "DOG", "single_word": False, "lstrip": False, "rstrip": True,
         "normalized": True, "special": False},
        {"id": 103, "content": "\u00df", "single_word": True, "lstrip": True, "rstrip": False,
         "normalized": False, "special": False}]
    t["post_processor"] = {
        "type": "TemplateProcessing",
        "single": [{"SpecialToken": {"id": "[CLS]", "type_id": 1}}, {"Sequence": {"id": "A", "type_id": 0}},
                   {"SpecialToken": {"id": "[SEP]", "type_id": 1}}],
        "pair": [],
        "special_tokens": {"[CLS]": {"id": "[CLS]", "ids": [2, 4], "tokens": ["[CLS]", "[MASK]"]},
                           "[SEP]": {"id": "[SEP]", "ids": [3], "tokens": ["[SEP]"]}}}
    out["variant_added_tokens.json"] = t

    t = copy.deepcopy(uni)
    t["normalizer"] = {"type": "Strip", "strip_left": True, "strip_right": False}
    t["pre_tokenizer"] = {"type": "Sequence", "pretokenizers": [
        {"type": "CharDelimiterSplit", "delimiter": "-"},
        {"type": "Metaspace", "replacement": "\u2581", "prepend_scheme": "never", "split": True}]}
    out["variant_metaspace_never.json"] = t

    t = copy.deepcopy(uni)  # truncation in the file: direction Left, max_length 7
    t["truncation"] = {"direction": "Left", "max_length": 7, "strategy": "LongestFirst", "stride": 0}
    t["normalizer"] = {"type": "NFKD"}
    t["pre_tokenizer"] = {"type": "Sequence", "pretokenizers": [
        {"type": "Whitespace"},
        {"type": "Metaspace", "replacement": "\u2581", "prepend_scheme": "always", "split": True}]}
    out["variant_truncation_left.json"] = t

    t = copy.deepcopy(wl)
    t["pre_tokenizer"] = {"type": "Sequence", "pretokenizers": [
        {"type": "Punctuation", "behavior": "MergedWithNext"}, {"type": "Digits", "individual_digits": False},
        {"type": "Punctuation", "behavior": "Removed"}, {"type": "WhitespaceSplit"}]}
    out["variant_splits.json"] = t
    return out


LONG_SENTENCE = (
    "Embedding models map a sentence to a vector so that sentences with similar meaning end up "
    "close together, which is what semantic search, clustering and deduplication rely on; when a "
    "model is quantized its vectors move a little, and the question every release has to answer "
    "is whether the nearest neighbours of each query are still the same documents as before, "
    "because a recall drop of even a few percent can change what users see first.")

SENTENCES = [
    "Hello, world!",
    "The quick brown fox jumps over the lazy dog.",
    "Café Déjà vu",
    "naïve façade coöperate résumé",
    "Ångström Øresund Straße",
    "résumé RÉSUMÉ Résumé",
    "e\u0301te\u0301 with combining accents",
    "日本語のテキスト",
    "中文分词测试，很好！",
    "Mixed 日本 English 中文 text",
    "Rare ideographs \U00020000\U00020001 here",
    "Emoji 😀 and 👍🏽 thumbs",
    "🏳️‍🌈 family 👨‍👩‍👧 zwj",
    "!!!?",
    "Wait... what?!",
    "!!!???...",
    "$100.00 + 15% = $115.00",
    "Numbers 1234567890 and 3.14159",
    "",
    "   ",
    "\t\n\r ",
    "x",
    ".",
    "Supercalifragilisticexpialidocious",
    "pneumonoultramicroscopicsilicovolcanoconiosis" * 3,
    "a" * 100,
    "a" * 101,
    "MiXeD CaSe TeXt",
    "UPPERCASE SENTENCE HERE",
    "don't can't won't I'm you're",
    "e-mail: someone@example.com",
    "https://example.com/path?query=1&x=2",
    "C++ and C# are languages; so is F#.",
    "under_score and snake_case_names",
    "#hashtag @mention ~tilde^caret`tick|pipe",
    "Ελληνικά γράμματα",
    "Русский текст",
    "한국어 텍스트",
    "Tiếng Việt có dấu",
    "Tab\tseparated\tvalues",
    "Line one\nLine two\r\nLine three",
    "Zero\u200bwidth space",
    "Non\u00a0breaking\u2009thin space",
    "Control\u0007char and \u0000nul",
    "Replacement \ufffd char",
    "ﬁne ﬂour from the ﬀ",
    "①②③ ¼ ½ Ⅻ ㎏",
    "Ｆｕｌｌｗｉｄｔｈ　ｔｅｘｔ",
    "The year 2024 — an em dash – en dash",
    "“Smart quotes” and ‘single’ ones…",
    "«French» ¿Spanish? ¡Sí!",
    "Mathematical ∑ ∫ √ symbols ≤ ≥",
    "Currency € £ ¥ ₹",
    "Ω Å K signs",
    "İstanbul",
    "Multiple     spaces    between   words",
    "   leading and trailing   ",
    "a b c d e f g",
    "The [MASK] sat on the mat.",
    "[CLS] already there [SEP]",
    "Fill in the <mask> please",
    "Hello <mask>world and<mask>",
    "The model embeds sentences into vectors for search.",
    "What is machine learning? Machine learning is a field of study.",
    "understand understanding unstable replaying",
    "New emoji 🫨 and old punctuation ⸼ vs newer ⹃ dash",
    "Straße, ΣΊΣΥΦΟΣ and İ: lowercase without context",
    "hello world, hellohello and a hello!",
    "[MASK]x  y and x [MASK]x",
    "DOG  dog DOGS",
    "ß ßa aß",
    "a--b--c, --x and 1-2 3--4",
    "12345 6789 a,.b",
    LONG_SENTENCE,
]


def write_json(path, obj):
    path.write_text(json.dumps(obj, ensure_ascii=False, indent=1) + "\n", encoding="utf-8")


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--vocab", type=Path, default=DEFAULT_VOCAB, help="the fixture BERT vocab.txt")
    ap.add_argument("--out", type=Path, default=OUT)
    args = ap.parse_args()
    vocab_lines = [line.rstrip("\n") for line in args.vocab.read_text(encoding="utf-8").splitlines()]
    args.out.mkdir(parents=True, exist_ok=True)
    write_json(args.out / "wordpiece.json", wordpiece(vocab_lines))
    write_json(args.out / "unigram.json", unigram(False))
    write_json(args.out / "unigram_byte_fallback.json", unigram(True))
    write_json(args.out / "wordlevel.json", wordlevel())
    for name, tok in variants(wordpiece(vocab_lines), unigram(False), wordlevel()).items():
        write_json(args.out / name, tok)
    write_json(args.out / "sentences.json", SENTENCES)
    print(f"wrote {4 + len(variants(wordpiece(vocab_lines), unigram(False), wordlevel()))} tokenizers and "
          f"{len(SENTENCES)} sentences to {args.out}")


if __name__ == "__main__":
    main()
