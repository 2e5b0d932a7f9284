#include "schemes/int8_linear.hpp"

#include <algorithm>
#include <limits>

#include <spdlog/spdlog.h>

#include "embq/error.hpp"
#include "embq/runtime.hpp"
#include "model/torch_util.hpp"
#include "quantize/quant_math.hpp"
#include "schemes/glue.hpp"
#include "schemes/schemes.hpp"

namespace embq {

at::Tensor quantize_int8_weight(const at::Tensor& w, bool per_channel) {
    const at::Tensor scales = symmetric_int8_scales(w, per_channel);
    if (per_channel) {
        return at::quantize_per_channel(w, scales.to(at::kDouble),
                                        at::zeros({w.size(0)}, at::kLong), 0, at::kQInt8);
    }
    return at::quantize_per_tensor(w, scales.item<double>(), 0, at::kQInt8);
}

namespace {

// Per-channel input ranges of the layer, checked against its width.
at::Tensor channel_bound(const RewriteContext& ctx, const std::vector<double>& values) {
    const int64_t width = ctx.layer().weight_shape.at(1);
    if (static_cast<int64_t>(values.size()) != width)
        throw config_error("layer '" + ctx.layer().path + "': smoothing needs the calibration's "
                           "per-channel input ranges (" + std::to_string(width) +
                           " channels), which this file does not have; recalibrate with this "
                           "embq on this model");
    return at::tensor(values, at::kDouble).to(at::kFloat);
}

// smoothing "auto": of alpha = 0 (none), 0.1, ..., 0.9, the one whose smoothed layer has
// the least expected output error on the calibration rows, with G = X^T X over n rows:
//   weight rounding      tr(dW G' dW^T) / n   dW: the smoothed weight's int8 rounding error,
//                                             G' = G scaled by the smoothing, per channel
//   activation rounding  step^2 / 12 ||W'||^2 step: the 8-bit step over the smoothed
//                                             input's range, noise independent per channel
// A larger alpha flattens the input's range (less activation noise) and widens the
// weight's (more weight error); which wins differs per layer. Nearest rounding is scored
// even when GPTQ rounds afterwards: it orders the alphas the same way and costs a matmul.
double searched_alpha(const RewriteContext& ctx, const at::Tensor& w, const at::Tensor& lo,
                      const at::Tensor& hi, bool per_channel) {
    const auto [gram, gram_rows] = ctx.input_gram("smoothing \"auto\"");
    const at::Tensor max_abs = at::maximum(lo.abs(), hi.abs());
    const double rows = std::max<double>(1.0, static_cast<double>(gram_rows));
    double best_alpha = 0, best_error = std::numeric_limits<double>::infinity();
    for (int step = 0; step <= 9; ++step) {
        const double alpha = step / 10.0;
        const at::Tensor s = alpha > 0 ? smoothing_factors(w, max_abs, alpha) : at::ones({w.size(1)});
        const at::Tensor ws = w * s.unsqueeze(0), inv = s.reciprocal();
        const at::Tensor dw = (ws - nearest_int8_weight(ws, per_channel)).to(at::kDouble);
        const at::Tensor gs = (gram * at::outer(inv, inv)).to(at::kDouble);
        const double weight_error = (dw.mm(gs) * dw).sum().item<double>() / rows;
        const double span = std::max(0.0, (hi * inv).max().item<double>()) -
                            std::min(0.0, (lo * inv).min().item<double>());
        const double act_step = span / 255.0;
        const double act_error =
            act_step * act_step / 12.0 * ws.to(at::kDouble).pow(2).sum().item<double>();
        if (weight_error + act_error < best_error) {
            best_error = weight_error + act_error;
            best_alpha = alpha;
        }
    }
    spdlog::debug("{}: smoothing alpha {:.1f} (searched)", ctx.layer().path, best_alpha);
    return best_alpha;
}

}  // namespace

at::Tensor nearest_int8_weight(const at::Tensor& weight, bool per_channel) {
    GroupQuantized q = symmetric_int8_grid(weight, per_channel);
    q.codes = nearest_codes(weight, q);
    return dequantize_groups(q);
}

Int8Weight make_int8_weight(const RewriteContext& ctx, const ResolvedOptions& o) {
    at::Tensor w = ctx.weight();
    Int8Weight out;
    const bool per_channel = o.granularity.kind == Granularity::Kind::PerChannel;
    double alpha = o.smoothing;
    if (alpha != 0) {
        const LayerCalibration cal = ctx.calibration();
        const at::Tensor lo = channel_bound(ctx, cal.input_min);
        const at::Tensor hi = channel_bound(ctx, cal.input_max);
        if (alpha == kSearchedSmoothing) alpha = searched_alpha(ctx, w, lo, hi, per_channel);
        if (alpha > 0) {
            const at::Tensor s = smoothing_factors(w, at::maximum(lo.abs(), hi.abs()), alpha);
            out.input_scale = s.reciprocal();
            w = w * s.unsqueeze(0);
        }
    }
    const GroupQuantized grid = symmetric_int8_grid(w, per_channel);
    const at::Tensor values =
        (ctx.round_weight(o, w, grid, out.input_scale).to(at::kInt) - 128).to(at::kChar);
    const at::Tensor scale = grid.scale.reshape({-1}).to(at::kDouble);
    out.qweight = per_channel
                      ? at::_make_per_channel_quantized_tensor(
                            values, scale, at::zeros({w.size(0)}, at::kLong), 0)
                      : at::_make_per_tensor_quantized_tensor(values, scale[0].item<double>(), 0);
    out.dequantized = out.qweight.dequantize();
    if (out.input_scale.defined()) out.dequantized = out.dequantized * out.input_scale.unsqueeze(0);
    return out;
}

at::Tensor stacked_int8_weight(const std::vector<at::Tensor>& qweights) {
    EMBQ_ASSERT(!qweights.empty());
    if (qweights.size() == 1) return qweights.front();
    std::vector<at::Tensor> codes, scales;
    for (const at::Tensor& q : qweights) {
        EMBQ_ASSERT(q.qscheme() == at::kPerChannelAffine && q.q_per_channel_axis() == 0);
        codes.push_back(q.int_repr());
        scales.push_back(q.q_per_channel_scales());
    }
    const at::Tensor scale = at::cat(scales);
    return at::_make_per_channel_quantized_tensor(at::cat(codes), scale,
                                                  at::zeros({scale.size(0)}, at::kLong), 0);
}

torch::jit::Value* smoothed_input(RewriteContext& ctx, const Int8Weight& weight) {
    torch::jit::Value* x = ctx.node()->input(0);
    if (!weight.input_scale.defined()) return x;
    torch::jit::Value* scale = ctx.attribute("input_scale", [&] { return weight.input_scale; });
    torch::jit::WithInsertPoint guard(ctx.node());
    return ctx.graph().insert(c10::aten::mul, {x, scale});
}

ClipRange smoothed_input_range(const LayerCalibration& cal, const at::Tensor& input_scale) {
    const at::Tensor lo = at::tensor(cal.input_min, at::kDouble) * input_scale.to(at::kDouble);
    const at::Tensor hi = at::tensor(cal.input_max, at::kDouble) * input_scale.to(at::kDouble);
    return {lo.min().item<double>(), hi.max().item<double>()};
}

// How many rows an int8 matmul runs on: its input's n rows padded (with rows inside the
// range it quantizes over) up to the next size of the form m * 2^e with m in 9..16
// (every count up to 16 is its own size), so at most 1/8 more rows. oneDNN builds and
// caches a kernel per input shape (and per activation range), and its cache holds 1,024
// kernels: with the row counts texts of every length give (USE-Lite at batch 1: 6 to 128
// tokens a call, 14 linears), it evicts and rebuilds a kernel on most calls. Measured on
// the 2-CPU VM (AVX512-VNNI), USE-Lite int8 at batch 1: 1.9 ms a call with one text
// length, 7.3 ms with lengths 6..40; padded rows take 8 sizes an octave.
namespace {

const char* const kRowBucketSource = R"TS(
def padded_rows(n: int) -> int:
    step = 1
    while n > 16 * step:
        step *= 2
    return (n + step - 1) // step * step

def pad_rows(rows: Tensor, n: int, value: float) -> Tensor:
    padded = padded_rows(n)
    if padded > n:
        return torch.constant_pad_nd(rows, [0, 0, 0, padded - n], value)
    return rows

def without_padding(y: Tensor, x: Tensor) -> Tensor:
    shape = x.size()[:-1]
    shape.append(y.size(1))
    return y[:x.numel() // x.size(-1)].reshape(shape)
)TS";

}  // namespace

const torch::jit::Function& int8_rows_function(const char* source, const std::string& name) {
    return script_function(std::string(kRowBucketSource) + source, name);
}

const char* const kFixedRangeRowsSource = R"TS(
def with_fixed_range_rows(x: Tensor, lo: float, hi: float) -> Tensor:
    k = x.size(-1)
    rows = x.reshape(-1, k).clamp(lo, hi)
    ends = torch.tensor([hi, lo], dtype=x.dtype).unsqueeze(1).expand(2, k)
    return pad_rows(torch.cat([rows, ends]), rows.size(0) + 2, lo)
)TS";

