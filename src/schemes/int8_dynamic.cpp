// int8_dynamic: int8 weights (symmetric, per tensor or per output channel), packed
// for the quantized engine; activations are quantized per batch at run time and the
// matmul runs in int8 (`quantized::linear_dynamic`). oneDNN uses VNNI where the CPU
// has it. Needs a quantized engine: the preflight packs and runs a tiny layer on it.
#include "embq/error.hpp"
#include "embq/runtime.hpp"
#include "finetune/simulation.hpp"
#include "model/torch_util.hpp"
#include "quantize/rewrite_context.hpp"
#include "schemes/glue.hpp"
#include "schemes/int8_linear.hpp"
#include "schemes/schemes.hpp"

namespace embq {

namespace {

// activation_range "grid" (the default). oneDNN builds and caches a matmul kernel per
// activation range; with a new range on every call, as dynamic quantization gives, it
// builds one on every call. Measured on the 2-CPU VM (AVX512-VNNI), a 16x256 by 256x256
// linear: 273 us with a new input each call against 54 us when the input repeats; FP32
// takes 40 us. So the range is rounded outward to a grid and imposed on linear_dynamic
// through two extra rows holding its ends: linear_dynamic takes the min and max of its
// input, the extra rows make them grid values, a few ranges per layer reach the kernel
// cache, and no value is ever clipped.
//
// The grid: R, the larger of max and -min, rounded up to a power of 2^(1/kRangeSteps);
// the range is [-R/8, R] when the input is nearly non-negative (after GELU), else [-R, R].
// No two grid ranges share a scale: this libtorch's kernel cache does not tell apart two
// ranges with the same scale and different zero points. Ranges (-2, 4) and (-4, 2) on one
// shape returned wrong outputs (cosine 0.49 to the reference) in 27 of 300 calls; 1,200
// calls with the grid's ranges were all right (tests/test_schemes.cpp checks it). The cost
// is resolution: the span is at most 2^(1/4) = 1.19 times the exact one for symmetric and
// nearly non-negative inputs, and up to 2.1 times (about 1 bit) for an input whose min
// lies just below -R/8. On USE-Lite with configs/int8.json: recall@10 0.936 against 0.942
// exact (benchmarks/real_model_quality.sh), at 0.89x/1.74x/2.96x FP32 (batch 1/8/32)
// against 0.44x/1.51x/2.88x (benchmarks/speed.sh).
//
// rounded_input is fine-tuning's simulation of what linear_dynamic does to its input:
// 8-bit affine over the call's range (0 inside it; the grid's range when steps > 0), its
// gradient straight through inside the range (fake_quantize's backward).
const char* kGridRangeSource = R"TS(
def grid_range(lo: Tensor, hi: Tensor, steps: float) -> Tuple[Tensor, Tensor]:
    r = torch.exp2(torch.ceil(torch.log2(torch.maximum(hi, -lo).clamp_min(1e-30)) * steps) / steps)
    low = torch.where(lo >= r * -0.125, r * -0.125, -r)
    return low, r

def with_range_rows(x: Tensor, steps: float) -> Tensor:
    k = x.size(-1)
    rows = x.reshape(-1, k)
    lo, hi = torch.aminmax(rows)
    low, r = grid_range(lo, hi, steps)
    return torch.cat([rows, torch.stack([r, low]).unsqueeze(1).expand(2, k)])

def rounded_input(x: Tensor, quant_max: int, steps: float) -> Tensor:
    lo = torch.clamp(x.detach().min(), max=0.0)
    hi = torch.clamp(x.detach().max(), min=0.0)
    if steps > 0.0:
        lo, hi = grid_range(lo, hi, steps)
    scale = torch.clamp((hi - lo) / quant_max, min=1e-8).reshape([1])
    zero_point = torch.clamp(torch.round(-lo / scale), 0, quant_max).int()
    return torch.fake_quantize_per_tensor_affine(x, scale, zero_point, 0, quant_max)
)TS";
// 8 steps per octave measured slower (more ranges per layer than the kernel cache keeps:
// 0.67x FP32 at batch 1) and no more accurate on USE-Lite (recall@10 0.933).
constexpr double kRangeSteps = 4;

class Int8DynamicScheme final : public Scheme {
public:
    std::string_view name() const override { return "int8_dynamic"; }
    std::string_view summary() const override {
        return "int8 weights (per_channel/per_tensor), activations quantized per batch, int8 "
               "matmul";
    }
    bool supports(LayerKind kind) const override { return kind == LayerKind::Linear; }
    bool needs_quantized_engine() const override { return true; }
    bool quantizes_linear_weight() const override { return true; }
    bool picks_activation_range() const override { return true; }
    bool smooths_activations() const override { return true; }
    std::string_view options_help() const override {
        return "per_channel (default) or per_tensor; reduce_range";
    }

    ResolvedOptions resolve(const Layer& layer, const SchemeOptions& options) const override {
        ResolvedOptions r = resolve_int8_weight(name(), layer, options);
        r.reduce_range = options.reduce_range.value_or(false);
        r.activation_range = options.activation_range.value_or(ActivationRange::Grid);
        return r;
    }

    int64_t stored_bytes(const Layer& layer, const ResolvedOptions& o) const override {
        return int8_linear_bytes(layer, o);
    }

    std::optional<std::string> unavailable_reason(const std::string& engine) const override {
        return int8_linear_unavailable_reason(engine);
    }

    // Smoothing is refused by finetune before this is asked (training moves the same
    // outliers).
    bool simulate(SimulationContext& ctx, const ResolvedOptions& o) const override {
        const bool per_channel = o.granularity.kind == Granularity::Kind::PerChannel;
        ctx.store_weight_as(
            [per_channel](const at::Tensor& w) { return nearest_int8_weight(w, per_channel); });
        const double steps = o.activation_range == ActivationRange::Grid ? kRangeSteps : 0.0;
        ctx.round_inputs(script_function(kGridRangeSource, "rounded_input"),
                         {int64_t{o.reduce_range ? 127 : 255}, steps});
        return true;
    }

    void rewrite(RewriteContext& ctx, const ResolvedOptions& o) const override {
        const Int8Weight weight = make_int8_weight(ctx, o);
        torch::jit::Value* packed = ctx.attribute("packed", [&] {
            use_engine(ctx.engine());
            return prepack_int8_linear(weight.qweight, ctx.output_bias(o, weight.dequantized));
        });
        // The packed weights' class cannot be named in a script function compiled here, so
        // linear_dynamic is inserted directly, between the grid's range rows and their removal.
        torch::jit::Value* x = ctx.node()->input(0);
        torch::jit::Value* input = smoothed_input(ctx, weight);
        if (o.activation_range == ActivationRange::Exact) {
            ctx.replace_node_output(insert_linear_dynamic(ctx, input, packed, o.reduce_range));
            return;
        }
        torch::jit::Value* rows = ctx.call(script_function(kGridRangeSource, "with_range_rows"),
                                           {input, ctx.constant(kRangeSteps)})
                                      .at(0);
        ctx.replace_node_output(linear_dynamic_on_range_rows(ctx, rows, packed, x, o.reduce_range));
    }
};

}  // namespace

std::unique_ptr<Scheme> make_int8_dynamic_scheme() { return std::make_unique<Int8DynamicScheme>(); }

}  // namespace embq
