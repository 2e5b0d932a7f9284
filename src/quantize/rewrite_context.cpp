#include "quantize/rewrite_context.hpp"

#include "embq/error.hpp"
#include "embq/stored_layers.hpp"
#include "model/graph_util.hpp"
#include "quantize/gptq.hpp"

namespace embq {

RewriteContext::RewriteContext(torch::jit::Module& root, torch::jit::Graph& graph,
                               torch::jit::Node* node, const torch::jit::Module& layer_module,
                               const Layer& layer, std::string engine,
                               const Calibration* calibration, StoredTogether& stored_together)
    : root_(root),
      graph_(graph),
      node_(node),
      layer_module_(layer_module),
      layer_(layer),
      engine_(std::move(engine)),
      calibration_(calibration),
      stored_together_(stored_together) {}

at::Tensor RewriteContext::weight() const {
    return layer_module_.attr("weight").toTensor().detach().contiguous().to(at::kFloat);
}

c10::optional<at::Tensor> RewriteContext::bias() const {
    if (!layer_module_.hasattr("bias") || !layer_module_.attr("bias").isTensor())
        return c10::nullopt;
    return layer_module_.attr("bias").toTensor().detach().contiguous().to(at::kFloat);
}

LayerCalibration RewriteContext::calibration() const {
    if (!calibration_)
        throw config_error("layer '" + layer_.path +
                           "' needs calibration; pass --calibration FILE");
    auto found = calibration_->layer(layer_.path);
    if (!found)
        throw config_error("layer '" + layer_.path + "': " + calibration_->origin() + " has no " +
                           calibration_->selected_observer() +
                           " range for it (was it "
                           "calibrated on another model, or did the data never reach the layer?)");
    return *found;
}

c10::optional<at::Tensor> RewriteContext::output_bias(const ResolvedOptions& options,
                                                      const at::Tensor& dequantized) const {
    c10::optional<at::Tensor> b = bias();
    if (!options.bias_correction) return b;
    const LayerCalibration cal = calibration();
    const at::Tensor w = weight();
    if (static_cast<int64_t>(cal.input_mean.size()) != w.size(1))
        throw config_error("layer '" + layer_.path + "': the calibration has " +
                           std::to_string(cal.input_mean.size()) +
                           " input channel means but the "
                           "layer takes " +
                           std::to_string(w.size(1)) + " inputs; recalibrate on this model");
    // In double: the correction is a small difference of large dot products.
    const at::Tensor mean = at::tensor(cal.input_mean, at::kDouble);
    const at::Tensor shift = at::matmul(w.to(at::kDouble) - dequantized.to(at::kDouble), mean);
    const at::Tensor base = b ? b->to(at::kDouble) : at::zeros({w.size(0)}, at::kDouble);
    return (base + shift).to(at::kFloat);
}

std::pair<at::Tensor, uint64_t> RewriteContext::input_gram(const std::string& needed_by) const {
    const LayerCalibration cal = calibration();
    if (!cal.input_gram)
        throw config_error("layer '" + layer_.path + "': " + needed_by +
                           " needs its input Gram matrix, which " + calibration_->origin() +
                           " lacks; recalibrate with 'embq calibrate --input-gram'");
    const InputGram& g = *cal.input_gram;
    const int64_t width = layer_.weight_shape.at(1);
    if (g.dim != width)
        throw config_error("layer '" + layer_.path + "': the calibration's Gram matrix is " +
                           std::to_string(g.dim) + " wide but the layer takes " +
                           std::to_string(width) + " inputs; recalibrate on this model");
    // The calibration outlives every rewrite, so its values can back the tensor.
    return {at::from_blob(const_cast<float*>(g.values.data()), {g.dim, g.dim}, at::kFloat),
            g.rows};
}

at::Tensor RewriteContext::round_weight(const ResolvedOptions& options, const at::Tensor& weight,
                                        const GroupQuantized& grid,
                                        const at::Tensor& input_scale) const {
    if (options.rounding == Rounding::Nearest) return nearest_codes(weight, grid);
    at::Tensor gram = input_gram("rounding gptq").first;
    if (input_scale.defined()) gram = gram * at::outer(input_scale, input_scale);
    return gptq_codes(weight, gram, grid);
}

torch::jit::Value* RewriteContext::attribute(const std::string& name,
                                             const std::function<c10::IValue()>& make) {
    const std::string attr = stored_attribute_name(layer_.path, name);
    if (!root_.hasattr(attr)) {
        c10::IValue value = make();
        root_.register_attribute(attr, value.type(), value);
    }
    torch::jit::WithInsertPoint guard(node_);
    return graph_.insertGetAttr(graph_.inputs().at(0), attr);
}

torch::jit::Value* RewriteContext::attribute(const std::string& name,
                                             const std::vector<RewriteContext>& group,
                                             const std::function<c10::IValue()>& make) {
    EMBQ_ASSERT(!group.empty() && &group.front() == this);
    std::vector<std::string> layers{layer_.path};
    std::string joined_name = name;
    for (size_t i = 1; i < group.size(); ++i) {
        const RewriteContext& other = group[i];
        layers.push_back(other.layer().path);
        // "_embq__a_b__" -> "a_b": the other layer's sanitised path.
        const std::string prefix = stored_attribute_name(other.layer().path, "");
        joined_name += "__with_" + prefix.substr(7, prefix.size() - 9);
    }
    if (layers.size() > 1)
        stored_together_[stored_attribute_name(layer_.path, joined_name)] = layers;
    return attribute(joined_name, make);
}

std::vector<torch::jit::Value*> RewriteContext::call(
    const torch::jit::Function& fn, const std::vector<torch::jit::Value*>& inputs) {
    return insert_call(graph_, node_, fn, inputs);
}

torch::jit::Value* RewriteContext::constant(const c10::IValue& value) {
    torch::jit::WithInsertPoint guard(node_);
    return graph_.insertConstant(value);
}

void RewriteContext::replace_node_output(torch::jit::Value* replacement) {
    for (size_t i = 1; i < node_->outputs().size(); ++i) {
        if (node_->output(i)->hasUses())
            throw config_error("layer '" + layer_.path + "': the model uses output " +
                               std::to_string(i) + " of " + node_->kind().toQualString() +
                               ", which embq's rewrite does not produce; keep this layer fp32");
    }
    node_->output(0)->replaceAllUsesWith(replacement);
    node_->destroy();
    node_ = nullptr;
}

}  // namespace embq
