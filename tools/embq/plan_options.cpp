#include "plan_options.hpp"

#include "embq/error.hpp"
#include "embq/format.hpp"
#include "embq/hardware.hpp"
#include "embq/presets.hpp"
#include "path_options.hpp"

namespace embq::cli {

const CLI::Validator& config_argument() {
    static const CLI::Validator validator(
        [](std::string& value) -> std::string {
            try {
                value = config_path(value).string();
                return "";
            } catch (const Error& e) {
                return e.what();
            }
        },
        "CONFIG|PRESET");
    return validator;
}

void add_model_config_arguments(CLI::App& app, QuantizeRequest& request) {
    reads_model(app.add_option("model", request.model, "TorchScript model file (.pt)"))->required();
    reads_file(app.add_option("config", request.config,
                              "Quantization config (JSON) or a preset's name ('embq configs' "
                              "lists them); see configs/README.md. Optional with --scheme")
                   ->transform(config_argument()));
    app.add_option("--scheme", request.scheme,
                   "Without a config: this scheme for every layer kind it supports ('embq "
                   "schemes' lists them); with one: in place of its defaults");
    app.add_option("--keep-fp32", request.keep_fp32,
                   "Keep the layers this glob matches fp32 (e.g. 'encoder.layer.11.*'); "
                   "repeatable, applied after the config's rules");
}

void add_plan_flags(CLI::App& app, QuantizeRequest& request) {
    app.add_flag("--allow-unmatched-rules", request.allow_unmatched_rules,
                 "A config rule that matches no layer is a warning, not an error");
    app.add_flag("--force", request.requantize,
                 "Accept a model embq already quantized as the input (by default refused: "
                 "quantize the FP32 source)");
    reads_file(
        app.add_option("--calibration", request.calibration_file,
                       "Calibration file from 'embq calibrate' (int8_static and bias_correction "
                       "need one; without it a config's \"calibration\" object is run)"));
    add_target_option(app, request);
    app.add_option("--observer", request.observer,
                   "Which of the calibration file's observers to take ranges from (default: "
                   "the first), or the observer a config's inline calibration runs");
}

void add_target_option(CLI::App& app, QuantizeRequest& request) {
    app.add_option("--target", request.target,
                   "Where the output is deployed, in place of the config's \"target\": " +
                       format_list(target_names(), 99) +
                       " (default: native, this machine). The preflight runs the target's "
                       "engine; 'embq doctor --target NAME' shows a profile");
}

void add_speed_check_flags(CLI::App& app, SpeedCheckArguments& args,
                           const std::string& check_speed_help) {
    app.add_flag("--check-speed", args.enabled, check_speed_help);
    app.add_option("--speed-batch", args.options.batch_sizes,
                   "Batch sizes the speed check times, comma-separated")
        ->delimiter(',')
        ->check(CLI::Range(int64_t{1}, int64_t{4096}))
        ->capture_default_str();
    app.add_option("--speed-tokens", args.options.tokens,
                   "Typical tokens per text for the speed check")
        ->check(CLI::Range(int64_t{1}, int64_t{8192}))
        ->capture_default_str();
}

std::string describe_calibration(const std::optional<Calibration>& calibration) {
    if (!calibration) return "";
    return " with " + calibration->selected_observer() + " ranges from " + calibration->origin();
}

}  // namespace embq::cli
