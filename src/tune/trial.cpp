#include "tune/trial.hpp"

#include <spdlog/spdlog.h>

#include "core/clock.hpp"
#include "embq/config.hpp"
#include "embq/model.hpp"
#include "embq/quantize.hpp"
#include "embq/workflow.hpp"

namespace embq {

namespace fs = std::filesystem;

bool Trial::passed() const {
    for (const auto& v : verdicts)
        if (!v.passed) return false;
    return true;
}

TrialRunner::TrialRunner(const fs::path& model, const EvalInputs& eval, const EvalOptions& options,
                         const std::vector<Gate>& gates, std::optional<Calibration> calibration,
                         const std::function<void(size_t)>& on_texts)
    : model_(model), gates_(gates), calibration_(std::move(calibration)) {
    inventory_ = take_inventory(load_model(model).module);
    fp32_bytes_ = fs::file_size(model);
    EvalInputs inputs = eval;
    inputs.baseline = model;
    baseline_ =
        std::make_unique<BaselineEvaluation>(inputs, options, gates, EvalProgress{{}, on_texts});
}

Trial TrialRunner::run(const nlohmann::json& config, const std::function<void(size_t)>& on_texts) {
    const auto t0 = Clock::now();
    const Config parsed = parse_config(config, "<trial>");
    PlanOptions plan_options;  // the config's own allow_unmatched_rules still applies
    plan_options.have_calibration = calibration_.has_value();
    LoadedModel loaded = load_model(model_);
    const double load_seconds = seconds_since(t0);
    Trial trial;
    trial.plan = plan_and_check_engine(parsed, take_inventory(loaded.module), plan_options);
    // One file reused by every trial: each is evaluated before the next is written.
    const fs::path output = scratch_.path() / "trial.pt";
    quantize_model(std::move(loaded), trial.plan, parsed.source, output,
                   calibration_ ? &*calibration_ : nullptr);
    trial.bytes = fs::file_size(output);
    const double quantize_seconds = seconds_since(t0) - load_seconds;
    trial.result = baseline_->evaluate(output, on_texts);
    trial.verdicts = check_gates(gates_, trial.result.metrics);
    trial.seconds = seconds_since(t0);
    spdlog::debug("trial: load {:.2f} s, plan+quantize {:.2f} s, evaluate {:.2f} s", load_seconds,
                  quantize_seconds, trial.seconds - load_seconds - quantize_seconds);
    ++trials_;
    return trial;
}

}  // namespace embq
