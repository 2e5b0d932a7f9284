// fp16: weights stored in IEEE half precision, computed in FP32. Halves the bytes
// with almost no error (fp16 keeps 11 significant bits); the choice for embedding
// matrices. No quantized engine is needed. (An FP16 *compute* linear would need
// fbgemm's linear_dynamic_fp16, which this libtorch build lacks.)
#include "embq/error.hpp"
#include "finetune/simulation.hpp"
#include "schemes/glue.hpp"
#include "schemes/schemes.hpp"

namespace embq {

namespace {

const char* kLinearSource = R"TS(
def linear(x: Tensor, weight: Tensor, bias: Optional[Tensor]) -> Tensor:
    return torch.linear(x, weight.float(), bias)
)TS";

const char* kRowsSource = R"TS(
def rows(params: List[Tensor], ids: Tensor) -> Tensor:
    return torch.embedding(params[0], ids).float()
)TS";

class Fp16Scheme final : public Scheme {
public:
    std::string_view name() const override { return "fp16"; }
    std::string_view summary() const override {
        return "weights stored in FP16, computed in FP32 (2 bytes/weight)";
    }
    bool supports(LayerKind) const override { return true; }
    ResolvedOptions resolve(const Layer& layer, const SchemeOptions& options) const override {
        return reject_options(name(), layer, options);
    }
    int64_t stored_bytes(const Layer& layer, const ResolvedOptions&) const override {
        return weight_elements(layer) * 2 + bias_elements(layer) * 4;
    }
    bool simulate(SimulationContext& ctx, const ResolvedOptions&) const override {
        ctx.store_weight_as([](const at::Tensor& w) { return w.to(at::kHalf).to(at::kFloat); });
        return true;
    }

    void rewrite(RewriteContext& ctx, const ResolvedOptions&) const override {
        torch::jit::Value* weight =
            ctx.attribute("weight_fp16", [&] { return ctx.weight().to(at::kHalf); });
        if (ctx.layer().kind == LayerKind::Linear)
            replace_linear(ctx, script_function(kLinearSource, "linear"), {weight});
        else
            replace_lookup(ctx, kRowsSource, {weight});
    }
};

}  // namespace

std::unique_ptr<Scheme> make_fp16_scheme() { return std::make_unique<Fp16Scheme>(); }

}  // namespace embq
