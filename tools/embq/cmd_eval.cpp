// embq eval --baseline FP32 --candidate Q --data CORPUS [--pairs P] [--gate G]...:
// agreement metrics (FAISS), gates with a documented exit code, and reports.
#include <iostream>
#include <memory>
#include <optional>

#include <spdlog/spdlog.h>
#include <nlohmann/json.hpp>

#include "command.hpp"
#include "embq/atomic_file.hpp"
#include "embq/error.hpp"
#include "embq/report.hpp"
#include "embq/runtime.hpp"
#include "embq/stored_layers.hpp"
#include "eval_options.hpp"
#include "path_options.hpp"
#include "progress.hpp"

namespace embq::cli {

namespace {

struct EvalCommandOptions {
    EvalArguments args;
    std::string junit;
    bool list_metrics = false;
};

// What the candidate stores by layer, for the HTML report's size plots: only for a model
// embq wrote (vector files and other models have no plan to show).
std::optional<StoredModel> candidate_layers(const EvalResult& result, const EvalInputs& inputs) {
    if (result.from_vectors) return std::nullopt;
    const LoadedModel candidate = load_model(inputs.candidate);
    if (!is_embq_output(candidate)) return std::nullopt;
    return take_stored_inventory(candidate);
}

int run_eval_command(const EvalCommandOptions& opt) {
    if (opt.list_metrics) {
        std::cout << format_metric_catalogue();
        return kExitOk;
    }
    const EvalInputs inputs = opt.args.resolved_inputs();
    if (inputs.baseline.empty() || inputs.candidate.empty())
        throw usage_error("eval needs --baseline and --candidate (models or vector files)");
    const std::vector<Gate> gates = opt.args.checked_gates();

    std::unique_ptr<ProgressBar> bar;
    EvalProgress progress;
    progress.start = [&](size_t total) { bar = std::make_unique<ProgressBar>(total, "texts"); };
    progress.update = [&](size_t done) { bar->update(done); };
    const EvalResult result = run_eval(inputs, opt.args.options(), gates, progress);
    if (bar) bar->finish();

    const std::vector<GateVerdict> verdicts = check_gates(gates, result.metrics);
    const EvalReport report{inputs, result, verdicts, thread_count()};
    std::cout << eval_report_text(report);
    for (const auto& v : verdicts) std::cout << "gate " << v.explain() << "\n";
    opt.args.write_reports([&] { return eval_report_json(report); },
                           [&] { return eval_report_markdown(report); },
                           [&] {
                               const auto stored = candidate_layers(result, inputs);
                               return eval_report_html(report, stored ? &*stored : nullptr);
                           });
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
        "eval",
        "Compare a candidate (quantized) model with the baseline (FP32): neighbour agreement, "
        "index compatibility, cosine, labelled scores; gates set the exit code (1: a gate "
        "failed).");
    reads_model_or_shards(app->add_option(
        "--baseline", opt->args.inputs.baseline,
        "FP32 model (.pt) or its corpus vectors (.npy/.fvecs, or a directory of embed shards)"));
    reads_model_or_shards(app->add_option(
        "--candidate", opt->args.inputs.candidate,
        "Quantized model (.pt, .ptl) or its corpus vectors (.npy/.fvecs, or a directory of "
        "embed shards)"));
    opt->args.add_to(*app);
    writes_file(app->add_option("--junit", opt->junit, "Write JUnit XML, one test case per gate"));
    app->add_flag("--list-metrics", opt->list_metrics, "Print every metric name and exit");
    return {app, [opt] { return run_eval_command(*opt); }};
}

}  // namespace embq::cli
