#include "plan_options.hpp"

namespace embq::cli {

void PlanArguments::add_to(CLI::App& app) {
    app.add_option("model", model, "TorchScript model file (.pt)")->required();
    app.add_option("config", config, "Quantization config (JSON); see configs/README.md")
        ->required();
    app.add_flag("--allow-unmatched-rules", allow_unmatched_rules,
                 "A config rule that matches no layer is a warning, not an error");
}

PlannedModel load_and_plan(const PlanArguments& args) {
    // Config first: it is cheap to read and the likelier to be wrong.
    Config config = load_config(args.config);
    LoadedModel model = load_model(args.model);
    PlanOptions options;
    options.allow_unmatched_rules = args.allow_unmatched_rules;
    Plan plan = make_plan(config, take_inventory(model.module), options);
    return {std::move(model), std::move(config), std::move(plan)};
}

}  // namespace embq::cli
