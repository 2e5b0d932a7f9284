#include "model/graph_util.hpp"

#include <torch/csrc/jit/passes/inliner.h>
#include <torch/jit.h>

namespace embq {

std::string join_path(const std::string& parent, const std::string& name) {
    return parent.empty() ? name : parent + "." + name;
}

ModulePaths module_paths(torch::jit::Graph& graph, const std::string& self_path) {
    ModulePaths paths{{graph.inputs().at(0), self_path}};
    for_each_node(graph.block(), [&](torch::jit::Node* node) {
        if (node->kind() != c10::prim::GetAttr) return;
        const auto it = paths.find(node->input(0));
        const auto cls = node->output()->type()->cast<c10::ClassType>();
        if (it != paths.end() && cls && cls->is_module())
            paths[node->output()] = join_path(it->second, node->s(c10::attr::name));
    });
    return paths;
}

const WeightOp* weight_op(const torch::jit::Node* node) {
    static const WeightOp kWeightOps[] = {
        {"aten::linear", LayerKind::Linear, 1},
        {"aten::embedding", LayerKind::Embedding, 0},
        {"aten::embedding_bag", LayerKind::EmbeddingBag, 0},
        {"aten::_embedding_bag", LayerKind::EmbeddingBag, 0},
    };
    const std::string kind = node->kind().toQualString();
    for (const auto& op : kWeightOps)
        if (kind == op.op && node->inputs().size() > op.weight_input) return &op;
    return nullptr;
}

namespace {

std::optional<std::string> owner_within(const torch::jit::Value* v, const std::string& name,
                                        const ModulePaths& paths, int depth) {
    const torch::jit::Node* n = v->node();
    if (n->kind() == c10::prim::GetAttr) {
        const auto it = paths.find(n->input(0));
        if (n->s(c10::attr::name) != name || it == paths.end()) return std::nullopt;
        return it->second;
    }
    if (n->kind() == c10::prim::If && depth < 4) {
        for (const torch::jit::Block* branch : n->blocks())
            if (auto owner =
                    owner_within(branch->outputs().at(v->offset()), name, paths, depth + 1))
                return owner;
    }
    return std::nullopt;
}

}  // namespace

std::optional<std::string> attribute_owner(const torch::jit::Value* v, const std::string& name,
                                           const ModulePaths& paths) {
    return owner_within(v, name, paths, 0);
}

std::vector<WeightUse> find_weight_uses(torch::jit::Graph& graph) {
    const ModulePaths paths = module_paths(graph, "");
    std::vector<WeightUse> uses;
    for_each_node(graph.block(), [&](torch::jit::Node* node) {
        const WeightOp* op = weight_op(node);
        if (!op) return;
        auto owner = attribute_owner(node->input(op->weight_input), "weight", paths);
        if (owner && !owner->empty()) uses.push_back({node, std::move(*owner)});
    });
    return uses;
}

torch::jit::Module submodule(const torch::jit::Module& root, const std::string& path) {
    torch::jit::Module m = root;
    size_t start = 0;
    while (start <= path.size() && !path.empty()) {
        const size_t dot = path.find('.', start);
        m = m.attr(path.substr(start, dot - start)).toModule();
        if (dot == std::string::npos) break;
        start = dot + 1;
    }
    return m;
}

std::vector<torch::jit::Value*> insert_call(torch::jit::Graph& graph, torch::jit::Node* before,
                                            const torch::jit::Function& fn,
                                            const std::vector<torch::jit::Value*>& inputs) {
    torch::jit::WithInsertPoint guard(before);
    auto callee = torch::jit::toGraphFunction(fn).graph()->copy();
    torch::jit::Inline(*callee);
    std::vector<torch::jit::Value*> outputs = torch::jit::insertGraph(graph, *callee, inputs);
    // A function that returns a tuple gives its elements, not the tuple.
    if (outputs.size() == 1 && outputs[0]->node()->kind() == c10::prim::TupleConstruct) {
        torch::jit::Node* tuple = outputs[0]->node();
        outputs.assign(tuple->inputs().begin(), tuple->inputs().end());
        if (!tuple->output()->hasUses()) tuple->destroy();
    }
    return outputs;
}

}  // namespace embq
