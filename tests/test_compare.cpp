// `embq compare`: configs ranked as their quality says, FP32 embedded once, configs that
// cannot plan named before any work, one that fails later reported in its row while the
// rest run, the per-layer difference view, --keep, JUnit.
#include <gtest/gtest.h>
#include <unistd.h>

#include <nlohmann/json.hpp>

#include "embq/compare.hpp"
#include "embq/config.hpp"
#include "embq/error.hpp"
#include "embq/model.hpp"
#include "test_support.hpp"

namespace embq {
namespace {

namespace fs = std::filesystem;
using test::fixture;

fs::path shipped(const std::string& name) { return fs::path(EMBQ_SOURCE_DIR) / "configs" / name; }

// int4 on every layer of the fixture: known to be much worse than int8.
constexpr const char* kInt4Everywhere = R"({
  "defaults": {"linear": {"scheme": "int4_weight", "granularity": "group:32"},
               "embedding": {"scheme": "int4_rowwise"}}})";
constexpr const char* kBroken = R"({"defaults": {"linear": {"scheme": "int8_dynamc"}}})";

struct Data {
    test::TempDir dir;
    fs::path corpus = dir / "corpus.txt";
    Data() {
        test::write_file(corpus, test::fixture_sentences(300, 3));
        test::write_file(dir / "int4-everywhere.json", kInt4Everywhere);
        test::write_file(dir / "broken.json", kBroken);
    }
    CompareInputs inputs(std::vector<fs::path> configs) const {
        CompareInputs in;
        in.model = fixture("bert_traced.pt");
        in.configs = std::move(configs);
        in.eval.corpus = corpus;
        in.eval.model.tokenizer = fixture("vocab.txt");
        return in;
    }
};

EvalOptions small_options() {
    EvalOptions o;
    o.ks = {1, 10};
    o.queries_sample = 200;
    return o;
}

TEST(Compare, RanksInt8AboveInt4EverywhereAndEmbedsFp32Once) {
    Data data;
    const std::vector<Gate> gates = {parse_gate("recall@10>=0.75")};  // int8 ~0.84, int4 ~0.5
    // What each stage embedded, as the progress callbacks report it.
    std::vector<std::pair<std::string, size_t>> stages;
    CompareProgress progress;
    progress.start = [&](const std::string& stage, size_t) { stages.emplace_back(stage, 0); };
    progress.update = [&](size_t done) { stages.back().second = done; };
    const CompareResult r =
        run_compare(data.inputs({shipped("int8.json"), data.dir / "int4-everywhere.json"}),
                    small_options(), gates, progress);
    // FP32 ran over the texts once, before the configs, and each config over the same texts.
    ASSERT_EQ(stages.size(), 3u);
    EXPECT_EQ(stages[0].first, "FP32");
    EXPECT_EQ(stages[1].first, "int8");
    EXPECT_EQ(stages[2].first, "int4-everywhere");
    EXPECT_EQ(stages[0].second, 300u);
    EXPECT_EQ(stages[1].second, 300u);
    EXPECT_EQ(stages[2].second, 300u);
    ASSERT_EQ(r.rows.size(), 2u);
    ASSERT_TRUE(r.rows[0].result && r.rows[1].result) << r.rows[0].error << r.rows[1].error;
    const MetricValues& int8 = r.rows[0].result->metrics;
    const MetricValues& int4 = r.rows[1].result->metrics;
    EXPECT_GT(*int8.get("recall@10"), *int4.get("recall@10"));
    EXPECT_GT(*int8.get("cosine.p5"), *int4.get("cosine.p5"));
    EXPECT_LT(*int4.get("size_ratio"), *int8.get("size_ratio"));
    EXPECT_TRUE(r.rows[0].passed());
    EXPECT_FALSE(r.rows[1].passed());
    EXPECT_FALSE(r.all_passed());

    // The table marks int8's recall and int4's size as the best of their columns.
    const std::string text = compare_report_text(r);
    test::expect_contains(
        text, {"int8 ", "int4-everywhere", "FP32 (", "embedded once", "1 of 2 configs passed"});
    const auto line_of = [&](const std::string& name) {
        const auto at = text.find("\n" + name + " ");
        return text.substr(at + 1, text.find('\n', at + 1) - at - 1);
    };
    const std::string int8_line = line_of("int8");
    // recall@1, recall@10, cross_recall@10, cosine p5 (and texts/s, which may go either way).
    EXPECT_GE(std::count(int8_line.begin(), int8_line.end(), '*'), 4) << text;
    // The layer view shows what int4-everywhere changed, and only that.
    test::expect_contains(text, {"layers planned differently, int8 -> int4-everywhere",
                                 "encoder.layer.0.intermediate.dense",
                                 "int8_dynamic per_channel sym", "int4_weight group:32 sym"});
}

