#!/usr/bin/env python3
"""Build real evaluation text for embq from WordNet 3.0 glosses.

Writes three files into --out:

  corpus.txt  one WordNet definition (gloss without its examples) per line;
  pairs.tsv   "example<TAB>definition": a usage example and the definition of
              its own synset (query -> right answer for hit@k / MRR);
  calib.txt   calibration text: definitions of other synsets, none of them
              in corpus.txt or pairs.tsv.

Every definition written identifies exactly one synset, every pair's
definition is also in the corpus, calib.txt shares no synset with the other
two, and the same inputs and options give byte-identical files. See
tools/wordnet_sets.md for the rules and sizes.

Python 3 standard library only.
"""

import argparse
import os
import random
import re
import sys
import tempfile

# Data files in the order they are read; the order is part of the canonical
# synset order, so it must not change between runs.
PARTS = (("noun", "n"), ("verb", "v"), ("adj", "a"), ("adv", "r"))

DEFAULT_WORDNET_DIR = "/usr/share/wordnet"
INSTALL_HINT = "apt-get install wordnet-base"

# An attribution after an example: `"..." - Shakespeare`, `"..." --Romans 12:19`.
ATTRIBUTION_RE = re.compile(r"^-{1,2}\s*\S")
# A separate note after an example: `"..." (British usage)`, `"..." (Santayana)`.
NOTE_RE = re.compile(r"^\([^()]*\)$")
# Candidate starts of the examples: a quote at the start of the gloss or after
# `;` (the usual separator), `:` (`...for war: "mobilization of the troops"`)
# or `,` (`restrict or confine, "I limit you to two visits"`).
EXAMPLES_START_RE = re.compile(r'(?:^|[;:,])\s*"')
ELLIPSIS = ("..", "\u2026")  # WordNet also writes a two-dot ellipsis

# Seed of the calibration sample's own random stream, derived from --seed.
# A separate stream (a str seed, so it never equals the int-seeded stream of
# any --seed) keeps corpus.txt and pairs.tsv exactly as they were before
# calib.txt existed.
CALIB_SEED_FORMAT = "embq-calib:%d"


class WordNetMissing(Exception):
    """The WordNet data files are not where we were told to look."""


class Synset:
    """One synset: where it came from, its definition and usable examples."""

    __slots__ = ("pos", "offset", "definition", "examples")

    def __init__(self, pos, offset, definition, examples):
        self.pos = pos
        self.offset = offset
        self.definition = definition
        self.examples = examples

    @property
    def key(self):
        return (self.pos, self.offset)


class Stats:
    """Counters for the summary paragraph."""

    def __init__(self):
        self.synsets = {name: 0 for name, _ in PARTS}
        self.no_definition = 0
        self.bad_quotes = 0
        self.examples_found = 0
        self.too_short = 0
        self.fragments = 0
        self.repeated_examples = 0
        self.duplicate_definitions = 0
        self.duplicate_synsets = 0
        self.unique_definitions = 0
        self.pair_candidates = 0


def clean(text):
    """Collapse all whitespace (TABs, newlines included) to single spaces."""
    return " ".join(text.split())


def word_count(text):
    """Number of whitespace-separated tokens that contain a letter or digit."""
    return sum(1 for tok in text.split() if any(ch.isalnum() for ch in tok))


def split_gloss(gloss):
    """Split a raw gloss into (definition, examples_text).

    WordNet puts the definition first, then the examples, each in double
    quotes, separated by `; `. The definition itself may contain `;`
    ("a workplace; as in ..."), so we split at the first quoted part, not at
    the first semicolon.
    """
    for match in EXAMPLES_START_RE.finditer(gloss):
        before = gloss[: match.start()]
        # A quote inside brackets or after an odd number of quotes belongs to
        # the definition: `(e.g., "he said ...")`, `the phrase "a", "b"`.
        if before.count("(") == before.count(")") and before.count('"') % 2 == 0:
            return clean_definition(before), gloss[match.end() - 1 :]
    return clean_definition(gloss), ""


def clean_definition(text):
    """Normalise a definition: single spaces, no trailing separator, and no
    stray quote (a few glosses have an unmatched one)."""
    text = clean(text).rstrip(" ;:,")
    if text.count('"') % 2:
        text = clean(text.replace('"', ""))
    return text


