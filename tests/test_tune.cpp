// Finding the config: `embq sensitivity` on a fixture with one deliberately fragile layer
// (tools/make_fixtures.py: blocks.2.fc reads three channels boosted 300x), and `embq tune`
// keeping that layer safe, its config reproducing the reported numbers, and an impossible
// target ending with exit 1 and no config written.
#include <gtest/gtest.h>

#include <map>
#include <set>

#include <nlohmann/json.hpp>

#include "embq/error.hpp"
#include "embq/sensitivity.hpp"
#include "embq/tune.hpp"
#include "test_support.hpp"

namespace embq {
namespace {

namespace fs = std::filesystem;
using test::fixture;

constexpr const char* kFragile = "blocks.2.fc";

struct Texts {
    test::TempDir dir;
    fs::path corpus = dir / "texts.txt";
    explicit Texts(size_t count = 600) { test::write_file(corpus, test::fixture_sentences(count, 5)); }
    SearchInputs inputs() const {
        SearchInputs in;
        in.model = fixture("fragile.pt");
        in.eval.corpus = corpus;
        in.eval.model.tokenizer = fixture("vocab.txt");
        return in;
    }
};

EvalOptions options() {
    EvalOptions o;
    o.ks = {10};
    o.queries_sample = 0;  // every text is a query
    return o;
}

TEST(Sensitivity, RanksTheFragileLayerFirstWithIntervalsAndEmbedsFp32Once) {
    const Texts texts;
    SensitivityOptions opt;
    opt.samples = 300;
    std::vector<std::string> stages;
    SearchProgress progress;
    progress.start = [&](const std::string& stage, size_t) { stages.push_back(stage); };
    const SensitivityResult r = run_sensitivity(texts.inputs(), opt, options(), progress);

    EXPECT_EQ(r.texts, 300);
    EXPECT_EQ(std::count(stages.begin(), stages.end(), "FP32"), 1);
    // 5 layers x the schemes that apply (2 each), then the 'linear' kind group x 2 schemes;
    // no block group (each block has one layer), no 'embedding' group (one table).
    ASSERT_EQ(r.entries.size(), 12u);
    const SensitivityEntry& top = r.entries.front();
    EXPECT_EQ(top.target.name, kFragile);
    EXPECT_EQ(top.scheme, "int8_dynamic");
    // Under each linear scheme the fragile layer loses more than every other linear.
    for (const std::string scheme : {"int8_dynamic", "int4_weight"}) {
        double fragile = 0, worst_other = 0;
        for (const auto& e : r.entries)
            if (e.target.kind == SensitivityTarget::Kind::Layer && e.scheme == scheme &&
                e.target.name.rfind("blocks.", 0) == 0)
                (e.target.name == kFragile ? fragile : worst_other) =
                    std::max(e.target.name == kFragile ? fragile : worst_other, r.loss(e));
        EXPECT_GT(fragile, worst_other) << scheme;
    }
    for (const auto& e : r.entries) {
        ASSERT_TRUE(e.error.empty()) << e.target.name << ": " << e.error;
        const auto iv = e.interval("recall@10");
        ASSERT_TRUE(iv) << e.target.name;
        const double v = *e.metrics.get("recall@10");
        EXPECT_LE(iv->low, v);
        EXPECT_GE(iv->high, v);
        EXPECT_GE(*e.metrics.get("eps_recall@10"), v);  // forgives, never punishes more
        EXPECT_GT(e.bytes_saved(), 0);
    }
    // Groups come after the layers; a group of all linears is worse than its worst layer.
    EXPECT_EQ(r.entries.back().target.kind, SensitivityTarget::Kind::LayerKind);
    const std::string text = sensitivity_report_text(r);
    test::expect_contains(text, {"quantize first", kFragile, "[95% bootstrap interval]"});
}

TEST(Sensitivity, TimesEachLayerUnderEachSchemeWhenAsked) {
    const Texts texts(100);
    SensitivityOptions opt;
    opt.groups = {false, false, false, {"blocks.*"}};
    opt.speed = SpeedCheckOptions{};
    opt.speed->batch_sizes = {1, 8};
    opt.speed->rounds = 1;
    opt.bootstrap_resamples = 0;
    const SensitivityResult r = run_sensitivity(texts.inputs(), opt, options());
    size_t timed = 0;
    for (const auto& e : r.entries) {
        if (e.target.kind != SensitivityTarget::Kind::Layer) {
            EXPECT_TRUE(e.speedup.empty());  // groups are not timed
            EXPECT_EQ(e.target.name, "blocks.*");
            EXPECT_EQ(e.layers.size(), 4u);
            continue;
        }
        EXPECT_TRUE(e.intervals.empty());  // --bootstrap 0
        ASSERT_EQ(e.speedup.size(), 2u) << e.target.name << " " << e.scheme;
        for (const double x : e.speedup) EXPECT_GT(x, 0);
        ++timed;
    }
    EXPECT_EQ(timed, 10u);
    test::expect_contains(sensitivity_report_text(r), {"x FP32 b1", "x FP32 b8"});
}

TEST(Sensitivity, BadSchemeOrRankMetricIsAUsageErrorBeforeAnyWork) {
    const Texts texts(20);
    SearchInputs in = texts.inputs();
    in.schemes = {"int8_dynamc"};
    try {
        run_sensitivity(in, {}, options());
        FAIL() << "no error";
    } catch (const Error& e) {
        EXPECT_EQ(e.category(), ErrorCategory::Usage);
        test::expect_contains(e.what(), {"did you mean 'int8_dynamic'"});
    }
    SensitivityOptions opt;
    opt.rank_by = "size_ratio";
    EXPECT_THROW(run_sensitivity(texts.inputs(), opt, options()), Error);
}

TEST(Sensitivity, CandidatesCarryOptionsAndTheirSpecsAreChecked) {
    const Texts texts(200);
    SearchInputs in = texts.inputs();
    in.schemes = {"nf4/granularity=group:32", "nf4", "int8_dynamic/activation_range=exact"};
    SensitivityOptions opt;
    opt.samples = 100;
    opt.groups = {false, false, false, {}};
    const SensitivityResult r = run_sensitivity(in, opt, options());
    std::set<std::string> measured;
    for (const auto& e : r.entries) {
        EXPECT_TRUE(e.error.empty()) << e.scheme << ": " << e.error;
        measured.insert(e.scheme);
    }
    EXPECT_EQ(measured, (std::set<std::string>{"nf4/granularity=group:32", "nf4",
                                               "int8_dynamic/activation_range=exact"}));
    // group:32 stores a scale per 32 weights: more bytes than nf4's default group:64.
    std::map<std::string, int64_t> bytes;
    for (const auto& e : r.entries)
        if (e.target.name == "blocks.0.fc") bytes[e.scheme] = e.bytes_after;
    EXPECT_GT(bytes.at("nf4/granularity=group:32"), bytes.at("nf4"));

    auto usage = [&](const std::string& spec, const std::vector<std::string>& says) {
        SearchInputs bad = texts.inputs();
        bad.schemes = {spec};
        try {
            run_sensitivity(bad, opt, options());
            ADD_FAILURE() << spec << ": no error";
        } catch (const Error& e) {
            EXPECT_EQ(e.category(), ErrorCategory::Usage) << spec;
            test::expect_contains(e.what(), says);
        }
    };
    usage("nf4/roundng=gptq", {"--schemes nf4/roundng=gptq", "roundng"});
    usage("nf4/rounding", {"not KEY=VALUE"});
    usage("int4_weight/rounding=gptq", {"int4_weight/rounding=gptq needs calibration",
                                        "--input-gram"});
}

TuneInputs split(const Texts& texts) {
    TuneInputs in;
    in.search = texts.inputs();
    in.holdout = in.search.eval;
    in.search.eval.selection = {0, 2, 0};
    in.holdout.selection = {1, 2, 0};
    return in;
}

TEST(Tune, KeepsTheFragileLayerSafeAndItsConfigReproducesTheHeldOutNumbers) {
    const Texts texts;
    TuneOptions opt;
    opt.gates = {parse_gate("recall@10>=0.9")};
    opt.sensitivity_samples = 300;
    const TuneInputs in = split(texts);
    const TuneResult r = run_tune(in, opt, options());

    ASSERT_TRUE(r.found()) << tune_report_text(r);
    const TuneCandidate& best = r.candidates[*r.best];
    int quantized_linears = 0;
    for (const auto& l : best.layers) {
        if (l.layer == kFragile) {
            EXPECT_TRUE(l.scheme == "fp16" || l.scheme == "fp32") << l.scheme;
        } else if (l.layer.rfind("blocks.", 0) == 0) {
            quantized_linears += l.scheme == "int8_dynamic" || l.scheme == "int4_weight";
        }
        EXPECT_FALSE(l.evidence.empty());
    }
    EXPECT_GE(quantized_linears, 2);
    EXPECT_LT(best.size_ratio, 0.5);
    EXPECT_EQ(r.search_texts, 300);  // every other of 600 texts
    EXPECT_EQ(r.holdout_texts, 300);
    EXPECT_LE(static_cast<int>(r.candidates.size()), opt.max_evals);
    EXPECT_FALSE(r.stopped.empty());
    bool frontier = false;
    for (const auto& c : r.candidates) frontier |= c.frontier;
    EXPECT_TRUE(frontier);

    // The written config, through quantize and eval on the held-out part, gives the
    // numbers the report gave.
    test::TempDir dir;
    test::quantize_file(in.search.model, best.config, dir / "tuned.pt");
    EvalInputs eval = in.holdout;
    eval.baseline = in.search.model;
    eval.candidate = dir / "tuned.pt";
    const EvalResult again = run_eval(eval, options(), opt.gates);
    EXPECT_DOUBLE_EQ(*again.metrics.get("recall@10"), *r.holdout->metrics.get("recall@10"));
    EXPECT_DOUBLE_EQ(*again.metrics.get("cosine.p5"), *r.holdout->metrics.get("cosine.p5"));
}

TEST(Tune, SpeedObjectiveTimesTheLayersAndStillKeepsTheFragileOneSafe) {
    const Texts texts(400);
    TuneOptions opt;
    opt.gates = {parse_gate("recall@10>=0.9")};
    opt.objective = TuneObjective::Speed;
    opt.speed.batch_sizes = {8};
    opt.speed.rounds = 1;
    opt.sensitivity_samples = 200;
    opt.max_evals = 6;
    const TuneResult r = run_tune(split(texts), opt, options());
    ASSERT_TRUE(r.best) << tune_report_text(r);
    for (const auto& l : r.candidates[*r.best].layers) {
        if (l.layer == kFragile) {
            EXPECT_TRUE(l.scheme == "fp16" || l.scheme == "fp32") << l.scheme;
        }
    }
    EXPECT_LE(static_cast<int>(r.candidates.size()), 6);
    // Predicted time: FP32 linears cost 1 in total, so any passing config costs less.
    EXPECT_LT(r.candidates[*r.best].predicted_cost, 1.01);
}

TEST(SensitivityCli, WritesReportsAndRejectsUnknownGroups) {
    const Texts texts(200);
    const fs::path json = texts.dir / "s.json", md = texts.dir / "s.md",
                   html = texts.dir / "s.html";
    const std::vector<std::string> base = {"sensitivity", fixture("fragile.pt").string(),
                                           "--data", texts.corpus.string(), "--tokenizer",
                                           fixture("vocab.txt").string()};
    auto args = base;
    args.insert(args.end(), {"--report-json", json.string(), "--report-md", md.string(),
                             "--report-html", html.string()});
    const auto run = test::run_embq(args);
    ASSERT_EQ(run.exit_code, 0) << run.err;
    test::expect_contains(run.out, {kFragile, "quantize first"});
    const auto report = nlohmann::json::parse(test::read_file(json));
    EXPECT_EQ(report["entries"][0]["target"], kFragile);
    EXPECT_TRUE(report["entries"][0]["intervals_95"].contains("recall@10"));
    test::expect_contains(test::read_file(md), {"## embq sensitivity", "### Layers"});
    // The page ranks the layers (the fragile one first) and the groups as bars.
    const std::string page = test::read_file(html);
    test::expect_contains(page, {"Loss in recall@10 with each layer quantized alone",
                                 "with each group quantized alone", "Quantize first"});
    const size_t chart = page.find("with each layer quantized alone");
    const size_t first_bar = page.find("text-anchor=\"end\"", chart);
    ASSERT_NE(first_bar, std::string::npos);
    EXPECT_EQ(page.find(kFragile, first_bar), page.find('>', first_bar) + 1);
    test::expect_html_report_renders(html, "sensitivity", 2);

    auto bad = base;
    bad.insert(bad.end(), {"--groups", "blokcs"});
    const auto rejected = test::run_embq(bad);
    EXPECT_EQ(rejected.exit_code, 2);
    test::expect_contains(rejected.err, {"unknown group 'blokcs'"});
}

TEST(TuneCli, WritesAConfigQuantizeUsesAsItIs) {
    const Texts texts;
    test::TempDir dir;
    const fs::path out = dir / "tuned.json", json = dir / "tune.json", html = dir / "tune.html";
    const auto run = test::run_embq(
        {"tune", fixture("fragile.pt").string(), "--data", texts.corpus.string(), "--tokenizer",
         fixture("vocab.txt").string(), "--gate", "recall@10>=0.9", "--sensitivity-samples", "300",
         "-o", out.string(), "--report-json", json.string(), "--report-html", html.string()});
    ASSERT_EQ(run.exit_code, 0) << run.err;
    test::expect_contains(run.out, {"chosen: step", "held-out texts (300", "PASS", "wrote"});
    const auto config = nlohmann::json::parse(test::read_file(out));
    for (const auto& rule : config["rules"]) EXPECT_TRUE(rule.contains("$comment")) << rule;
    const auto report = nlohmann::json::parse(test::read_file(json));
    EXPECT_TRUE(report["found"].get<bool>());
    EXPECT_TRUE(report["holdout"]["passed"].get<bool>());
    // The page: the held-out gates passed, every verified config on the frontier plot.
    const std::string page = test::read_file(html);
    test::expect_contains(page,
                          {"verdict pass\">found", "passed: 1 of 1 gates",
                           "Size against recall@10 of each config", "The chosen config", kFragile});
    test::expect_html_report_renders(html, "tune", 1);

    const auto quantized = test::run_embq({"quantize", fixture("fragile.pt").string(),
                                           out.string(), "-o", (dir / "q.pt").string()});
    EXPECT_EQ(quantized.exit_code, 0) << quantized.err;
    EXPECT_TRUE(fs::exists(dir / "q.pt"));
}

TEST(TuneCli, ACandidatesOptionsReachTheWrittenConfig) {
    const Texts texts(300);
    const fs::path out = texts.dir / "tuned.json";
    const auto r = test::run_embq(
        {"tune", fixture("fragile.pt").string(), "--data", texts.corpus.string(), "--tokenizer",
         fixture("vocab.txt").string(), "--gate", "recall@10>=0.5", "--schemes",
         "int4_weight/granularity=group:32,int8_rowwise", "--sensitivity-samples", "150",
         "--max-evals", "3", "-o", out.string()});
    ASSERT_EQ(r.exit_code, 0) << r.err;
    const nlohmann::json config = nlohmann::json::parse(test::read_file(out));
    int grouped = 0;
    for (const auto& rule : config.at("rules"))
        if (rule.at("scheme") == "int4_weight") {
            EXPECT_EQ(rule.at("granularity"), "group:32");
            ++grouped;
        }
    EXPECT_GE(grouped, 1);
    EXPECT_EQ(test::run_embq({"plan", fixture("fragile.pt").string(), out.string()}).exit_code, 0);
}

TEST(TuneCli, AnImpossibleTargetExitsOneWithTheBestPointAndWritesNoConfig) {
    const Texts texts(200);
    test::TempDir dir;
    const fs::path out = dir / "tuned.json";
    const auto run = test::run_embq(
        {"tune", fixture("fragile.pt").string(), "--data", texts.corpus.string(), "--tokenizer",
         fixture("vocab.txt").string(), "--gate", "recall@10>=0.9", "--max-size", "0.05", "-o",
         out.string()});
    EXPECT_EQ(run.exit_code, 1) << run.err;
    test::expect_contains(run.out, {"no config passed every gate within --max-size", "frontier"});
    test::expect_contains(run.err, {"no config passes the gates", "not written"});
    EXPECT_FALSE(fs::exists(out));
}

TEST(TuneCli, UsageErrorsComeFirst) {
    const Texts texts(20);
    const std::vector<std::string> base = {"tune", fixture("fragile.pt").string(), "--data",
                                           texts.corpus.string(), "--tokenizer",
                                           fixture("vocab.txt").string()};
    auto with = [&](std::vector<std::string> extra) {
        std::vector<std::string> args = base;
        args.insert(args.end(), extra.begin(), extra.end());
        return test::run_embq(args);
    };
    auto no_gate = with({"-o", (texts.dir / "x.json").string()});
    EXPECT_EQ(no_gate.exit_code, 2);
    test::expect_contains(no_gate.err, {"--gate"});
    auto size_gate = with({"--gate", "size_ratio<=0.3", "-o", (texts.dir / "x.json").string()});
    EXPECT_EQ(size_gate.exit_code, 2);
    test::expect_contains(size_gate.err, {"agreement metric"});
    auto onto_input = with({"--gate", "recall@10>=0.9", "-o", texts.corpus.string()});
    EXPECT_EQ(onto_input.exit_code, 2);
    test::expect_contains(onto_input.err, {"would replace it"});
}

}  // namespace
}  // namespace embq
