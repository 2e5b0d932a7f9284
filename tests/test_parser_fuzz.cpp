// Seeded mutation fuzzing of every reader of user files: configs, model cards,
// calibration files, tokenizer.json, JSONL/TSV records, .npy/.fvecs headers. From valid
// seed files, each mutant (bit flips, hostile bytes, cut and repeated ranges, deep
// nesting, extreme numbers) must either load or fail with one embq::Error line that is
// not a runtime error: no crash, no hang, no foreign exception, no multi-line message.
//
// The mutants are the same on every run (fixed seeds), so a failure names the reader and
// the mutant number and reproduces. EMBQ_FUZZ_MUTANTS=N runs N per seed file instead of
// the default (longer local runs; CI keeps the default so the suite stays under a minute).
#include <gtest/gtest.h>

#include <cstdlib>
#include <functional>
#include <map>
#include <random>

#include "embq/calibration.hpp"
#include "embq/config.hpp"
#include "embq/dataset.hpp"
#include "embq/error.hpp"
#include "embq/model_card.hpp"
#include "embq/tokenizer.hpp"
#include "embq/vectors.hpp"
#include "test_support.hpp"

namespace embq {
namespace {

namespace fs = std::filesystem;

size_t mutants_per_seed() {
    const char* value = std::getenv("EMBQ_FUZZ_MUTANTS");
    return value ? std::strtoul(value, nullptr, 10) : 150;
}

// Byte strings that break parsers: JSON structure, a NUL, invalid UTF-8, extreme numbers.
// clang-format off
const std::vector<std::string> kHostile = {
    "{", "}", "[", "]", "\"", ",", ":", "\\", std::string(1, '\0'), "\xff", "\xc3", "\xed\xa0\x80",
    "-", "e", "1e999", "-1", "99999999999999999999", "NaN", "null", "true", "\"\\u0000\"",
    "\"\\ud800\"", "\t", "\n", "\r\n", "/*", "//"};
// clang-format on

// One to four mutations of `seed`, the same for the same (seed text, rng state).
std::string mutate(const std::string& seed, std::mt19937_64& rng) {
    std::string s = seed;
    const int count = 1 + static_cast<int>(rng() % 4);
    for (int m = 0; m < count; ++m) {
        const size_t at = s.empty() ? 0 : rng() % s.size();
        const size_t span = s.empty() ? 0 : 1 + rng() % std::min<size_t>(64, s.size() - at);
        switch (rng() % 7) {
            case 0:
                if (!s.empty()) s[at] = static_cast<char>(s[at] ^ (1 << (rng() % 8)));
                break;
            case 1:
                s.replace(at, std::min<size_t>(span, 1), kHostile[rng() % kHostile.size()]);
                break;
            case 2: s.insert(at, kHostile[rng() % kHostile.size()]); break;
            case 3: s.erase(at, span); break;
            case 4: s.insert(rng() % (s.size() + 1), s.substr(at, span)); break;
            case 5: s.resize(at); break;
            default: {  // deep nesting where a value could start
                const size_t depth = 10 + rng() % 20000;
                s.insert(at, std::string(depth, rng() % 2 ? '[' : '{'));
            }
        }
    }
    return s;
}

void check_vectors(const fs::path& path) {
    const Vectors v = read_vectors(path);
    if (v.data.size() != static_cast<size_t>(v.rows * v.dim))
        ADD_FAILURE() << "a header that lies about its size was read: " << path;
}

void read_all(const fs::path& path, DatasetFormat format) {
    DatasetReader reader(path, format);
    for (Record record; reader.next(record);) {}
}

// Each reader by the name of its folder under tests/data/fuzz_corpus.
const std::map<std::string, std::function<void(const fs::path&)>>& readers() {
    static const std::map<std::string, std::function<void(const fs::path&)>> table = {
        {"config", [](const fs::path& p) { load_config(p); }},
        {"card", [](const fs::path& p) { load_model_card(p); }},
        {"calibration", [](const fs::path& p) { Calibration::load(p); }},
        {"tokenizer",
         [](const fs::path& p) {
             const auto tokenizer = load_tokenizer(p);
             for (const char* text : {"Hello, World!", "", "\xe2\x91\xb5 caf\xc3\xa9 12"})
                 tokenizer->encode(text, 32);
         }},
        {"jsonl", [](const fs::path& p) { read_all(p, DatasetFormat::Jsonl); }},
        {"tsv", [](const fs::path& p) { read_all(p, DatasetFormat::TsvPairs); }},
        {"text", [](const fs::path& p) { read_all(p, DatasetFormat::Text); }},
        {"npy", [](const fs::path& p) { check_vectors(p); }},
        {"fvecs", [](const fs::path& p) { check_vectors(p); }},
    };
    return table;
}

// FNV-1a: the mutants of a seed depend on its name only, whatever the standard library.
uint64_t stable_hash(const std::string& text) {
    uint64_t h = 14695981039346656037ull;
    for (unsigned char c : text) h = (h ^ c) * 1099511628211ull;
    return h;
}

// Reads mutants of `seed` (the file `seed_name`) with the `reader` of readers().
void fuzz(const std::string& reader, const std::string& seed_name, const std::string& seed) {
    ASSERT_FALSE(seed.empty()) << seed_name;
    const auto& read = readers().at(reader);
    test::TempDir dir;
    const fs::path file = dir / ("mutant" + fs::path(seed_name).extension().string());
    std::mt19937_64 rng(stable_hash(seed_name));
    const size_t mutants = mutants_per_seed();
    for (size_t i = 0; i < mutants; ++i) {
        test::write_file(file, mutate(seed, rng));
        const std::string which = reader + " " + seed_name + " mutant " + std::to_string(i);
        try {
            read(file);
        } catch (const Error& e) {
            const std::string what = e.what();
            EXPECT_FALSE(what.empty()) << which;
            EXPECT_EQ(what.find('\n'), std::string::npos) << which << ": " << what;
            EXPECT_NE(e.category(), ErrorCategory::Runtime) << which << ": " << what;
        } catch (const std::exception& e) {
            ADD_FAILURE() << which << " threw a non-embq exception: " << e.what();
        }
    }
}

TEST(ParserFuzz, Configs) {
    for (const auto& entry : fs::directory_iterator(fs::path(EMBQ_SOURCE_DIR) / "configs"))
        if (entry.path().extension() == ".json" &&
            entry.path().filename() != "embq-config.schema.json")
            fuzz("config", entry.path().filename().string(), test::read_file(entry.path()));
}

TEST(ParserFuzz, ModelCards) {
    fuzz("card", "card.json",
         R"({"inputs": ["input_ids", "token_type_ids", "attention_mask"], "max_length": 64,
             "output": {"index": 1}, "pooling": "cls", "normalize": true,
             "tokenizer": "tokenizer.json"})");
}

TEST(ParserFuzz, Tokenizers) {
    const fs::path data = fs::path(EMBQ_SOURCE_DIR) / "tests" / "data" / "tokenizer";
    for (const char* name : {"wordpiece.json", "wordlevel.json", "unigram.json"})
        fuzz("tokenizer", name, test::read_file(data / name));
    // A vocab.txt is a tokenizer too (WordPiece, by extension).
    fuzz("tokenizer", "vocab.txt", test::read_file(test::fixture("vocab.txt")));
}

TEST(ParserFuzz, CalibrationFiles) {
    test::TempDir dir;
    test::write_file(dir / "texts.txt", test::fixture_sentences(16, 9));
    const auto r =
        test::run_embq({"calibrate", test::fixture("bert_traced.pt").string(), "--data",
                        (dir / "texts.txt").string(), "--tokenizer",
                        test::fixture("vocab.txt").string(), "-o", (dir / "calib.json").string()});
    ASSERT_EQ(r.exit_code, kExitOk) << r.err;
    fuzz("calibration", "calib.json", test::read_file(dir / "calib.json"));
}

TEST(ParserFuzz, Records) {
    fuzz("jsonl", "records.jsonl",
         "{\"text\": \"the cat sat\"}\n{\"input_ids\": [2, 17, 3]}\n\n{\"text\": "
         "\"caf\xc3\xa9\"}\n");
    fuzz("tsv", "pairs.tsv", "a cat\ta dog\t0.5\nthe sun\tthe moon\t1\n");
    fuzz("text", "texts.txt", "the cat sat\n\ncaf\xc3\xa9 au lait\n");
}

TEST(ParserFuzz, VectorFiles) {
    test::TempDir dir;
    for (const char* format : {"npy", "fvecs"}) {
        const fs::path path = dir / (std::string("v.") + format);
        VectorWriter writer(path, 8);
        const std::vector<float> rows(4 * 8, 0.25f);
        writer.write_rows(rows.data(), 4);
        writer.commit();
        fuzz(format, path.filename().string(), test::read_file(path));
    }
}

// Every file of tests/data/fuzz_corpus, read by its folder's reader: each is a one-line
// input error today and was something worse (a crash, a silent misread) once.
TEST(ParserFuzz, InputsThatOnceBrokeAReader) {
    const fs::path corpus = fs::path(EMBQ_SOURCE_DIR) / "tests" / "data" / "fuzz_corpus";
    size_t files = 0;
    for (const auto& folder : fs::directory_iterator(corpus)) {
        if (!folder.is_directory()) continue;
        const auto reader = readers().find(folder.path().filename().string());
        ASSERT_NE(reader, readers().end()) << "no reader for " << folder.path();
        for (const auto& file : fs::directory_iterator(folder.path())) {
            ++files;
            const Error e = test::error_from([&] { reader->second(file.path()); });
            EXPECT_EQ(std::string(e.what()).find('\n'), std::string::npos) << e.what();
            EXPECT_NE(e.category(), ErrorCategory::Runtime) << file.path() << ": " << e.what();
        }
    }
    EXPECT_GE(files, 10u);
    // A config nested 100,000 levels under a comment-like key (valid JSON) once overflowed
    // the stack of the config reader.
    test::TempDir dir;
    const size_t depth = 100'000;
    test::write_file(dir / "deep.json",
                     "{\"$comment\": " + std::string(depth, '[') + std::string(depth, ']') + "}");
    const Error deep = test::error_from([&] { load_config(dir / "deep.json"); });
    test::expect_contains(deep.what(), {"deep.json", "64"});
}

}  // namespace
}  // namespace embq
