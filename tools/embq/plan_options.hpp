// What `embq plan`, `embq quantize` and `embq compare` share: the MODEL CONFIG arguments,
// the flags that shape the plan, loading both into a plan, and finding the calibration
// a plan needs.
#pragma once

#include <optional>
#include <string>

#include <CLI/CLI.hpp>

#include "embq/calibration.hpp"
#include "embq/config.hpp"
#include "embq/embed.hpp"
#include "embq/model.hpp"
#include "embq/plan.hpp"

namespace embq::cli {

// --calibration FILE and --observer SPEC.
struct CalibrationArguments {
    std::string file;
    std::string observer;

    void add_to(CLI::App& app);
    // The --calibration file with --observer selected; nullopt without --calibration.
    std::optional<Calibration> load_file() const;
};

struct PlanArguments {
    std::string model;
    std::string config;
    bool allow_unmatched_rules = false;
    CalibrationArguments calibration;

    void add_to(CLI::App& app);
};

struct PlannedModel {
    LoadedModel model;
    Config config;
    Plan plan;
};

PlannedModel load_and_plan(const PlanArguments& args);

// True when some layer's scheme needs calibration or asks for bias correction.
bool plan_needs_calibration(const Plan& plan);

// The calibration for `config`'s plans on `model_path`: the --calibration file when
// given, else the config's "calibration" run now (on `model_options`' card and
// tokenizer), else nullopt. --observer picks the ranges (default: the first observer).
std::optional<Calibration> obtain_calibration(const CalibrationArguments& args, const Config& config,
                                              const std::string& model_path,
                                              const EmbeddingModelOptions& model_options);

}  // namespace embq::cli
