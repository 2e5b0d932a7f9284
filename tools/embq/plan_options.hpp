// The command-line side of the plan-and-calibrate workflow (include/embq/workflow.hpp),
// declared once for `embq plan`, `embq quantize` and `embq compare`.
#pragma once

#include <CLI/CLI.hpp>

#include "embq/speed_check.hpp"
#include "embq/workflow.hpp"

namespace embq::cli {

// A config argument: a JSON file, or a preset's name turned into its file (presets.hpp)
// before the paths are checked.
const CLI::Validator& config_argument();

// MODEL and CONFIG as positional arguments (plan, quantize; compare declares its own
// list of configs).
void add_model_config_arguments(CLI::App& app, QuantizeRequest& request);
// --allow-unmatched-rules, --force, --calibration FILE, --target NAME and --observer SPEC.
void add_plan_flags(CLI::App& app, QuantizeRequest& request);
// --target NAME alone (finetune, which takes no calibration).
void add_target_option(CLI::App& app, QuantizeRequest& request);

// --check-speed, --speed-batch and --speed-tokens (plan, quantize).
struct SpeedCheckArguments {
    bool enabled = false;
    SpeedCheckOptions options;
};
// `check_speed_help` says what --check-speed does for this command.
void add_speed_check_flags(CLI::App& app, SpeedCheckArguments& args,
                           const std::string& check_speed_help =
                               "Time each rewritten layer against FP32 on this machine first "
                               "and warn, naming the layers, where the plan would be slower");

// "... with percentile:99.99 ranges from calib.json", or "" without calibration.
std::string describe_calibration(const std::optional<Calibration>& calibration);

}  // namespace embq::cli
