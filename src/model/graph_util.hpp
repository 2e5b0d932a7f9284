// Reading TorchScript graphs the way embq needs to: walking every node, naming the
// submodule a value refers to, and finding the ops that apply a layer's weight.
// Shared by the inventory (model.cpp) and the rewrite (quantize.cpp).
#pragma once

#include <optional>
#include <string>
#include <unordered_map>
#include <vector>

#include <torch/script.h>

#include "embq/layers.hpp"

namespace embq {

// Calls fn(node) for every node of `block` and of the blocks nested in it (prim::If, Loop).
template <typename Fn>
void for_each_node(torch::jit::Block* block, Fn&& fn) {
    for (torch::jit::Node* node : block->nodes()) {
        fn(node);
        for (torch::jit::Block* sub : node->blocks()) for_each_node(sub, fn);
    }
}

// "encoder" + "layer" -> "encoder.layer"; "" is the root.
std::string join_path(const std::string& parent, const std::string& name);

using ModulePaths = std::unordered_map<const torch::jit::Value*, std::string>;

// The module path of every value in `graph` that is a submodule reached by prim::GetAttr
// chains from the graph's `self` (whose path is `self_path`).
ModulePaths module_paths(torch::jit::Graph& graph, const std::string& self_path);

// The ops that apply a layer's weight, and which of their inputs is the weight:
// aten::linear(input, weight, bias), aten::embedding(weight, indices, ...), ...
struct WeightOp {
    const char* op;
    LayerKind kind;
    size_t weight_input;
};
const WeightOp* weight_op(const torch::jit::Node* node);  // nullptr for other ops

// The path of the module whose attribute `name` feeds `v`, following prim::If outputs
// when any branch yields it (scripted F.embedding_bag routes its weight through one).
std::optional<std::string> attribute_owner(const torch::jit::Value* v, const std::string& name,
                                           const ModulePaths& paths);

// The submodule of `root` at `path` ("encoder.layer.0.fc"; "" is the root itself).
torch::jit::Module submodule(const torch::jit::Module& root, const std::string& path);

// Splices `fn` (a compiled TorchScript function, its own calls inlined so the graph stands
// alone) into `graph` before `before` and returns its outputs (a returned tuple's elements).
std::vector<torch::jit::Value*> insert_call(torch::jit::Graph& graph, torch::jit::Node* before,
                                            const torch::jit::Function& fn,
                                            const std::vector<torch::jit::Value*>& inputs);

// One call site of a layer in an inlined forward graph: the op that applies its weight.
struct WeightUse {
    torch::jit::Node* node;
    std::string layer;  // the layer's module path
};

// Every weight op in `graph` (forward of the root module, inlined) whose weight is an
// attribute of a submodule, in graph order. A layer called twice appears twice.
std::vector<WeightUse> find_weight_uses(torch::jit::Graph& graph);

}  // namespace embq
