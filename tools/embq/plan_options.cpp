#include "plan_options.hpp"

namespace embq::cli {

void add_model_config_arguments(CLI::App& app, QuantizeRequest& request) {
    app.add_option("model", request.model, "TorchScript model file (.pt)")->required();
    app.add_option("config", request.config, "Quantization config (JSON); see configs/README.md")
        ->required();
}

void add_plan_flags(CLI::App& app, QuantizeRequest& request) {
    app.add_flag("--allow-unmatched-rules", request.allow_unmatched_rules,
                 "A config rule that matches no layer is a warning, not an error");
    app.add_option("--calibration", request.calibration_file,
                   "Calibration file from 'embq calibrate' (int8_static and bias_correction "
                   "need one; without it a config's \"calibration\" object is run)");
    app.add_option("--observer", request.observer,
                   "Which of the calibration file's observers to take ranges from (default: "
                   "the first), or the observer a config's inline calibration runs");
}

std::string describe_calibration(const std::optional<Calibration>& calibration) {
    if (!calibration) return "";
    return " with " + calibration->selected_observer() + " ranges from " + calibration->origin();
}

}  // namespace embq::cli
