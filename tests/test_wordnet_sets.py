"""Tests for tools/make_wordnet_sets.py (stdlib unittest).

Run from the repo root:  python3 -m unittest discover -s tests -p 'test_*.py'

Most tests build a tiny fake WordNet directory with synset lines in the real
data.* format, including the awkward glosses found in WordNet 3.0. One test
runs on the real /usr/share/wordnet when the Debian package wordnet-base is
installed, and is skipped otherwise.
"""

import os
import subprocess
import sys
import tempfile
import unittest

HERE = os.path.dirname(os.path.abspath(__file__))
TOOLS = os.path.join(os.path.dirname(HERE), "tools")
SCRIPT = os.path.join(TOOLS, "make_wordnet_sets.py")
REAL_WORDNET = "/usr/share/wordnet"

sys.path.insert(0, TOOLS)
import make_wordnet_sets as mws  # noqa: E402  (path set just above)

# The licence header every real data.* file starts with (lines begin with two
# spaces); the parser must skip it.
HEADER = (
    "  1 This software and database is being provided to you, the LICENSEE, by  \n"
    "  2 Princeton University under the following license.  \n"
)

# Tricky glosses, modelled on real WordNet 3.0 lines. (part, word, gloss)
TRICKY = [
    # Semicolon inside the definition, attribution after an example.
    ("noun", "committee",
     'a special group delegated to consider some matter; a body of members; '
     '"a committee is a group that keeps minutes and loses hours" - Milton Berle'),
    # Several examples; one too short; attribution in the middle (--Author).
    ("adj", "deceitful",
     'intended to deceive; "deceitful advertising"; '
     '"smooth, shining, and deceitful as thin ice" --S.T.Coleridge; '
     '"a fraudulent scheme to escape paying taxes on income"'),
    # Parenthesised note after the example; parenthesised note in definition.
    ("adj", "able",
     "(usually followed by `to') having the necessary means or skill; "
     '"she was able to program her computer" (British usage)'),
    # A fragment (leading ellipsis) and a word mention followed by text.
    ("adj", "cool",
     'fashionable and attractive at the time; '
     '"...was wont to complain that this is a cold world"; '
     '"cool" is a British term'),
    # Semicolon inside a quoted example; trailing whitespace and a TAB.
    ("verb", "repay",
     'pay back;\t"Vengeance is mine; I will repay, saith the Lord"   '),
    # Comma-separated examples, and a quote inside brackets in the definition.
    ("adj", "potent",
     'having great influence (as in "a potent drug"), "a potent cup of tea", '
     '"they served a stiff potent drink"'),
    # Unbalanced quotes: keep the definition, ignore the examples.
    ("noun", "shopping",
     'the commodities purchased from stores; '
     '"she loaded her shopping into the car"women carrying home"'),
    # Two synsets with the same definition: both must be dropped.
    ("verb", "hurry", 'move fast; "he hurried down the long hall"'),
    ("adv", "hastily", 'Move fast; "they left the party very hastily"'),
    # An example shared by two synsets: not a query with one right answer.
    ("noun", "bank", 'a financial institution; "he sat on the bank of money"'),
    ("noun", "bank", 'sloping land beside water; "he sat on the bank of money"'),
]


def synset_line(offset, part, word, gloss):
    """One data.* line in the real layout (offset lex_filenum ss_type ...)."""
    ss_type = {"noun": "n", "verb": "v", "adj": "a", "adv": "r"}[part]
    frames = " 01 + 02 00" if part == "verb" else ""
    return "%08d 03 %s 01 %s 0 000%s | %s  \n" % (offset, ss_type, word, frames, gloss)