def parse_examples(text):
    """Parse the examples part of a gloss.

    Returns (examples, fragments): the example sentences with quotes and
    trailing attributions or notes stripped, and the number of quoted parts
    rejected because they are mentions inside running text (`"X" or "Y"`,
    `"cool" is a British term`, `"...," he said`) rather than examples.
    """
    examples, fragments = [], 0
    pos, end = 0, len(text)
    while pos < end:
        # Skip separators between examples; a comma also separates some
        # examples in WordNet (`"a potent cup of tea", "a stiff drink"`).
        while pos < end and text[pos] in " ;,":
            pos += 1
        if pos >= end:
            break
        if text[pos] != '"':
            # Unquoted text between examples (e.g. a lost opening quote):
            # skip to the next part.
            nxt = text.find(";", pos)
            pos = end if nxt < 0 else nxt + 1
            continue
        close = text.find('"', pos + 1)
        if close < 0:
            break  # unterminated quote; callers reject odd quote counts anyway
        quoted = clean(text[pos + 1 : close])
        tail, pos = _tail_after_quote(text, close + 1)
        if tail_is_continuation(tail):
            fragments += 1
        elif quoted:
            examples.append(quoted)
    return examples, fragments


def _tail_after_quote(text, pos):
    """Return (tail, next_pos): text after a closing quote up to the next part."""
    end = len(text)
    stop = pos
    while stop < end and text[stop] not in ';"':
        stop += 1
    tail = text[pos:stop].strip()
    # A tail of just "," means "another example follows": not a continuation.
    if tail == ",":
        tail = ""
    return tail, stop


def tail_is_continuation(tail):
    """True if the text after a quote makes the quote part of a longer text.

    Attributions and bracketed notes belong to the example and are dropped;
    anything else ("or", "is archaic", "he said") means the quoted words are
    a mention or a piece of dialogue, not a self-contained example.
    """
    if not tail:
        return False
    if ATTRIBUTION_RE.match(tail) or NOTE_RE.match(tail):
        return False
    return True


def is_fragment(example):
    """An example cut out of a longer text (starts or ends with an ellipsis),
    or one whose brackets do not balance."""
    if example.startswith(ELLIPSIS) or example.endswith(ELLIPSIS):
        return True
    return example.count("(") != example.count(")")


def parse_line(line):
    """Parse one data.* line into (offset, gloss) or None for header lines."""
    if line.startswith("  "):
        return None  # licence header
    head, sep, gloss = line.partition(" | ")
    if not sep:
        return None
    offset = head.split(" ", 1)[0]
    return offset, gloss


def parse_synset(pos, offset, gloss, stats, min_words):
    """Build a Synset from its raw gloss, counting what was dropped."""
    definition, examples_text = split_gloss(gloss)
    if examples_text and gloss.count('"') % 2:
        # Unbalanced quotes (about 20 synsets): we cannot tell where the
        # examples begin and end, so keep only the definition.
        stats.bad_quotes += 1
        examples_text = ""
    examples, fragments = parse_examples(examples_text)
    stats.examples_found += len(examples) + fragments
    stats.fragments += fragments
    kept = []
    for example in examples:
        if is_fragment(example):
            stats.fragments += 1
        elif word_count(example) < min_words:
            stats.too_short += 1
        else:
            kept.append(example)
    return Synset(pos, offset, definition, kept)


def data_paths(wordnet_dir):
    """The four data.* files; raise WordNetMissing naming the first missing."""
    paths = []
    for name, _ in PARTS:
        path = os.path.join(wordnet_dir, "data." + name)
        if not os.path.isfile(path):
            raise WordNetMissing(path)
        paths.append(path)
    return paths


def read_wordnet(wordnet_dir, stats, min_words):
    """Read all synsets, in canonical order (file order, then file position)."""
    synsets = []
    for (name, pos), path in zip(PARTS, data_paths(wordnet_dir)):
        with open(path, encoding="utf-8", newline="\n") as handle:
            for line in handle:
                parsed = parse_line(line.rstrip("\r\n"))
                if parsed is None:
                    continue
                stats.synsets[name] += 1
                synset = parse_synset(pos, parsed[0], parsed[1], stats, min_words)
                if not synset.definition:
                    stats.no_definition += 1
                    continue
                synsets.append(synset)
    return synsets


