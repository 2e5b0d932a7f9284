// int8_dynamic: int8 weights (symmetric, per tensor or per output channel), packed
// for the quantized engine; activations are quantized per batch at run time and the
// matmul runs in int8 (`quantized::linear_dynamic`). oneDNN uses VNNI where the CPU
// has it. Needs a quantized engine: the preflight packs and runs a tiny layer on it.
#include <ATen/ATen.h>

#include "embq/error.hpp"
#include "engine.hpp"
#include "quant_math.hpp"
#include "schemes/schemes.hpp"
#include "rewrite_context.hpp"
#include "torch_util.hpp"

namespace embq {

namespace {

c10::IValue prepack(const at::Tensor& qweight, const c10::optional<at::Tensor>& bias) {
    static const auto op =
        c10::Dispatcher::singleton().findSchemaOrThrow("quantized::linear_prepack", "");
    torch::jit::Stack stack{qweight, bias ? c10::IValue(*bias) : c10::IValue()};
    op.callBoxed(&stack);
    return stack.at(0);
}

at::Tensor quantize_weight(const at::Tensor& w, bool per_channel) {
    const at::Tensor scales = symmetric_int8_scales(w, per_channel);
    if (per_channel) {
        return at::quantize_per_channel(w, scales.to(at::kDouble),
                                        at::zeros({w.size(0)}, at::kLong), 0, at::kQInt8);
    }
    return at::quantize_per_tensor(w, scales.item<double>(), 0, at::kQInt8);
}

class Int8DynamicScheme final : public Scheme {
public:
    std::string_view name() const override { return "int8_dynamic"; }
    std::string_view summary() const override {
        return "int8 weights (per_channel/per_tensor), activations quantized per batch, int8 matmul";
    }
    bool supports(LayerKind kind) const override { return kind == LayerKind::Linear; }

    ResolvedOptions resolve(const Layer& layer, const SchemeOptions& options) const override {
        ResolvedOptions r;
        r.granularity = options.granularity.value_or(Granularity::per_channel());
        if (r.granularity.kind == Granularity::Kind::Group)
            throw config_error("layer '" + layer.path + "': int8_dynamic takes per_tensor or "
                               "per_channel, not " + r.granularity.to_string() +
                               "; for group-wise weights use int4_weight");
        // The engines' int8 linear kernels take symmetric weights (zero point 0) only.
        if (options.symmetric == false)
            throw config_error("layer '" + layer.path + "': int8_dynamic weights are symmetric; "
                               "remove \"symmetric\": false");
        r.symmetric = true;
        r.reduce_range = options.reduce_range.value_or(false);
        return r;
    }

    int64_t stored_bytes(const Layer& layer, const ResolvedOptions& o) const override {
        const int64_t rows = layer.weight_shape.at(0);
        // int8 codes + a double scale and int64 zero point per channel (as PyTorch
        // serializes per-channel qtensors) + the FP32 bias.
        const int64_t qparams = o.granularity.kind == Granularity::Kind::PerChannel ? rows * 16 : 16;
        return weight_elements(layer) + qparams + bias_elements(layer) * 4;
    }

    std::optional<std::string> unavailable_reason(const std::string& engine) const override {
        try {
            use_engine(engine);
            const at::Tensor w = at::randn({8, 8});
            const c10::IValue packed = prepack(quantize_weight(w, true), c10::nullopt);
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

    void rewrite(RewriteContext& ctx, const ResolvedOptions& o) const override {
        torch::jit::Value* packed = ctx.attribute("packed", [&] {
            use_engine(ctx.engine());
            const bool per_channel = o.granularity.kind == Granularity::Kind::PerChannel;
            return prepack(quantize_weight(ctx.weight(), per_channel), ctx.bias());
        });
        torch::jit::Node* node = ctx.node();
        torch::jit::WithInsertPoint guard(node);
        torch::jit::Value* y = ctx.graph().insert(
            c10::Symbol::fromQualString("quantized::linear_dynamic"),
            {node->input(0), packed, ctx.constant(o.reduce_range)});
        ctx.replace_node_output(y);
    }
};

}  // namespace

std::unique_ptr<Scheme> make_int8_dynamic_scheme() { return std::make_unique<Int8DynamicScheme>(); }

}  // namespace embq