def write_fake_wordnet(directory, fillers=40):
    """Write data.{noun,verb,adj,adv}: the tricky synsets plus plain ones so
    there is something to sample."""
    lines = {part: [] for part, _ in mws.PARTS}
    offset = 1000
    for part, word, gloss in TRICKY:
        lines[part].append(synset_line(offset, part, word, gloss))
        offset += 100
    for i in range(fillers):
        part = mws.PARTS[i % 4][0]
        gloss = 'plain definition number %d; "this is plain example number %d here"' % (i, i)
        lines[part].append(synset_line(offset, part, "word%d" % i, gloss))
        offset += 100
    for part, body in lines.items():
        with open(os.path.join(directory, "data." + part), "w", encoding="utf-8") as f:
            f.write(HEADER + "".join(body))


def run_script(*args):
    return subprocess.run(
        [sys.executable, SCRIPT] + list(args),
        stdout=subprocess.PIPE, stderr=subprocess.PIPE, universal_newlines=True,
    )


def read_outputs(out_dir):
    with open(os.path.join(out_dir, "corpus.txt"), encoding="utf-8") as f:
        corpus = f.read().split("\n")
    with open(os.path.join(out_dir, "pairs.tsv"), encoding="utf-8") as f:
        pairs = f.read().split("\n")
    # Every line ends with a newline, so the last split element is empty.
    assert corpus[-1] == "" and pairs[-1] == ""
    return corpus[:-1], [line.split("\t") for line in pairs[:-1]]


def read_calib(out_dir):
    with open(os.path.join(out_dir, "calib.txt"), encoding="utf-8") as f:
        calib = f.read().split("\n")
    assert calib[-1] == ""
    return calib[:-1]


class ParseTest(unittest.TestCase):
    """Gloss parsing, on single glosses."""

    def parse(self, gloss, min_words=3):
        stats = mws.Stats()
        synset = mws.parse_synset("n", "00000001", gloss, stats, min_words)
        return synset, stats

    def test_definition_keeps_inner_semicolon(self):
        s, _ = self.parse(TRICKY[0][2])
        self.assertEqual(s.definition,
                         "a special group delegated to consider some matter; a body of members")

    def test_attribution_stripped(self):
        s, _ = self.parse(TRICKY[0][2])
        self.assertEqual(s.examples, ["a committee is a group that keeps minutes and loses hours"])
        s, stats = self.parse(TRICKY[1][2])
        self.assertEqual(s.definition, "intended to deceive")
        self.assertEqual(s.examples, ["smooth, shining, and deceitful as thin ice",
                                      "a fraudulent scheme to escape paying taxes on income"])
        self.assertEqual(stats.too_short, 1)  # "deceitful advertising"

    def test_parenthesised_notes(self):
        s, _ = self.parse(TRICKY[2][2])
        self.assertEqual(s.definition, "(usually followed by `to') having the necessary means or skill")
        self.assertEqual(s.examples, ["she was able to program her computer"])

    def test_fragments_dropped(self):
        s, stats = self.parse(TRICKY[3][2])
        self.assertEqual(s.definition, "fashionable and attractive at the time")
        self.assertEqual(s.examples, [])
        self.assertEqual(stats.fragments, 2)

    def test_semicolon_in_example_and_whitespace(self):
        s, _ = self.parse(TRICKY[4][2])
        self.assertEqual(s.definition, "pay back")
        self.assertEqual(s.examples, ["Vengeance is mine; I will repay, saith the Lord"])

    def test_comma_separated_examples_and_bracketed_quote(self):
        s, _ = self.parse(TRICKY[5][2])
        self.assertEqual(s.definition, 'having great influence (as in "a potent drug")')
        self.assertEqual(s.examples, ["a potent cup of tea", "they served a stiff potent drink"])

    def test_unbalanced_quotes(self):
        s, stats = self.parse(TRICKY[6][2])
        self.assertEqual(s.definition, "the commodities purchased from stores")
        self.assertEqual(s.examples, [])
        self.assertEqual(stats.bad_quotes, 1)

    def test_no_tab_or_newline_survives(self):
        s, _ = self.parse('one\tdefinition\nhere; "an example\twith a tab in it"')
        self.assertEqual(s.definition, "one definition here")
        self.assertEqual(s.examples, ["an example with a tab in it"])

    def test_choose_example_is_longest_then_first(self):
        self.assertEqual(mws.choose_example(["a b c", "a b c d", "w x y z"]), "a b c d")


