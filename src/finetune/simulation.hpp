// What a scheme tells quantization-aware fine-tuning about one planned layer (the
// counterpart of RewriteContext for Scheme::simulate): the weight its stored codes would
// dequantize to, and how the quantized layer rounds its inputs. The student model
// (student.hpp) runs every planned layer through this in FP32, with straight-through
// gradients, so the weights learn to sit well on the grid the output will store.
#pragma once

#include <functional>
#include <utility>
#include <vector>

#include <torch/script.h>

#include "embq/layers.hpp"

namespace embq {

class SimulationContext {
public:
    using StoredWeight = std::function<at::Tensor(const at::Tensor& weight)>;

    explicit SimulationContext(const Layer& layer) : layer_(layer) {}

    const Layer& layer() const { return layer_; }

    // `stored` maps an FP32 weight to the FP32 weight the output would compute with
    // (its codes dequantized). Fine-tuning calls it on every step, without gradients.
    void store_weight_as(StoredWeight stored) { stored_ = std::move(stored); }

    // The layer's input passes through fn(x, constants...) before the layer: the rounding
    // the quantized layer applies to its inputs at run time, written in TorchScript by the
    // scheme (next to its rewrite, so the two stay alike), its gradient straight through.
    void round_inputs(const torch::jit::Function& fn, std::vector<c10::IValue> constants = {}) {
        input_rounding_ = &fn;
        input_constants_ = std::move(constants);
    }

    const StoredWeight& stored_weight() const { return stored_; }
    const torch::jit::Function* input_rounding() const { return input_rounding_; }
    const std::vector<c10::IValue>& input_constants() const { return input_constants_; }

private:
    const Layer& layer_;
    StoredWeight stored_;
    const torch::jit::Function* input_rounding_ = nullptr;  // null: FP32 inputs
    std::vector<c10::IValue> input_constants_;
};

}  // namespace embq
