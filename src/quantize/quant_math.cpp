#include "quantize/quant_math.hpp"

#include "embq/error.hpp"

namespace embq {

namespace {

// A zero range (a constant group) would give scale 0 and divide by zero; any positive
// scale then reproduces the constant exactly through the offset.
at::Tensor safe_scale(const at::Tensor& scale) {
    return at::where(scale > 0, scale, at::ones_like(scale));
}

}  // namespace

GroupQuantized quantize_groups(const at::Tensor& weight, int64_t group, int bits, bool symmetric,
                               at::ScalarType param_dtype) {
    EMBQ_ASSERT(weight.dim() == 2 && group > 0 && weight.size(1) % group == 0);
    EMBQ_ASSERT(bits >= 2 && bits <= 8);
    const int64_t rows = weight.size(0), cols = weight.size(1);
    const at::Tensor w = weight.to(at::kFloat).reshape({rows, cols / group, group});
    const double qmax = static_cast<double>((1 << bits) - 1);

    at::Tensor scale, offset;
    if (symmetric) {
        const double zero = static_cast<double>(1 << (bits - 1));
        scale = safe_scale(w.abs().amax(-1) / (zero - 1.0));
        scale = scale.to(param_dtype).to(at::kFloat);
        offset = -zero * scale;
    } else {
        const at::Tensor lo = w.amin(-1), hi = w.amax(-1);
        scale = safe_scale((hi - lo) / qmax).to(param_dtype).to(at::kFloat);
        offset = lo.to(param_dtype).to(at::kFloat);
    }
    const at::Tensor codes =
        at::clamp(at::round((w - offset.unsqueeze(-1)) / scale.unsqueeze(-1)), 0.0, qmax);
    return {codes.to(at::kByte).reshape({rows, cols}), scale.to(param_dtype),
            offset.to(param_dtype)};
}

at::Tensor dequantize_groups(const GroupQuantized& q, int64_t group) {
    const int64_t rows = q.codes.size(0), cols = q.codes.size(1);
    const at::Tensor codes = q.codes.to(at::kFloat).reshape({rows, cols / group, group});
    const at::Tensor w =
        codes * q.scale.to(at::kFloat).unsqueeze(-1) + q.offset.to(at::kFloat).unsqueeze(-1);
    return w.reshape({rows, cols});
}

at::Tensor pack_int4(const at::Tensor& codes) {
    EMBQ_ASSERT(codes.dim() == 2 && codes.size(1) % 2 == 0 && codes.scalar_type() == at::kByte);
    const at::Tensor pairs = codes.reshape({codes.size(0), codes.size(1) / 2, 2});
    const at::Tensor lo = pairs.select(-1, 0).bitwise_and(15);
    const at::Tensor hi = pairs.select(-1, 1).bitwise_and(15);
    return lo.bitwise_or(hi.bitwise_left_shift(4)).contiguous();
}

at::Tensor unpack_int4(const at::Tensor& packed) {
    const at::Tensor lo = packed.bitwise_and(15);
    const at::Tensor hi = packed.bitwise_right_shift(4);
    return at::stack({lo, hi}, -1).reshape({packed.size(0), packed.size(1) * 2});
}

at::Tensor symmetric_int8_scales(const at::Tensor& weight, bool per_channel) {
    const at::Tensor maxabs = per_channel ? weight.abs().amax(1) : weight.abs().max().reshape({1});
    return safe_scale(maxabs.to(at::kFloat) / 127.0);
}

}  // namespace embq
