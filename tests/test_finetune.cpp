// Quantization-aware fine-tuning (embq finetune): it must beat post-training quantization
// of the same config on text it never saw, train every simulated layer, be deterministic,
// and refuse what it cannot do before any work, leaving no output.
#include <gtest/gtest.h>

#include <nlohmann/json.hpp>

#include "core/sha256.hpp"
#include "embq/error.hpp"
#include "embq/finetune.hpp"
#include "embq/model.hpp"
#include "test_support.hpp"

namespace embq {
namespace {

using nlohmann::json;
using test::fixture;

// int4 weights on every linear layer of the BERT-style fixture: post-training rounding
// loses enough there for fine-tuning to have something to win back.
const json kInt4 = {{"defaults", {{"linear", {{"scheme", "int4_weight"}, {"granularity", "group:16"}}}}}};

struct FinetuneCase {
    test::TempDir dir;
    std::filesystem::path train = dir / "train.txt", unseen = dir / "unseen.txt";
    FinetuneOptions options;
    FinetuneCase() {
        test::write_file(train, test::fixture_sentences(600, 41));
        test::write_file(unseen, test::fixture_sentences(200, 42));
        options.data = train;
        options.holdout = 100;
        options.steps = 80;
        options.batch_size = 16;
        options.learning_rate = 2e-4;
        options.eval_every = 20;
    }
    std::filesystem::path config(const json& doc, const std::string& name = "config.json") {
        test::write_file(dir / name, doc.dump());
        return dir / name;
    }
    QuantizeRequest request(const json& doc) {
        QuantizeRequest r;
        r.model = fixture("bert_traced.pt");
        r.config = config(doc);
        r.calibration_model = test::fixture_text();
        return r;
    }
};

double mean_cosine(const std::filesystem::path& model, const std::filesystem::path& texts,
                   const at::Tensor& fp32) {
    return at::cosine_similarity(test::embed_file(model, texts), fp32, 1).mean().item<double>();
}

TEST(Finetune, BeatsPostTrainingQuantizationOnTextItNeverSaw) {
    FinetuneCase c;
    const auto tuned = c.dir / "tuned.pt", ptq = c.dir / "ptq.pt";
    const FinetuneResult r = finetune(c.request(kInt4), c.options, tuned);
    test::quantize_file(fixture("bert_traced.pt"), kInt4, ptq);

    // On the held-out texts the training run scored...
    EXPECT_GT(r.best.step, 0);
    EXPECT_GT(r.best.cosine_mean, r.before.cosine_mean);
    // ...and, what matters, on texts neither run saw, through the files as written.
    const at::Tensor fp32 = test::embed_file(fixture("bert_traced.pt"), c.unseen);
    const double after = mean_cosine(tuned, c.unseen, fp32);
    const double before = mean_cosine(ptq, c.unseen, fp32);
    EXPECT_GT(after, before + 0.001) << "PTQ " << before << ", fine-tuned " << after;

    // The output is an embq model that says what was fine-tuned on what.
    const LoadedModel loaded = load_model(tuned);
    ASSERT_TRUE(loaded.embq_metadata);
    const json& record = (*loaded.embq_metadata)["finetune"];
    EXPECT_EQ(record["data"]["file"], "train.txt");
    EXPECT_EQ(record["data"]["sha256"].get<std::string>().size(), 64u);
    EXPECT_EQ(record["best_step"], r.best.step);
    EXPECT_EQ(record["held_out_texts"], 100);
}

TEST(Finetune, EveryQuantizedLayersWeightChanges) {
    FinetuneCase c;
    c.options.steps = 20;
    c.options.eval_every = 20;
    const FinetuneResult r = finetune(c.request(kInt4), c.options, c.dir / "tuned.pt");
    const auto inventory = take_inventory(load_model(fixture("bert_traced.pt")).module);
    size_t linears = 0;
    for (const auto& layer : inventory.layers) {
        if (layer.kind != LayerKind::Linear) continue;
        ++linears;
        const std::string weight = layer.path + ".weight";
        EXPECT_NE(std::find(r.changed_tensors.begin(), r.changed_tensors.end(), weight),
                  r.changed_tensors.end())
            << weight << " did not change: no gradient reached it";
    }
    EXPECT_EQ(r.simulated_layers, linears);
}

TEST(Finetune, SimulatesInt8InputsAndTablesToo) {
    FinetuneCase c;
    c.options.steps = 20;
    const json mixed = {{"rules", {{{"match", "encoder.layer.0.*"}, {"kind", "linear"}, {"scheme", "bf16"}}}},
                        {"defaults",
                         {{"linear", {{"scheme", "int8_dynamic"}}},
                          {"embedding", {{"scheme", "int4_rowwise"}}}}}};
    const FinetuneResult r = finetune(c.request(mixed), c.options, c.dir / "tuned.pt");
    EXPECT_EQ(r.simulated_layers, 15u);  // 12 linear layers and 3 tables
    EXPECT_EQ(r.rounded_inputs, 12u);    // bf16 and int8 both round their inputs
    // Training moves the student towards the teacher (which step is kept is recall's call).
    EXPECT_GT(r.history.back().cosine_mean, r.before.cosine_mean);
    EXPECT_TRUE(std::filesystem::exists(c.dir / "tuned.pt"));
}

TEST(FinetuneCli, ARerunWritesTheSameBytes) {
    FinetuneCase c;
    std::vector<std::string> sums;
    for (const char* run : {"a", "b"}) {
        std::filesystem::create_directory(c.dir / run);
        const auto out = c.dir / run / "tuned.pt";
        const auto r = test::run_embq(
            {"finetune", fixture("bert_traced.pt").string(), c.config(kInt4).string(), "--data",
             c.train.string(), "--tokenizer", fixture("vocab.txt").string(), "--holdout", "100",
             "--steps", "10", "--eval-every", "5", "--batch-size", "16", "-o", out.string()});
        ASSERT_EQ(r.exit_code, 0) << r.err;
        sums.push_back(sha256_file(out));
    }
    EXPECT_EQ(sums[0], sums[1]) << "two runs on the same inputs wrote different files";
}

TEST(Finetune, RefusesWhatItCannotTrainBeforeAnyWork) {
    FinetuneCase c;
    const auto out = c.dir / "out.pt";
    struct Case {
        json config;
        std::vector<std::string> message;
    };
    const std::vector<Case> cases = {
        {{{"defaults", {{"linear", {{"scheme", "fp32"}}}, {"embedding", {{"scheme", "fp32"}}}}}},
         {"nothing to fine-tune"}},
        {{{"defaults", {{"linear", {{"scheme", "int8_static"}}}}},
          {"calibration", {{"data", c.train.string()}}}},
         {"cannot simulate int8_static", "int8_dynamic"}},
        {{{"defaults", {{"linear", {{"scheme", "int4_weight"}, {"granularity", "group:16"},
                                    {"rounding", "gptq"}}}}},
          {"calibration", {{"data", c.train.string()}}}},
         {"\"rounding\": \"gptq\"", "remove it"}},
    };
    for (const auto& k : cases) {
        SCOPED_TRACE(k.config.dump());
        const Error e = test::error_from([&] { finetune(c.request(k.config), c.options, out); });
        EXPECT_EQ(e.category(), ErrorCategory::Usage);
        test::expect_contains(e.what(), k.message);
        EXPECT_FALSE(std::filesystem::exists(out));
    }
}

TEST(Finetune, TooLittleTextOrADivergingLossLeavesNoOutput) {
    FinetuneCase c;
    const auto out = c.dir / "out.pt";
    c.options.holdout = 600;  // every text held out: none left to train on
    Error e = test::error_from([&] { finetune(c.request(kInt4), c.options, out); });
    EXPECT_EQ(e.category(), ErrorCategory::Input);
    test::expect_contains(e.what(), {"more than 600 texts", "--holdout"});

    c.options.holdout = 100;
    c.options.learning_rate = 1e30;
    c.options.steps = 10;
    e = test::error_from([&] { finetune(c.request(kInt4), c.options, out); });
    test::expect_contains(e.what(), {"fine-tuning loss is", "Lower --lr", "nothing was written"});
    EXPECT_FALSE(std::filesystem::exists(out));
}

TEST(FinetuneCli, ReportsBeforeAndAfterAndExitsTwoOnUsageErrors) {
    FinetuneCase c;
    const auto out = c.dir / "tuned.pt";
    const std::vector<std::string> common = {"finetune", fixture("bert_traced.pt").string(),
                                             c.config(kInt4).string(), "--data", c.train.string(),
                                             "--tokenizer", fixture("vocab.txt").string(),
                                             "--holdout", "100", "-o", out.string()};
    auto args = common;
    for (const char* a : {"--steps", "10", "--eval-every", "5", "--batch-size", "16"})
        args.emplace_back(a);
    const auto ok = test::run_embq(args);
    ASSERT_EQ(ok.exit_code, 0) << ok.err;
    test::expect_contains(ok.out, {"before (post-training quantization)", "after", "recall@10"});
    EXPECT_TRUE(std::filesystem::exists(out));

    // -o naming an input (here the training text) is refused and the input kept.
    const std::string text = test::read_file(c.train);
    args = common;
    args.back() = c.train.string();
    const auto onto_input = test::run_embq(args);
    EXPECT_EQ(onto_input.exit_code, 2);
    test::expect_contains(onto_input.err, {"would replace it"});
    EXPECT_EQ(test::read_file(c.train), text);

    args = common;
    args.insert(args.end(), {"--batch-size", "1"});
    std::filesystem::remove(out);
    const auto bad = test::run_embq(args);
    EXPECT_EQ(bad.exit_code, 2);
    test::expect_contains(bad.err, {"--batch-size must be at least 2"});
    EXPECT_FALSE(std::filesystem::exists(out));
}

}  // namespace
}  // namespace embq
