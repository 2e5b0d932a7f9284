// int8_dynamic: int8 weights (symmetric, per tensor or per output channel), packed
// for the quantized engine; activations are quantized per row (token) at run time and the
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

// activation_range "row" (the default): each row (token) of the input gets its own 8-bit
// affine range, its min..max, applied before the engine sees it. The input goes in as
// u = (x - lo) / span, every row of which spans exactly [0, 1] (its min maps to 0 and its
// max to (hi - lo) / (hi - lo) = 1 in IEEE arithmetic), so linear_dynamic, which takes its
// input's min and max, always quantizes over [0, 1]: one activation range per layer, and
// with the padded row counts (int8_linear.hpp) one oneDNN kernel per layer and row size.
// The output is put back as x W^T = span * (u W^T) + lo * colsum(W), plus the bias: W is
// the weight the codes dequantize to and colsum its sums over inputs, stored with the bias
// as a [2, out] tensor. Per-row ranges are also finer than one range per call: a row of
// small values no longer shares the step of the call's largest row (LLM.int8() and
// SmoothQuant quantize activations per token too).
//
// Measured on the 2-CPU VM (AVX512-VNNI) on a chain of USE-Lite's 14 linear shapes,
// lengths 6..40 tokens: 2.05x/1.88x/2.79x FP32 at batch 1/8/32 against the grid's
// 0.34x/1.28x/2.35x, relative output error 0.010 against 0.013. (aten::aminmax over a
// dimension is 6-18x slower than amin and amax in this libtorch; they are used instead.)
//
// Layers that read the same input (a transformer's query, key and value) run as one:
// the input is mapped once and linear_dynamic runs once, on their weights stacked by rows
// (one int8 matrix), and each layer's columns come back as a new contiguous tensor, so
// code that views them (q.view(...)) runs as before. Each output column depends only on
// its own weight row, so the result is the separate layers'. Measured on the 2-CPU VM,
// three [384, 384] layers against one [1152, 384]: 260 us against 104 us a call at 12
// rows, 4.1 ms against 3.0 ms at 4,096 rows.
//
// activation_range "grid": one range per call, R, the larger of max and -min, rounded up
// to a power of 2^(1/kRangeSteps); the range is [-R/8, R] when the input is nearly
// non-negative (after GELU), else [-R, R], imposed on linear_dynamic through two extra
// rows holding its ends (no value is clipped). A few ranges per layer reach the kernel
// cache; a new exact range per call ("exact", what torch's quantize_dynamic does) builds a
// kernel on every call (16x256 by 256x256: 273 us against 54 us when the input repeats
// and 40 us in FP32). No two grid ranges share a scale: this libtorch's kernel cache does
// not tell apart two ranges with the same scale and different zero points. Ranges (-2, 4)
// and (-4, 2) on one shape returned wrong outputs (cosine 0.49 to the reference) in 27 of
// 300 calls; 1,200 calls with the grid's ranges were all right (tests/test_schemes.cpp
// checks it). Row ranges have one scale and zero point for every call.
//
// rounded_input and rounded_rows are fine-tuning's simulation of what linear_dynamic does
// to its input: 8-bit affine over the call's range (the grid's when steps > 0) or each
// row's, the gradient straight through inside the range (fake_quantize's backward).
const char* kRowRangeSource = R"TS(
def on_unit_range(x: Tensor) -> Tuple[Tensor, Tensor, Tensor]:
    k = x.size(-1)
    # Detached: the int8 matmul has no gradient anyway, and out= refuses inputs that
    # require one (plain PyTorch outside torch.no_grad(), where parameters do).
    rows = x.reshape(-1, k).detach()
    n = rows.size(0)
    lo = rows.amin(1, keepdim=True)
    span = (rows.amax(1, keepdim=True) - lo).clamp_min(1e-30)
    # One new tensor, of the padded size at once; padding rows are 0, inside [0, 1].
    unit = rows.new_empty([padded_rows(n), k])
    unit[n:].zero_()
    torch.sub(rows, lo, out=unit[:n])
    unit[:n].div_(span)
    return unit, lo, span

def columns_from_unit_range(y: Tensor, start: int, lo: Tensor, span: Tensor, colsum_bias: Tensor,
                            x: Tensor) -> Tensor:
    cols = y[:lo.size(0), start:start + colsum_bias.size(1)]
    out = torch.mul(cols, span).addmm_(torch.cat([lo, torch.ones_like(lo)], 1), colsum_bias)
    return without_padding(out, x)