torch::jit::Value* insert_linear_dynamic(RewriteContext& ctx, torch::jit::Value* input,
                                         torch::jit::Value* packed, bool reduce_range) {
    torch::jit::WithInsertPoint guard(ctx.node());
    return ctx.graph().insert(c10::Symbol::fromQualString("quantized::linear_dynamic"),
                              {input, packed, ctx.constant(reduce_range)});
}

torch::jit::Value* linear_dynamic_on_range_rows(RewriteContext& ctx, torch::jit::Value* rows,
                                                torch::jit::Value* packed, torch::jit::Value* x,
                                                bool reduce_range) {
    torch::jit::Value* y = insert_linear_dynamic(ctx, rows, packed, reduce_range);
    return ctx.call(int8_rows_function("", "without_padding"), {y, x}).at(0);
}

std::optional<std::string> int8_linear_unavailable_reason(const std::string& engine) {
    try {
        use_engine(engine);
        const c10::IValue packed =
            prepack_int8_linear(quantize_int8_weight(at::randn({8, 8}), true), c10::nullopt);
        static const auto op =
            c10::Dispatcher::singleton().findSchemaOrThrow("quantized::linear_dynamic", "");
        torch::jit::Stack stack{at::randn({2, 8}), packed, false};
        op.callBoxed(&stack);
        return std::nullopt;
    } catch (const std::exception& e) {
        return "quantized::linear_dynamic does not run on engine '" + engine + "' (" +
               first_line_of(e) + ")";
    }
}

