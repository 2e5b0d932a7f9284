#include "quantize/quant_math.hpp"

#include "embq/error.hpp"

namespace embq {

namespace {

// A zero range (a constant group) would give scale 0 and divide by zero; any positive
// scale then reproduces the constant exactly through the offset.
at::Tensor safe_scale(const at::Tensor& scale) {
    return at::where(scale > 0, scale, at::ones_like(scale));
}

// Codes of values already normalised to the code's units ((w - offset) / scale).
at::Tensor nearest_level(const at::Tensor& normalised, const GroupQuantized& grid) {
    if (!grid.levels.defined())
        return at::clamp(at::round(normalised), 0.0, static_cast<double>((1 << grid.bits) - 1));
    // The boundaries between neighbouring levels; a value on one rounds up.
    const at::Tensor& l = grid.levels;
    const at::Tensor mids = (l.slice(0, 1) + l.slice(0, 0, -1)) / 2;
    return at::bucketize(normalised.contiguous(), mids, /*out_int32=*/false, /*right=*/true);
}

at::Tensor level_values(const at::Tensor& codes, const GroupQuantized& grid) {
    return grid.levels.defined() ? grid.levels.index({codes.to(at::kLong)}) : codes.to(at::kFloat);
}

// Scale and offset expanded over [rows, groups, 1] for broadcasting against groups.
at::Tensor per_group(const at::Tensor& t) { return t.to(at::kFloat).unsqueeze(-1); }

}  // namespace

at::Tensor nearest_codes(const at::Tensor& weight, const GroupQuantized& grid) {
    const int64_t rows = weight.size(0), cols = weight.size(1);
    EMBQ_ASSERT(weight.dim() == 2 && grid.group > 0 && cols % grid.group == 0);
    const at::Tensor w = weight.to(at::kFloat).reshape({rows, cols / grid.group, grid.group});
    const at::Tensor normalised = (w - per_group(grid.offset)) / per_group(grid.scale);
    return nearest_level(normalised, grid).to(at::kByte).reshape({rows, cols});
}

std::pair<at::Tensor, at::Tensor> round_columns(const at::Tensor& columns, int64_t first,
                                                const GroupQuantized& grid) {
    const int64_t count = columns.size(1);
    const at::Tensor group_of =
        at::arange(first, first + count, at::kLong).div(grid.group, "floor");
    const at::Tensor scale = grid.scale.to(at::kFloat).index_select(1, group_of);
    const at::Tensor offset = grid.offset.to(at::kFloat).index_select(1, group_of);
    const at::Tensor codes = nearest_level((columns - offset) / scale, grid);
    return {codes.to(at::kByte), level_values(codes, grid) * scale + offset};
}

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
    GroupQuantized q{at::Tensor(), scale.to(param_dtype), offset.to(param_dtype), group, bits, {}};
    q.codes = nearest_codes(weight, q);
    return q;
}

const at::Tensor& nf4_levels() {
    static const at::Tensor levels = at::tensor(
        {-1.0f, -0.6961928009986877f, -0.5250730514526367f, -0.39491748809814453f,
         -0.28444138169288635f, -0.18477343022823334f, -0.09105003625154495f, 0.0f,
         0.07958029955625534f, 0.16093020141124725f, 0.24611230194568634f, 0.33791524171829224f,
         0.44070982933044434f, 0.5626170039176941f, 0.7229568362236023f, 1.0f});
    return levels;
}

GroupQuantized quantize_nf4_groups(const at::Tensor& weight, int64_t group,
                                   at::ScalarType param_dtype) {
    EMBQ_ASSERT(weight.dim() == 2 && group > 0 && weight.size(1) % group == 0);
    const int64_t rows = weight.size(0), cols = weight.size(1);
    const at::Tensor w = weight.to(at::kFloat).reshape({rows, cols / group, group});
    const at::Tensor scale = safe_scale(w.abs().amax(-1)).to(param_dtype);
    GroupQuantized q{at::Tensor(), scale, at::zeros_like(scale), group, 4, nf4_levels()};
    q.codes = nearest_codes(weight, q);
    return q;
}

at::Tensor dequantize_groups(const GroupQuantized& q) {
    const int64_t rows = q.codes.size(0), cols = q.codes.size(1);
    const at::Tensor codes = level_values(q.codes, q).reshape({rows, cols / q.group, q.group});
    return (codes * per_group(q.scale) + per_group(q.offset)).reshape({rows, cols});
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

GroupQuantized symmetric_int8_grid(const at::Tensor& weight, bool per_channel) {
    const int64_t rows = weight.size(0);
    at::Tensor scale = symmetric_int8_scales(weight, per_channel);
    scale = (per_channel ? scale : scale.expand({rows})).reshape({rows, 1}).contiguous();
    return {at::Tensor(), scale, -128.0 * scale, weight.size(1), 8, {}};
}

at::Tensor smoothing_factors(const at::Tensor& weight, const at::Tensor& input_max_abs,
                             double alpha) {
    EMBQ_ASSERT(weight.dim() == 2 && input_max_abs.numel() == weight.size(1));
    EMBQ_ASSERT(alpha > 0 && alpha <= 1);
    const at::Tensor x = input_max_abs.to(at::kDouble).reshape({-1});
    const at::Tensor w = weight.to(at::kDouble).abs().amax(0);
    const at::Tensor s = x.pow(alpha) / w.pow(1.0 - alpha);
    const at::Tensor usable = (x > 0) & (w > 0) & at::isfinite(s);
    return at::where(usable, s.clamp(1e-4, 1e4), at::ones_like(s)).to(at::kFloat);
}

}  // namespace embq
