// What a scheme tells quantization-aware fine-tuning about one planned layer (the
// counterpart of RewriteContext for Scheme::simulate): the weight its stored codes would
// dequantize to, and how the quantized layer rounds its inputs. The student model
// (student.hpp) runs every planned layer through this in FP32, with straight-through
// gradients, so the weights learn to sit well on the grid the output will store.
#pragma once

#include <functional>
#include <utility>

#include <torch/torch.h>

#include "embq/layers.hpp"

namespace embq {

// How a quantized layer's inputs differ from FP32 ones at run time.
enum class InputRounding {
    None,      // the layer computes on its FP32 inputs
    PerCall8,  // 8-bit affine over each call's own min..max (int8_dynamic)
    BFloat16,  // cast to bfloat16 (bf16 matmuls)
};

class SimulationContext {
public:
    using StoredWeight = std::function<at::Tensor(const at::Tensor& weight)>;

    explicit SimulationContext(const Layer& layer) : layer_(layer) {}

    const Layer& layer() const { return layer_; }

    // `stored` maps an FP32 weight to the FP32 weight the output would compute with
    // (its codes dequantized). Fine-tuning calls it on every step, without gradients.
    void store_weight_as(StoredWeight stored) { stored_ = std::move(stored); }
    // Inputs rounded as `rounding` says; quant_max is 255 for 8 bits, 127 with reduce_range.
    void round_inputs(InputRounding rounding, int quant_max = 255) {
        rounding_ = rounding;
        quant_max_ = quant_max;
    }

    const StoredWeight& stored_weight() const { return stored_; }
    InputRounding input_rounding() const { return rounding_; }
    int input_quant_max() const { return quant_max_; }

private:
    const Layer& layer_;
    StoredWeight stored_;
    InputRounding rounding_ = InputRounding::None;
    int quant_max_ = 255;
};

}  // namespace embq