c10::IValue prepack_int8_linear(const at::Tensor& qweight, const c10::optional<at::Tensor>& bias) {
    static const auto op =
        c10::Dispatcher::singleton().findSchemaOrThrow("quantized::linear_prepack", "");
    torch::jit::Stack stack{qweight, bias ? c10::IValue(*bias) : c10::IValue()};
    op.callBoxed(&stack);
    return stack.at(0);
}

ResolvedOptions resolve_int8_weight(std::string_view scheme, const Layer& layer,
                                    const SchemeOptions& options) {
    const std::string name(scheme);
    ResolvedOptions r;
    r.granularity = options.granularity.value_or(Granularity::per_channel());
    if (r.granularity.kind == Granularity::Kind::Group)
        throw config_error("layer '" + layer.path + "': " + name +
                           " takes per_tensor or "
                           "per_channel, not " +
                           r.granularity.to_string() + "; for group-wise weights use int4_weight");
    // The engines' int8 linear kernels take symmetric weights (zero point 0) only.
    if (options.symmetric == false)
        throw config_error("layer '" + layer.path + "': " + name +
                           " weights are symmetric; "
                           "remove \"symmetric\": false");
    r.symmetric = true;
    return r;
}

int64_t int8_linear_bytes(const Layer& layer, const ResolvedOptions& o) {
    const int64_t rows = layer.weight_shape.at(0);
    const int64_t qparams = o.granularity.kind == Granularity::Kind::PerChannel ? rows * 16 : 16;
    return weight_elements(layer) + qparams + bias_elements(layer) * 4;
}

}  // namespace embq
