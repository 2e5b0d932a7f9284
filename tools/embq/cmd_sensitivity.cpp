// embq sensitivity MODEL --data TEXTS [--pairs P] [--schemes A,B] [--group GLOB]...: each
// layer (and group of layers) quantized alone against FP32, most sensitive first.
#include <iostream>
#include <memory>

#include <nlohmann/json.hpp>

#include "command.hpp"
#include "embq/error.hpp"
#include "embq/sensitivity.hpp"
#include "plan_options.hpp"
#include "search_options.hpp"

namespace embq::cli {

namespace {

struct SensitivityCommandOptions {
    SearchArguments search;
    SensitivityOptions options;
    std::vector<std::string> groups{"blocks", "kinds"};
    SpeedCheckArguments speed;
};

GroupOptions parse_groups(const std::vector<std::string>& names,
                          const std::vector<std::string>& patterns) {
    GroupOptions g{false, false, false, patterns};
    for (const auto& n : names) {
        if (n == "blocks") g.blocks = true;
        else if (n == "roles") g.roles = true;
        else if (n == "kinds") g.kinds = true;
        else if (n != "none")
            throw usage_error("--groups: unknown group '" + n +
                              "' (blocks, roles, kinds, or none)");
    }
    return g;
}

int run_sensitivity_command(SensitivityCommandOptions& opt) {
    opt.options.groups = parse_groups(opt.groups, opt.options.groups.patterns);
    if (opt.speed.enabled) opt.options.speed = opt.speed.options;
    (void)opt.search.eval.checked_gates();  // report paths checked before any work
    const SearchInputs inputs = opt.search.resolved();
    SearchProgressBar bar;
    const SensitivityResult result =
        run_sensitivity(inputs, opt.options, opt.search.eval.options(), bar.callbacks());
    bar.finish();
    std::cout << sensitivity_report_text(result);
    opt.search.eval.write_reports([&] { return sensitivity_report_json(inputs, result); },
                                  [&] { return sensitivity_report_markdown(result); },
                                  [&] { return sensitivity_report_html(result); });
    return kExitOk;
}

}  // namespace

Command add_sensitivity_command(CLI::App& parent) {
    auto opt = std::make_shared<SensitivityCommandOptions>();
    opt->search.eval.ks = {10};
    CLI::App* app = parent.add_subcommand(
        "sensitivity",
        "Quantize each layer alone (and each block, each kind of layer) with each candidate "
        "scheme, everything else FP32, and measure agreement with FP32 on the same texts: a "
        "table ranked most sensitive first, with 95% bootstrap intervals, and the layers to "
        "quantize first.");
    opt->search.add_to(*app, false);
    app->add_option("--samples", opt->options.samples,
                    "Texts of --data to measure on (0: all); the FP32 side is embedded once")
        ->check(CLI::Range(0, 100000000))
        ->capture_default_str();
    app->add_option("--rank-by", opt->options.rank_by,
                    "Agreement metric to rank by (recall@10, eps_recall@10, cosine.p5, "
                    "hit@1_delta, ...)")
        ->capture_default_str();
    app->add_option("--groups", opt->groups,
                    "Groups measured besides single layers: blocks (encoder.layer.0.*), roles "
                    "(the same layer in every block), kinds (every linear), or none")
        ->delimiter(',')
        ->capture_default_str();
    app->add_option("--group", opt->options.groups.patterns,
                    "A group of your own: every layer matching this glob (repeatable)");
    app->add_option("--bootstrap", opt->options.bootstrap_resamples,
                    "Bootstrap resamples for the 95% intervals (0: none)")
        ->check(CLI::Range(0, 100000))
        ->capture_default_str();
    add_speed_check_flags(*app, opt->speed,
                          "Also time each layer under each scheme against FP32 on this machine "
                          "(x FP32 per --speed-batch size)");
    return {app, [opt] { return run_sensitivity_command(*opt); }};
}

}  // namespace embq::cli
