// What `embq plan` and `embq quantize` share: the MODEL CONFIG arguments, the flags
// that shape the plan, and loading both into a plan.
#pragma once

#include <string>

#include <CLI/CLI.hpp>

#include "embq/config.hpp"
#include "embq/model.hpp"
#include "embq/plan.hpp"

namespace embq::cli {

struct PlanArguments {
    std::string model;
    std::string config;
    bool allow_unmatched_rules = false;

    void add_to(CLI::App& app);
};

struct PlannedModel {
    LoadedModel model;
    Config config;
    Plan plan;
};

PlannedModel load_and_plan(const PlanArguments& args);

}  // namespace embq::cli
