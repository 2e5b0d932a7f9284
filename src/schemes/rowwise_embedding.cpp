// int8_rowwise and int4_rowwise: embedding tables stored as 8- or 4-bit codes with a
// scale and offset per row (affine over the row's min..max, as FBGEMM's row-wise
// embedding formats do). Lookups dequantize only the rows a batch touches.
#include "embq/error.hpp"
#include "quantize/quant_math.hpp"
#include "schemes/glue.hpp"
#include "schemes/schemes.hpp"

namespace embq {

namespace {

// params: [codes uint8 [V, D] (int8) or [V, D/2] (int4), scale [V, 1], offset [V, 1]]
const char* kRows8 = R"TS(
def rows(params: List[Tensor], ids: Tensor) -> Tensor:
    codes = torch.embedding(params[0], ids).float()
    return codes * torch.embedding(params[1], ids) + torch.embedding(params[2], ids)
)TS";

const char* kRows4 = R"TS(
def rows(params: List[Tensor], ids: Tensor) -> Tensor:
    packed = torch.embedding(params[0], ids)
    codes = torch.stack([torch.bitwise_and(packed, 15), torch.bitwise_right_shift(packed, 4)], -1)
    codes = codes.flatten(-2).float()
    return codes * torch.embedding(params[1], ids) + torch.embedding(params[2], ids)
)TS";

class RowwiseScheme final : public Scheme {
public:
    explicit RowwiseScheme(int bits) : bits_(bits) {}
    std::string_view name() const override { return bits_ == 8 ? "int8_rowwise" : "int4_rowwise"; }
    std::string_view summary() const override {
        return bits_ == 8 ? "embedding rows as 8-bit codes, FP32 scale+offset per row"
                          : "embedding rows as 4-bit codes (2/byte), FP32 scale+offset per row";
    }
    bool supports(LayerKind kind) const override {
        return kind == LayerKind::Embedding || kind == LayerKind::EmbeddingBag;
    }
    std::string_view options_help() const override {
        return "per row only (per_channel); symmetric or affine (default)";
    }

    ResolvedOptions resolve(const Layer& layer, const SchemeOptions& options) const override {
        if (options.reduce_range ||
            (options.granularity && options.granularity->kind != Granularity::Kind::PerChannel))
            throw config_error("layer '" + layer.path + "': " + std::string(name()) +
                               " is per row only (granularity per_channel); remove the option");
        if (bits_ == 4 && layer.weight_shape.at(1) % 2 != 0)
            throw config_error("layer '" + layer.path +
                               "': int4_rowwise needs an even "
                               "embedding width, this one is " +
                               std::to_string(layer.weight_shape.at(1)) + "; use int8_rowwise");
        ResolvedOptions r;
        r.granularity = Granularity::per_channel();
        r.symmetric = options.symmetric.value_or(false);
        return r;
    }

    int64_t stored_bytes(const Layer& layer, const ResolvedOptions&) const override {
        const int64_t rows = layer.weight_shape.at(0);
        return weight_elements(layer) * bits_ / 8 + rows * 2 * 4;
    }

    void rewrite(RewriteContext& ctx, const ResolvedOptions& o) const override {
        GroupQuantized q;
        auto quantized = [&]() -> const GroupQuantized& {
            if (!q.codes.defined()) {
                const at::Tensor w = ctx.weight();
                q = quantize_groups(w, w.size(1), bits_, o.symmetric, at::kFloat);
            }
            return q;
        };
        torch::jit::Value* codes = ctx.attribute(
            "codes", [&] { return bits_ == 8 ? quantized().codes : pack_int4(quantized().codes); });
        torch::jit::Value* scale = ctx.attribute("scale", [&] { return quantized().scale; });
        torch::jit::Value* offset = ctx.attribute("offset", [&] { return quantized().offset; });
        replace_lookup(ctx, bits_ == 8 ? kRows8 : kRows4, {codes, scale, offset});
    }

private:
    int bits_;
};

}  // namespace

std::unique_ptr<Scheme> make_int8_rowwise_scheme() { return std::make_unique<RowwiseScheme>(8); }
std::unique_ptr<Scheme> make_int4_rowwise_scheme() { return std::make_unique<RowwiseScheme>(4); }

}  // namespace embq
