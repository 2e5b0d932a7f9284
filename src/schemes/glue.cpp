#include "schemes/glue.hpp"

#include <map>
#include <mutex>

#include <torch/jit.h>

#include "embq/error.hpp"

namespace embq {

namespace {

const char* kLookupGlue = R"TS(
def embedding(params: List[Tensor], ids: Tensor) -> Tensor:
    return rows(params, ids)

def bag(params: List[Tensor], indices: Tensor, offsets: Tensor, scale_grad_by_freq: bool,
        mode: int, sparse: bool, per_sample_weights: Optional[Tensor],
        include_last_offset: bool) -> Tensor:
    unique, inverse, counts = torch._unique2(indices, True, True, False)
    table = rows(params, unique)
    return torch.embedding_bag(table, inverse, offsets, scale_grad_by_freq, mode, sparse,
                               per_sample_weights, include_last_offset)[0]
)TS";

const char* kDecodedWeightMethods = R"TS(
def __getstate__(self) -> Tuple[List[Tensor], bool]:
    return (self.state, self.training)

def __setstate__(self, state: Tuple[List[Tensor], bool]) -> None:
    self.state = state[0]
    self.training = state[1]
    self.decoded = self.decode()
)TS";

const char* kLinearGlue = R"TS(
def linear(x: Tensor, weight: Tensor, bias: Optional[Tensor]) -> Tensor:
    return torch.linear(x, weight, bias)
)TS";

// A new object of class embq.`class_name` (defined in the model by its first use) set up
// as loading sets it up: __setstate__ decodes `state`.
c10::IValue decoded_weight_object(RewriteContext& ctx, const std::string& class_name,
                                  const std::string& decode_source,
                                  const std::vector<at::Tensor>& state) {
    const auto cu = ctx.compilation_unit();
    const c10::QualifiedName name("__torch__.embq." + class_name);
    c10::ClassTypePtr type = cu->get_class(name);
    if (!type) {
        torch::jit::Module prototype(name, cu, /*shouldMangle=*/false);
        prototype.register_attribute("training", c10::BoolType::get(), false);
        prototype.register_attribute("state", c10::ListType::ofTensors(), c10::List<at::Tensor>());
        prototype.register_attribute("decoded", c10::TensorType::get(), at::Tensor());
        prototype.define(std::string(kDecodedWeightMethods) + decode_source);
        type = prototype.type();
    }
    torch::jit::Module object(cu, type);
    object.run_method("__setstate__",
                      c10::ivalue::Tuple::create({c10::List<at::Tensor>(state), false}));
    return object._ivalue();
}

torch::jit::Value* tensor_list(RewriteContext& ctx, const std::vector<torch::jit::Value*>& values) {
    torch::jit::WithInsertPoint guard(ctx.node());
    return ctx.graph().insertNode(ctx.graph().createList(c10::TensorType::get(), values))->output();
}

// aten::embedding_bag.padding_idx and aten::_embedding_bag carry a padding_idx as
// input 8; the rewrite does not implement skipping it, so only "none" is accepted.
void require_no_padding_idx(RewriteContext& ctx) {
    const torch::jit::Node* node = ctx.node();
    if (node->inputs().size() <= 8) return;
    const auto value = torch::jit::toIValue(node->input(8));
    if (value && (value->isNone() || (value->isInt() && value->toInt() < 0))) return;
    throw config_error("layer '" + ctx.layer().path +
                       "': embedding_bag with a padding_idx is not supported by this scheme; "
                       "keep it fp32 or fp16");
}

}  // namespace

const torch::jit::Function& script_function(const std::string& source, const std::string& name) {
    static std::mutex mutex;
    static std::map<std::string, std::shared_ptr<torch::jit::CompilationUnit>> units;
    std::lock_guard<std::mutex> lock(mutex);
    auto& unit = units[source];
    if (!unit) unit = torch::jit::compile(source);
    return unit->get_function(name);
}

void replace_linear(RewriteContext& ctx, const torch::jit::Function& fn,
                    const std::vector<torch::jit::Value*>& params, torch::jit::Value* new_bias) {
    std::vector<torch::jit::Value*> inputs{ctx.node()->input(0)};
    inputs.insert(inputs.end(), params.begin(), params.end());
    inputs.push_back(new_bias ? new_bias : ctx.node()->input(2));
    ctx.replace_node_output(ctx.call(fn, inputs).at(0));
}

void replace_linear_with_decoded(RewriteContext& ctx, const std::string& class_name,
                                 const std::string& decode_source,
                                 const std::function<std::vector<at::Tensor>()>& state,
                                 torch::jit::Value* new_bias) {
    torch::jit::Value* object = ctx.attribute(
        "weights", [&] { return decoded_weight_object(ctx, class_name, decode_source, state()); });
    torch::jit::Value* decoded = nullptr;
    {
        torch::jit::WithInsertPoint guard(ctx.node());
        decoded = ctx.graph().insertGetAttr(object, "decoded");
    }
    replace_linear(ctx, script_function(kLinearGlue, "linear"), {decoded}, new_bias);
}

void replace_lookup(RewriteContext& ctx, const std::string& rows_source,
                    const std::vector<torch::jit::Value*>& params) {
    const std::string source = rows_source + kLookupGlue;
    torch::jit::Value* list = tensor_list(ctx, params);
    const torch::jit::Node* node = ctx.node();
    if (ctx.layer().kind == LayerKind::Embedding) {
        // aten::embedding(weight, indices, padding_idx, scale_grad_by_freq, sparse):
        // padding_idx only affects gradients, so the forward is a plain row lookup.
        const auto& fn = script_function(source, "embedding");
        ctx.replace_node_output(ctx.call(fn, {list, node->input(1)}).at(0));
        return;
    }
    require_no_padding_idx(ctx);
    const auto& fn = script_function(source, "bag");
    std::vector<torch::jit::Value*> inputs{list};
    for (size_t i = 1; i <= 7; ++i) inputs.push_back(node->input(i));
    ctx.replace_node_output(ctx.call(fn, inputs).at(0));
}

}  // namespace embq