def drop_duplicate_definitions(synsets, stats):
    """Keep only synsets whose definition no other synset shares.

    Compared case-insensitively: embedding tokenizers often lowercase, and a
    definition shared by two synsets has no single right answer.
    """
    counts = {}
    for synset in synsets:
        k = synset.definition.casefold()
        counts[k] = counts.get(k, 0) + 1
    duplicated = {k for k, n in counts.items() if n > 1}
    stats.duplicate_definitions = len(duplicated)
    kept = [s for s in synsets if s.definition.casefold() not in duplicated]
    stats.duplicate_synsets = len(synsets) - len(kept)
    stats.unique_definitions = len(kept)
    return kept


def drop_repeated_examples(synsets, stats):
    """Remove examples used by more than one synset (a query must have one
    right answer), then the same for examples that equal a definition."""
    owners = {}
    for synset in synsets:
        for example in set(e.casefold() for e in synset.examples):
            owners[example] = owners.get(example, 0) + 1
    definitions = {s.definition.casefold() for s in synsets}
    for synset in synsets:
        kept = [
            e
            for e in synset.examples
            if owners[e.casefold()] == 1 and e.casefold() not in definitions
        ]
        stats.repeated_examples += len(synset.examples) - len(kept)
        synset.examples = kept


def choose_example(examples):
    """The example used as the query: the one with the most words (more
    context than a two-word phrase), the earliest on ties. Independent of the
    seed, so a synset always gets the same query."""
    best = examples[0]
    for example in examples[1:]:
        if word_count(example) > word_count(best):
            best = example
    return best


def sample_sets(synsets, corpus_size, pairs_size, seed):
    """Pick the pairs and the corpus; returns (pairs, corpus_lines).

    `synsets` is in canonical order, so the result depends only on the data,
    the sizes and the seed.
    """
    if pairs_size > corpus_size:
        raise ValueError(
            "--pairs-size (%d) must not exceed --corpus-size (%d): every "
            "pair's definition goes into the corpus" % (pairs_size, corpus_size)
        )
    candidates = [s for s in synsets if s.examples]
    if pairs_size > len(candidates):
        raise ValueError(
            "--pairs-size %d is larger than the %d synsets with a usable "
            "example" % (pairs_size, len(candidates))
        )
    if corpus_size > len(synsets):
        raise ValueError(
            "--corpus-size %d is larger than the %d unique definitions"
            % (corpus_size, len(synsets))
        )
    rng = random.Random(seed)
    chosen = rng.sample(candidates, pairs_size)
    chosen_keys = {s.key for s in chosen}
    others = [s for s in synsets if s.key not in chosen_keys]
    filler = rng.sample(others, corpus_size - pairs_size)
    corpus = [s.definition for s in chosen] + [s.definition for s in filler]
    # Shuffle so the answers are not all at the top (someone taking the first
    # N lines for calibration would otherwise take exactly the eval answers).
    rng.shuffle(corpus)
    pairs = [(choose_example(s.examples), s.definition) for s in chosen]
    return pairs, corpus


def sample_calib(synsets, corpus, calib_size, seed):
    """Pick the calibration definitions: `calib_size` synsets in neither
    corpus.txt nor pairs.tsv, in random order.

    `corpus` holds every definition already used (each pair's definition is
    in it), and a definition identifies its synset (duplicates were dropped,
    case-insensitively), so excluding the corpus definitions excludes the
    corpus and pair synsets. Uses its own random stream, drawn after
    sample_sets, so the other files do not depend on `calib_size`.
    """
    used = {d.casefold() for d in corpus}
    remaining = [s for s in synsets if s.definition.casefold() not in used]
    if calib_size > len(remaining):
        raise ValueError(
            "--calib-size %d is larger than the %d unique definitions left "
            "after corpus.txt and pairs.tsv" % (calib_size, len(remaining))
        )
    rng = random.Random(CALIB_SEED_FORMAT % seed)
    # sample() returns the picks in random order: the file is shuffled.
    return [s.definition for s in rng.sample(remaining, calib_size)]


def write_atomic(path, lines):
    """Write lines (each gets '\\n') to path via a temp file and a rename, so a
    reader never sees a half-written file."""
    directory = os.path.dirname(os.path.abspath(path))
    fd, tmp = tempfile.mkstemp(prefix="." + os.path.basename(path) + ".", dir=directory)
    try:
        with os.fdopen(fd, "w", encoding="utf-8", newline="\n") as handle:
            for line in lines:
                handle.write(line + "\n")
        os.chmod(tmp, 0o644)
        os.replace(tmp, path)
    except BaseException:
        if os.path.exists(tmp):
            os.unlink(tmp)
        raise


