// The speed preflight (`embq plan --check-speed`, `embq quantize --check-speed`): before
// any model is written, time every distinct layer of the plan (scheme, options and weight
// shape) against FP32 on this machine at the batch sizes the model will serve, and name
// the layers that would run slower than FP32.
//
// Each distinct layer is quantized on its own by the same code `embq quantize` runs (a
// one-layer model through the plan's scheme), then it and its FP32 original take turns on
// fresh random inputs whose token counts vary around `tokens` (0.5x to 1.5x), as real text
// does: a fixed shape would hide kernel builds that variable lengths cause. It is a
// per-layer estimate; `embq bench` measures the whole quantized model.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include <nlohmann/json_fwd.hpp>

#include "embq/plan.hpp"

namespace embq {

struct SpeedCheckOptions {
    std::vector<int64_t> batch_sizes{1, 8, 32};
    int64_t tokens = 16;  // typical tokens per text
    int rounds = 3;       // each layer and its FP32 original take turns this many times
    int calls = 10;       // timed calls per turn
};

struct LayerGroupSpeed {
    std::string scheme;  // scheme_text(), e.g. "int8_dynamic per_channel sym"
    LayerKind kind = LayerKind::Linear;
    std::vector<int64_t> weight_shape;
    std::vector<std::string> layers;  // every planned layer with this scheme and shape
    std::vector<double> speedup;      // per batch size: FP32 time / this scheme's time
};

struct SpeedCheck {
    SpeedCheckOptions options;
    std::vector<LayerGroupSpeed> groups;  // layers a scheme rewrites, in plan order
    std::vector<std::string> not_timed;   // "encoder.x (int8_static: needs calibration)"
};

// Times the plan's rewritten layers. `plan.engine` must be resolved (resolve_engine).
SpeedCheck check_plan_speed(const Plan& plan, const SpeedCheckOptions& options);

// One line per batch size and group slower than FP32, naming its layers.
std::vector<std::string> speed_warnings(const SpeedCheck& check);
// The table: scheme, shape, layers, x FP32 per batch size; then the warnings.
std::string format_speed_check(const SpeedCheck& check);
// For `embq plan --json`: the groups with their speed-ups, what was not timed, the warnings.
nlohmann::json speed_check_json(const SpeedCheck& check);

}  // namespace embq
