// int4_weight: 4-bit weight codes, two to a byte, with an FP16 scale and offset per
// group of N input elements (group:32/64/128; 4.5 bits/weight at group:64), rounded to
// nearest or by GPTQ ("rounding": "gptq"). Symmetric (0.0 exact) or affine (full range).
// The file holds the codes; loading decodes them once to an FP32 weight and each call runs
// the stock FP32 linear (replace_linear_with_decoded): it buys file size, not speed.
#include "embq/error.hpp"
#include "finetune/simulation.hpp"
#include "quantize/quant_math.hpp"
#include "schemes/glue.hpp"
#include "schemes/schemes.hpp"

namespace embq {

namespace {

// Rebuilds the FP32 weight from state [packed codes [out, in/2] uint8, scale and offset
// [out, groups] fp16] when the model loads (replace_linear_with_decoded).
const char* kDecodeSource = R"TS(
def decode(self) -> Tensor:
    packed, scale, offset = self.state[0], self.state[1], self.state[2]
    out_features = packed.size(0)
    codes = torch.stack([torch.bitwise_and(packed, 15), torch.bitwise_right_shift(packed, 4)], -1)
    codes = codes.reshape([out_features, scale.size(1), -1]).float()
    weight = codes * scale.float().unsqueeze(-1) + offset.float().unsqueeze(-1)
    return weight.reshape([out_features, -1])
)TS";

constexpr int kDefaultGroup = 64;

// The grid rewrite() stores and simulate() trains on, codes rounded to nearest.
GroupQuantized int4_grid(const at::Tensor& weight, const ResolvedOptions& o) {
    return quantize_groups(weight, o.granularity.group_size, 4, o.symmetric, at::kHalf);
}

class Int4WeightScheme final : public Scheme {
public:
    std::string_view name() const override { return "int4_weight"; }
    std::string_view summary() const override {
        return "4-bit weights, FP16 scale+offset per group (group:32/64/128), decoded to FP32 "
               "when the model loads";
    }
    bool supports(LayerKind kind) const override { return kind == LayerKind::Linear; }
    bool quantizes_linear_weight() const override { return true; }
    std::string_view options_help() const override {
        return "group:N (default group:64) or per_channel; symmetric (default) or not";
    }

    ResolvedOptions resolve(const Layer& layer, const SchemeOptions& options) const override {
        if (options.reduce_range)
            throw config_error("layer '" + layer.path +
                               "': int4_weight has no reduce_range option");
        ResolvedOptions r;
        r.granularity = options.granularity.value_or(Granularity::group(kDefaultGroup));
        r.symmetric = options.symmetric.value_or(true);
        const int64_t in = layer.weight_shape.at(1);
        if (r.granularity.kind == Granularity::Kind::PerChannel)
            r.granularity = Granularity::group(static_cast<int>(in));  // one group per row
        if (r.granularity.kind != Granularity::Kind::Group)
            throw config_error("layer '" + layer.path +
                               "': int4_weight needs granularity "
                               "group:N (e.g. 32, 64, 128) or per_channel, not " +
                               r.granularity.to_string());
        const int g = r.granularity.group_size;
        if (g % 2 != 0 || in % g != 0)
            throw config_error("layer '" + layer.path + "': group size " + std::to_string(g) +
                               " must be even and divide the input width " + std::to_string(in) +
                               "; pick one of 32, 64, 128 that divides it, or per_channel");
        return r;
    }

    int64_t stored_bytes(const Layer& layer, const ResolvedOptions& o) const override {
        const int64_t w = weight_elements(layer);
        const int64_t groups = w / o.granularity.group_size;
        return w / 2 + groups * 2 * 2 + bias_elements(layer) * 4;
    }

    void rewrite(RewriteContext& ctx, const ResolvedOptions& o) const override {
        GroupQuantized q;
        auto quantized = [&]() -> const GroupQuantized& {
            if (!q.codes.defined()) {
                const at::Tensor w = ctx.weight();
                q = int4_grid(w, o);
                q.codes = ctx.round_weight(o, w, q);
            }
            return q;
        };
        torch::jit::Value* bias = nullptr;
        if (o.bias_correction)
            bias = ctx.attribute(
                "bias", [&] { return *ctx.output_bias(o, dequantize_groups(quantized())); });
        replace_linear_with_decoded(
            ctx, "Int4Weights", kDecodeSource,
            [&]() -> std::vector<at::Tensor> {
                return {pack_int4(quantized().codes), quantized().scale, quantized().offset};
            },
            bias);
    }

    bool simulate(SimulationContext& ctx, const ResolvedOptions& o) const override {
        ctx.store_weight_as([o](const at::Tensor& w) { return dequantize_groups(int4_grid(w, o)); });
        return true;
    }
};

}  // namespace

std::unique_ptr<Scheme> make_int4_weight_scheme() { return std::make_unique<Int4WeightScheme>(); }

}  // namespace embq