TEST(Compare, EveryConfigThatCannotPlanIsNamedBeforeAnythingIsEmbedded) {
    Data data;
    test::write_file(data.dir / "wrong-layer.json",
                     R"({"rules": [{"match": "encoder.layer.99.*", "scheme": "fp16"}]})");
    bool embedded = false;
    CompareProgress progress;
    progress.start = [&](const std::string&, size_t) { embedded = true; };
    try {
        run_compare(data.inputs({data.dir / "broken.json", shipped("int8.json"),
                                 data.dir / "wrong-layer.json"}),
                    small_options(), {}, progress);
        FAIL() << "two configs cannot be planned";
    } catch (const Error& e) {
        EXPECT_EQ(e.category(), ErrorCategory::Config);
        const std::string what = e.what();
        EXPECT_EQ(what.find('\n'), std::string::npos) << what;
        test::expect_contains(what, {"config 1 (broken)", "did you mean 'int8_dynamic'",
                                     "config 3 (wrong-layer)", "encoder.layer.99.*"});
        EXPECT_EQ(what.find("config 2"), std::string::npos) << what;
    }
    EXPECT_FALSE(embedded);
}

TEST(Compare, AConfigThatFailsToQuantizeGetsItsRowAndTheOthersStillRun) {
    Data data;
    // Plans (the config calibrates inline), then fails: its calibration text is missing.
    test::write_file(data.dir / "no-calibration-text.json", R"({
        "calibration": {"data": "missing.txt", "samples": 60},
        "defaults": {"linear": {"scheme": "int8_static"}}})");
    const CompareResult r =
        run_compare(data.inputs({data.dir / "no-calibration-text.json", shipped("int8.json")}),
                    small_options(), {});
    ASSERT_EQ(r.rows.size(), 2u);
    EXPECT_FALSE(r.rows[0].result);
    test::expect_contains(r.rows[0].error, {"missing.txt"});
    ASSERT_TRUE(r.rows[1].result);
    EXPECT_TRUE(r.rows[1].passed());
    EXPECT_FALSE(r.all_passed());
    test::expect_contains(compare_report_text(r), {"no-calibration-text failed: ", "missing.txt"});
    // The temporary models are gone afterwards.
    EXPECT_FALSE(
        fs::exists(fs::temp_directory_path() / ("embq-compare-" + std::to_string(::getpid()))));
}

TEST(Compare, RunsAConfigsInlineCalibration) {
    Data data;
    test::write_file(data.dir / "calib.txt", test::fixture_sentences(60, 5));
    test::write_file(data.dir / "static.json", R"({
        "calibration": {"data": "calib.txt", "samples": 60},
        "defaults": {"linear": {"scheme": "int8_static"}}})");
    const CompareResult r =
        run_compare(data.inputs({data.dir / "static.json"}), small_options(), {});
    ASSERT_EQ(r.rows.size(), 1u);
    ASSERT_TRUE(r.rows[0].result) << r.rows[0].error;
    EXPECT_TRUE(r.rows[0].passed());
    // Static int8 with calibrated ranges keeps the fixture's neighbours (about 0.9 here).
    EXPECT_GT(*r.rows[0].result->metrics.get("recall@10"), 0.6);
    ASSERT_TRUE(r.rows[0].plan);
    const LayerPlan* ffn = r.rows[0].plan->find("encoder.layer.0.intermediate.dense");
    ASSERT_TRUE(ffn);
    EXPECT_EQ(ffn->scheme->name(), "int8_static");
}

TEST(Compare, PlanDifferencesListOnlyTheLayersThatDiffer) {
    const ModelInventory inv = take_inventory(load_model(fixture("bert_traced.pt")).module);
    const Plan a = make_plan(load_config(shipped("int8.json")), inv, {});
    PlanOptions options;
    options.allow_unmatched_rules = true;  // int8-mixed's pooler rule: the fixture has no pooler
    const Plan b = make_plan(load_config(shipped("int8-mixed.json")), inv, options);
    const auto diffs = plan_differences(a, b);
    ASSERT_FALSE(diffs.empty());
    for (const auto& d : diffs) {
        EXPECT_NE(d.first, d.second);
        EXPECT_NE(d.layer.find("attention"), std::string::npos)
            << d.layer << " differs but is not attention";
    }
    EXPECT_TRUE(plan_differences(a, a).empty());
}

