// The arithmetic of weight quantization, written once for every scheme: choosing
// scales and offsets per row or per group, rounding to codes (uniform or on a
// non-uniform code such as NF4), and 4-bit packing.
#pragma once

#include <ATen/ATen.h>

namespace embq {

// Codes with w ~= level(code) * scale + offset, one (scale, offset) per group of `group`
// consecutive elements of a row (per row: group = row length). Uniform codes stand for
// themselves (level(k) = k, codes 0..2^bits-1); a non-uniform code lists its levels.
struct GroupQuantized {
    at::Tensor codes;   // uint8 [rows, cols]
    at::Tensor scale;   // [rows, cols / group], in the requested parameter dtype
    at::Tensor offset;  // same shape and dtype as scale
    int64_t group = 0;
    int bits = 0;
    at::Tensor levels;  // float [2^bits], ascending; undefined for uniform codes

    // The grid without codes: what rounding (nearest or GPTQ) places values on.
    GroupQuantized grid() const { return {at::Tensor(), scale, offset, group, bits, levels}; }
};

// Symmetric: offset = -zero * scale with zero = 2^(bits-1), scale = max|w| / (2^(bits-1) - 1),
// so 0.0 is exact. Affine: scale = (max - min) / (2^bits - 1), offset = min, so the
// group's whole range is used. The scale and offset are rounded to `param_dtype`
// before the codes are computed, so dequantizing with the stored values is consistent.
GroupQuantized quantize_groups(const at::Tensor& weight, int64_t group, int bits, bool symmetric,
                               at::ScalarType param_dtype);

// NF4 (QLoRA, Dettmers et al. 2023): 16 levels at quantiles of a standard normal
// scaled to [-1, 1], with 0 exact; scale = max|w| of the group, offset 0. For weights
// and table rows that are roughly normal, the levels sit where the values are.
GroupQuantized quantize_nf4_groups(const at::Tensor& weight, int64_t group,
                                   at::ScalarType param_dtype);
// The 16 NF4 levels, ascending (the published table).
const at::Tensor& nf4_levels();

// The nearest code of every element of `weight` on `grid`'s scales, offsets and levels
// (round to nearest; GPTQ rounds differently, see quantize/gptq.hpp).
at::Tensor nearest_codes(const at::Tensor& weight, const GroupQuantized& grid);
// The same for columns [first, first + count) of a weight: codes and their FP32 values.
std::pair<at::Tensor, at::Tensor> round_columns(const at::Tensor& columns, int64_t first,
                                                const GroupQuantized& grid);

// The FP32 weight the codes stand for (the reference every scheme is tested against).
at::Tensor dequantize_groups(const GroupQuantized& q);

// Two 4-bit codes to a byte: element 2i in the low nibble, 2i+1 in the high one.
at::Tensor pack_int4(const at::Tensor& codes);     // uint8 [rows, cols] -> [rows, cols/2]
at::Tensor unpack_int4(const at::Tensor& packed);  // inverse

// Symmetric int8 scales, one per tensor or per output row: max|w| / 127.
at::Tensor symmetric_int8_scales(const at::Tensor& weight, bool per_channel);
// The same grid as GroupQuantized (codes 0..255 standing for -128..127): what GPTQ
// rounds int8 weights on.
GroupQuantized symmetric_int8_grid(const at::Tensor& weight, bool per_channel);

// SmoothQuant's factors per input channel (Xiao et al. 2023): s_j = max|x_j|^alpha /
// max|W_:j|^(1-alpha). Dividing input channel j by s_j and multiplying weight column j
// by it leaves the product unchanged and moves an outlier channel's range into the
// weight. Channels without activity or weight get 1; factors are kept in [1e-4, 1e4].
at::Tensor smoothing_factors(const at::Tensor& weight, const at::Tensor& input_max_abs,
                             double alpha);

}  // namespace embq
