// `embq eval` end to end: vector inputs with known answers, a quantized fixture model
// with labelled pairs, gates, the three report formats, and every exit code.
#include <gtest/gtest.h>

#include <random>
#include <sstream>

#include <nlohmann/json.hpp>

#include "core/sha256.hpp"
#include "embq/error.hpp"
#include "embq/eval.hpp"
#include "embq/report.hpp"
#include "embq/tokenizer.hpp"
#include "test_support.hpp"

namespace embq {
namespace {

namespace fs = std::filesystem;
using test::fixture;

void write_gaussian_vectors(const fs::path& path, int64_t rows, int64_t dim, uint64_t seed) {
    std::mt19937_64 rng(seed);
    std::normal_distribution<float> normal;
    std::vector<float> data(static_cast<size_t>(rows * dim));
    for (auto& x : data) x = normal(rng);
    VectorWriter writer(path, dim);
    writer.write_rows(data.data(), rows);
    writer.commit();
}

// A corpus, and pairs whose positive is a corpus sentence and whose query is that
// sentence with its first word dropped: findable, but not trivially identical.
struct TextData {
    test::TempDir dir;
    fs::path corpus = dir / "corpus.txt", pairs = dir / "pairs.tsv";
    TextData() {
        const std::string text = test::fixture_sentences(300, 1);
        test::write_file(corpus, text);
        std::vector<std::string> texts;
        std::istringstream in(text);
        for (std::string line; std::getline(in, line);) texts.push_back(line);
        std::string tsv;
        for (size_t i = 0; i < 60; ++i)
            tsv += texts[i].substr(texts[i].find(' ') + 1) + "\t" + texts[i] + "\n";
        test::write_file(pairs, tsv);
    }
};

// The fixture BERT quantized with the shipped int8 config, made once for the file.
const fs::path& quantized_bert() {
    static test::TempDir dir;
    static const fs::path out = dir / "bert.int8.pt";
    if (!fs::exists(out)) {
        const auto r = test::run_embq({"quantize", fixture("bert_traced.pt").string(),
                                       std::string(EMBQ_SOURCE_DIR) + "/configs/int8.json", "-o",
                                       out.string()});
        EXPECT_EQ(r.exit_code, 0) << r.err;
    }
    return out;
}

TEST(EvalVectors, IdenticalVectorsAgreeEverywhere) {
    test::TempDir dir;
    write_gaussian_vectors(dir / "a.npy", 400, 24, 5);
    EvalInputs inputs;
    inputs.baseline = dir / "a.npy";
    inputs.candidate = dir / "a.npy";
    EvalOptions options;
    options.ks = {1, 10};
    options.queries_sample = 100;
    const EvalResult r = run_eval(inputs, options, {});
    for (const std::string name : {"recall@1", "recall@10", "cross_recall@1", "cross_recall@10",
                                   "cosine.min", "cosine.p5", "similarity_spearman"})
        EXPECT_NEAR(*r.metrics.get(name), 1.0, 1e-6) << name;
    EXPECT_EQ(r.query_rows, 100);
    EXPECT_TRUE(r.queries_from_corpus);
    EXPECT_FALSE(r.metrics.get("size_ratio"));  // vectors have no model size
}

TEST(EvalVectors, AGateNamesAKThatIsThenComputed) {
    test::TempDir dir;
    write_gaussian_vectors(dir / "a.fvecs", 200, 8, 1);
    write_gaussian_vectors(dir / "b.fvecs", 200, 8, 2);
    EvalInputs inputs;
    inputs.baseline = dir / "a.fvecs";
    inputs.candidate = dir / "b.fvecs";
    EvalOptions options;
    options.ks = {10};
    const EvalResult r = run_eval(inputs, options, {parse_gate("recall@5>=0.5")});
    EXPECT_TRUE(r.metrics.get("recall@5"));
    EXPECT_LT(*r.metrics.get("recall@10"), 0.3);  // unrelated random spaces barely agree
}

TEST(EvalVectors, RowCountMismatchAndUncomputableGatesAreRefused) {
    test::TempDir dir;
    write_gaussian_vectors(dir / "a.npy", 50, 8, 1);
    write_gaussian_vectors(dir / "b.npy", 40, 8, 1);
    EvalInputs inputs;
    inputs.baseline = dir / "a.npy";
    inputs.candidate = dir / "b.npy";
    try {
        run_eval(inputs, {}, {});
        ADD_FAILURE() << "accepted 50 vs 40 rows";
    } catch (const Error& e) {
        EXPECT_EQ(e.category(), ErrorCategory::Input);
        test::expect_contains(e.what(), {"50 rows", "40"});
    }
    inputs.candidate = dir / "a.npy";
    for (const std::string gate :
         {"size_ratio<=0.5", "hit@1_delta>=-0.01", "index_recall@10>=0.9"}) {
        try {
            run_eval(inputs, {}, {parse_gate(gate)});
            ADD_FAILURE() << "accepted " << gate;
        } catch (const Error& e) {
            EXPECT_EQ(e.category(), ErrorCategory::Usage) << gate;
            test::expect_contains(e.what(), {gate, "needs"});
        }
    }
}

// A compressed index through the command line: its own recall, the candidate's against
// exact FP32 search and its bytes are reported; rescoring lifts both; --rescore on exact
// search is a usage error before any work.
TEST(EvalCli, CompressedIndexReportsItsRecallBytesAndRescoring) {
    test::TempDir dir;
    write_gaussian_vectors(dir / "a.npy", 2000, 32, 3);
    const auto eval = [&](const std::vector<std::string>& extra) {
        std::vector<std::string> args = {"eval",
                                         "--baseline",
                                         (dir / "a.npy").string(),
                                         "--candidate",
                                         (dir / "a.npy").string(),
                                         "--k",
                                         "10",
                                         "--queries-sample",
                                         "200",
                                         "--report-json",
                                         (dir / "r.json").string()};
        args.insert(args.end(), extra.begin(), extra.end());
        return test::run_embq(args);
    };
    const auto plain = eval({"--index", "binary", "--gate", "search_recall@10>=0.0"});
    ASSERT_EQ(plain.exit_code, 0) << plain.err;
    const auto metrics = nlohmann::json::parse(test::read_file(dir / "r.json"))["metrics"];
    EXPECT_EQ(metrics["index_code_bytes"], 4);
    EXPECT_LT(metrics["index_recall@10"].get<double>(), 0.9);
    // The same vectors on both sides: the candidate loses exactly what the index loses.
    EXPECT_EQ(metrics["search_recall@10"], metrics["index_recall@10"]);
    EXPECT_EQ(metrics["recall@10"], 1.0);

    const auto rescored = eval({"--index", "binary", "--rescore", "8"});
    ASSERT_EQ(rescored.exit_code, 0) << rescored.err;
    const auto better = nlohmann::json::parse(test::read_file(dir / "r.json"))["metrics"];
    EXPECT_GT(better["index_recall@10"].get<double>(),
              metrics["index_recall@10"].get<double>() + 0.1);
    test::expect_contains(rescored.out, {"binary, rescored from 8x k"});

    // IVF lists of 8-bit codes, the index a large corpus is served from.
    const auto ivf_sq8 = eval({"--index", "ivf:16,sq8"});
    ASSERT_EQ(ivf_sq8.exit_code, 0) << ivf_sq8.err;
    test::expect_contains(ivf_sq8.out, {"ivf:16,sq8 (nprobe 16)"});
    const auto coded = nlohmann::json::parse(test::read_file(dir / "r.json"))["metrics"];
    EXPECT_EQ(coded["index_code_bytes"], 32);
    EXPECT_GT(coded["index_recall@10"].get<double>(), 0.5);
    const auto unknown = eval({"--index", "ivf:16,sq16"});
    EXPECT_EQ(unknown.exit_code, 2);
    test::expect_contains(unknown.err, {"ivf[:LISTS][,sq8|,sq4|,pq[:M]]"});

    fs::remove(dir / "r.json");
    const auto exact = eval({"--rescore", "4"});
    EXPECT_EQ(exact.exit_code, 2);
    test::expect_contains(exact.err, {"--rescore", "exact search has nothing to re-rank"});
    EXPECT_FALSE(fs::exists(dir / "r.json"));
}

TEST(EvalCli, QuantizedModelWithPairsGatesAndAllThreeReports) {
    TextData data;
    const fs::path json = data.dir / "report.json", md = data.dir / "report.md",
                   junit = data.dir / "junit.xml";
    const auto r = test::run_embq({"eval",
                                   "--baseline",
                                   fixture("bert_traced.pt").string(),
                                   "--candidate",
                                   quantized_bert().string(),
                                   "--data",
                                   data.corpus.string(),
                                   "--pairs",
                                   data.pairs.string(),
                                   "--tokenizer",
                                   fixture("vocab.txt").string(),
                                   "--k",
                                   "1,10",
                                   "--queries-sample",
                                   "100",
                                   "--gate",
                                   "recall@10>=0.5",
                                   "--gate",
                                   "cosine.p5>=0.9",
                                   "--gate",
                                   "size_ratio<=0.1",
                                   "--report-json",
                                   json.string(),
                                   "--report-md",
                                   md.string(),
                                   "--junit",
                                   junit.string()});
    ASSERT_EQ(r.exit_code, kExitGateFailed) << r.err;
    test::expect_contains(
        r.out, {"recall@10", "cross_recall@10", "hit@1_delta", "gate size_ratio", "FAIL"});
    test::expect_contains(r.err, {"1 of 3 gates failed"});

    const auto report = nlohmann::json::parse(test::read_file(json));
    EXPECT_FALSE(report["passed"].get<bool>());
    for (const std::string key :
         {"recall@1", "recall@10", "cross_recall@10", "cosine.mean", "cosine.p5",
          "similarity_spearman", "size_ratio", "throughput_ratio", "hit@1_baseline",
          "hit@1_candidate", "hit@1_delta", "mrr@10_delta"})
        EXPECT_TRUE(report["metrics"].contains(key)) << key;
    EXPECT_GT(report["metrics"]["recall@10"].get<double>(), 0.5);
    EXPECT_LT(report["metrics"]["size_ratio"].get<double>(), 0.5);
    EXPECT_EQ(report["inputs"]["baseline"]["sha256"].get<std::string>(),
              sha256_file(fixture("bert_traced.pt")));
    EXPECT_EQ(report["counts"]["corpus"], 300);
    EXPECT_EQ(report["counts"]["pairs"], 60);
    EXPECT_EQ(report["counts"]["pool"], 60);
    ASSERT_EQ(report["gates"].size(), 3u);
    EXPECT_TRUE(report["gates"][0]["passed"].get<bool>());
    EXPECT_FALSE(report["gates"][2]["passed"].get<bool>());
    EXPECT_EQ(report["gates"][2]["op"], "<=");
    EXPECT_TRUE(report["tool"].contains("embq"));

    test::expect_contains(test::read_file(md),
                          {"❌ failed (1 of 3 gates)", "| `size_ratio<=0.1` |", "hit@1_delta"});

    // The JUnit file must parse as XML with one test case per gate and one failure; the
    // suite says when, where and how long; passing cases carry their value too.
    const std::string check =
        std::string(EMBQ_TORCH_PYTHON) +
        " -c \"import sys, xml.etree.ElementTree as E; r = E.parse(sys.argv[1]).getroot(); "
        "c = r.findall('.//testcase'); f = r.findall('.//failure'); s = r.find('testsuite'); "
        "assert (len(c), len(f), r.get('failures')) == (3, 1, '1'); "
        "assert s.get('hostname') and s.get('timestamp')[:2] == '20' and float(s.get('time')) > 0; "
        "assert c[0].findtext('system-out').startswith('recall@10 = '), "
        "c[0].findtext('system-out'); "
        "assert 'PASS' in c[0].findtext('system-out') and 'FAIL' in "
        "c[2].findtext('system-out')\" " +
        junit.string();
    EXPECT_EQ(std::system(check.c_str()), 0) << test::read_file(junit);
}

// The page a reader opens: gates with their verdicts, the plots, the metrics, the candidate's
// bytes by scheme and layer. It renders in a real browser with nothing fetched.
TEST(EvalCli, HtmlReportRendersInABrowserWithEveryPlotDrawn) {
    TextData data;
    const fs::path html = data.dir / "report.html", md = data.dir / "report.md";
    const auto r = test::run_embq({"eval",
                                   "--baseline",
                                   fixture("bert_traced.pt").string(),
                                   "--candidate",
                                   quantized_bert().string(),
                                   "--data",
                                   data.corpus.string(),
                                   "--tokenizer",
                                   fixture("vocab.txt").string(),
                                   "--k",
                                   "1,5,10,20",
                                   "--queries-sample",
                                   "100",
                                   "--gate",
                                   "recall@10>=0.5",
                                   "--gate",
                                   "size_ratio<=0.1",
                                   "--report-html",
                                   html.string(),
                                   "--report-md",
                                   md.string()});
    ASSERT_EQ(r.exit_code, kExitGateFailed) << r.err;
    const std::string page = test::read_file(html);
    test::expect_contains(page, {"<!DOCTYPE html>", "failed: 1 of 2 gates", "size_ratio&lt;=0.1",
                                 "recall@K against K", "Size by scheme", "int8_dynamic",
                                 "encoder.layer.0.intermediate.dense"});
    // Self-contained: nothing to fetch, no script to fail.
    for (const std::string outside : {"<script", "http://", "https://", "src=", "href="})
        EXPECT_EQ(page.find(outside), std::string::npos) << outside;
    test::expect_html_report_renders(html, "eval", 3);

    // The Markdown folds the long metric table under the verdict and the gates.
    const std::string summary = test::read_file(md);
    const auto folded = summary.find("<details><summary>All ");
    ASSERT_NE(folded, std::string::npos) << summary;
    EXPECT_LT(summary.find("| `size_ratio<=0.1` |"), folded);
    EXPECT_GT(summary.find("| recall@20 |"), folded);
}

// A model without a tokenizer file is evaluated on pre-tokenized records: the same ids
// give the same metrics as the texts they came from; models that read other inputs are
// refused, since the ids would mean something else to one of them.
TEST(EvalCli, PreTokenizedInputIdsGiveTheSameMetricsAsTheirTexts) {
    TextData data;
    const auto tokenizer = load_tokenizer(fixture("vocab.txt"));
    std::istringstream lines(test::read_file(data.corpus));
    std::string jsonl;
    for (std::string line; std::getline(lines, line);)
        jsonl += nlohmann::json({{"input_ids", tokenizer->encode(line, 128).ids}}).dump() + "\n";
    const fs::path ids = data.dir / "corpus.jsonl";
    test::write_file(ids, jsonl);

    const auto run = [&](const fs::path& corpus, std::vector<std::string> more,
                         const fs::path& report) {
        std::vector<std::string> args = {"eval",
                                         "--baseline",
                                         fixture("bert_traced.pt").string(),
                                         "--candidate",
                                         quantized_bert().string(),
                                         "--data",
                                         corpus.string(),
                                         "--queries-sample",
                                         "100",
                                         "--report-json",
                                         report.string()};
        args.insert(args.end(), more.begin(), more.end());
        return test::run_embq(args);
    };
    const auto text =
        run(data.corpus, {"--tokenizer", fixture("vocab.txt").string()}, data.dir / "text.json");
    ASSERT_EQ(text.exit_code, kExitOk) << text.err;
    const auto pre = run(ids, {}, data.dir / "ids.json");
    ASSERT_EQ(pre.exit_code, kExitOk) << pre.err;
    const auto a = nlohmann::json::parse(test::read_file(data.dir / "text.json"))["metrics"];
    const auto b = nlohmann::json::parse(test::read_file(data.dir / "ids.json"))["metrics"];
    for (const std::string metric : {"recall@1", "recall@10", "cosine.mean", "cosine.min"})
        EXPECT_EQ(a[metric], b[metric]) << metric;

    // compare takes them too (one baseline, many candidates).
    const auto compare = test::run_embq({"compare", fixture("bert_traced.pt").string(), "int8",
                                         "--data", ids.string(), "--queries-sample", "100"});
    EXPECT_EQ(compare.exit_code, kExitOk) << compare.err;

    // Another model of the same width but a 300-row table: the ids are not its ids.
    const fs::path small = data.dir / "small.pt";
    const std::string make =
        std::string(EMBQ_TORCH_PYTHON) +
        " -c \"import sys, torch\n"
        "class M(torch.nn.Module):\n"
        "    def __init__(self):\n"
        "        super().__init__(); self.table = torch.nn.Embedding(300, 64)\n"
        "    def forward(self, input_ids, attention_mask):\n"
        "        return self.table(input_ids).mean(1)\n"
        "ids = torch.ones(2, 5, dtype=torch.long)\n"
        "torch.jit.save(torch.jit.trace(M(), (ids, ids)), sys.argv[1])\" " +
        small.string();
    ASSERT_EQ(std::system(make.c_str()), 0);
    const auto other = test::run_embq({"eval", "--baseline", fixture("bert_traced.pt").string(),
                                       "--candidate", small.string(), "--data", ids.string()});
    EXPECT_EQ(other.exit_code, kExitBadInput) << other.err;
    test::expect_contains(other.err, {"do not read the same inputs", "497 and 300 rows"});
}

TEST(EvalCli, PassingGatesExitZero) {
    TextData data;
    const auto r =
        test::run_embq({"eval", "--baseline", fixture("bert_traced.pt").string(), "--candidate",
                        fixture("bert_scripted.pt").string(), "--data", data.corpus.string(),
                        "--tokenizer", fixture("vocab.txt").string(), "--gate", "recall@10>=0.99",
                        "--gate", "cosine.min>=0.9999"});
    // Traced and scripted fixtures hold the same weights: the same model twice.
    EXPECT_EQ(r.exit_code, kExitOk) << r.err << r.out;
    test::expect_contains(r.out, {"gate recall@10 = 1.0000", "PASS"});
}

TEST(EvalCli, BadUsageAndInputExitTwoBeforeAnyWorkAndWriteNothing) {
    TextData data;
    const std::string base = fixture("bert_traced.pt").string();
    const std::string vocab = fixture("vocab.txt").string();
    const fs::path report = data.dir / "r.json";
    struct Case {
        std::vector<std::string> args;
        std::string needle;
    };
    const std::vector<Case> cases = {
        {{"--candidate", base, "--data", data.corpus.string(), "--gate", "recal@10>=0.9"},
         "did you mean 'recall@10'"},
        {{"--candidate", base, "--data", data.corpus.string(), "--gate", "hit@1_delta>=0"},
         "needs --pairs"},
        {{"--candidate", (data.dir / "missing.pt").string(), "--data", data.corpus.string()},
         "missing.pt"},
        {{"--candidate", (data.dir / "v.npy").string(), "--data", data.corpus.string()},
         "both be models"},
        {{"--candidate", base}, "--data"},
        {{"--candidate", base, "--data", data.pairs.string()}, "--pairs"},
        {{"--candidate", base, "--data", data.corpus.string(), "--index", "flat"}, "--index flat"},
        {{"--candidate", base, "--data", data.corpus.string(), "--junit",
          (data.dir / "no/such/dir/j.xml").string()},
         "does not exist"},
    };
    for (const auto& c : cases) {
        std::vector<std::string> args = {"eval", "--baseline",    base,           "--tokenizer",
                                         vocab,  "--report-json", report.string()};
        args.insert(args.end(), c.args.begin(), c.args.end());
        const auto r = test::run_embq(args);
        EXPECT_EQ(r.exit_code, kExitBadInput) << c.needle << ": " << r.err;
        EXPECT_NE(r.err.find(c.needle), std::string::npos) << r.err;
        EXPECT_FALSE(fs::exists(report)) << c.needle;
    }
}

TEST(EvalCli, AModelThatFailsAtRunTimeExitsThree) {
    // The fixture has 128 positions; 300 tokens past an overridden max length break its forward.
    test::TempDir dir;
    std::string long_text;
    for (int i = 0; i < 300; ++i) long_text += "the ";
    test::write_file(dir / "long.txt", long_text + "\nshort text\n");
    const std::string base = fixture("bert_traced.pt").string();
    const auto r = test::run_embq({"eval", "--baseline", base, "--candidate", base, "--data",
                                   (dir / "long.txt").string(), "--tokenizer",
                                   fixture("vocab.txt").string(), "--max-length", "512"});
    EXPECT_EQ(r.exit_code, kExitRuntime) << r.err;
    test::expect_contains(r.err, {"forward failed"});
}

TEST(EvalCli, ListMetricsPrintsEveryName) {
    const auto r = test::run_embq({"eval", "--list-metrics"});
    ASSERT_EQ(r.exit_code, 0) << r.err;
    for (const auto& info : metric_catalogue()) test::expect_contains(r.out, {info.pattern});
}

TEST(Sha256, KnownDigests) {
    EXPECT_EQ(sha256_hex(""), "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855");
    EXPECT_EQ(sha256_hex("abc"),
              "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
    // Two blocks: the padding spills over.
    EXPECT_EQ(sha256_hex("abcdbcdecdefdefgefghfghighijhijkijkljklmklmnlmnomnopnopq"),
              "248d6a61d20638b8e5c026930c3e6039a33ce45964ff2167f6ecedd419db06c1");
}

}  // namespace
}  // namespace embq