def rounded_rows(x: Tensor, quant_max: int) -> Tensor:
    rows = x.reshape(-1, x.size(-1))
    lo = rows.detach().amin(1, keepdim=True)
    span = (rows.detach().amax(1, keepdim=True) - lo).clamp_min(1e-30)
    u = (rows - lo) / span
    u = u + (torch.round(u * quant_max) / quant_max - u).detach()
    return (u * span + lo).reshape(x.size())
)TS";

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
    ranged = torch.cat([rows, torch.stack([r, low]).unsqueeze(1).expand(2, k)])
    return pad_rows(ranged, ranged.size(0), 0.0)  # 0 lies inside every grid range

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
        return "int8 weights (per_channel/per_tensor), activations quantized per row, int8 "
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
        r.activation_range = options.activation_range.value_or(ActivationRange::Row);
        return r;
    }

    int64_t stored_bytes(const Layer& layer, const ResolvedOptions& o) const override {
        if (o.activation_range != ActivationRange::Row) return int8_linear_bytes(layer, o);
        // The bias is stored with the weight's column sums, as FP32 [2, out] (zeros when
        // the layer has no bias).
        const int64_t outputs = layer.weight_shape.at(0);
        return int8_linear_bytes(layer, o) - bias_elements(layer) * 4 + 2 * outputs * 4;
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
        const int64_t quant_max = o.reduce_range ? 127 : 255;
        if (o.activation_range == ActivationRange::Row) {
            ctx.round_inputs(int8_rows_function(kRowRangeSource, "rounded_rows"), {quant_max});
            return true;
        }
        const double steps = o.activation_range == ActivationRange::Grid ? kRangeSteps : 0.0;
        ctx.round_inputs(int8_rows_function(kGridRangeSource, "rounded_input"), {quant_max, steps});
        return true;
    }

    // Per-channel weights stack into one per-channel matrix exactly; smoothing scales
    // each layer's input differently, so those inputs are not shared.
    bool rewrites_together(const ResolvedOptions& o) const override {
        return o.activation_range == ActivationRange::Row && o.smoothing == 0 &&
               o.granularity.kind == Granularity::Kind::PerChannel;
    }

    void rewrite_together(std::vector<RewriteContext>& uses,
                          const ResolvedOptions& o) const override {
        rewrite_on_row_ranges(uses, o);
    }

    void rewrite(RewriteContext& ctx, const ResolvedOptions& o) const override {
        if (o.activation_range == ActivationRange::Row) {
            std::vector<RewriteContext> uses{ctx};
            rewrite_on_row_ranges(uses, o);
            return;
        }
        const Int8Weight weight = make_int8_weight(ctx, o);
        torch::jit::Value* packed = ctx.attribute("packed", [&] {
            use_engine(ctx.engine());
            return prepack_int8_linear(weight.qweight, ctx.output_bias(o, weight.dequantized));
        });
        // The packed weights' class cannot be named in a script function compiled here, so
        // linear_dynamic is inserted directly, between the script functions around it.
        torch::jit::Value* x = ctx.node()->input(0);
        torch::jit::Value* input = smoothed_input(ctx, weight);
        if (o.activation_range == ActivationRange::Exact) {
            ctx.replace_node_output(insert_linear_dynamic(ctx, input, packed, o.reduce_range));
            return;
        }
        torch::jit::Value* rows = ctx.call(int8_rows_function(kGridRangeSource, "with_range_rows"),
                                           {input, ctx.constant(kRangeSteps)})
                                      .at(0);
        ctx.replace_node_output(linear_dynamic_on_range_rows(ctx, rows, packed, x, o.reduce_range));
    }

private:
    // The weights are packed without their biases: each bias comes back with
    // lo * colsum(W). One use, or several that read the same input (rewrites_together).
    static void rewrite_on_row_ranges(std::vector<RewriteContext>& uses, const ResolvedOptions& o) {
        RewriteContext& first = uses.front();
        std::vector<Int8Weight> weights;
        for (RewriteContext& use : uses) weights.push_back(make_int8_weight(use, o));
        const auto pack = [&] {
            use_engine(first.engine());
            std::vector<at::Tensor> qweights;
            for (const Int8Weight& w : weights) qweights.push_back(w.qweight);
            return prepack_int8_linear(stacked_int8_weight(qweights), c10::nullopt);
        };
        torch::jit::Value* packed = first.attribute("packed", uses, pack);
        const std::vector<torch::jit::Value*> unit =
            first.call(int8_rows_function(kRowRangeSource, "on_unit_range"),
                       {smoothed_input(first, weights[0])});
        torch::jit::Value* y = insert_linear_dynamic(first, unit.at(0), packed, o.reduce_range);
        int64_t start = 0;
        for (size_t i = 0; i < uses.size(); ++i) {
            RewriteContext& use = uses[i];
            torch::jit::Value* colsum_bias = use.attribute("colsum_bias", [&] {
                const at::Tensor colsum =
                    weights[i].qweight.dequantize().to(at::kDouble).sum(1).to(at::kFloat);
                const c10::optional<at::Tensor> bias = use.output_bias(o, weights[i].dequantized);
                return at::stack({colsum, bias ? bias->to(at::kFloat) : at::zeros_like(colsum)});
            });
            torch::jit::Value* x = use.node()->input(0);
            use.replace_node_output(
                use.call(int8_rows_function(kRowRangeSource, "columns_from_unit_range"),
                         {y, use.constant(start), unit.at(1), unit.at(2), colsum_bias, x})
                    .at(0));
            start += weights[i].qweight.size(0);
        }
    }
};

}  // namespace

std::unique_ptr<Scheme> make_int8_dynamic_scheme() { return std::make_unique<Int8DynamicScheme>(); }

}  // namespace embq
