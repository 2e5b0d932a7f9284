#include "plan_options.hpp"

#include <spdlog/spdlog.h>

#include "embq/calibrate.hpp"

namespace embq::cli {

void CalibrationArguments::add_to(CLI::App& app) {
    app.add_option("--calibration", file,
                   "Calibration file from 'embq calibrate' (int8_static and bias_correction "
                   "need one; without it a config's \"calibration\" object is run)");
    app.add_option("--observer", observer,
                   "Which of the calibration file's observers to take ranges from (default: "
                   "the first), or the observer a config's inline calibration runs");
}

std::optional<Calibration> CalibrationArguments::load_file() const {
    if (file.empty()) return std::nullopt;
    Calibration calibration = Calibration::load(file);
    if (!observer.empty()) calibration.select(observer);
    return calibration;
}

void PlanArguments::add_to(CLI::App& app) {
    app.add_option("model", model, "TorchScript model file (.pt)")->required();
    app.add_option("config", config, "Quantization config (JSON); see configs/README.md")
        ->required();
    app.add_flag("--allow-unmatched-rules", allow_unmatched_rules,
                 "A config rule that matches no layer is a warning, not an error");
    calibration.add_to(app);
}

PlannedModel load_and_plan(const PlanArguments& args) {
    // Config first: it is cheap to read and the likelier to be wrong.
    Config config = load_config(args.config);
    LoadedModel model = load_model(args.model);
    PlanOptions options;
    options.allow_unmatched_rules = args.allow_unmatched_rules;
    options.have_calibration = !args.calibration.file.empty() || config.calibration.has_value();
    Plan plan = make_plan(config, take_inventory(model.module), options);
    return {std::move(model), std::move(config), std::move(plan)};
}

bool plan_needs_calibration(const Plan& plan) {
    for (const auto& lp : plan.layers)
        if (lp.scheme->needs_calibration() || lp.options.bias_correction) return true;
    return false;
}

std::optional<Calibration> obtain_calibration(const CalibrationArguments& args, const Config& config,
                                              const std::string& model_path,
                                              const EmbeddingModelOptions& model_options) {
    std::optional<Calibration> calibration = args.load_file();
    if (calibration) {
        if (config.calibration)
            spdlog::info("using {}; the config's \"calibration\" is not run", args.file);
    } else if (config.calibration) {
        const CalibrationSpec& spec = *config.calibration;
        CalibrateOptions options;
        options.samples = spec.samples;
        // --observer overrides the config's for a run of its own.
        options.observers = {args.observer.empty() ? spec.observer : args.observer};
        options.batch_size = spec.batch_size;
        spdlog::info("calibrating on the first {} texts of {} ({})", spec.samples,
                     spec.data.string(), options.observers.front());
        CalibrationRun run = calibrate(model_path, model_options, spec.data,
                                       dataset_format_for(spec.data), options);
        for (const auto& w : run.warnings) spdlog::warn("{}", w);
        calibration = Calibration::from_json(run.document, config.origin + " calibration");
    }
    return calibration;
}

}  // namespace embq::cli
