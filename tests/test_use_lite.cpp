// Universal Sentence Encoder Lite, a real pretrained model (tools/use_lite): for every sentence
// of tests/data/use_lite/reference.json, embq's tokenizer gives the ids of the package's own
// JavaScript tokenizer, and embq's FP32 embeddings equal the original TensorFlow.js graph's.
#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include <algorithm>
#include <cmath>
#include <filesystem>
#include <sstream>

#include "embq/embed.hpp"
#include "embq/error.hpp"
#include "embq/eval.hpp"
#include "embq/model.hpp"
#include "embq/model_card.hpp"
#include "embq/tokenizer.hpp"
#include "test_support.hpp"

namespace embq {
namespace {

namespace fs = std::filesystem;

const fs::path kModelDir = EMBQ_USE_LITE_DIR;

struct Reference {
    std::vector<std::string> sentences;
    std::vector<std::vector<int64_t>> ids;
    std::vector<std::vector<double>> embeddings;
};

Reference load_reference() {
    const auto doc = nlohmann::json::parse(test::read_file(fs::path(EMBQ_SOURCE_DIR) / "tests" /
                                                           "data" / "use_lite" / "reference.json"));
    Reference ref;
    doc.at("sentences").get_to(ref.sentences);
    doc.at("ids").get_to(ref.ids);
    doc.at("embeddings").get_to(ref.embeddings);
    return ref;
}

// The converted model is not in the repository (fetch.sh downloads and converts it). Without
// it the tests fail, not skip: a run that checked nothing must not pass.
::testing::AssertionResult model_converted() {
    for (const char* name : {"use_lite.pt", "tokenizer.json", "card.json"}) {
        if (!fs::exists(kModelDir / name))
            return ::testing::AssertionFailure()
                   << (kModelDir / name).string() << " is missing: run tools/use_lite/fetch.sh";
    }
    return ::testing::AssertionSuccess();
}

TEST(UseLite, TokenizerGivesThePackageIds) {
    ASSERT_TRUE(model_converted());
    const Reference ref = load_reference();
    ASSERT_GE(ref.sentences.size(), 50u);
    ASSERT_EQ(ref.ids.size(), ref.sentences.size());
    const auto tokenizer = load_tokenizer(load_model_card(kModelDir / "card.json").tokenizer);
    size_t matched = 0;
    for (size_t i = 0; i < ref.sentences.size(); ++i) {
        const Encoding e = tokenizer->encode(ref.sentences[i], 0);
        EXPECT_EQ(e.ids, ref.ids[i]) << "sentence " << i << ": " << ref.sentences[i];
        matched += e.ids == ref.ids[i] ? 1 : 0;
    }
    EXPECT_EQ(matched, ref.sentences.size());
}

TEST(UseLite, Fp32EmbeddingsMatchTheTensorFlowJsGraph) {
    ASSERT_TRUE(model_converted());
    const Reference ref = load_reference();
    ASSERT_EQ(ref.embeddings.size(), ref.sentences.size());
    const ModelCard card = load_model_card(kModelDir / "card.json");
    const auto tokenizer = load_tokenizer(card.tokenizer);
    Embedder embedder(load_model(kModelDir / "use_lite.pt").module, card);
    embedder.set_pad_id(tokenizer->pad_id());

    // All sentences in one batch, padded to the longest (cut to max_length as the graph cuts):
    // padding and truncation are part of what is checked.
    std::vector<Encoding> encodings;
    size_t shortest = SIZE_MAX, longest = 0, truncated = 0;
    for (const auto& s : ref.sentences) {
        encodings.push_back(tokenizer->encode(s, static_cast<size_t>(card.max_length)));
        shortest = std::min(shortest, encodings.back().ids.size());
        longest = std::max(longest, encodings.back().ids.size());
        truncated += encodings.back().truncated ? 1 : 0;
    }
    EXPECT_LT(shortest, longest);
    EXPECT_GE(truncated, 1u) << "no sentence is longer than max_length " << card.max_length;
    std::vector<const Encoding*> batch;
    for (const auto& e : encodings) batch.push_back(&e);
    const at::Tensor got = embedder.embed(batch).to(at::kDouble).contiguous();
    ASSERT_EQ(got.size(0), static_cast<int64_t>(ref.sentences.size()));
    ASSERT_EQ(got.size(1), 512);

    const double* rows = got.data_ptr<double>();
    for (size_t i = 0; i < ref.sentences.size(); ++i) {
        const std::vector<double>& want = ref.embeddings[i];
        ASSERT_EQ(want.size(), 512u);
        const double* row = rows + i * 512;
        double dot = 0, a = 0, b = 0;
        for (size_t k = 0; k < 512; ++k) {
            dot += row[k] * want[k];
            a += row[k] * row[k];
            b += want[k] * want[k];
        }
        const double cosine = dot / std::sqrt(a * b);
        EXPECT_GE(cosine, 0.9999) << "sentence " << i << ": " << ref.sentences[i];
    }
}

// The README's promise for the recommended config, on real text: neighbours kept (recall@10
// agreement >= 0.95) at no more than 35% of FP32's size. 2,000 WordNet glosses keep the test
// short; benchmarks/real_model_quality.sh measures the full sets.
TEST(UseLite, RecommendedConfigKeepsTheNeighbours) {
    ASSERT_TRUE(model_converted());
    const fs::path corpus = fs::path(EMBQ_SOURCE_DIR) / ".cache" / "wordnet" / "corpus.txt";
    ASSERT_TRUE(fs::exists(corpus)) << corpus << " is missing: run tools/setup.sh";
    test::TempDir dir;
    std::istringstream all(test::read_file(corpus));
    std::string head;
    int lines = 0;
    for (std::string line; lines < 2000 && std::getline(all, line); ++lines) head += line + "\n";
    test::write_file(dir / "corpus.txt", head);

    const auto q = test::run_embq({"quantize", (kModelDir / "use_lite.pt").string(),
                                   std::string(EMBQ_SOURCE_DIR) + "/configs/int8-mixed.json", "-o",
                                   (dir / "q.pt").string()});
    ASSERT_EQ(q.exit_code, 0) << q.err;
    EvalInputs inputs;
    inputs.baseline = kModelDir / "use_lite.pt";
    inputs.candidate = dir / "q.pt";
    inputs.corpus = dir / "corpus.txt";
    inputs.model.card = kModelDir / "card.json";
    EvalOptions options;
    options.ks = {10};
    options.queries_sample = 500;
    const std::vector<Gate> gates = {parse_gate("recall@10>=0.95"), parse_gate("size_ratio<=0.35"),
                                     parse_gate("cosine.p5>=0.998")};
    const EvalResult result = run_eval(inputs, options, gates);
    for (const auto& verdict : check_gates(gates, result.metrics))
        EXPECT_TRUE(verdict.passed) << verdict.explain();
}

}  // namespace
}  // namespace embq
