// Tokenizers: ids equal to Hugging Face tokenizers' (reference.json, computed by
// tools/tokenizer_reference/make_reference.mjs) for every fixture sentence, plus
// hand-checked edge cases and the errors for what embq does not implement.
#include <gtest/gtest.h>

#include <fstream>
#include <set>
#include <sstream>
#include <thread>

#include <nlohmann/json.hpp>

#include "embed/text/unicode.hpp"
#include "embq/error.hpp"
#include "embq/tokenizer.hpp"
#include "test_support.hpp"

namespace {

using embq::Encoding;
using embq::ErrorCategory;
using embq::load_tokenizer;
using embq::Tokenizer;
using embq::test::TempDir;
using embq::test::write_file;
using nlohmann::json;

std::string data_path(const std::string& name) {
    return std::string(EMBQ_SOURCE_DIR) + "/tests/data/tokenizer/" + name;
}

json read_json(const std::string& path) {
    std::ifstream in(path, std::ios::binary);
    if (!in) throw std::runtime_error("cannot read " + path);
    return json::parse(in);
}

const json& reference() {
    static const json r = read_json(data_path("reference.json"));
    return r;
}

std::vector<std::string> tokens_of(const Tokenizer& tok, std::string_view text,
                                   size_t max_length = 0) {
    return tok.id_to_tokens(tok.encode(text, max_length).ids);
}

std::vector<std::string> split_words(const std::string& s) {
    std::vector<std::string> out;
    std::istringstream in(s);
    std::string w;
    while (in >> w) out.push_back(w);
    return out;
}

// Runs `f`, expects an embq::Error of `category` whose one-line message contains `needle`.
template <typename F>
void expect_error(F&& f, ErrorCategory category, const std::string& needle) {
    try {
        f();
        ADD_FAILURE() << "no error; expected one containing: " << needle;
    } catch (const embq::Error& e) {
        EXPECT_EQ(e.category(), category) << e.what();
        const std::string msg = e.what();
        EXPECT_NE(msg.find(needle), std::string::npos) << "message: " << msg;
        EXPECT_EQ(msg.find('\n'), std::string::npos) << "not one line: " << msg;
    }
}

// A small tokenizer.json or vocab.txt written to a temporary directory.
struct TempTokenizer {
    TempDir dir;
    std::unique_ptr<Tokenizer> tok;
    std::filesystem::path path;
    TempTokenizer(const std::string& name, const std::string& content) : path(dir / name) {
        write_file(path, content);
    }
    const Tokenizer& load() {
        tok = load_tokenizer(path);
        return *tok;
    }
};

std::string bert_vocab(const std::vector<std::string>& extra) {
    std::string s = "[PAD]\n[UNK]\n[CLS]\n[SEP]\n[MASK]\n";
    for (const auto& t : extra) s += t + "\n";
    return s;
}

// ---- agreement with the reference implementation ------------------------------------------

class ReferenceIds : public ::testing::TestWithParam<std::string> {};

TEST_P(ReferenceIds, EverySentenceMatchesHuggingFaceTokenizers) {
    const std::string name = GetParam();
    const json& ref = reference();
    ASSERT_TRUE(ref["tokenizers"].contains(name)) << name << " missing from reference.json";
    const auto tok = load_tokenizer(data_path(name));
    const size_t cut = ref["truncate_max_length"].get<size_t>();
    // A fixture whose file truncates (variant_truncation_left.json) does so without max_length.
    const bool file_truncates = read_json(data_path(name))["truncation"].is_object();
    size_t matched = 0;
    const auto& cases = ref["tokenizers"][name]["cases"];
    for (const auto& c : cases) {
        const std::string text = c["text"].get<std::string>();
        const auto expected = c["ids"].get<std::vector<int64_t>>();
        const Encoding enc = tok->encode(text, 0);
        EXPECT_EQ(enc.ids, expected) << name << " text: " << c["text"].dump();
        EXPECT_EQ(enc.type_ids, c["type_ids"].get<std::vector<int64_t>>())
            << name << " text: " << c["text"].dump();
        if (!file_truncates) {
            EXPECT_FALSE(enc.truncated);
        }
        const Encoding short_enc = tok->encode(text, cut);
        EXPECT_EQ(short_enc.ids, c["truncated_ids"].get<std::vector<int64_t>>())
            << name << " max_length " << cut << " text: " << c["text"].dump();
        if (!file_truncates) {
            EXPECT_EQ(short_enc.truncated, expected.size() > cut) << c["text"].dump();
        }
        matched += enc.ids == expected;
    }
    EXPECT_EQ(matched, cases.size());
    EXPECT_GE(cases.size(), 60u);
}

const std::vector<std::string> kFixtures = {
    "wordpiece.json",
    "unigram.json",
    "unigram_byte_fallback.json",
    "wordlevel.json",
    "variant_normalizers.json",
    "variant_cased.json",
    "variant_no_prefix.json",
    "variant_added_tokens.json",
    "variant_metaspace_never.json",
    "variant_truncation_left.json",
    "variant_splits.json",
};

INSTANTIATE_TEST_SUITE_P(Fixtures, ReferenceIds, ::testing::ValuesIn(kFixtures),
                         [](const auto& info) {
                             std::string n = info.param;
                             return n.substr(0, n.find('.'));
                         });

TEST(Tokenizer, EveryReferenceFixtureIsTested) {
    const std::set<std::string> tested(kFixtures.begin(), kFixtures.end());
    for (auto it = reference()["tokenizers"].begin(); it != reference()["tokenizers"].end(); ++it)
        EXPECT_TRUE(tested.count(it.key()))
            << it.key() << " is in reference.json but not in kFixtures";
}

TEST(Tokenizer, VocabTxtMatchesTheEquivalentTokenizerJson) {
    // build/fixtures/vocab.txt is the vocabulary of wordpiece.json: BERT uncased conventions
    // must give the same ids as the BertNormalizer / WordPiece / [CLS] $A [SEP] file.
    const auto tok = load_tokenizer(embq::test::fixture("vocab.txt"));
    const auto& cases = reference()["tokenizers"]["wordpiece.json"]["cases"];
    for (const auto& c : cases)
        EXPECT_EQ(tok->encode(c["text"].get<std::string>(), 0).ids,
                  c["ids"].get<std::vector<int64_t>>())
            << c["text"].dump();
    EXPECT_EQ(tok->vocab_size(), 497u);
    EXPECT_EQ(tok->pad_id(), 0);
}

TEST(Tokenizer, TransformersJsAgreesWhereItImplementsTheSameRules) {
    // The second reference differs from Hugging Face only where transformers.js 2.17.2 is
    // known to: no CJK padding above U+FFFF (BertNormalizer), no byte fallback, Metaspace
    // files without add_prefix_space, an ASCII-only \w in the Whitespace pre-tokenizer.
    const json& t = reference()["tokenizers"];
    for (const auto& c : t["wordpiece.json"]["cases"]) {
        const bool astral_cjk =
            c["text"].get<std::string>().find("\xF0\xA0\x80\x80") != std::string::npos;
        EXPECT_EQ(c["references_agree"].get<bool>(), !astral_cjk) << c["text"].dump();
    }
    for (const auto& c : t["unigram.json"]["cases"])
        EXPECT_TRUE(c["references_agree"].get<bool>()) << c["text"].dump();
}

// ---- hand-checked edge cases: WordPiece / BERT ---------------------------------------------

TEST(WordPiece, AccentsAreStrippedAndTextLowercased) {
    TempTokenizer t("vocab.txt", bert_vocab({"cafe", "deja", "vu", "naive", "resume"}));
    const auto& tok = t.load();
    EXPECT_EQ(tokens_of(tok, "Café Déjà vu"), split_words("[CLS] cafe deja vu [SEP]"));
    EXPECT_EQ(tokens_of(tok, "NAÏVE RÉSUMÉ"), split_words("[CLS] naive resume [SEP]"));
    EXPECT_EQ(tokens_of(tok, "e\xCC\x81"),
              split_words("[CLS] [UNK] [SEP]"));  // e + U+0301 -> "e", absent
}

TEST(WordPiece, EachCjkIdeographIsItsOwnWord) {
    // "日本" is in the vocabulary, but BERT pads every ideograph with spaces first.
    TempTokenizer t("vocab.txt", bert_vocab({"日", "本", "語", "日本", "の", "##の"}));
    const auto& tok = t.load();
    EXPECT_EQ(tokens_of(tok, "日本語"), split_words("[CLS] 日 本 語 [SEP]"));
    // Hiragana is not an ideograph: it stays attached.
    EXPECT_EQ(tokens_of(tok, "日の"), split_words("[CLS] 日 の [SEP]"));
    EXPECT_EQ(tokens_of(tok, "本の"), split_words("[CLS] 本 の [SEP]"));
    // Above U+FFFF too (U+20000, CJK extension B).
    EXPECT_EQ(tokens_of(tok, "\xF0\xA0\x80\x80\xF0\xA0\x80\x81"),
              split_words("[CLS] [UNK] [UNK] [SEP]"));
}

TEST(WordPiece, EmojiIsUnknown) {
    const auto tok = load_tokenizer(embq::test::fixture("vocab.txt"));
    EXPECT_EQ(tokens_of(*tok, "I love 😀"), split_words("[CLS] i love [UNK] [SEP]"));
    EXPECT_EQ(tokens_of(*tok, "😀😀"), split_words("[CLS] [UNK] [SEP]"));  // one word, one unk
}

TEST(WordPiece, PunctuationRunsSplitIntoSingleCharacters) {
    const auto tok = load_tokenizer(embq::test::fixture("vocab.txt"));
    EXPECT_EQ(tokens_of(*tok, "!!!?"), split_words("[CLS] ! ! ! ? [SEP]"));
    EXPECT_EQ(tokens_of(*tok, "what?!"), split_words("[CLS] what ? ! [SEP]"));
    // ASCII symbols count as punctuation for BERT, non-ASCII ones are Unicode P* only.
    EXPECT_EQ(tokens_of(*tok, "a$b^c"), split_words("[CLS] a $ b ^ c [SEP]"));
    EXPECT_EQ(tokens_of(*tok,
                        "a\xE2\x80\x94"
                        "b"),
              split_words("[CLS] a [UNK] b [SEP]"));  // em dash is Pd
}

TEST(WordPiece, GreedyLongestMatchFirst) {
    TempTokenizer t("vocab.txt",
                    bert_vocab({"un", "unaff", "##aff", "##able", "##a", "##ble", "aff"}));
    const auto& tok = t.load();
    // "unaffable": longest first piece is "unaff", then "##able".
    EXPECT_EQ(tokens_of(tok, "unaffable"), split_words("[CLS] unaff ##able [SEP]"));
    // No segmentation of the rest: the whole word is [UNK], not a partial.
    EXPECT_EQ(tokens_of(tok, "unaffx"), split_words("[CLS] [UNK] [SEP]"));
}

TEST(WordPiece, WordsLongerThanMaxInputCharsPerWordAreUnknown) {
    TempTokenizer t("vocab.txt", bert_vocab({"a", "##a"}));
    const auto& tok = t.load();
    const auto at_limit = tok.encode(std::string(100, 'a'), 0);
    EXPECT_EQ(at_limit.ids.size(), 102u);  // 100 pieces + [CLS] [SEP]
    EXPECT_EQ(tokens_of(tok, std::string(101, 'a')), split_words("[CLS] [UNK] [SEP]"));
    // Characters, not bytes: 60 two-byte characters are 60 characters.
    TempTokenizer u("vocab.txt", bert_vocab({"ж", "##ж"}));
    std::string zh;
    for (int i = 0; i < 60; ++i) zh += "ж";
    EXPECT_EQ(u.load().encode(zh, 0).ids.size(), 62u);
}

TEST(WordPiece, EmptyAndWhitespaceOnlyTextGiveJustTheSpecialTokens) {
    const auto tok = load_tokenizer(embq::test::fixture("vocab.txt"));
    for (const char* text : {"", " ", "   \t\n\r  ", "\xE2\x80\x83", "\x07\x08"}) {
        const Encoding e = tok->encode(text, 0);
        EXPECT_EQ(tok->id_to_tokens(e.ids), split_words("[CLS] [SEP]")) << "text: " << text;
        EXPECT_EQ(e.type_ids, (std::vector<int64_t>{0, 0}));
        EXPECT_FALSE(e.truncated);
    }
}

TEST(WordPiece, CleanTextDropsControlCharacters) {
    const auto tok = load_tokenizer(embq::test::fixture("vocab.txt"));
    EXPECT_EQ(tokens_of(*tok, std::string("the\x07 dog\xEF\xBF\xBD") + "\xE2\x80\x8B" + "cat"),
              split_words("[CLS] the dog ##c ##a ##t [SEP]"));  // bell, U+FFFD and U+200B removed
    EXPECT_EQ(tokens_of(*tok, std::string("the\0dog", 7)),
              split_words("[CLS] the ##d ##o ##g [SEP]"));
}

TEST(WordPiece, SpecialTokensInTheTextAreKept) {
    const auto tok = load_tokenizer(embq::test::fixture("vocab.txt"));
    EXPECT_EQ(tokens_of(*tok, "the [MASK] dog"), split_words("[CLS] the [MASK] dog [SEP]"));
    EXPECT_EQ(tokens_of(*tok, "the[MASK]dog"), split_words("[CLS] the [MASK] dog [SEP]"));
    // Lowercase is not a special token: it is text.
    EXPECT_EQ(tokens_of(*tok, "[mask]"), split_words("[CLS] [ m ##a ##s ##k ] [SEP]"));
}

TEST(Truncation, KeepsTheSpecialTokens) {
    const auto tok = load_tokenizer(embq::test::fixture("vocab.txt"));
    const std::string text = "the quick brown fox jumps over the lazy dog";
    const Encoding full = tok->encode(text, 0);
    ASSERT_EQ(full.ids.size(), 11u);
    const Encoding cut = tok->encode(text, 5);
    EXPECT_EQ(tok->id_to_tokens(cut.ids), split_words("[CLS] the quick brown [SEP]"));
    EXPECT_EQ(cut.type_ids.size(), 5u);
    EXPECT_TRUE(cut.truncated);
    EXPECT_FALSE(tok->encode(text, 11).truncated);
    EXPECT_EQ(tok->encode(text, 11).ids, full.ids);
    EXPECT_EQ(tok->encode(text, 100).ids, full.ids);
    const Encoding only_specials = tok->encode(text, 2);
    EXPECT_EQ(tok->id_to_tokens(only_specials.ids), split_words("[CLS] [SEP]"));
    EXPECT_TRUE(only_specials.truncated);
    expect_error([&] { tok->encode(text, 1); }, ErrorCategory::Config, "max_length 1");
}

TEST(Truncation, DirectionLeftFromTheFile) {
    json j = read_json(data_path("wordpiece.json"));
    j["truncation"] = {
        {"direction", "Left"}, {"max_length", 4}, {"strategy", "LongestFirst"}, {"stride", 0}};
    TempTokenizer t("tokenizer.json", j.dump());
    const auto& tok = t.load();
    // The file's max_length applies when the caller gives none; the caller's wins otherwise.
    EXPECT_EQ(tokens_of(tok, "the quick brown fox"), split_words("[CLS] brown fox [SEP]"));
    EXPECT_EQ(tokens_of(tok, "the quick brown fox", 5), split_words("[CLS] quick brown fox [SEP]"));
}

TEST(Tokenizer, DescribeVocabSizeAndPad) {
    const auto wp = load_tokenizer(data_path("wordpiece.json"));
    EXPECT_EQ(wp->describe(),
              "WordPiece, 497 tokens, BERT normalizer (lowercase, strip accents, CJK, clean text), "
              "BERT pre-tokenizer, template [CLS] $A [SEP], pad [PAD]");
    EXPECT_EQ(wp->vocab_size(), 497u);
    EXPECT_EQ(wp->pad_id(), 0);
    const auto uni = load_tokenizer(data_path("unigram.json"));
    EXPECT_NE(uni->describe().find("Unigram"), std::string::npos);
    EXPECT_NE(uni->describe().find("NFKC"), std::string::npos);
    EXPECT_EQ(uni->pad_id(), 3);  // <pad>
    EXPECT_EQ(wp->id_to_tokens({2, 3, 999999}),
              (std::vector<std::string>{"[CLS]", "[SEP]", "<id 999999>"}));
}

TEST(Tokenizer, EncodeIsThreadSafe) {
    const auto tok = load_tokenizer(data_path("unigram.json"));
    const auto& cases = reference()["tokenizers"]["unigram.json"]["cases"];
    std::vector<std::string> texts;
    std::vector<std::vector<int64_t>> expected;
    for (const auto& c : cases) {
        texts.push_back(c["text"].get<std::string>());
        expected.push_back(c["ids"].get<std::vector<int64_t>>());
    }
    std::vector<int> failures(4, 0);
    std::vector<std::thread> threads;
    for (int t = 0; t < 4; ++t)
        threads.emplace_back([&, t] {
            for (int round = 0; round < 20; ++round)
                for (size_t i = 0; i < texts.size(); ++i)
                    failures[t] += tok->encode(texts[i], 0).ids != expected[i];
        });
    for (auto& th : threads) th.join();
    for (int f : failures) EXPECT_EQ(f, 0);
}

TEST(Tokenizer, AddedTokenIdsAreAssignedAsHuggingFaceDoes) {
    // The file's "id" is not used: a token in the vocabulary gets its vocabulary id, a new
    // one the next id after the vocabulary (497) and the added tokens before it.
    json j = read_json(data_path("wordpiece.json"));
    j["added_tokens"].push_back(
        {{"id", 7}, {"content", "<new>"}, {"special", true}, {"normalized", false}});
    j["added_tokens"].push_back(
        {{"id", 8}, {"content", "<newer>"}, {"special", true}, {"normalized", false}});
    j["added_tokens"].push_back(
        {{"id", 9}, {"content", "dog"}, {"special", true}, {"normalized", false}});
    TempTokenizer t("tokenizer.json", j.dump());
    const auto& tok = t.load();
    EXPECT_EQ(tok.encode("<new> <newer>", 0).ids, (std::vector<int64_t>{2, 497, 498, 3}));
    const int64_t dog = load_tokenizer(data_path("wordpiece.json"))->encode("dog", 0).ids.at(1);
    EXPECT_EQ(tok.encode("dog", 0).ids, (std::vector<int64_t>{2, dog, 3}));
    EXPECT_EQ(tok.vocab_size(), 499u);
    EXPECT_EQ(tok.id_to_tokens({497, 498}), (std::vector<std::string>{"<new>", "<newer>"}));
}

// ---- Unigram ----------------------------------------------------------------------------------

std::string unigram_json(const json& pieces, bool byte_fallback, const json& unk_id = 0) {
    json j = {{"version", "1.0"},
              {"added_tokens", json::array()},
              {"normalizer", nullptr},
              {"pre_tokenizer",
               {{"type", "Metaspace"},
                {"replacement", "\xE2\x96\x81"},
                {"prepend_scheme", "always"},
                {"split", true}}},
              {"post_processor", nullptr},
              {"decoder", nullptr},
              {"model",
               {{"type", "Unigram"},
                {"unk_id", unk_id},
                {"vocab", pieces},
                {"byte_fallback", byte_fallback}}}};
    return j.dump();
}

TEST(Unigram, ViterbiPicksTheHighestScoringSegmentation) {
    // "ab" becomes "▁ab"; its segmentations score:
    //   [▁ab] -6.0   [▁a, b] -3.0-2.0 = -5.0   [▁, a, b] -1-2-2 = -5.0   [▁, ab] -1-2.5 = -3.5 (best)
    const json pieces =
        json::array({json::array({"<unk>", 0.0}), json::array({"\xE2\x96\x81", -1.0}),
                     json::array({"a", -2.0}), json::array({"b", -2.0}), json::array({"ab", -2.5}),
                     json::array({"\xE2\x96\x81"
                                  "ab",
                                  -6.0}),
                     json::array({"\xE2\x96\x81"
                                  "a",
                                  -3.0})});
    TempTokenizer t("tokenizer.json", unigram_json(pieces, false));
    const auto& tok = t.load();
    EXPECT_EQ(tok.encode("ab", 0).ids, (std::vector<int64_t>{1, 4}));
    // "a" -> "▁a": [▁a] -3.0 and [▁, a] -1-2 = -3.0 tie; HF keeps the first candidate that
    // reaches a position (start positions scanned left to right), so [▁a].
    EXPECT_EQ(tok.encode("a", 0).ids, (std::vector<int64_t>{6}));
    // "ba" -> "▁ba": [▁, b, a] -5.0 is the only path without unk.
    EXPECT_EQ(tok.encode("ba", 0).ids, (std::vector<int64_t>{1, 3, 2}));
    // Two words: each is segmented on its own.
    EXPECT_EQ(tok.encode("ab ab", 0).ids, (std::vector<int64_t>{1, 4, 1, 4}));
    // Unknown characters become unk, consecutive ones fused into one.
    EXPECT_EQ(tok.encode("axyb", 0).ids, (std::vector<int64_t>{6, 0, 3}));
    EXPECT_EQ(tok.encode("", 0).ids, (std::vector<int64_t>{}));
}

TEST(Unigram, ByteFallbackSpellsUnknownCharactersAsUtf8Bytes) {
    json pieces = json::array({json::array({"<unk>", 0.0}), json::array({"\xE2\x96\x81", -1.0}),
                               json::array({"a", -2.0})});
    for (int b : {0xE2, 0x82, 0xAC, 0xF0, 0x9F, 0x98}) {  // not 0x80: U+1F600 cannot fall back
        char name[8];
        std::snprintf(name, sizeof name, "<0x%02X>", b);
        pieces.push_back(json::array({name, -10.0}));
    }
    TempTokenizer t("tokenizer.json", unigram_json(pieces, true));
    const auto& tok = t.load();
    // "€" is E2 82 AC: ids 3 4 5.
    EXPECT_EQ(tok.encode("a\xE2\x82\xAC", 0).ids, (std::vector<int64_t>{1, 2, 3, 4, 5}));
    // "😀" is F0 9F 98 80 and <0x80> is missing: the whole unknown run is one unk.
    EXPECT_EQ(tok.encode("a\xF0\x9F\x98\x80", 0).ids, (std::vector<int64_t>{1, 2, 0}));
    // Consecutive unknown characters fuse, then fall back byte by byte.
    EXPECT_EQ(tok.encode("\xE2\x82\xAC\xE2\x82\xAC", 0).ids,
              (std::vector<int64_t>{1, 3, 4, 5, 3, 4, 5}));
}

TEST(Unigram, WithoutUnkIdAnUnknownCharacterIsAnError) {
    const json pieces =
        json::array({json::array({"\xE2\x96\x81", -1.0}), json::array({"a", -2.0})});
    TempTokenizer t("tokenizer.json", unigram_json(pieces, false, nullptr));
    const auto& tok = t.load();
    EXPECT_EQ(tok.encode("a a", 0).ids, (std::vector<int64_t>{0, 1, 0, 1}));
    expect_error([&] { tok.encode("b", 0); }, ErrorCategory::Input, "unk_id");
}

// ---- WordLevel ----------------------------------------------------------------------------

TEST(WordLevel, UnknownWordsAreUnk) {
    const auto tok = load_tokenizer(data_path("wordlevel.json"));
    EXPECT_EQ(tokens_of(*tok, "Hello zebra world!"),
              split_words("[CLS] hello [UNK] world ! [SEP]"));
    EXPECT_EQ(tokens_of(*tok, "CAFÉ"), split_words("[CLS] cafe [SEP]"));
}

// ---- errors -----------------------------------------------------------------------------------

json wordpiece_json() { return read_json(data_path("wordpiece.json")); }

void expect_load_error(const json& j, const std::string& needle) {
    TempTokenizer t("tokenizer.json", j.dump());
    expect_error([&] { load_tokenizer(t.path); }, ErrorCategory::Input, needle);
}

TEST(TokenizerErrors, UnsupportedComponentsAreNamed) {
    json j = wordpiece_json();
    j["normalizer"] = {{"type", "Precompiled"}, {"precompiled_charsmap", "AAAA"}};
    expect_load_error(j, "normalizer type 'Precompiled'");

    j = wordpiece_json();
    j["normalizer"] = {{"type", "Sequence"},
                       {"normalizers", {{{"type", "Lowercase"}}, {{"type", "Fancy"}}}}};
    expect_load_error(j, "normalizer type 'Fancy' is not supported by embq (supported: ");

    j = wordpiece_json();
    j["pre_tokenizer"] = {
        {"type", "ByteLevel"}, {"add_prefix_space", false}, {"trim_offsets", true}};
    expect_load_error(j, "pre_tokenizer type 'ByteLevel' is not supported");

    j = wordpiece_json();
    j["model"] = {{"type", "BPE"}, {"vocab", json::object()}, {"merges", json::array()}};
    expect_load_error(
        j, "model type 'BPE' is not supported by embq (supported: WordPiece, Unigram, WordLevel)");

    j = wordpiece_json();
    j["post_processor"] = {{"type", "Mystery"}};
    expect_load_error(j, "post_processor type 'Mystery'");

    // Options that would change ids are not ignored.
    j = wordpiece_json();
    j["model"]["dropout"] = 0.1;
    expect_load_error(j, "model 'WordPiece': option 'dropout' is not supported by embq");

    j = wordpiece_json();
    j["normalizer"] = {{"type", "Replace"}, {"pattern", {{"Regex", "\\s+"}}}, {"content", " "}};
    expect_load_error(j, "regex pattern '\\s+' is not supported");

    j = wordpiece_json();
    j["pre_tokenizer"] = {
        {"type", "Metaspace"}, {"replacement", "_"}, {"prepend_scheme", "sometimes"}};
    expect_load_error(j, "prepend_scheme 'sometimes'");
}

TEST(TokenizerErrors, MalformedFilesAreInputErrors) {
    TempDir dir;
    const auto write_and_load = [&](const std::string& name, const std::string& content) {
        write_file(dir / name, content);
        return [&dir, name] { load_tokenizer(dir / name); };
    };
    expect_error(write_and_load("a.json", "{\"model\": {\"type\": \"WordPiece\", "),
                 ErrorCategory::Input, "not valid JSON");
    expect_error(write_and_load("b.json", "{\"version\": \"1.0\"}"), ErrorCategory::Input,
                 "no \"model\" object");
    expect_error(write_and_load(
                     "c.json", "{\"model\": {\"type\": \"WordPiece\", \"vocab\": {\"a\": \"x\"}}}"),
                 ErrorCategory::Input, "the id of token 'a' is not an integer");
    expect_error(
        write_and_load("d.json", "{\"model\": {\"type\": \"Unigram\", \"vocab\": [[\"a\"]]}}"),
        ErrorCategory::Input, "vocab entry 0 is not a [piece, score] pair");
    expect_error(
        write_and_load("e.json",
                       "{\"model\": {\"type\": \"WordPiece\", \"vocab\": {}}, \"normalizer\": 3}"),
        ErrorCategory::Input, "normalizer must be an object");
    expect_error(write_and_load("vocab.txt", "hello\nworld\n"), ErrorCategory::Input,
                 "no [UNK] line");
    expect_error(write_and_load("bin.txt", std::string("[UNK]\n\xFF\xFE\n", 10)),
                 ErrorCategory::Input, "line 2: not UTF-8");
    expect_error(write_and_load("empty.txt", ""), ErrorCategory::Input, "empty");
    expect_error(
        write_and_load("f.json",
                       "{\"model\": {\"type\": \"WordPiece\", \"vocab\": {\"a\": 99999999}}}"),
        ErrorCategory::Input, "token id 99999999 of 'a' is out of range");
    expect_error([&] { load_tokenizer(dir / "missing.json"); }, ErrorCategory::Input,
                 "missing.json");
    // The message names the file.
    expect_error(write_and_load("named.json", "[1, 2]"), ErrorCategory::Input, "named.json: ");
}

// ---- Unicode ----------------------------------------------------------------------------------

std::string form(embq::text::unicode::Form f, const std::string& s) {
    std::string out;
    embq::text::unicode::normalize(f, s, out);
    return out;
}

TEST(Unicode, NormalizationForms) {
    using embq::text::unicode::Form;
    EXPECT_EQ(form(Form::NFD, "\xC3\xA9"), "e\xCC\x81");  // é
    EXPECT_EQ(form(Form::NFC, "e\xCC\x81"), "\xC3\xA9");
    EXPECT_EQ(form(Form::NFD, "\xE1\xBB\x87"), "e\xCC\xA3\xCC\x82");       // ệ: dot below first
    EXPECT_EQ(form(Form::NFD, "e\xCC\x82\xCC\xA3"), "e\xCC\xA3\xCC\x82");  // canonical order
    EXPECT_EQ(form(Form::NFC, "e\xCC\x82\xCC\xA3"), "\xE1\xBB\x87");
    EXPECT_EQ(form(Form::NFD, "\xEA\xB0\x81"),
              "\xE1\x84\x80\xE1\x85\xA1\xE1\x86\xA8");  // 각 -> jamo
    EXPECT_EQ(form(Form::NFC, "\xE1\x84\x80\xE1\x85\xA1\xE1\x86\xA8"), "\xEA\xB0\x81");
    EXPECT_EQ(form(Form::NFKC, "\xEF\xAC\x81"), "fi");  // ﬁ
    EXPECT_EQ(form(Form::NFC, "\xEF\xAC\x81"), "\xEF\xAC\x81");
    EXPECT_EQ(form(Form::NFKD, "\xE2\x91\xA0"), "1");        // ①
    EXPECT_EQ(form(Form::NFC, "\xE2\x84\xA6"), "\xCE\xA9");  // Ohm sign -> Omega
    EXPECT_EQ(form(Form::NFC, "plain ascii"), "plain ascii");
}

TEST(Unicode, LowercaseAndClasses) {
    namespace uc = embq::text::unicode;
    std::string s;
    uc::append_lower(s, 0x130);  // İ -> i + combining dot above
    EXPECT_EQ(s, "i\xCC\x87");
    s.clear();
    uc::append_lower(s, 0x3A3);  // Σ -> σ, with no final-sigma context (as HF)
    EXPECT_EQ(s, "\xCF\x83");
    EXPECT_TRUE(uc::has(0x3000, uc::kWhitespace));
    EXPECT_TRUE(uc::has(0x200B, uc::kControl));
    EXPECT_TRUE(uc::has(0x2014, uc::kBertPunct));
    EXPECT_TRUE(uc::has('$', uc::kBertPunct));
    // As Hugging Face: punctuation newer than Unicode 8 is not, unassigned is not "other".
    EXPECT_FALSE(uc::has(0x2E43, uc::kBertPunct));
    EXPECT_FALSE(uc::has(0x0378, uc::kControl));
    EXPECT_TRUE(uc::has(0x200B, uc::kControl));
    EXPECT_TRUE(uc::has(0x0301, uc::kMn));
    EXPECT_TRUE(uc::has(0x4E2D, uc::kCjk));
    EXPECT_TRUE(uc::has(0x20000, uc::kCjk));
    EXPECT_FALSE(uc::has(0x2B820, uc::kCjk));  // HF's range starts at U+2B920 (BERT's at U+2B820)
    EXPECT_FALSE(uc::has(0x3042, uc::kCjk));   // hiragana
    EXPECT_STREQ(uc::kUnicodeVersion, "14.0.0");
}

}  // namespace
