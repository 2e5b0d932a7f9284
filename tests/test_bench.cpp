// embq bench: models taking turns on the same texts, the figures a user reads, the
// verdict rule, and the command's reports and errors.
#include <gtest/gtest.h>

#include <nlohmann/json.hpp>

#include "embq/bench.hpp"
#include "embq/error.hpp"
#include "test_support.hpp"

namespace embq {
namespace {

BenchOptions quick_options() {
    BenchOptions o;
    o.batch_sizes = {1, 4};
    o.rounds = 2;
    o.texts_per_turn = 8;
    o.warmup_batches = 1;
    return o;
}

using test::fixture_text;

TEST(Bench, EveryModelTimedAtEveryBatchSizeAgainstTheFirst) {
    test::TempDir dir;
    test::write_file(dir / "texts.txt", test::fixture_sentences(100, 5));
    const auto model = test::fixture("bert_traced.pt");
    std::vector<size_t> progress;
    BenchOptions options = quick_options();
    options.on_progress = [&](size_t done, size_t total) {
        EXPECT_EQ(total, 4u);
        progress.push_back(done);
    };
    const BenchResult r = run_bench({model, model}, dir / "texts.txt", fixture_text(), options);

    ASSERT_EQ(r.models.size(), 2u);
    EXPECT_EQ(progress.back(), 4u);
    EXPECT_FALSE(r.inputs_repeat);  // 2 rounds x (8 + 8) texts fit in 100
    EXPECT_GT(r.peak_rss_bytes, 0);
    for (const auto& m : r.models) {
        EXPECT_EQ(m.file_bytes, std::filesystem::file_size(model));
        ASSERT_EQ(m.cells.size(), 2u);
        EXPECT_EQ(m.cells[0].batch_size, 1);
        EXPECT_EQ(m.cells[1].batch_size, 4);
        for (const auto& c : m.cells) {
            EXPECT_GT(c.texts_per_second.min, 0);
            EXPECT_LE(c.texts_per_second.min, c.texts_per_second.median);
            EXPECT_LE(c.texts_per_second.median, c.texts_per_second.max);
            EXPECT_GT(c.p50_ms, 0);
            EXPECT_LE(c.p50_ms, c.p95_ms);
        }
    }
    EXPECT_EQ(r.models[0].cells[0].verdict, SpeedVerdict::Baseline);
    EXPECT_DOUBLE_EQ(r.models[0].cells[0].ratio.median, 1.0);
    EXPECT_NE(r.models[1].cells[0].verdict, SpeedVerdict::Baseline);
}

TEST(Bench, ShortDataRepeatsAndSaysSo) {
    test::TempDir dir;
    test::write_file(dir / "texts.txt", test::fixture_sentences(3, 1));
    const BenchResult r = run_bench({test::fixture("bert_traced.pt")}, dir / "texts.txt",
                                    fixture_text(), quick_options());
    EXPECT_EQ(r.texts_available, 3);
    EXPECT_TRUE(r.inputs_repeat);
    test::expect_contains(bench_report_text(r), {"texts repeat"});
}

TEST(Bench, VerdictOnlyWhenEveryRoundAgrees) {
    EXPECT_EQ(verdict_from_ratios({1.2, 1.05, 1.4}), SpeedVerdict::Faster);
    EXPECT_EQ(verdict_from_ratios({0.8, 0.95}), SpeedVerdict::Slower);
    EXPECT_EQ(verdict_from_ratios({0.9, 1.3, 1.2}), SpeedVerdict::Even);
    EXPECT_EQ(verdict_from_ratios({1.0}), SpeedVerdict::Even);
}

TEST(Bench, NoDataOrNoTokenizerIsAnErrorBeforeTiming) {
    test::TempDir dir;
    test::write_file(dir / "empty.txt", "\n\n");
    test::write_file(dir / "texts.txt", "alpha beta\n");
    const auto model = test::fixture("bert_traced.pt");
    EXPECT_THROW(run_bench({model}, dir / "empty.txt", fixture_text(), quick_options()), Error);
    try {
        run_bench({model}, dir / "texts.txt", {}, quick_options());
        FAIL() << "text without a tokenizer was accepted";
    } catch (const Error& e) {
        EXPECT_EQ(e.category(), ErrorCategory::Usage);
        test::expect_contains(e.what(), {"tokenizer"});
    }
}

TEST(BenchCli, WritesTableJsonAndMarkdown) {
    test::TempDir dir;
    test::write_file(dir / "texts.txt", test::fixture_sentences(50, 2));
    const auto model = test::fixture("bert_traced.pt").string();
    const auto r = test::run_embq({"bench", model, model, "--data", (dir / "texts.txt").string(),
                                   "--tokenizer", test::fixture("vocab.txt").string(),
                                   "--batch", "1,4", "--rounds", "2", "--texts-per-turn", "8",
                                   "--report-json", (dir / "b.json").string(), "--report-md",
                                   (dir / "b.md").string(), "--fail-if-slower"});
    // Two copies of one model: every verdict is even or a noisy faster/slower; never exit 2/3.
    ASSERT_TRUE(r.exit_code == 0 || r.exit_code == 1) << r.err;
    test::expect_contains(r.out, {"texts/s", "p95 ms", "baseline", "process peak"});
    const auto report = nlohmann::json::parse(test::read_file(dir / "b.json"));
    EXPECT_EQ(report["batch_sizes"], nlohmann::json::array({1, 4}));
    EXPECT_EQ(report["models"].size(), 2u);
    EXPECT_EQ(report["models"][1]["batches"][1]["batch_size"], 4);
    EXPECT_EQ(report["no_model_slower"].get<bool>(), r.exit_code == 0);
    test::expect_contains(test::read_file(dir / "b.md"), {"| batch |", "| 4 |"});
}

TEST(BenchCli, BadArgumentsExitTwoWithOneLine) {
    test::TempDir dir;
    test::write_file(dir / "texts.txt", "alpha\n");
    const auto model = test::fixture("bert_traced.pt").string();
    const std::vector<std::vector<std::string>> cases = {
        {"bench", model, "--data", (dir / "texts.txt").string(), "--batch", "0"},
        {"bench", (dir / "missing.pt").string(), "--data", (dir / "texts.txt").string()},
        {"bench", model, "--data", (dir / "texts.txt").string(), "--tokenizer",
         test::fixture("vocab.txt").string(), "--report-json", (dir / "no/such/dir.json").string()},
    };
    for (const auto& args : cases) {
        const auto r = test::run_embq(args);
        EXPECT_EQ(r.exit_code, 2) << args[1];
        EXPECT_EQ(std::count(r.err.begin(), r.err.end(), '\n'), 1) << r.err;
    }
    EXPECT_FALSE(std::filesystem::exists(dir / "no"));
}

}  // namespace
}  // namespace embq
