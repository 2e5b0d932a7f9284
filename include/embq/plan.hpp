// The plan: a config resolved against one model. For every layer: its scheme, its
// options with defaults filled in, the rule that chose it and its bytes before and
// after. `embq plan` prints it without quantizing anything; `embq quantize` executes it.
#pragma once

#include <string>
#include <vector>

#include <nlohmann/json_fwd.hpp>

#include "embq/config.hpp"
#include "embq/layers.hpp"
#include "embq/scheme.hpp"

namespace embq {

struct LayerPlan {
    Layer layer;
    const Scheme* scheme = nullptr;  // never null in a made plan
    ResolvedOptions options;
    std::string
        chosen_by;  // "rule 2 (encoder.*.query)", "default for linear", "kept: no rule or default"
    int64_t bytes_after = 0;
    // Its scheme needs calibration or its options do (bias correction, GPTQ, smoothing).
    bool needs_calibration() const;
    // Its rounding needs the calibration inputs' Gram matrix (GPTQ).
    bool needs_input_gram() const;
};

struct PlanOptions {
    bool allow_unmatched_rules = false;  // a rule matching no layer: warning instead of error
    bool have_calibration = false;       // schemes that need calibration may be planned
};

struct Plan {
    std::string engine;                 // as the config asks ("auto" until preflight resolves it)
    std::string target = "native";      // where it is deployed (Config::target)
    std::vector<LayerPlan> layers;      // every layer of the inventory, in model order
    std::vector<KeptModule> kept;       // modules no scheme handles
    std::vector<std::string> warnings;  // e.g. rules that matched nothing, when allowed

    bool needs_calibration() const;  // some layer does (the one check every caller uses)
    bool needs_input_gram() const;   // some layer does
    int64_t bytes_before() const;    // layers + kept, as the model stores them now
    int64_t bytes_after() const;     // layers as planned + kept
    const LayerPlan* find(const std::string& path) const;
};

// Resolves `config` against `inventory`. Config errors name the rule and the layer:
// a scheme that cannot apply to a matched layer's kind, options a scheme rejects, a
// rule matching no layer (unless allowed), a scheme needing calibration without it.
Plan make_plan(const Config& config, const ModelInventory& inventory, const PlanOptions& options);

// A layer's scheme with its options: "int8_dynamic per_channel sym", "fp16".
std::string scheme_text(const LayerPlan& layer);

// The dry-run table: layer, kind, scheme, options, chosen by, bytes before -> after,
// then totals and the predicted size ratio.
std::string format_plan(const Plan& plan);
nlohmann::json plan_to_json(const Plan& plan);

}  // namespace embq