class BuildTest(unittest.TestCase):
    """The whole tool on a fake WordNet directory."""

    def setUp(self):
        self.tmp = tempfile.TemporaryDirectory()
        self.wn = os.path.join(self.tmp.name, "wordnet")
        os.mkdir(self.wn)
        write_fake_wordnet(self.wn)

    def tearDown(self):
        self.tmp.cleanup()

    # The fake WordNet has 49 unique definitions: 30 in the corpus leave 19
    # for calib.txt.
    def build(self, name, *extra):
        out = os.path.join(self.tmp.name, name)
        proc = run_script("--wordnet-dir", self.wn, "--out", out,
                          "--corpus-size", "30", "--pairs-size", "12",
                          "--calib-size", "10", *extra)
        self.assertEqual(proc.returncode, 0, proc.stderr)
        return out, proc.stdout

    def test_sizes_and_invariants(self):
        out, summary = self.build("out")
        corpus, pairs = read_outputs(out)
        self.assertEqual(len(corpus), 30)
        self.assertEqual(len(pairs), 12)
        self.assertEqual(len(set(corpus)), 30)
        for pair in pairs:
            self.assertEqual(len(pair), 2)
            self.assertIn(pair[1], corpus)  # the corpus holds every answer
        self.assertEqual(len({p[0] for p in pairs}), 12)  # one query per synset
        self.assertEqual(len({p[1] for p in pairs}), 12)  # one answer per synset
        self.assertIn("Wrote 12 pairs", summary)
        self.assertNotIn(".tmp", " ".join(os.listdir(out)))

    def test_duplicates_dropped(self):
        out, summary = self.build("out", "--corpus-size", "45", "--pairs-size", "5",
                                  "--calib-size", "4")
        corpus, pairs = read_outputs(out)
        folded = [line.casefold() for line in corpus + read_calib(out)]
        folded += [p[1].casefold() for p in pairs]
        self.assertNotIn("move fast", folded)
        queries = [p[0] for p in pairs]
        self.assertNotIn("he sat on the bank of money", queries)
        self.assertIn("dropped 2 synsets sharing 1 duplicated definitions", summary)

    def test_deterministic(self):
        a, _ = self.build("a", "--seed", "7")
        b, _ = self.build("b", "--seed", "7")
        for name in ("corpus.txt", "pairs.tsv", "calib.txt"):
            with open(os.path.join(a, name), "rb") as fa, open(os.path.join(b, name), "rb") as fb:
                self.assertEqual(fa.read(), fb.read(), name)

    def test_seed_changes_sample(self):
        a, _ = self.build("a", "--seed", "1")
        b, _ = self.build("b", "--seed", "2")
        self.assertNotEqual(read_outputs(a), read_outputs(b))

    def test_calib_size_and_disjoint(self):
        out, summary = self.build("out")
        corpus, pairs = read_outputs(out)
        calib = read_calib(out)
        self.assertEqual(len(calib), 10)
        self.assertEqual(len(set(calib)), 10)
        for line in calib:
            self.assertTrue(line and "\t" not in line and line == line.strip(), repr(line))
        calib_folded = {line.casefold() for line in calib}
        self.assertFalse(calib_folded & {line.casefold() for line in corpus})
        self.assertFalse(calib_folded & {p[1].casefold() for p in pairs})
        self.assertFalse(calib_folded & {p[0].casefold() for p in pairs})
        self.assertIn("10 calibration glosses", summary)

    def test_calib_takes_every_remaining_synset(self):
        out, _ = self.build("out", "--calib-size", "19")
        corpus, _ = read_outputs(out)
        calib = read_calib(out)
        self.assertEqual(len(calib), 19)
        # Together they are all 49 unique definitions of the fake WordNet.
        self.assertEqual(len(set(corpus) | set(calib)), 49)

    def test_calib_size_leaves_other_files_alone(self):
        # calib.txt has its own random stream, drawn after the others.
        a, _ = self.build("a", "--seed", "3", "--calib-size", "2")
        b, _ = self.build("b", "--seed", "3", "--calib-size", "19")
        for name in ("corpus.txt", "pairs.tsv"):
            with open(os.path.join(a, name), "rb") as fa, open(os.path.join(b, name), "rb") as fb:
                self.assertEqual(fa.read(), fb.read(), name)

    def test_seed_changes_calib(self):
        a, _ = self.build("a", "--seed", "1")
        b, _ = self.build("b", "--seed", "2")
        self.assertNotEqual(read_calib(a), read_calib(b))

    def test_too_large_calib_is_an_error(self):
        out = os.path.join(self.tmp.name, "o")
        proc = run_script("--wordnet-dir", self.wn, "--out", out,
                          "--corpus-size", "30", "--pairs-size", "12", "--calib-size", "20")
        self.assertNotEqual(proc.returncode, 0)
        self.assertIn("--calib-size 20 is larger than the 19 unique definitions left "
                      "after corpus.txt and pairs.tsv", proc.stderr)
        self.assertFalse(os.path.exists(out))  # checked before anything is written

    def test_calib_size_must_be_positive(self):
        proc = run_script("--wordnet-dir", self.wn, "--out", os.path.join(self.tmp.name, "o"),
                          "--calib-size", "0")
        self.assertNotEqual(proc.returncode, 0)
        self.assertIn("must be positive", proc.stderr)

    def test_missing_wordnet_dir(self):
        proc = run_script("--wordnet-dir", os.path.join(self.tmp.name, "nope"),
                          "--out", os.path.join(self.tmp.name, "out"))
        self.assertNotEqual(proc.returncode, 0)
        self.assertIn("apt-get install wordnet-base", proc.stderr)
        self.assertFalse(os.path.exists(os.path.join(self.tmp.name, "out")))

    def test_too_many_pairs_is_an_error(self):
        proc = run_script("--wordnet-dir", self.wn, "--out", os.path.join(self.tmp.name, "o"),
                          "--corpus-size", "49", "--pairs-size", "46")
        self.assertNotEqual(proc.returncode, 0)
        self.assertIn("usable example", proc.stderr)


