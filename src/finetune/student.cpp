#include "finetune/student.hpp"

#include <set>

#include <torch/csrc/jit/passes/inliner.h>

#include "embq/error.hpp"
#include "embq/format.hpp"
#include "embq/model.hpp"
#include "model/graph_util.hpp"

namespace embq {

namespace {

// Why the options of a planned layer cannot be fine-tuned, or "" when they can: each of
// these is a post-training correction that fine-tuning replaces, and the output must be
// what the student was trained as.
std::string refused_option(const ResolvedOptions& o) {
    if (o.rounding == Rounding::Gptq) return "\"rounding\": \"gptq\"";
    if (o.bias_correction) return "\"bias_correction\"";
    if (o.smoothing != 0) return "\"smoothing\"";
    return "";
}

// Schemes that can be simulated for `layer`, for the error message.
std::vector<std::string> simulated_alternatives(const Layer& layer) {
    std::vector<std::string> names;
    for (const Scheme* scheme : all_schemes()) {
        if (!scheme->supports(layer.kind) || !scheme->rewrites()) continue;
        try {
            SimulationContext probe(layer);
            if (scheme->simulate(probe, scheme->resolve(layer, {})))
                names.emplace_back(scheme->name());
        } catch (const Error&) {
            // Its defaults do not fit this layer: not an alternative.
        }
    }
    return names;
}

}  // namespace

std::map<std::string, SimulationContext> simulations_for(const Plan& plan) {
    std::map<std::string, SimulationContext> simulations;
    std::map<std::string, std::vector<std::string>> unsupported;  // scheme -> layers
    std::string refused;
    const Layer* example = nullptr;
    for (const LayerPlan& lp : plan.layers) {
        if (!lp.scheme->rewrites()) continue;
        const std::string option = refused_option(lp.options);
        if (!option.empty() && refused.empty())
            refused = "layer '" + lp.layer.path + "' sets " + option;
        SimulationContext ctx(lp.layer);
        if (lp.scheme->simulate(ctx, lp.options)) {
            simulations.emplace(lp.layer.path, std::move(ctx));
        } else {
            unsupported[std::string(lp.scheme->name())].push_back(lp.layer.path);
            if (!example) example = &lp.layer;
        }
    }
    if (!refused.empty())
        throw usage_error(refused +
                          ": fine-tuning learns what that post-training correction does, and "
                          "the output must store the weights it trained; remove it from the "
                          "config for finetune");
    if (!unsupported.empty()) {
        const auto& [scheme, layers] = *unsupported.begin();
        throw usage_error("finetune cannot simulate " + scheme + " (" +
                          std::to_string(layers.size()) + " layer(s): " + layers.front() +
                          (layers.size() > 1 ? ", ..." : "") + "); use one it simulates for them (" +
                          format_alternatives(simulated_alternatives(*example)) +
                          ") or keep them fp32");
    }
    if (simulations.empty())
        throw usage_error("the config quantizes no layer of this model: there is nothing to "
                          "fine-tune (every layer is planned fp32)");
    return simulations;
}

Student::Student(const std::filesystem::path& model_path, const Plan& plan)
    : module_(load_model(model_path).module) {
    const std::map<std::string, SimulationContext> simulations = simulations_for(plan);
    auto graph = module_.get_method("forward").graph();
    torch::jit::Inline(*graph);
    for (const WeightUse& use : find_weight_uses(*graph)) {
        const auto it = simulations.find(use.layer);
        if (it == simulations.end()) continue;
        const torch::jit::Function* rounding = it->second.input_rounding();
        if (!rounding || it->second.layer().kind != LayerKind::Linear) continue;
        const size_t data = weight_op(use.node)->weight_input == 0 ? 1 : 0;
        std::vector<torch::jit::Value*> inputs = {use.node->input(data)};
        {
            torch::jit::WithInsertPoint guard(use.node);
            for (const auto& c : it->second.input_constants())
                inputs.push_back(graph->insertConstant(c));
        }
        use.node->replaceInput(data, insert_call(*graph, use.node, *rounding, inputs).at(0));
        ++rounded_inputs_;
    }

    std::set<std::string> simulated_weights;
    for (const auto& [path, sim] : simulations) {
        SimulatedLayer layer{path, submodule(module_, path), sim.stored_weight(), {}};
        layer.latent =
            layer.module.attr("weight").toTensor().detach().to(at::kFloat).clone().requires_grad_();
        simulated_weights.insert(join_path(path, "weight"));
        layers_.push_back(std::move(layer));
    }
    for (const auto& p : module_.named_parameters(/*recurse=*/true)) {
        if (simulated_weights.count(p.name) || !p.value.is_floating_point()) continue;
        at::Tensor t = p.value;
        t.detach_().requires_grad_(true);
        others_.emplace(p.name, t);
    }
}

std::vector<at::Tensor> Student::parameters() const {
    std::vector<at::Tensor> params;
    for (const auto& layer : layers_) params.push_back(layer.latent);
    for (const auto& [path, t] : others_) params.push_back(t);
    return params;
}

void Student::refresh() {
    for (auto& layer : layers_) {
        at::Tensor stored;
        {
            at::NoGradGuard no_grad;
            stored = layer.stored_weight(layer.latent.detach());
        }
        layer.module.setattr("weight", layer.latent + (stored - layer.latent).detach());
    }
}

std::map<std::string, at::Tensor> Student::snapshot() const {
    std::map<std::string, at::Tensor> tensors;
    for (const auto& layer : layers_)
        tensors.emplace(join_path(layer.path, "weight"), layer.latent.detach().clone());
    for (const auto& [path, t] : others_) tensors.emplace(path, t.detach().clone());
    return tensors;
}

}  // namespace embq
