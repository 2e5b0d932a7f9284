// int8_dynamic: int8 weights (symmetric, per tensor or per output channel), packed
// for the quantized engine; activations are quantized per batch at run time and the
// matmul runs in int8 (`quantized::linear_dynamic`). oneDNN uses VNNI where the CPU
// has it. Needs a quantized engine: the preflight packs and runs a tiny layer on it.
#include "embq/error.hpp"
#include "model/torch_util.hpp"
#include "quantize/engine.hpp"
#include "quantize/rewrite_context.hpp"
#include "schemes/int8_linear.hpp"
#include "schemes/schemes.hpp"

namespace embq {

namespace {

class Int8DynamicScheme final : public Scheme {
public:
    std::string_view name() const override { return "int8_dynamic"; }
    std::string_view summary() const override {
        return "int8 weights (per_channel/per_tensor), activations quantized per batch, int8 "
               "matmul";
    }
    bool supports(LayerKind kind) const override { return kind == LayerKind::Linear; }
    bool needs_quantized_engine() const override { return true; }
    bool corrects_bias() const override { return true; }
    std::string_view options_help() const override {
        return "per_channel (default) or per_tensor; reduce_range";
    }

    ResolvedOptions resolve(const Layer& layer, const SchemeOptions& options) const override {
        ResolvedOptions r = resolve_int8_weight(name(), layer, options);
        r.reduce_range = options.reduce_range.value_or(false);
        return r;
    }

    int64_t stored_bytes(const Layer& layer, const ResolvedOptions& o) const override {
        return int8_linear_bytes(layer, o);
    }

    std::optional<std::string> unavailable_reason(const std::string& engine) const override {
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

    void rewrite(RewriteContext& ctx, const ResolvedOptions& o) const override {
        torch::jit::Value* packed = ctx.attribute("packed", [&] {
            use_engine(ctx.engine());
            const at::Tensor q = quantize_int8_weight(
                ctx.weight(), o.granularity.kind == Granularity::Kind::PerChannel);
            return prepack_int8_linear(q, ctx.output_bias(o, q.dequantize()));
        });
        torch::jit::Node* node = ctx.node();
        torch::jit::WithInsertPoint guard(node);
        torch::jit::Value* y =
            ctx.graph().insert(c10::Symbol::fromQualString("quantized::linear_dynamic"),
                               {node->input(0), packed, ctx.constant(o.reduce_range)});
        ctx.replace_node_output(y);
    }
};

}  // namespace

std::unique_ptr<Scheme> make_int8_dynamic_scheme() { return std::make_unique<Int8DynamicScheme>(); }

}  // namespace embq
