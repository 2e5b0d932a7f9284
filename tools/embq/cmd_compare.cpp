// embq compare MODEL CONFIG... --data CORPUS [--pairs P] [--gate G]...: every config on
// the same model and data, one table, the FP32 model embedded once.
#include <iostream>
#include <memory>

#include <spdlog/spdlog.h>
#include <nlohmann/json.hpp>

#include "command.hpp"
#include "embq/atomic_file.hpp"
#include "embq/compare.hpp"
#include "embq/error.hpp"
#include "embq/report.hpp"
#include "eval_options.hpp"
#include "path_options.hpp"
#include "plan_options.hpp"
#include "progress.hpp"

namespace embq::cli {

namespace {

struct CompareCommandOptions {
    std::string model;
    std::vector<std::string> configs;
    EvalArguments args;
    std::string keep, junit;
    QuantizeRequest request;  // --allow-unmatched-rules, --calibration, --observer
};

int run_compare_command(CompareCommandOptions& opt) {
    CompareInputs inputs;
    inputs.model = opt.model;
    inputs.configs.assign(opt.configs.begin(), opt.configs.end());
    inputs.eval = opt.args.resolved_inputs();
    inputs.keep_dir = opt.keep;
    inputs.allow_unmatched_rules = opt.request.allow_unmatched_rules;
    inputs.calibration_file = opt.request.calibration_file;
    inputs.observer = opt.request.observer;
    inputs.target = opt.request.target;
    const std::vector<Gate> gates = opt.args.checked_gates();

    std::unique_ptr<ProgressBar> bar;
    CompareProgress progress;
    progress.config = [&](size_t index, size_t count, const std::string& name) {
        bar.reset();
        spdlog::info("config {} of {}: {}", index, count, name);
    };
    progress.start = [&](const std::string& stage, size_t total) {
        bar.reset();
        spdlog::info("embedding with {}", stage);
        bar = std::make_unique<ProgressBar>(total, "texts");
    };
    progress.update = [&](size_t done) {
        if (bar) bar->update(done);
    };
    const CompareResult result = run_compare(inputs, opt.args.options(), gates, progress);
    bar.reset();

    std::cout << compare_report_text(result);
    opt.args.write_reports([&] { return compare_report_json(inputs, result); },
                           [&] { return compare_report_markdown(result); },
                           [&] { return compare_report_html(result); });
    if (!opt.junit.empty()) write_file_atomically(opt.junit, compare_report_junit(result));
    if (!result.all_passed()) {
        std::string failed;
        for (const auto& row : result.rows)
            if (!row.passed()) failed += (failed.empty() ? "" : ", ") + row.name;
        spdlog::error("not every config passed: {}", failed);
        return kExitGateFailed;
    }
    return kExitOk;
}

}  // namespace

Command add_compare_command(CLI::App& parent) {
    auto opt = std::make_shared<CompareCommandOptions>();
    opt->args.ks = {1, 10};
    CLI::App* app = parent.add_subcommand(
        "compare",
        "Quantize a model with several configs and evaluate each against FP32 on the same data "
        "(FP32 embedded once): one table, the best value of each column marked, and the layers "
        "each config plans differently. Exit 1 when any config fails a gate or cannot run.");
    reads_model(app->add_option("model", opt->model, "FP32 TorchScript model (.pt)"))->required();
    reads_file(app->add_option("configs", opt->configs,
                               "Configs (JSON files or preset names) to compare, one row each")
                   ->transform(config_argument()))
        ->required();
    opt->args.add_to(*app);
    writes_file(app->add_option("--junit", opt->junit,
                                "Write JUnit XML: a test suite per config, a test case per gate"));
    app->add_option("--keep", opt->keep,
                    "Keep the quantized models in this directory (default: temporary)");
    add_plan_flags(*app, opt->request);
    return {app, [opt] { return run_compare_command(*opt); }};
}

}  // namespace embq::cli
