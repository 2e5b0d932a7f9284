// int8_static: int8 weights (symmetric, per channel or per tensor) and int8 activations
// whose range calibration chose (the selected observer's range of the layer's input), so
// nothing about the quantization is decided per call. The input is clipped to that range
// and the engine's `quantized::linear_dynamic` runs with it imposed (two extra rows
// holding its ends, as int8_dynamic's grid does), which returns the FP32 accumulation.
//
// Why not `quantized::linear` with a calibrated *output* scale, the textbook static
// layer (and embq's first int8_static)? Re-quantizing the output to 8 bits is what lost
// the quality: USE-Lite's output.dense layers produce [-76, 29] into the residual, a step
// of 0.41. On USE-Lite + WordNet (benchmarks/recovery.sh's int8-static config, the same
// calibration) recall@10 went from 0.864 (output quantized) to 0.914 with the FP32 output,
// 0.937 with smoothing 0.5. One fixed range per layer is also one oneDNN kernel per layer,
// built once: as fast as FP32 at batch 1, where int8_dynamic is slower.
// Needs a calibration and a quantized engine (the preflight runs the op on a tiny layer).
#include "embq/error.hpp"
#include "embq/observers.hpp"
#include "embq/runtime.hpp"
#include "model/torch_util.hpp"
#include "quantize/rewrite_context.hpp"
#include "schemes/glue.hpp"
#include "schemes/int8_linear.hpp"
#include "schemes/schemes.hpp"

namespace embq {

namespace {

using torch::jit::Value;

class Int8StaticScheme final : public Scheme {
public:
    std::string_view name() const override { return "int8_static"; }
    std::string_view summary() const override {
        return "int8 weights and activations, activation range from calibration, int8 matmul, "
               "FP32 output";
    }
    bool supports(LayerKind kind) const override { return kind == LayerKind::Linear; }
    bool needs_calibration() const override { return true; }
    bool needs_quantized_engine() const override { return true; }
    bool quantizes_linear_weight() const override { return true; }
    bool smooths_activations() const override { return true; }
    std::string_view options_help() const override { return "per_channel (default) or per_tensor"; }

    ResolvedOptions resolve(const Layer& layer, const SchemeOptions& options) const override {
        // reduce_range (7-bit activations for FBGEMM without VNNI) would need the
        // calibrated ranges mapped onto 0..127; not built.
        if (options.reduce_range.value_or(false))
            throw config_error("layer '" + layer.path +
                               "': int8_static has no reduce_range option");
        return resolve_int8_weight(name(), layer, options);
    }

    int64_t stored_bytes(const Layer& layer, const ResolvedOptions& o) const override {
        return int8_linear_bytes(layer, o);  // the input range is two constants in the graph
    }

    std::optional<std::string> unavailable_reason(const std::string& engine) const override {
        return int8_linear_unavailable_reason(engine);
    }

    void rewrite(RewriteContext& ctx, const ResolvedOptions& o) const override {
        const LayerCalibration cal = ctx.calibration();
        const Int8Weight weight = make_int8_weight(ctx, o);
        const ClipRange range = weight.input_scale.defined()
                                    ? smoothed_input_range(cal, weight.input_scale)
                                    : cal.input;
        Value* packed = ctx.attribute("packed", [&] {
            use_engine(ctx.engine());
            return prepack_int8_linear(weight.qweight, ctx.output_bias(o, weight.dequantized));
        });
        Value* x = ctx.node()->input(0);
        Value* rows =
            ctx.call(int8_rows_function(kFixedRangeRowsSource, "with_fixed_range_rows"),
                     {smoothed_input(ctx, weight), ctx.constant(range.lo), ctx.constant(range.hi)})
                .at(0);
        ctx.replace_node_output(linear_dynamic_on_range_rows(ctx, rows, packed, x, false));
    }
};

}  // namespace

std::unique_ptr<Scheme> make_int8_static_scheme() { return std::make_unique<Int8StaticScheme>(); }

}  // namespace embq
