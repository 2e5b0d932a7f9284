#!/usr/bin/env python3
"""Writes src/embed/text/unicode_tables.cpp: the Unicode data embq's tokenizers need.

embq links no Unicode library (no ICU). The tokenizers need, per code point:
  - character classes (src/embed/text/unicode.hpp, `Flag`): White_Space, "other" (Cc Cf Co Cs),
    BERT punctuation (P* plus ASCII symbols), nonspacing marks (Mn), marks (M*), regex
    word characters (\\w as in Rust's regex crate), numeric (N*), BERT's CJK ranges;
  - canonical combining classes, canonical and compatibility decompositions (fully
    recursive, Hangul syllables excluded: they are algorithmic), and the canonical
    composition pairs (for NFC / NFKC);
  - the lowercase mapping of single characters (Rust's char::to_lowercase, which is
    what Hugging Face tokenizers use: context-free, so a final sigma is plain sigma).

Everything comes from Python's `unicodedata` (its Unicode version is written into the
output), then tools/tokenizer_reference/unicode_hf_overrides.json is applied: the code
points that Hugging Face tokenizers, the reference embq matches, classifies differently.
HF mixes Unicode versions: general categories from Unicode 8 (newer punctuation does not
split words, newer marks are not stripped, unassigned code points are kept rather than
dropped as "other"), normalization from an older crate, lowercase and \\w from Unicode
15-16. So U+2E43, punctuation since Unicode 9, splits words in BERT's Python tokenizer but
not in HF's. The overrides are measured, not guessed:

    node tools/tokenizer_reference/probe_unicode.mjs /tmp/hf_unicode.json
    python3 tools/gen_unicode_tables.py --hf-probe /tmp/hf_unicode.json

rewrites the overrides from a probe of every code point; without --hf-probe the committed
overrides are used. Run with any python3:  python3 tools/gen_unicode_tables.py
(the output is committed; rerunning reproduces it byte for byte).
"""

import argparse
import json
import unicodedata
from pathlib import Path

REPO_ROOT = Path(__file__).resolve().parent.parent
DEFAULT_OUT = REPO_ROOT / "src" / "embed" / "text" / "unicode_tables.cpp"
OVERRIDES = REPO_ROOT / "tools" / "tokenizer_reference" / "unicode_hf_overrides.json"

MAX_CP = 0x10FFFF
SURROGATES = range(0xD800, 0xE000)

# Flag bits: keep in sync with `enum Flag` in src/embed/text/unicode.hpp.
WHITESPACE = 1 << 0
CONTROL = 1 << 1
BERT_PUNCT = 1 << 2
MN = 1 << 3
MARK = 1 << 4
WORD = 1 << 5
NUMERIC = 1 << 6
CJK = 1 << 7
# The sets the overrides file can change, by name.
SET_FLAGS = {"control": CONTROL, "punct": BERT_PUNCT, "mn": MN, "mark": MARK, "word": WORD,
             "numeric": NUMERIC, "cjk": CJK}

# The White_Space property (PropList.txt); Python's unicodedata does not expose it and
# str.isspace() differs (it counts U+001C..U+001F). Stable since Unicode 6.
WHITE_SPACE = [(0x09, 0x0D), (0x20, 0x20), (0x85, 0x85), (0xA0, 0xA0), (0x1680, 0x1680),
               (0x2000, 0x200A), (0x2028, 0x2029), (0x202F, 0x202F), (0x205F, 0x205F),
               (0x3000, 0x3000)]

# Other_Alphabetic code points outside the M* categories (the circled and squared Latin
# letters, category So): Rust's regex \w is Alphabetic + M + Nd + Pc + Join_Control.
OTHER_ALPHABETIC_SO = [(0x24B6, 0x24E9), (0x1F130, 0x1F149), (0x1F150, 0x1F169),
                       (0x1F170, 0x1F189)]
JOIN_CONTROL = [(0x200C, 0x200D)]

# BERT's _is_chinese_char (google-research/bert tokenization.py). HF's BertNormalizer has
# 0x2B920 where BERT has 0x2B820; the overrides carry that difference.
CJK_RANGES = [(0x4E00, 0x9FFF), (0x3400, 0x4DBF), (0x20000, 0x2A6DF), (0x2A700, 0x2B73F),
              (0x2B740, 0x2B81F), (0x2B820, 0x2CEAF), (0xF900, 0xFAFF), (0x2F800, 0x2FA1F)]

