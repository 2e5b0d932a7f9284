// The arithmetic of weight quantization, written once for every scheme: choosing
// scales and offsets per row or per group, rounding to codes, and 4-bit packing.
#pragma once

#include <ATen/ATen.h>

namespace embq {

// Codes in [0, 2^bits - 1] with w ~= code * scale + offset, one (scale, offset) per
// group of `group` consecutive elements of a row. Per row: group = row length.
struct GroupQuantized {
    at::Tensor codes;   // uint8 [rows, cols]
    at::Tensor scale;   // [rows, cols / group], in the requested parameter dtype
    at::Tensor offset;  // same shape and dtype as scale
};

// Symmetric: offset = -zero * scale with zero = 2^(bits-1), scale = max|w| / (2^(bits-1) - 1),
// so 0.0 is exact. Affine: scale = (max - min) / (2^bits - 1), offset = min, so the
// group's whole range is used. The scale and offset are rounded to `param_dtype`
// before the codes are computed, so dequantizing with the stored values is consistent.
GroupQuantized quantize_groups(const at::Tensor& weight, int64_t group, int bits, bool symmetric,
                               at::ScalarType param_dtype);

// The FP32 weight the codes stand for (the reference every scheme is tested against).
at::Tensor dequantize_groups(const GroupQuantized& q, int64_t group);

// Two 4-bit codes to a byte: element 2i in the low nibble, 2i+1 in the high one.
at::Tensor pack_int4(const at::Tensor& codes);     // uint8 [rows, cols] -> [rows, cols/2]
at::Tensor unpack_int4(const at::Tensor& packed);  // inverse

// Symmetric int8 scales, one per tensor or per output row: max|w| / 127.
at::Tensor symmetric_int8_scales(const at::Tensor& weight, bool per_channel);

}  // namespace embq
