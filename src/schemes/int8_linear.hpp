// What the two int8 linear schemes (int8_dynamic, int8_static) share: symmetric int8
// weights packed for the quantized engine, and the check that the engine runs them.
#pragma once

#include <optional>
#include <string>

#include <torch/script.h>

#include "embq/scheme.hpp"
#include "quantize/rewrite_context.hpp"

namespace embq {

// A linear layer's int8 weight as its options ask: smoothed (SmoothQuant), rounded to
// nearest or by GPTQ.
struct Int8Weight {
    at::Tensor qweight;      // qint8, symmetric, per channel or per tensor
    at::Tensor dequantized;  // the FP32 weight the layer now computes with, on its own inputs
    at::Tensor input_scale;  // 1 / s per input channel with smoothing; undefined without
};
Int8Weight make_int8_weight(const RewriteContext& ctx, const ResolvedOptions& options);

// One qint8 matrix holding the rows of every weight of `qweights`, in order, each row with
// the scale it had (per channel); a single weight is returned as it is.
at::Tensor stacked_int8_weight(const std::vector<at::Tensor>& qweights);

// The layer's input, multiplied by the weight's input_scale when it has one.
torch::jit::Value* smoothed_input(RewriteContext& ctx, const Int8Weight& weight);

// The range of the smoothed input x * input_scale, from the calibration's per-channel
// minima and maxima (exact min/max: no observer saw the smoothed values).
ClipRange smoothed_input_range(const LayerCalibration& calibration, const at::Tensor& input_scale);

// The FP32 weight that symmetric int8 codes rounded to nearest dequantize to.
at::Tensor nearest_int8_weight(const at::Tensor& weight, bool per_channel);

// Symmetric int8 weight (zero point 0, codes -127..127), per output channel or per tensor.
at::Tensor quantize_int8_weight(const at::Tensor& weight, bool per_channel);

// quantized::linear_prepack for the current engine (set it with use_engine first).
c10::IValue prepack_int8_linear(const at::Tensor& qweight, const c10::optional<at::Tensor>& bias);

// Granularity and symmetry checks both schemes make (int8 weights are symmetric, per
// tensor or per channel); reduce_range is left to the caller.
ResolvedOptions resolve_int8_weight(std::string_view scheme, const Layer& layer,
                                    const SchemeOptions& options);

// Function `name` of TorchScript `source` compiled with the row padding every int8 layer
// uses, which `source` may call:
//   padded_rows(n: int) -> int                  rows a matmul of n rows runs on
//   pad_rows(rows: Tensor, n: int, value: float) -> Tensor
//                                               rows ([n, k]) with rows of `value` appended
//                                               up to padded_rows(n); `value` must lie in
//                                               the range the matmul quantizes over, or it
//                                               widens it
//   without_padding(y: Tensor, x: Tensor) -> Tensor   y's first rows, one per row of x,
//                                                     in x's shape with y's width
const torch::jit::Function& int8_rows_function(const char* source, const std::string& name);

// TorchScript with_fixed_range_rows(x: Tensor, lo: float, hi: float) -> Tensor: x
// flattened to [n, k], clipped to [lo, hi], with the rows [hi...] and [lo...] appended, so
// that linear_dynamic, which quantizes with its input's min and max, uses that range;
// then padded with rows of lo (pad_rows). Compile it with int8_rows_function.
extern const char* const kFixedRangeRowsSource;

// quantized::linear_dynamic on `rows` (x flattened plus range or padding rows), and its
// output back in x's shape without them.
torch::jit::Value* linear_dynamic_on_range_rows(RewriteContext& ctx, torch::jit::Value* rows,
                                                torch::jit::Value* packed, torch::jit::Value* x,
                                                bool reduce_range);
// quantized::linear_dynamic inserted before the node.
torch::jit::Value* insert_linear_dynamic(RewriteContext& ctx, torch::jit::Value* input,
                                         torch::jit::Value* packed, bool reduce_range);

// Why quantized::linear_dynamic cannot run on `engine`, or nullopt when it can.
std::optional<std::string> int8_linear_unavailable_reason(const std::string& engine);

// Bytes of int8 codes, their qparams (as PyTorch serialises per-channel qtensors: a double
// scale and an int64 zero point each) and the FP32 bias.
int64_t int8_linear_bytes(const Layer& layer, const ResolvedOptions& options);

}  // namespace embq