HANGUL_FIRST, HANGUL_LAST = 0xAC00, 0xD7A3


def in_ranges(cp, ranges):
    return any(a <= cp <= b for a, b in ranges)


def base_flags(cp):
    """The flags from Python's unicodedata alone."""
    cat = unicodedata.category(chr(cp))
    f = 0
    if in_ranges(cp, WHITE_SPACE):
        f |= WHITESPACE
    if cat in ("Cc", "Cf", "Co", "Cs"):  # "other", but not unassigned (Cn): HF keeps those
        f |= CONTROL
    if cat[0] == "P":
        f |= BERT_PUNCT
    if cp < 128 and (33 <= cp <= 47 or 58 <= cp <= 64 or 91 <= cp <= 96 or 123 <= cp <= 126):
        f |= BERT_PUNCT
    if cat == "Mn":
        f |= MN
    if cat[0] == "M":
        f |= MARK
    if (cat[0] == "L" or cat[0] == "M" or cat in ("Nd", "Nl", "Pc")
            or in_ranges(cp, OTHER_ALPHABETIC_SO) or in_ranges(cp, JOIN_CONTROL)):
        f |= WORD
    if cat[0] == "N":
        f |= NUMERIC
    if in_ranges(cp, CJK_RANGES):
        f |= CJK
    return f


def expand(ranges):
    for a, b in ranges:
        yield from range(a, b + 1)


def to_ranges(cps):
    out = []
    for cp in sorted(cps):
        if out and out[-1][1] == cp - 1:
            out[-1][1] = cp
        else:
            out.append([cp, cp])
    return out


def all_flags(overrides):
    flags = [base_flags(cp) for cp in range(MAX_CP + 1)]
    for name, change in overrides["sets"].items():
        bit = SET_FLAGS[name]
        for cp in expand(change["add"]):
            flags[cp] |= bit
        for cp in expand(change["remove"]):
            flags[cp] &= ~bit
    return flags


def flag_ranges(flags):
    out = []
    prev = None
    for cp in range(MAX_CP + 1):
        f = flags[cp]
        if f != prev:
            out.append((cp, f))
            prev = f
    return out


def ccc_ranges():
    out = []
    start = None
    cur = 0
    for cp in range(MAX_CP + 2):
        c = unicodedata.combining(chr(cp)) if cp <= MAX_CP else 0
        if c != cur:
            if cur != 0:
                out.append((start, cp - 1, cur))
            start, cur = cp, c
    return out


def base_decomposition(cp, form):
    return [ord(c) for c in unicodedata.normalize(form, chr(cp))]


def decomposition(cp, form, overrides):
    """The full decomposition of cp under form (NFD / NFKD) after the overrides."""
    o = overrides["decompositions"][form.lower()]
    if str(cp) in o["set"]:
        return o["set"][str(cp)]
    if cp in o["remove"]:
        return [cp]
    return base_decomposition(cp, form)


def decompositions(overrides):
    """(cp, mapping, is_compat) for every cp whose NFD or NFKD differs from itself."""
    out = []
    for cp in range(MAX_CP + 1):
        if cp in SURROGATES or HANGUL_FIRST <= cp <= HANGUL_LAST:
            continue
        ch = chr(cp)
        nfd = "".join(map(chr, decomposition(cp, "NFD", overrides)))
        nfkd = "".join(map(chr, decomposition(cp, "NFKD", overrides)))
        if nfd != ch:
            # A canonical decomposition; NFKD of it may go further (e.g. U+1E9B).
            out.append((cp, nfd, False))
            if nfkd != nfd:
                out.append((cp, nfkd, True))
        elif nfkd != ch:
            out.append((cp, nfkd, True))
    return out


