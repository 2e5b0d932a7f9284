// What a scheme sees when it rewrites one use of a layer in the model's (inlined)
// forward graph: the node that applies the layer's weight, the layer's FP32 tensors,
// and helpers to store new tensors on the model and splice TorchScript code in.
#pragma once

#include <functional>
#include <map>
#include <string>
#include <unordered_map>
#include <vector>

#include <torch/script.h>

#include "embq/calibration.hpp"
#include "embq/layers.hpp"
#include "embq/scheme.hpp"
#include "quantize/quant_math.hpp"

namespace embq {

// Attributes that hold the tensors of several layers at once (rewritten together), by
// attribute name: those layers, in order. Quantize writes it into the output's metadata
// ("stored_together"), so that the stored inventory shares each one's bytes out.
using StoredTogether = std::map<std::string, std::vector<std::string>>;

class RewriteContext {
public:
    RewriteContext(torch::jit::Module& root, torch::jit::Graph& graph, torch::jit::Node* node,
                   const torch::jit::Module& layer_module, const Layer& layer, std::string engine,
                   const Calibration* calibration, StoredTogether& stored_together);

    torch::jit::Node* node() const { return node_; }
    torch::jit::Graph& graph() const { return graph_; }
    const Layer& layer() const { return layer_; }
    const std::string& engine() const { return engine_; }

    // The layer's FP32 weight and bias as the input model stores them.
    at::Tensor weight() const;
    c10::optional<at::Tensor> bias() const;

    // The layer's calibration (activation ranges, input channel means). A Config error
    // naming the layer when the run has no calibration or it has nothing for this layer.
    LayerCalibration calibration() const;

    // The bias a rewritten linear layer adds: its FP32 bias, and with bias_correction
    // also (W - Wq) E[x], the expected output shift the stored weight `dequantized`
    // causes on the calibration data. Null only when the layer has no bias and none
    // is needed.
    c10::optional<at::Tensor> output_bias(const ResolvedOptions& options,
                                          const at::Tensor& dequantized) const;

    // The calibration's input Gram matrix X^T X of this layer as a [d, d] tensor (a view
    // of the calibration's values) and the rows it sums over. Config errors name the layer
    // and `needed_by` when it is missing or of another width than the layer's input.
    std::pair<at::Tensor, uint64_t> input_gram(const std::string& needed_by) const;

    // Codes for `weight` on `grid` as options.rounding asks: round to nearest, or GPTQ on
    // the calibration's input Gram matrix of this layer. `weight` is the layer's weight or
    // one whose inputs are the layer's inputs times `input_scale` per channel (smoothing);
    // the Gram matrix is scaled to match. Config errors name the layer when the Gram
    // matrix is missing or of another width.
    at::Tensor round_weight(const ResolvedOptions& options, const at::Tensor& weight,
                            const GroupQuantized& grid,
                            const at::Tensor& input_scale = at::Tensor()) const;

    // A value that reads attribute `name` of this layer, stored on the model's root
    // module. `make` runs only the first time: a layer called twice shares the tensors.
    torch::jit::Value* attribute(const std::string& name, const std::function<c10::IValue()>& make);

    // attribute() for the tensors of every layer of `group` (uses rewritten together,
    // this one first) stored as one: named after all of them, and listed in StoredTogether
    // when there are several (a group of one is attribute(name, make)).
    torch::jit::Value* attribute(const std::string& name, const std::vector<RewriteContext>& group,
                                 const std::function<c10::IValue()>& make);

    // The model's compilation unit: a scheme that stores an object (a TorchScript class
    // with its own __getstate__/__setstate__) defines its class here, once per model.
    std::shared_ptr<torch::jit::CompilationUnit> compilation_unit() const {
        return root_._ivalue()->compilation_unit();
    }

    // Splices `fn` (a compiled TorchScript function) in before the node and returns
    // its outputs.
    std::vector<torch::jit::Value*> call(const torch::jit::Function& fn,
                                         const std::vector<torch::jit::Value*>& inputs);

    torch::jit::Value* constant(const c10::IValue& value);

    // Makes every use of the node's first output use `replacement` and removes the
    // node. Its other outputs (aten::embedding_bag's offset2bag, ...) must be unused.
    void replace_node_output(torch::jit::Value* replacement);

private:
    torch::jit::Module& root_;
    torch::jit::Graph& graph_;
    torch::jit::Node* node_;
    const torch::jit::Module& layer_module_;
    const Layer& layer_;
    std::string engine_;
    const Calibration* calibration_;
    StoredTogether& stored_together_;
};

}  // namespace embq