def check_line(text):
    """Guard the file format: no TAB or newline may reach the output."""
    if "\t" in text or "\n" in text or "\r" in text:
        raise AssertionError("TAB or newline in output text: %r" % text)
    return text


def summary(stats, args, pairs, corpus, calib):
    """The one-paragraph summary printed at the end."""
    per_pos = ", ".join("%s %d" % (n, c) for n, c in stats.synsets.items())
    return (
        "Read %d synsets from %s (%s). Kept %d glosses with a definition that "
        "identifies one synset (dropped %d synsets sharing %d duplicated "
        "definitions, %d with no definition). Found %d quoted examples; dropped "
        "%d shorter than %d words, %d fragments, %d repeated in another synset; "
        "%d synsets had unbalanced quotes (examples ignored); %d synsets have a "
        "usable example. Wrote %d pairs to %s, %d glosses to %s and %d "
        "calibration glosses (disjoint from both) to %s (seed %d)."
        % (
            sum(stats.synsets.values()),
            args.wordnet_dir,
            per_pos,
            stats.unique_definitions,
            stats.duplicate_synsets,
            stats.duplicate_definitions,
            stats.no_definition,
            stats.examples_found,
            stats.too_short,
            args.min_words,
            stats.fragments,
            stats.repeated_examples,
            stats.bad_quotes,
            stats.pair_candidates,
            len(pairs),
            os.path.join(args.out, "pairs.tsv"),
            len(corpus),
            os.path.join(args.out, "corpus.txt"),
            len(calib),
            os.path.join(args.out, "calib.txt"),
            args.seed,
        )
    )


def parse_args(argv):
    parser = argparse.ArgumentParser(
        description="Build corpus.txt, pairs.tsv (example -> definition) "
        "and calib.txt (calibration text disjoint from both) from WordNet 3.0 "
        "for embq's eval."
    )
    parser.add_argument("--out", required=True, help="output directory")
    parser.add_argument("--wordnet-dir", default=DEFAULT_WORDNET_DIR,
                        help="directory with data.noun etc. (default %(default)s)")
    parser.add_argument("--seed", type=int, default=0, help="sampling seed (default 0)")
    parser.add_argument("--corpus-size", type=int, default=10000,
                        help="glosses in corpus.txt (default %(default)s)")
    parser.add_argument("--pairs-size", type=int, default=2000,
                        help="lines in pairs.tsv (default %(default)s)")
    parser.add_argument("--calib-size", type=int, default=10000,
                        help="glosses in calib.txt, none of them in corpus.txt or "
                        "pairs.tsv (default %(default)s)")
    parser.add_argument("--min-words", type=int, default=3,
                        help="drop examples with fewer words (default %(default)s)")
    args = parser.parse_args(argv)
    if args.corpus_size < 1 or args.pairs_size < 1 or args.calib_size < 1:
        parser.error("--corpus-size, --pairs-size and --calib-size must be positive")
    return args


def main(argv=None):
    args = parse_args(argv)
    stats = Stats()
    try:
        synsets = read_wordnet(args.wordnet_dir, stats, args.min_words)
    except WordNetMissing as err:
        print("error: WordNet data file not found: %s (install it: %s)"
              % (err, INSTALL_HINT), file=sys.stderr)
        return 1
    except UnicodeDecodeError as err:
        print("error: WordNet data is not UTF-8 text: %s" % err, file=sys.stderr)
        return 1
    synsets = drop_duplicate_definitions(synsets, stats)
    drop_repeated_examples(synsets, stats)
    stats.pair_candidates = sum(1 for s in synsets if s.examples)
    try:
        pairs, corpus = sample_sets(synsets, args.corpus_size, args.pairs_size, args.seed)
        calib = sample_calib(synsets, corpus, args.calib_size, args.seed)
    except ValueError as err:
        print("error: %s" % err, file=sys.stderr)
        return 1
    os.makedirs(args.out, exist_ok=True)
    write_atomic(os.path.join(args.out, "corpus.txt"), [check_line(t) for t in corpus])
    write_atomic(
        os.path.join(args.out, "pairs.tsv"),
        [check_line(e) + "\t" + check_line(d) for e, d in pairs],
    )
    # Written last: its presence means the whole set was written (setup.sh
    # checks for it).
    write_atomic(os.path.join(args.out, "calib.txt"), [check_line(t) for t in calib])
    print(summary(stats, args, pairs, corpus, calib))
    return 0


if __name__ == "__main__":
    sys.exit(main())
