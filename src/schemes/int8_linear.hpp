// What the two int8 linear schemes (int8_dynamic, int8_static) share: symmetric int8
// weights packed for the quantized engine, and the check that the engine runs them.
#pragma once

#include <optional>
#include <string>

#include <torch/script.h>

#include "embq/scheme.hpp"

namespace embq {

// Symmetric int8 weight (zero point 0, codes -127..127), per output channel or per tensor.
at::Tensor quantize_int8_weight(const at::Tensor& weight, bool per_channel);

// quantized::linear_prepack for the current engine (set it with use_engine first).
c10::IValue prepack_int8_linear(const at::Tensor& qweight, const c10::optional<at::Tensor>& bias);

// Granularity and symmetry checks both schemes make (int8 weights are symmetric, per
// tensor or per channel); reduce_range is left to the caller.
ResolvedOptions resolve_int8_weight(std::string_view scheme, const Layer& layer,
                                    const SchemeOptions& options);

// Bytes of int8 codes, their qparams (as PyTorch serialises per-channel qtensors: a double
// scale and an int64 zero point each) and the FP32 bias.
int64_t int8_linear_bytes(const Layer& layer, const ResolvedOptions& options);

}  // namespace embq
