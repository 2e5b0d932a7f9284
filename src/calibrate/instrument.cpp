#include "calibrate/instrument.hpp"

#include <memory>
#include <mutex>

#include <torch/csrc/jit/passes/inliner.h>
#include <torch/csrc/jit/runtime/custom_operator.h>

#include "embq/error.hpp"
#include "model/graph_util.hpp"

namespace embq {

namespace {

std::mutex tap_mutex;
std::unique_ptr<ActivationTap> current_tap;

constexpr const char* kObserveSchema = "embq::observe(Tensor x, int site) -> Tensor";

// Registered on first use rather than by a static initialiser, which a static libembq
// could drop at link time. CONSERVATIVE alias analysis: the op has a side effect (the
// tap), so no JIT pass may remove, merge or reorder it.
void register_observe_op() {
    static const torch::jit::RegisterOperators registration({torch::jit::Operator(
        kObserveSchema,
        [](torch::jit::Stack& stack) {
            const int64_t site = stack.back().toInt();
            stack.pop_back();
            std::lock_guard<std::mutex> lock(tap_mutex);
            if (current_tap) (*current_tap)(site, stack.back().toTensor());
        },
        c10::AliasAnalysisKind::CONSERVATIVE)});
}

}  // namespace

std::vector<ObservedSite> instrument_linear_layers(torch::jit::Module& module) {
    register_observe_op();
    auto forward = module.find_method("forward");
    if (!forward) throw input_error("the model has no forward method");
    auto graph = forward->graph();
    torch::jit::Inline(*graph);
    const c10::Symbol observe = c10::Symbol::fromQualString("embq::observe");

    std::vector<ObservedSite> sites;
    for (const WeightUse& use : find_weight_uses(*graph)) {
        torch::jit::Node* node = use.node;
        if (node->kind() != c10::aten::linear) continue;
        {
            torch::jit::WithInsertPoint before(node);
            torch::jit::Value* site = graph->insertConstant(static_cast<int64_t>(sites.size()));
            torch::jit::Value* seen = graph->insert(observe, {node->input(0), site});
            node->replaceInput(0, seen);
            sites.push_back({use.layer, false});
        }
        torch::jit::Value* y = node->output(0);
        torch::jit::WithInsertPoint after(node->next());
        torch::jit::Value* site = graph->insertConstant(static_cast<int64_t>(sites.size()));
        torch::jit::Value* seen = graph->insert(observe, {y, site});
        y->replaceAllUsesAfterNodeWith(seen->node(), seen);
        sites.push_back({use.layer, true});
    }
    return sites;
}

ScopedActivationTap::ScopedActivationTap(ActivationTap tap) {
    std::lock_guard<std::mutex> lock(tap_mutex);
    if (current_tap) throw runtime_failure("internal: a second activation tap was installed");
    current_tap = std::make_unique<ActivationTap>(std::move(tap));
}

ScopedActivationTap::~ScopedActivationTap() {
    std::lock_guard<std::mutex> lock(tap_mutex);
    current_tap.reset();
}

}  // namespace embq