def compositions(overrides):
    """(first, second, composed) for the primary composites (Hangul excluded)."""
    out = []
    removed = set(overrides["decompositions"]["nfd"]["remove"])
    for cp in range(MAX_CP + 1):
        if cp in SURROGATES or HANGUL_FIRST <= cp <= HANGUL_LAST or cp in removed:
            continue
        ch = chr(cp)
        d = unicodedata.decomposition(ch)
        if not d or d.startswith("<"):
            continue
        parts = [int(x, 16) for x in d.split()]
        if len(parts) != 2:
            continue
        # Excluded composites (Full_Composition_Exclusion) do not recompose under NFC.
        if unicodedata.normalize("NFC", chr(parts[0]) + chr(parts[1])) != ch:
            continue
        out.append((parts[0], parts[1], cp))
    out.sort()
    return out


def base_lowercase(cp):
    return [ord(c) for c in chr(cp).lower()]


def lowercase(overrides):
    """(cp, [lowercase cps]) for every cp that changes when lowercased on its own."""
    o = overrides["lowercase"]
    out = []
    for cp in range(MAX_CP + 1):
        if cp in SURROGATES:
            continue
        low = o["set"].get(str(cp)) or ([cp] if cp in o["remove"] else base_lowercase(cp))
        if low != [cp]:
            out.append((cp, low))
    return out


def overrides_from_probe(probe):
    """The differences between HF's measured behaviour and the unicodedata base."""
    result = {"source": f"Hugging Face tokenizers {probe['tokenizers']}, measured on every code point by "
                        "tools/tokenizer_reference/probe_unicode.mjs",
              "unicode": unicodedata.unidata_version, "sets": {}}
    base = [base_flags(cp) for cp in range(MAX_CP + 1)]
    for name, bit in SET_FLAGS.items():
        hf = set(expand(probe["sets"][name]))
        add, remove = [], []
        for cp in range(MAX_CP + 1):
            if cp in SURROGATES:
                continue
            if name == "mn" and unicodedata.normalize("NFD", chr(cp)) != chr(cp):
                continue  # decomposing characters are never tested for Mn themselves
            if name == "control" and cp in (0x0, 0x9, 0xA, 0xD, 0xFFFD):
                continue  # the clean-text probe sees the normalizer's own special cases
            mine = bool(base[cp] & bit)
            if (cp in hf) != mine:
                (add if cp in hf else remove).append(cp)
        result["sets"][name] = {"add": to_ranges(add), "remove": to_ranges(remove)}
    low = {"set": {}, "remove": []}
    hf_low = {int(k): v for k, v in probe["lowercase"].items()}
    for cp in range(MAX_CP + 1):
        if cp in SURROGATES:
            continue
        want = hf_low.get(cp, [cp])
        if want != base_lowercase(cp):
            if want == [cp]:
                low["remove"].append(cp)
            else:
                low["set"][str(cp)] = want
    result["lowercase"] = low
    result["decompositions"] = {}
    for form in ("NFD", "NFKD"):
        hf_map = {int(k): v for k, v in probe["decompositions"][form.lower()].items()}
        d = {"set": {}, "remove": []}
        for cp in range(MAX_CP + 1):
            if cp in SURROGATES or HANGUL_FIRST <= cp <= HANGUL_LAST:
                continue
            want = hf_map.get(cp, [cp])
            if want != base_decomposition(cp, form):
                if want == [cp]:
                    d["remove"].append(cp)
                else:
                    d["set"][str(cp)] = want
        result["decompositions"][form.lower()] = d
    return result


