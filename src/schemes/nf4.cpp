// nf4: 4-bit codes on NF4's 16 levels (QLoRA's normal-quantile code, 0 exact) with an FP16
// absmax scale per group of N elements of a row (group:64 by default: 4.25 bits/element).
// For weights and table rows that are roughly normal, NF4's levels are denser where the
// values are than int4's evenly spaced ones. Linear layers, rounded to nearest or by GPTQ,
// store the codes and decode them once when the model loads, then run the stock FP32
// linear (replace_linear_with_decoded: file size, not speed); tables dequantize only the
// rows a batch looks up.
#include "embq/error.hpp"
#include "finetune/simulation.hpp"
#include "quantize/quant_math.hpp"
#include "schemes/glue.hpp"
#include "schemes/schemes.hpp"

namespace embq {

namespace {

// Rebuilds the FP32 weight from state [packed codes [out, in/2] uint8, scale [out, groups]
// fp16, levels [16] FP32] when the model loads (replace_linear_with_decoded).
const char* kDecodeSource = R"TS(
def decode(self) -> Tensor:
    packed, scale, levels = self.state[0], self.state[1], self.state[2]
    out_features = packed.size(0)
    codes = torch.stack([torch.bitwise_and(packed, 15), torch.bitwise_right_shift(packed, 4)], -1)
    values = levels[codes.long()].reshape([out_features, scale.size(1), -1])
    weight = values * scale.float().unsqueeze(-1)
    return weight.reshape([out_features, -1])
)TS";

// params: [codes uint8 [V, D/2], scale FP16 [V, D/N], levels FP32 [16]]
std::string rows_source() {
    return std::string("def rows(params: List[Tensor], ids: Tensor) -> Tensor:") +
           kUnpackInt4Rows + R"TS(    values = params[2][codes.long()]
    scale = torch.embedding(params[1], ids).float().unsqueeze(-1)
    shape = values.size()[:-1]
    grouped = values.reshape(shape + [scale.size(-2), -1])
    return (grouped * scale).flatten(-2)
)TS";
}

constexpr int kDefaultGroup = 64;

class Nf4Scheme final : public Scheme {
public:
    std::string_view name() const override { return "nf4"; }
    std::string_view summary() const override {
        return "4-bit NF4 codes (normal-quantile levels), FP16 absmax scale per group:N "
               "(default 64); linears decoded to FP32 when the model loads, tables per looked-up "
               "row";
    }
    bool supports(LayerKind) const override { return true; }
    bool quantizes_linear_weight() const override { return true; }
    std::string_view options_help() const override {
        return "group:N (default group:64) or per_channel (one group per row)";
    }

    ResolvedOptions resolve(const Layer& layer, const SchemeOptions& options) const override {
        if (options.reduce_range || options.symmetric)
            throw config_error("layer '" + layer.path +
                               "': nf4 takes only a granularity (its code is symmetric by "
                               "construction); remove symmetric and reduce_range");
        ResolvedOptions r;
        r.granularity = options.granularity.value_or(Granularity::group(kDefaultGroup));
        const int64_t width = layer.weight_shape.at(1);
        if (r.granularity.kind == Granularity::Kind::PerChannel)
            r.granularity = Granularity::group(static_cast<int>(width));
        if (r.granularity.kind != Granularity::Kind::Group)
            throw config_error("layer '" + layer.path + "': nf4 needs granularity group:N or "
                               "per_channel, not " + r.granularity.to_string());
        const int g = r.granularity.group_size;
        if (g % 2 != 0 || width % g != 0)
            throw config_error("layer '" + layer.path + "': group size " + std::to_string(g) +
                               " must be even and divide the row width " + std::to_string(width) +
                               "; pick one of 32, 64, 128 that divides it, or per_channel");
        r.symmetric = true;
        return r;
    }

    int64_t stored_bytes(const Layer& layer, const ResolvedOptions& o) const override {
        const int64_t w = weight_elements(layer);
        return w / 2 + w / o.granularity.group_size * 2 + 16 * 4 + bias_elements(layer) * 4;
    }

    bool simulate(SimulationContext& ctx, const ResolvedOptions& o) const override {
        const int64_t group = o.granularity.group_size;
        ctx.store_weight_as([group](const at::Tensor& w) {
            return dequantize_groups(quantize_nf4_groups(w, group, at::kHalf));
        });
        return true;
    }

    void rewrite(RewriteContext& ctx, const ResolvedOptions& o) const override {
        GroupQuantized q;
        auto quantized = [&]() -> const GroupQuantized& {
            if (!q.codes.defined()) {
                const at::Tensor w = ctx.weight();
                q = quantize_nf4_groups(w, o.granularity.group_size, at::kHalf);
                if (ctx.layer().kind == LayerKind::Linear) q.codes = ctx.round_weight(o, w, q);
            }
            return q;
        };
        if (ctx.layer().kind != LayerKind::Linear) {
            torch::jit::Value* packed =
                ctx.attribute("packed", [&] { return pack_int4(quantized().codes); });
            torch::jit::Value* scale = ctx.attribute("scale", [&] { return quantized().scale; });
            torch::jit::Value* levels =
                ctx.attribute("levels", [&] { return nf4_levels().clone(); });
            replace_lookup(ctx, rows_source(), {packed, scale, levels});
            return;
        }
        torch::jit::Value* bias = nullptr;
        if (o.bias_correction)
            bias = ctx.attribute(
                "bias", [&] { return *ctx.output_bias(o, dequantize_groups(quantized())); });
        replace_linear_with_decoded(
            ctx, "Nf4Weights", kDecodeSource,
            [&]() -> std::vector<at::Tensor> {
                return {pack_int4(quantized().codes), quantized().scale, nf4_levels().clone()};
            },
            bias);
    }
};

}  // namespace

std::unique_ptr<Scheme> make_nf4_scheme() { return std::make_unique<Nf4Scheme>(); }

}  // namespace embq
