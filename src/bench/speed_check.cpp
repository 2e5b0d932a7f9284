#include "embq/speed_check.hpp"

#include "embq/error.hpp"
#include "embq/hardware.hpp"

#include <algorithm>
#include <chrono>

#include <torch/script.h>
#include <nlohmann/json.hpp>

#include "core/scratch_dir.hpp"
#include "core/text_table.hpp"
#include "embq/config.hpp"
#include "embq/format.hpp"
#include "embq/layers.hpp"
#include "embq/metrics.hpp"
#include "embq/model.hpp"
#include "embq/quantize.hpp"
#include "embq/workflow.hpp"

namespace embq {

namespace {

using Clock = std::chrono::steady_clock;

// The config that gives the one-layer model the layer's scheme and options. Bias
// correction is left out: it needs calibration and changes only the bias, not the speed.
nlohmann::json one_layer_config(const LayerPlan& lp, const std::string& engine) {
    nlohmann::json rule = {{"match", "layer"}, {"scheme", std::string(lp.scheme->name())}};
    if (lp.scheme->takes_options()) {
        rule["granularity"] = lp.options.granularity.to_string();
        rule["symmetric"] = lp.options.symmetric;
        if (lp.options.reduce_range) rule["reduce_range"] = true;
    }
    if (lp.scheme->picks_activation_range())
        rule["activation_range"] = to_string(lp.options.activation_range);
    // "none" (a build without quantized engines) is a resolved value, not a config choice.
    return {{"engine", engine == "none" ? "auto" : engine},
            {"rules", nlohmann::json::array({rule})}};
}

// Root.forward calls child `layer`, which applies a weight of the layer's shape (random:
// speed depends on the shape, not the values).
torch::jit::Module one_layer_model(const Layer& layer) {
    torch::jit::Module child("EmbqSpeedCheckLayer");
    child.register_parameter("weight", at::randn(layer.weight_shape) * 0.05, false);
    if (layer.kind == LayerKind::Linear) {
        if (layer.has_bias)
            child.register_parameter("bias", at::randn({layer.weight_shape[0]}), false);
        child.define(
            layer.has_bias
                ? "def forward(self, x):\n    return torch.linear(x, self.weight, self.bias)\n"
                : "def forward(self, x):\n    return torch.linear(x, self.weight, None)\n");
    } else {
        child.define("def forward(self, ids):\n    return torch.embedding(self.weight, ids)\n");
    }
    torch::jit::Module root("EmbqSpeedCheckModel");
    root.register_module("layer", child);
    root.define("def forward(self, x):\n    return self.layer.forward(x)\n");
    return root;
}

torch::jit::Module quantize_one_layer(const LayerPlan& lp, const std::string& engine,
                                      const ScratchDir& dir) {
    const auto fp32_path = dir.path() / "layer.pt", quantized_path = dir.path() / "layer_q.pt";
    one_layer_model(lp.layer).save(fp32_path.string());
    LoadedModel loaded = load_model(fp32_path);
    const nlohmann::json doc = one_layer_config(lp, engine);
    const Plan plan =
        plan_and_check_engine(parse_config(doc, "<speed check>"), take_inventory(loaded.module), {});
    quantize_model(std::move(loaded), plan, doc, quantized_path);
    return load_model(quantized_path).module;
}

// `calls` inputs for one turn: token counts from 0.5x to 1.5x `tokens`, fresh values.
std::vector<at::Tensor> turn_inputs(const Layer& layer, int64_t batch, const SpeedCheckOptions& o) {
    static const double kLengthFactors[] = {0.5, 0.75, 1.0, 1.25, 1.5};
    std::vector<at::Tensor> inputs;
    for (int i = 0; i < o.calls; ++i) {
        const auto t = std::max<int64_t>(
            1, static_cast<int64_t>(static_cast<double>(o.tokens) * kLengthFactors[i % 5] + 0.5));
        if (layer.kind == LayerKind::Linear)
            inputs.push_back(at::randn({batch, t, layer.weight_shape[1]}));
        else
            inputs.push_back(at::randint(layer.weight_shape[0], {batch, t}));
    }
    return inputs;
}

double turn_seconds(torch::jit::Module& model, const std::vector<at::Tensor>& inputs) {
    c10::InferenceMode guard;
    const auto t0 = Clock::now();
    for (const auto& x : inputs) model.forward({x});
    return std::chrono::duration<double>(Clock::now() - t0).count();
}

std::vector<double> measure(torch::jit::Module& fp32, torch::jit::Module& quantized,
                            const Layer& layer, const SpeedCheckOptions& o) {
    std::vector<double> speedups;
    for (int64_t batch : o.batch_sizes) {
        turn_seconds(fp32, turn_inputs(layer, batch, o));  // warm-up: kernels, allocator
        turn_seconds(quantized, turn_inputs(layer, batch, o));
        std::vector<double> ratios;
        for (int round = 0; round < o.rounds; ++round) {
            const auto inputs = turn_inputs(layer, batch, o);
            double fp32_s = 0, quantized_s = 0;
            if (round % 2 == 0) fp32_s = turn_seconds(fp32, inputs);
            quantized_s = turn_seconds(quantized, inputs);
            if (round % 2 != 0) fp32_s = turn_seconds(fp32, inputs);
            ratios.push_back(fp32_s / quantized_s);
        }
        std::sort(ratios.begin(), ratios.end());
        speedups.push_back(percentile_of_sorted(ratios, 50));
    }
    return speedups;
}

std::string shape_text(const std::vector<int64_t>& shape) {
    std::string s;
    for (int64_t d : shape) s += (s.empty() ? "" : "x") + std::to_string(d);
    return s;
}

}  // namespace

SpeedCheck check_plan_speed(const Plan& plan, const SpeedCheckOptions& options) {
    if (plan.target != kNativeTarget)
        throw usage_error("--check-speed times this machine, not target " + plan.target +
                          "; run 'embq bench' on a machine of that target to measure it");
    SpeedCheck check;
    check.options = options;
    std::vector<const LayerPlan*> representatives;
    for (const auto& lp : plan.layers) {
        if (!lp.scheme->rewrites()) continue;
        if (lp.layer.kind == LayerKind::EmbeddingBag) {
            check.not_timed.push_back(lp.layer.path + " (embedding_bag: not timed)");
            continue;
        }
        if (lp.scheme->needs_calibration()) {
            check.not_timed.push_back(lp.layer.path + " (" + std::string(lp.scheme->name()) +
                                      ": needs calibration)");
            continue;
        }
        const std::string scheme = scheme_text(lp);
        auto same = std::find_if(check.groups.begin(), check.groups.end(), [&](const auto& g) {
            return g.scheme == scheme && g.kind == lp.layer.kind &&
                   g.weight_shape == lp.layer.weight_shape;
        });
        if (same != check.groups.end()) {
            same->layers.push_back(lp.layer.path);
            continue;
        }
        check.groups.push_back({scheme, lp.layer.kind, lp.layer.weight_shape, {lp.layer.path}, {}});
        representatives.push_back(&lp);
    }

    const ScratchDir dir("embq-speed-check");
    for (size_t g = 0; g < check.groups.size(); ++g) {
        const Layer& layer = representatives[g]->layer;
        torch::jit::Module fp32 = one_layer_model(layer);
        fp32.eval();
        torch::jit::Module quantized = quantize_one_layer(*representatives[g], plan.engine, dir);
        check.groups[g].speedup = measure(fp32, quantized, layer, options);
    }
    return check;
}

std::vector<std::string> speed_warnings(const SpeedCheck& check) {
    std::vector<std::string> warnings;
    for (size_t b = 0; b < check.options.batch_sizes.size(); ++b) {
        for (const auto& g : check.groups) {
            if (g.speedup[b] >= 1.0) continue;
            warnings.push_back("at batch " + std::to_string(check.options.batch_sizes[b]) + ", " +
                               std::to_string(g.layers.size()) + " layer" +
                               (g.layers.size() == 1 ? "" : "s") + " (" + format_list(g.layers) +
                               ") with " + g.scheme + " [" + shape_text(g.weight_shape) +
                               "] run at " + format_fixed(g.speedup[b], 2) +
                               "x FP32 speed on this machine");
        }
    }
    return warnings;
}

std::string format_speed_check(const SpeedCheck& check) {
    std::vector<std::string> header = {"scheme", "weight", "layers"};
    for (int64_t b : check.options.batch_sizes)
        header.push_back("b" + std::to_string(b) + " x FP32");
    TextTable table(header);
    for (const auto& g : check.groups) {
        std::vector<std::string> row = {g.scheme, shape_text(g.weight_shape),
                                        std::to_string(g.layers.size())};
        for (double s : g.speedup) row.push_back(format_fixed(s, 2));
        table.add_row(std::move(row));
    }
    std::string out =
        "speed check: each rewritten layer alone against FP32 on this machine, "
        "about " +
        std::to_string(check.options.tokens) + " tokens per text (0.5x-1.5x), median of " +
        std::to_string(check.options.rounds) + " rounds\n" + table.render();
    if (!check.not_timed.empty()) out += "not timed: " + format_list(check.not_timed) + "\n";
    const auto warnings = speed_warnings(check);
    out += warnings.empty()
               ? "no layer is slower than FP32 at these batch sizes\n"
               : std::to_string(warnings.size()) +
                     " slower than FP32; the whole model: 'embq bench FP32.pt OUT.pt'\n";
    return out;
}

nlohmann::json speed_check_json(const SpeedCheck& check) {
    nlohmann::json groups = nlohmann::json::array();
    for (const auto& g : check.groups)
        groups.push_back({{"scheme", g.scheme},
                          {"weight_shape", g.weight_shape},
                          {"layers", g.layers},
                          {"speedup_vs_fp32", g.speedup}});
    return {{"batch_sizes", check.options.batch_sizes},
            {"tokens", check.options.tokens},
            {"groups", groups},
            {"not_timed", check.not_timed},
            {"warnings", speed_warnings(check)}};
}

}  // namespace embq
