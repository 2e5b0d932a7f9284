// embq tune MODEL --data TEXTS --gate 'recall@10>=0.97' [--objective size|speed]
//           [--max-size 0.30] -o tuned.json: the smallest (or fastest) per-layer config
// that passes every gate, verified end to end, reported on held-out texts.
#include <iostream>
#include <memory>

#include <spdlog/spdlog.h>
#include <nlohmann/json.hpp>

#include "command.hpp"
#include "embq/atomic_file.hpp"
#include "embq/error.hpp"
#include "embq/format.hpp"
#include "embq/tune.hpp"
#include "path_options.hpp"
#include "plan_options.hpp"
#include "search_options.hpp"

namespace embq::cli {

namespace {

namespace fs = std::filesystem;

struct TuneCommandOptions {
    SearchArguments search;
    TuneOptions options;
    std::string objective = "size";
    double max_size = 0;
    std::string holdout, holdout_pairs, output;
    SpeedCheckArguments speed;
};

// The search and held-out parts: --holdout files, or every other record of --data/--pairs.
TuneInputs split_inputs(const TuneCommandOptions& opt) {
    TuneInputs in;
    in.search = opt.search.resolved();
    in.holdout = in.search.eval;
    if (opt.holdout.empty()) {
        if (!opt.holdout_pairs.empty())
            throw usage_error("--holdout-pairs goes with --holdout");
        in.search.eval.selection = {0, 2, 0};
        in.holdout.selection = {1, 2, 0};
        return in;
    }
    in.holdout.corpus = opt.holdout;
    in.holdout.pairs = opt.holdout_pairs;
    if (!in.search.eval.pairs.empty() && opt.holdout_pairs.empty())
        throw usage_error("--pairs with --holdout needs --holdout-pairs (the held-out labelled pairs)");
    return in;
}

nlohmann::json tuned_config(const TuneInputs& inputs, const TuneResult& r) {
    const TuneCandidate& best = r.candidates[*r.best];
    std::string gates;
    for (const auto& g : r.options.gates) gates += (gates.empty() ? "" : ", ") + g.text;
    std::string held;
    for (const auto& v : r.holdout_verdicts) held += (held.empty() ? "" : "; ") + v.explain();
    nlohmann::json config = best.config;
    config["description"] =
        "Found by embq tune for " + inputs.search.model.filename().string() + " (objective " +
        to_string(r.options.objective) + ", gates " + gates + "): " +
        std::to_string(best.bytes) + " bytes, " + format_fixed(100 * best.size_ratio, 1) +
        "% of FP32. Search: step " + std::to_string(best.step) + " of " +
        std::to_string(r.candidates.size()) + " on " + std::to_string(r.search_texts) +
        " texts of " + inputs.search.eval.corpus.filename().string() + ". Held-out (" +
        std::to_string(r.holdout_texts) + " texts the search never saw): " + held +
        ". Each rule's $comment has the evidence; layers are listed one by one.";
    return config;
}

int run_tune_command(TuneCommandOptions& opt) {
    opt.options.gates = opt.search.eval.checked_gates();
    if (opt.objective != "size" && opt.objective != "speed")
        throw usage_error("--objective is size or speed, not '" + opt.objective + "'");
    opt.options.objective = opt.objective == "size" ? TuneObjective::Size : TuneObjective::Speed;
    if (opt.max_size > 0) opt.options.max_size = opt.max_size;
    opt.options.speed = opt.speed.options;
    const TuneInputs inputs = split_inputs(opt);

    SearchProgressBar bar;
    const TuneResult result =
        run_tune(inputs, opt.options, opt.search.eval.options(), bar.callbacks());
    bar.finish();
    std::cout << tune_report_text(result) << std::flush;
    opt.search.eval.write_reports([&] { return tune_report_json(inputs, result); },
                                  [&] { return tune_report_markdown(result); },
                                  [&] { return tune_report_html(result); });
    if (!result.found()) {
        spdlog::error("{}; {} not written",
                      result.best ? "the best config fails on the held-out texts (the search "
                                    "texts may be too few or unlike them)"
                                  : "no config passes the gates (the best point of the "
                                    "frontier is in the table above)",
                      opt.output);
        return kExitGateFailed;
    }
    write_file_atomically(opt.output, tuned_config(inputs, result).dump(2) + "\n");
    std::cout << "wrote " << opt.output << "\n";
    return kExitOk;
}

}  // namespace

Command add_tune_command(CLI::App& parent) {
    auto opt = std::make_shared<TuneCommandOptions>();
    opt->search.eval.ks = {10};
    CLI::App* app = parent.add_subcommand(
        "tune",
        "Find the smallest (or fastest) per-layer config that passes every --gate: measures "
        "each layer's sensitivity, predicts configs within the gates' slack, verifies them end "
        "to end, and reports the chosen one on held-out texts. Writes a normal config (each "
        "rule with its evidence). Exit 1 when no config passes.");
    opt->search.add_to(*app, true);
    writes_file(
        app->add_option("-o,--output", opt->output, "Where to write the config found (JSON)"))
        ->required();
    app->add_option("--objective", opt->objective,
                    "size (smallest file) or speed (fastest, from per-layer timings)")
        ->capture_default_str();
    app->add_option("--max-size", opt->max_size,
                    "Largest size allowed, as a share of FP32 (e.g. 0.30)")
        ->check(CLI::Range(0.0, 1.0));
    app->add_option("--max-evals", opt->options.max_evals,
                    "End-to-end verifications on the search texts")
        ->check(CLI::Range(1, 1000))
        ->capture_default_str();
    app->add_option("--time-budget", opt->options.time_budget_seconds,
                    "Stop searching after this many seconds (0: no limit)")
        ->check(CLI::Range(0.0, 1e7));
    reads_file(
        app->add_option("--holdout", opt->holdout,
                        "Held-out texts to report the result on (default: every other record of "
                        "--data is held out, the rest searched)"));
    reads_file(app->add_option("--holdout-pairs", opt->holdout_pairs,
                               "Held-out labelled pairs (with --holdout)"));
    app->add_option("--sensitivity-samples", opt->options.sensitivity_samples,
                    "Search texts each single-layer trial measures on")
        ->check(CLI::Range(1, 100000000))
        ->capture_default_str();
    app->add_option("--search-samples", opt->options.search_samples,
                    "Search texts each end-to-end verification uses, and held-out texts the "
                    "result is reported on (0: all)")
        ->check(CLI::Range(0, 100000000))
        ->capture_default_str();
    app->add_option("--speed-batch", opt->speed.options.batch_sizes,
                    "Objective speed: batch sizes the layers are timed at")
        ->delimiter(',')
        ->check(CLI::Range(int64_t{1}, int64_t{4096}))
        ->capture_default_str();
    return {app, [opt] { return run_tune_command(*opt); }};
}

}  // namespace embq::cli