def fmt_rows(items, per_line):
    lines = []
    for i in range(0, len(items), per_line):
        lines.append("    " + " ".join(items[i:i + per_line]))
    return "\n".join(lines)


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--out", type=Path, default=DEFAULT_OUT)
    ap.add_argument("--hf-probe", type=Path, help="probe_unicode.mjs output: rewrite the overrides from it")
    args = ap.parse_args()

    if args.hf_probe:
        overrides = overrides_from_probe(json.loads(args.hf_probe.read_text()))
        OVERRIDES.write_text(json.dumps(overrides, indent=1, sort_keys=True) + "\n")
        print(f"wrote {OVERRIDES}")
    overrides = json.loads(OVERRIDES.read_text())

    flag_table = all_flags(overrides)
    flags = flag_ranges(flag_table)
    cccs = ccc_ranges()
    decomp = decompositions(overrides)
    comps = compositions(overrides)
    lows = lowercase(overrides)

    pool = []
    decomp_rows = []
    for cp, mapping, compat in decomp:
        off = len(pool)
        pool.extend(ord(c) for c in mapping)
        assert len(mapping) < 256 and off < (1 << 16)
        decomp_rows.append(f"{{0x{cp:X}, {off}, {len(mapping)}, {1 if compat else 0}}},")

    low_single = [(cp, l[0]) for cp, l in lows if len(l) == 1]
    low_multi = [(cp, l) for cp, l in lows if len(l) > 1]
    assert all(len(l) <= 3 for _, l in low_multi)

    latin1 = flag_table[:256]

    version = unicodedata.unidata_version
    o = []
    o.append("// GENERATED by tools/gen_unicode_tables.py from Python's unicodedata")
    o.append(f"// (Unicode {version}) and tools/tokenizer_reference/unicode_hf_overrides.json:")
    o.append(f"// {overrides['source']}.")
    o.append("// Do not edit: rerun the script.")
    o.append('#include "embed/text/unicode.hpp"')
    o.append("")
    o.append("namespace embq::text::unicode {")
    o.append("")
    o.append(f'const char kUnicodeVersion[] = "{version}";')
    o.append("")
    o.append("// Flags of U+0000..U+00FF, looked up directly.")
    o.append("const uint16_t kLatin1Flags[256] = {")
    o.append(fmt_rows([f"{f}," for f in latin1], 16))
    o.append("};")
    o.append("")
    o.append("// Flags from `first` up to the next entry's `first` - 1.")
    o.append(f"const FlagRange kFlagRanges[] = {{")
    o.append(fmt_rows([f"{{0x{cp:X}, {f}}}," for cp, f in flags], 6))
    o.append("};")
    o.append(f"const size_t kFlagRangeCount = {len(flags)};")
    o.append("")
    o.append("// Canonical combining classes other than 0.")
    o.append("const CccRange kCccRanges[] = {")
    o.append(fmt_rows([f"{{0x{a:X}, 0x{b:X}, {c}}}," for a, b, c in cccs], 4))
    o.append("};")
    o.append(f"const size_t kCccRangeCount = {len(cccs)};")
    o.append("")
    o.append("// Full (recursive) decompositions, sorted by code point; a code point with both a")
    o.append("// canonical and a different compatibility decomposition has two rows, canonical first.")
    o.append("const uint32_t kDecompPool[] = {")
    o.append(fmt_rows([f"0x{c:X}," for c in pool], 10))
    o.append("};")
    o.append("const Decomposition kDecompositions[] = {")
    o.append(fmt_rows(decomp_rows, 4))
    o.append("};")
    o.append(f"const size_t kDecompositionCount = {len(decomp_rows)};")
    o.append("")
    o.append("// Primary composites, sorted by (first, second).")
    o.append("const Composition kCompositions[] = {")
    o.append(fmt_rows([f"{{0x{a:X}, 0x{b:X}, 0x{c:X}}}," for a, b, c in comps], 4))
    o.append("};")
    o.append(f"const size_t kCompositionCount = {len(comps)};")
    o.append("")
    o.append("// Single-character lowercase mappings, sorted by code point.")
    o.append("const CaseMapping kLowercase[] = {")
    o.append(fmt_rows([f"{{0x{a:X}, 0x{b:X}}}," for a, b in low_single], 6))
    o.append("};")
    o.append(f"const size_t kLowercaseCount = {len(low_single)};")
    o.append("")
    o.append("// Lowercase mappings to more than one character.")
    o.append("const MultiCaseMapping kLowercaseMulti[] = {")
    for cp, l in low_multi:
        padded = l + [0] * (3 - len(l))
        o.append(f"    {{0x{cp:X}, {{{', '.join(f'0x{c:X}' for c in padded)}}}, {len(l)}}},")
    o.append("};")
    o.append(f"const size_t kLowercaseMultiCount = {len(low_multi)};")
    o.append("")
    o.append("}  // namespace embq::text::unicode")
    o.append("")
    args.out.write_text("\n".join(o))
    print(f"wrote {args.out}: Unicode {version}, {len(flags)} flag ranges, {len(cccs)} ccc ranges, "
          f"{len(decomp_rows)} decompositions ({len(pool)} code points), {len(comps)} compositions, "
          f"{len(low_single)}+{len(low_multi)} lowercase mappings")


if __name__ == "__main__":
    main()
