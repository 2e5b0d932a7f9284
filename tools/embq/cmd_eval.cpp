// embq eval --baseline FP32 --candidate Q --data CORPUS [--pairs P] [--gate G]...:
// agreement metrics (FAISS), gates with a documented exit code, and reports.
#include <cstdio>
#include <iostream>
#include <memory>

#include <nlohmann/json.hpp>
#include <spdlog/spdlog.h>

#include "command.hpp"
#include "embq/error.hpp"
#include "embq/eval.hpp"
#include "embq/report.hpp"
#include "embq/runtime.hpp"
#include "progress.hpp"

namespace embq::cli {

namespace {

namespace fs = std::filesystem;

struct EvalCommandOptions {
    EvalInputs inputs;
    std::string card, tokenizer, metric = "cosine", index = "exact";
    int64_t max_length = 0;
    std::vector<int64_t> ks{1, 10, 100};
    int64_t queries_sample = 1000, similarity_pairs = 10000;
    uint64_t seed = 0;
    std::vector<std::string> gates;
    std::string report_json, report_md, junit;
    bool list_metrics = false;
};

// A report path whose directory is missing is a usage error before any work is done.
void check_writable_parent(const std::string& path, const char* option) {
    if (path.empty()) return;
    const fs::path parent = fs::absolute(path).parent_path();
    if (!fs::is_directory(parent))
        throw usage_error(std::string(option) + " " + path + ": directory " + parent.string() + " does not exist");
}

int run_eval_command(EvalCommandOptions& opt) {
    if (opt.list_metrics) {
        std::cout << format_metric_catalogue();
        return kExitOk;
    }
    if (opt.inputs.baseline.empty() || opt.inputs.candidate.empty())
        throw usage_error("eval needs --baseline and --candidate (models or vector files)");
    std::vector<Gate> gates;
    for (const auto& text : opt.gates) gates.push_back(parse_gate(text));
    check_writable_parent(opt.report_json, "--report-json");
    check_writable_parent(opt.report_md, "--report-md");
    check_writable_parent(opt.junit, "--junit");

    EvalOptions options;
    options.ks = opt.ks;
    options.metric = *parse_similarity_metric(opt.metric);
    options.queries_sample = opt.queries_sample;
    options.similarity_pairs = opt.similarity_pairs;
    options.seed = opt.seed;
    options.index = parse_index_spec(opt.index);
    opt.inputs.model = {opt.card, opt.tokenizer, opt.max_length};

    std::unique_ptr<ProgressBar> bar;
    EvalProgress progress;
    progress.start = [&](size_t total) { bar = std::make_unique<ProgressBar>(total, "texts"); };
    progress.update = [&](size_t done) { bar->update(done); };
    const EvalResult result = run_eval(opt.inputs, options, gates, progress);
    if (bar) bar->finish();

    const std::vector<GateVerdict> verdicts = check_gates(gates, result.metrics);
    const EvalReport report{opt.inputs, result, verdicts, thread_count()};
    std::cout << eval_report_text(report);
    for (const auto& v : verdicts) std::cout << "gate " << v.explain() << "\n";
    if (!opt.report_json.empty()) write_file_atomically(opt.report_json, eval_report_json(report).dump(2) + "\n");
    if (!opt.report_md.empty()) write_file_atomically(opt.report_md, eval_report_markdown(report));
    if (!opt.junit.empty()) write_file_atomically(opt.junit, eval_report_junit(report));
    if (!report.passed()) {
        size_t failed = 0;
        for (const auto& v : verdicts) failed += !v.passed;
        spdlog::error("{} of {} gates failed", failed, verdicts.size());
        return kExitGateFailed;
    }
    return kExitOk;
}

}  // namespace

Command add_eval_command(CLI::App& parent) {
    auto opt = std::make_shared<EvalCommandOptions>();
    CLI::App* app = parent.add_subcommand(
        "eval", "Compare a candidate (quantized) model with the baseline (FP32): neighbour agreement, "
                "index compatibility, cosine, labelled scores; gates set the exit code (1: a gate failed).");
    app->add_option("--baseline", opt->inputs.baseline, "FP32 model (.pt) or its corpus vectors (.npy/.fvecs)");
    app->add_option("--candidate", opt->inputs.candidate, "Quantized model (.pt) or its corpus vectors (.npy/.fvecs)");
    app->add_option("--data", opt->inputs.corpus, "Corpus: .txt (one text per line) or .jsonl; needed with models");
    app->add_option("--queries", opt->inputs.queries, "Query texts (default: a sample of the corpus, own item excluded)");
    app->add_option("--pairs", opt->inputs.pairs, "Labelled TSV: query<TAB>positive (hit@k, MRR) or a<TAB>b<TAB>score (STS)");
    app->add_option("--card", opt->card, "Model card for both models (JSON); inferred when absent");
    app->add_option("--tokenizer", opt->tokenizer, "tokenizer.json or vocab.txt (overrides the card's)");
    app->add_option("--max-length", opt->max_length, "Truncate to this many tokens (overrides the card's)")
        ->check(CLI::Range(int64_t{2}, int64_t{1} << 20));
    app->add_option("--batch-size", opt->inputs.batch_size, "Texts per forward call")
        ->check(CLI::Range(int64_t{1}, int64_t{1} << 16))
        ->capture_default_str();
    app->add_option("--k", opt->ks, "Neighbour counts to report, comma-separated")
        ->delimiter(',')
        ->check(CLI::Range(int64_t{1}, int64_t{100000}))
        ->capture_default_str();
    app->add_option("--metric", opt->metric, "Similarity: cosine, ip (inner product) or l2")
        ->check(CLI::IsMember({"cosine", "ip", "l2"}))
        ->capture_default_str();
    app->add_option("--queries-sample", opt->queries_sample, "Corpus rows used as queries (0: all)")
        ->check(CLI::NonNegativeNumber)
        ->capture_default_str();
    app->add_option("--similarity-pairs", opt->similarity_pairs, "Sampled corpus pairs for similarity_spearman")
        ->check(CLI::Range(int64_t{2}, int64_t{100000000}))
        ->capture_default_str();
    app->add_option("--seed", opt->seed, "Seed for the query and pair samples")->capture_default_str();
    app->add_option("--index", opt->index, "exact, ivf[:LISTS] or hnsw[:M] (approximate search reports its own recall)")
        ->capture_default_str();
    app->add_option("--gate", opt->gates, "Quality gate NAME OP NUMBER, e.g. 'recall@10>=0.98'; repeatable");
    app->add_option("--report-json", opt->report_json, "Write every metric, the gates, versions and input hashes");
    app->add_option("--report-md", opt->report_md, "Write a Markdown summary (CI job summary, PR comment)");
    app->add_option("--junit", opt->junit, "Write JUnit XML, one test case per gate");
    app->add_flag("--list-metrics", opt->list_metrics, "Print every metric name and exit");
    return {app, [opt] { return run_eval_command(*opt); }};
}

}  // namespace embq::cli