TEST(CompareCli, ExitCodeReportsJunitAndKeep) {
    Data data;
    test::write_file(data.dir / "no-calibration-text.json", R"({
        "calibration": {"data": "missing.txt", "samples": 60},
        "defaults": {"linear": {"scheme": "int8_static"}}})");
    const fs::path keep = data.dir / "kept", json = data.dir / "compare.json",
                   md = data.dir / "compare.md", junit = data.dir / "compare.xml",
                   html = data.dir / "compare.html";
    const auto r = test::run_embq({"compare",
                                   fixture("bert_traced.pt").string(),
                                   shipped("int8.json").string(),
                                   (data.dir / "int4-everywhere.json").string(),
                                   (data.dir / "no-calibration-text.json").string(),
                                   "--data",
                                   data.corpus.string(),
                                   "--tokenizer",
                                   fixture("vocab.txt").string(),
                                   "--queries-sample",
                                   "100",
                                   "--gate",
                                   "recall@10>=0.75",
                                   "--gate",
                                   "cosine.p5>=0.5",
                                   "--keep",
                                   keep.string(),
                                   "--report-json",
                                   json.string(),
                                   "--report-md",
                                   md.string(),
                                   "--junit",
                                   junit.string(),
                                   "--report-html",
                                   html.string()});
    EXPECT_EQ(r.exit_code, kExitGateFailed) << r.err;
    test::expect_contains(r.err, {"not every config passed: int4-everywhere, no-calibration-text",
                                  "config 2 of 3: int4-everywhere"});
    const std::string once = "embedded the baseline once";
    const auto first = r.err.find(once);
    EXPECT_NE(first, std::string::npos) << r.err;
    EXPECT_EQ(r.err.find(once, first + 1), std::string::npos) << r.err;
    // The table names the gate that failed, with its value.
    test::expect_contains(r.out, {"FAIL recall@10>=0.75 ("});
    EXPECT_TRUE(fs::exists(keep / "int8.pt"));
    const auto report = nlohmann::json::parse(test::read_file(json));
    ASSERT_EQ(report["configs"].size(), 3u);
    EXPECT_TRUE(report["configs"][0]["passed"].get<bool>());
    EXPECT_TRUE(report["configs"][2].contains("error"));
    test::expect_contains(test::read_file(md),
                          {"## embq compare", "| int8 |", "| no-calibration-text | failed |",
                           "**no-calibration-text** failed: "});

    // HTML: the frontier and size plots of the two configs that ran, the failed one's reason.
    test::expect_contains(test::read_file(html),
                          {"not all passed", "Size against recall@10", "Planned bytes by scheme",
                           "no-calibration-text</b> failed: ", "int4_weight"});
    test::expect_html_report_renders(html, "compare", 3);

    // JUnit: a suite per config, a case per gate (the failed config one errored case), the
    // failing gate of int4-everywhere a failure, every case with what it measured.
    const std::string check =
        std::string(EMBQ_TORCH_PYTHON) +
        " -c \"import sys, xml.etree.ElementTree as E; r = E.parse(sys.argv[1]).getroot(); "
        "s = r.findall('testsuite'); "
        "assert [x.get('name') for x in s] == ['embq compare: int8', 'embq compare: "
        "int4-everywhere', 'embq compare: no-calibration-text'], s; "
        "assert (r.get('tests'), r.get('failures'), r.get('errors')) == ('5', '1', '1'), r.attrib; "
        "f = s[1].find('.//failure').get('message'); assert f.startswith('recall@10 = '), f; "
        "assert 'missing.txt' in s[2].find('.//error').get('message'); "
        "assert all(c.findtext('system-out') for c in s[0].findall('testcase'))\" " +
        junit.string();
    EXPECT_EQ(std::system(check.c_str()), 0) << test::read_file(junit);
}

TEST(CompareCli, AConfigTypoIsExitTwoBeforeTheBaselineIsEmbedded) {
    Data data;
    const fs::path report = data.dir / "compare.json";
    const auto r = test::run_embq(
        {"compare", fixture("bert_traced.pt").string(), shipped("int8.json").string(),
         (data.dir / "broken.json").string(), "--data", data.corpus.string(), "--tokenizer",
         fixture("vocab.txt").string(), "--report-json", report.string()});
    EXPECT_EQ(r.exit_code, kExitBadInput) << r.err;
    test::expect_contains(r.err, {"config 2 (broken)", "did you mean 'int8_dynamic'"});
    EXPECT_EQ(r.err.find("embedding with FP32"), std::string::npos) << r.err;
    EXPECT_FALSE(fs::exists(report));

    const auto usage = test::run_embq({"compare", fixture("bert_traced.pt").string(),
                                       shipped("int8.json").string(), "--data",
                                       data.corpus.string(), "--gate", "recal@10>=0.9"});
    EXPECT_EQ(usage.exit_code, kExitBadInput) << usage.err;
}

}  // namespace
}  // namespace embq