@unittest.skipUnless(os.path.isfile(os.path.join(REAL_WORDNET, "data.noun")),
                     "WordNet not installed (apt-get install wordnet-base)")
class RealWordNetTest(unittest.TestCase):
    """Defaults on the real WordNet 3.0 from Debian's wordnet-base."""

    def test_default_run(self):
        with tempfile.TemporaryDirectory() as tmp:
            proc = run_script("--out", tmp)
            self.assertEqual(proc.returncode, 0, proc.stderr)
            corpus, pairs = read_outputs(tmp)
            calib = read_calib(tmp)
        self.assertEqual(len(corpus), 10000)
        self.assertEqual(len(pairs), 2000)
        self.assertEqual(len(set(corpus)), 10000)
        corpus_set = set(corpus)
        for line in corpus:
            self.assertTrue(line and "\t" not in line and line == line.strip(), repr(line))
        for pair in pairs:
            self.assertEqual(len(pair), 2, repr(pair))  # exactly one TAB
            example, gloss = pair
            self.assertGreaterEqual(mws.word_count(example), 3, example)
            self.assertNotIn('"', example)
            self.assertIn(gloss, corpus_set)
        self.assertEqual(len({p[1] for p in pairs}), 2000)
        self.assertIn("Wrote 2000 pairs", proc.stdout)
        self.assertEqual(len(calib), 10000)
        self.assertEqual(len(set(calib)), 10000)
        for line in calib:
            self.assertTrue(line and "\t" not in line and line == line.strip(), repr(line))
        calib_folded = {line.casefold() for line in calib}
        self.assertFalse(calib_folded & {line.casefold() for line in corpus})
        self.assertFalse(calib_folded & {p[1].casefold() for p in pairs})
        self.assertIn("10000 calibration glosses", proc.stdout)


if __name__ == "__main__":
    unittest.main()
