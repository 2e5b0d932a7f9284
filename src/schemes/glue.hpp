// How schemes splice their run-time code into the model: each scheme writes a short
// TorchScript function (stock ops only, so the output runs in stock libtorch and in
// PyTorch); these helpers wire it to the node being replaced.
#pragma once

#include <functional>
#include <string>
#include <vector>

#include <torch/script.h>

#include "quantize/rewrite_context.hpp"

namespace embq {

// The lines of a `rows` function (see replace_lookup) that unpack the 4-bit codes of the
// rows `ids` selects from params[0] (two codes a byte, low nibble first) into `codes`.
inline constexpr const char* kUnpackInt4Rows = R"TS(
    packed = torch.embedding(params[0], ids)
    codes = torch.stack([torch.bitwise_and(packed, 15), torch.bitwise_right_shift(packed, 4)], -1)
    codes = codes.flatten(-2)
)TS";

// Compiles `source` once (cached by its text) and returns function `name` from it.
const torch::jit::Function& script_function(const std::string& source, const std::string& name);

// Replaces aten::linear(x, weight, bias) with fn(x, params..., bias), or with
// fn(x, params..., new_bias) when `new_bias` is given (bias correction).
void replace_linear(RewriteContext& ctx, const torch::jit::Function& fn,
                    const std::vector<torch::jit::Value*>& params,
                    torch::jit::Value* new_bias = nullptr);

// Replaces aten::linear(x, weight, bias) with the stock linear on a weight decoded once,
// when the model loads, from what the file stores. The layer's `state` (codes, scales, ...)
// goes into an object of TorchScript class embq.`class_name`, defined in the model once,
// whose __getstate__ saves only `state` and whose __setstate__ (run by torch.jit.load, in
// embq and PyTorch alike) sets `decoded` = `decode_source`:
//     def decode(self) -> Tensor      (the FP32 weight [out, in] from self.state)
// Stock libtorch has no 4-bit matmul; decoding per call made such layers 2-2.5x slower
// than FP32 at small batches, decoding at load runs them at FP32 speed. Memory at run time
// is the FP32 weight plus the state.
void replace_linear_with_decoded(RewriteContext& ctx, const std::string& class_name,
                                 const std::string& decode_source,
                                 const std::function<std::vector<at::Tensor>()>& state,
                                 torch::jit::Value* new_bias = nullptr);

// Replaces a table lookup (aten::embedding or aten::embedding_bag) given the scheme's
// `rows_source`: TorchScript defining
//     def rows(params: List[Tensor], ids: Tensor) -> Tensor
// that returns the FP32 rows `ids` selects from the stored table. Embedding bags
// dequantize only the rows the batch uses, then reduce them with the stock op, so
// every mode (sum, mean, max), offsets and per-sample weights behave as before.
void replace_lookup(RewriteContext& ctx, const std::string& rows_source,
                    const std::vector<torch::jit::Value*>& params);

}  // namespace embq
