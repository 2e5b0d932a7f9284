// int8_static: int8 weights (symmetric, per channel or per tensor) and int8 activations
// with the scale and zero point calibration chose (quint8 affine, from the selected
// observer's range of the layer's input, and of its output for the result). The layer
// quantizes its input, runs the engine's `quantized::linear` and dequantizes the result;
// no per-batch range search, unlike int8_dynamic. Needs a calibration and a quantized
// engine (the preflight runs the three ops on a tiny layer).
#include "embq/error.hpp"
#include "embq/observers.hpp"
#include "model/torch_util.hpp"
#include "quantize/engine.hpp"
#include "quantize/rewrite_context.hpp"
#include "schemes/int8_linear.hpp"
#include "schemes/schemes.hpp"

namespace embq {

namespace {

using torch::jit::Value;

class Int8StaticScheme final : public Scheme {
public:
    std::string_view name() const override { return "int8_static"; }
    std::string_view summary() const override {
        return "int8 weights and activations, activation scales from calibration, int8 matmul";
    }
    bool supports(LayerKind kind) const override { return kind == LayerKind::Linear; }
    bool needs_calibration() const override { return true; }
    bool needs_quantized_engine() const override { return true; }
    bool corrects_bias() const override { return true; }
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
        return int8_linear_bytes(layer, o) + 2 * 16;  // + input and output scale/zero point
    }

    std::optional<std::string> unavailable_reason(const std::string& engine) const override {
        try {
            use_engine(engine);
            const c10::IValue packed =
                prepack_int8_linear(quantize_int8_weight(at::randn({8, 8}), true), c10::nullopt);
            const at::Tensor x = at::quantize_per_tensor(at::randn({2, 8}), 0.05, 128, at::kQUInt8);
            static const auto op =
                c10::Dispatcher::singleton().findSchemaOrThrow("quantized::linear", "");
            torch::jit::Stack stack{x, packed, 0.05, int64_t{128}};
            op.callBoxed(&stack);
            stack.at(0).toTensor().dequantize();
            return std::nullopt;
        } catch (const std::exception& e) {
            return "quantized::linear does not run on engine '" + engine + "' (" +
                   first_line_of(e) + ")";
        }
    }

    void rewrite(RewriteContext& ctx, const ResolvedOptions& o) const override {
        const LayerCalibration cal = ctx.calibration();
        const QParams in = qparams_for(cal.input, QuantTarget::Quint8Affine);
        const QParams out = qparams_for(cal.output, QuantTarget::Quint8Affine);
        Value* packed = ctx.attribute("packed", [&] {
            use_engine(ctx.engine());
            const at::Tensor q = quantize_int8_weight(
                ctx.weight(), o.granularity.kind == Granularity::Kind::PerChannel);
            return prepack_int8_linear(q, ctx.output_bias(o, q.dequantize()));
        });
        torch::jit::Node* node = ctx.node();
        torch::jit::Graph& graph = ctx.graph();
        torch::jit::WithInsertPoint guard(node);
        Value* xq = graph.insert(c10::aten::quantize_per_tensor,
                                 {node->input(0), ctx.constant(in.scale),
                                  ctx.constant(static_cast<int64_t>(in.zero_point)),
                                  ctx.constant(static_cast<int64_t>(at::kQUInt8))});
        Value* yq = graph.insert(c10::Symbol::fromQualString("quantized::linear"),
                                 {xq, packed, ctx.constant(out.scale),
                                  ctx.constant(static_cast<int64_t>(out.zero_point))});
        ctx.replace_node_output(graph.insert(c10::aten::dequantize, {yq}));
    }
};

}  // namespace

std::unique_ptr<Scheme> make_int8_static_scheme() { return std::make_unique<Int8StaticScheme>(); }

}  // namespace embq
