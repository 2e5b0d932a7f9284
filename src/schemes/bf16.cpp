// bf16: weights stored and the matmul computed in bfloat16 (8 significant bits),
// the result returned in FP32. oneDNN runs bf16 matmuls fast on CPUs with
// AVX512-BF16 or AMX; elsewhere libtorch emulates them and bf16 is slower than FP32
// (see configs/README.md).
#include "embq/error.hpp"
#include "finetune/simulation.hpp"
#include "schemes/glue.hpp"
#include "schemes/schemes.hpp"

namespace embq {

namespace {

const char* kLinearSource = R"TS(
def linear(x: Tensor, weight: Tensor, bias: Optional[Tensor]) -> Tensor:
    y = torch.linear(x.to(weight.dtype), weight, None).float()
    if bias is not None:
        y = y + bias
    return y

def rounded_input(x: Tensor, dtype: int) -> Tensor:
    return x.to(dtype).to(x.dtype)
)TS";

class Bf16Scheme final : public Scheme {
public:
    std::string_view name() const override { return "bf16"; }
    std::string_view summary() const override {
        return "weights and matmul in bfloat16, output FP32 (fast with AVX512-BF16/AMX)";
    }
    bool supports(LayerKind kind) const override { return kind == LayerKind::Linear; }
    Compute compute() const override { return Compute::Bf16; }
    ResolvedOptions resolve(const Layer& layer, const SchemeOptions& options) const override {
        return reject_options(name(), layer, options);
    }
    int64_t stored_bytes(const Layer& layer, const ResolvedOptions&) const override {
        return weight_elements(layer) * 2 + bias_elements(layer) * 4;
    }
    bool simulate(SimulationContext& ctx, const ResolvedOptions&) const override {
        ctx.store_weight_as([](const at::Tensor& w) { return w.to(at::kBFloat16).to(at::kFloat); });
        ctx.round_inputs(script_function(kLinearSource, "rounded_input"),
                         {c10::IValue(c10::ScalarType::BFloat16)});
        return true;
    }

    void rewrite(RewriteContext& ctx, const ResolvedOptions&) const override {
        torch::jit::Value* weight =
            ctx.attribute("weight_bf16", [&] { return ctx.weight().to(at::kBFloat16); });
        replace_linear(ctx, script_function(kLinearSource, "linear"), {weight});
    }
};

}  // namespace

std::unique_ptr<Scheme> make_bf16_scheme() { return std::make_unique<Bf16Scheme>(); }

}  // namespace embq
