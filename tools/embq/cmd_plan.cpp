// embq plan MODEL CONFIG: the dry run. Resolves the config against the model and
// prints, for every layer, its scheme, the rule that chose it and its bytes before
// and after, plus the engine check. Writes nothing.
#include <iostream>
#include <memory>

#include <nlohmann/json.hpp>

#include <spdlog/spdlog.h>

#include "command.hpp"
#include "embq/hardware.hpp"
#include "plan_options.hpp"

namespace embq::cli {

namespace {

struct PlanCommandOptions {
    QuantizeRequest request;
    SpeedCheckArguments speed;
    bool json = false;
};

int run_plan(const PlanCommandOptions& opt) {
    const PlannedModel planned = load_and_plan(opt.request);
    std::optional<SpeedCheck> speed;
    if (opt.speed.enabled) speed = check_plan_speed(planned.plan, opt.speed.options);
    if (opt.json) {
        nlohmann::json out = plan_to_json(planned.plan);
        out["model"] = opt.request.model.string();
        out["config"] = planned.config.origin;
        if (speed) out["speed_check"] = speed_check_json(*speed);
        std::cout << out.dump(2) << "\n";
        return 0;
    }
    std::cout << format_plan(planned.plan)
              << "preflight passed: every scheme in the plan runs on engine " << planned.plan.engine
              << (planned.plan.target == kNativeTarget ? ""
                                                       : ", target " + planned.plan.target + "'s")
              << "\n";
    if (speed) {
        std::cout << "\n" << format_speed_check(*speed) << std::flush;
        for (const auto& w : speed_warnings(*speed)) spdlog::warn("{}", w);
    }
    return 0;
}

}  // namespace

Command add_plan_command(CLI::App& parent) {
    auto opt = std::make_shared<PlanCommandOptions>();
    CLI::App* app = parent.add_subcommand(
        "plan",
        "Dry run: show which scheme each layer gets, why, and the predicted size, "
        "and check the engine; writes nothing. 'embq schemes' lists the schemes.");
    add_model_config_arguments(*app, opt->request);
    add_plan_flags(*app, opt->request);
    add_speed_check_flags(*app, opt->speed);
    app->add_flag("--json", opt->json, "Print the plan as JSON");
    return {app, [opt] { return run_plan(*opt); }};
}

}  // namespace embq::cli
