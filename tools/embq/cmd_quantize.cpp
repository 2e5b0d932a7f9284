// embq quantize MODEL CONFIG -o OUT.pt: executes the plan and writes a plain
// TorchScript model (atomically; the input is never touched), then prints what each
// layer became and the sizes, as llama-quantize does.
#include <iostream>
#include <memory>

#include <spdlog/spdlog.h>

#include "command.hpp"
#include "embq/format.hpp"
#include "embq/hardware.hpp"
#include "path_options.hpp"
#include "plan_options.hpp"
#include "text_options.hpp"

namespace embq::cli {

namespace {

struct QuantizeCommandOptions {
    QuantizeRequest request;
    SpeedCheckArguments speed;
    std::string output;
};

int run_quantize(const QuantizeCommandOptions& opt) {
    PlannedModel planned = load_and_plan(opt.request);
    check_output_format(planned.plan, opt.output);
    if (opt.speed.enabled) {
        const SpeedCheck check = check_plan_speed(planned.plan, opt.speed.options);
        const auto warnings = speed_warnings(check);
        for (const auto& w : warnings) spdlog::warn("{}", w);
        if (warnings.empty())
            spdlog::info("speed check: no rewritten layer is slower than FP32 at these batch sizes");
    }
    const std::optional<Calibration> calibration = obtain_calibration(
        opt.request, planned, [](const std::string& w) { spdlog::warn("{}", w); });
    spdlog::info("quantizing {} layers of {} on engine {}{}{}", planned.plan.layers.size(),
                 opt.request.model.string(), planned.plan.engine,
                 planned.plan.target == kNativeTarget ? "" : " for target " + planned.plan.target,
                 describe_calibration(calibration));
    const QuantizeResult result =
        quantize_model(std::move(planned.model), planned.plan, planned.config.source, opt.output,
                       calibration ? &*calibration : nullptr);
    for (const auto& w : result.warnings) spdlog::warn("{}", w);

    std::cout << format_plan(planned.plan) << "\n"
              << "model file: " << format_bytes(result.input_file_bytes) << " -> "
              << format_bytes(result.output_file_bytes) << " ("
              << format_percent(result.output_file_bytes, result.input_file_bytes) << " of FP32)\n"
              << "wrote " << opt.output << "\n";
    return 0;
}

}  // namespace

Command add_quantize_command(CLI::App& parent) {
    auto opt = std::make_shared<QuantizeCommandOptions>();
    CLI::App* app =
        parent.add_subcommand("quantize",
                              "Quantize a model layer by layer as a config says and write a plain "
                              "TorchScript file that runs in stock libtorch and PyTorch.");
    add_model_config_arguments(*app, opt->request);
    add_plan_flags(*app, opt->request);
    add_speed_check_flags(*app, opt->speed);
    writes_file(
        app->add_option(
            "-o,--output", opt->output,
            "Where to write the quantized model: NAME.pt (TorchScript) or NAME.ptl (PyTorch "
            "Mobile's lite interpreter, loaded back and run before it is kept)"))
        ->required();
    add_model_text_options(*app, opt->request.calibration_model,
                           " (for the config's inline calibration)");
    return {app, [opt] { return run_quantize(*opt); }};
}

}  // namespace embq::cli
