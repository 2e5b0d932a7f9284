// int8_rowwise and int4_rowwise: embedding tables stored as 8- or 4-bit codes with a
// scale and offset per row (affine over the row's min..max, as FBGEMM's row-wise
// embedding formats do), or per group of N elements of a row (group:N, FP16 scale and
// offset: 5 bits/element for 4-bit codes at group:32). Lookups dequantize only the rows
// a batch touches.
#include "embq/error.hpp"
#include "finetune/simulation.hpp"
#include "quantize/quant_math.hpp"
#include "schemes/glue.hpp"
#include "schemes/schemes.hpp"

namespace embq {

namespace {

// params: [codes uint8 [V, D] (int8) or [V, D/2] (int4), scale, offset]; per row the
// scale and offset are FP32 [V, 1], per group FP16 [V, D/N].
std::string rows_source(int bits, bool grouped) {
    std::string source = "def rows(params: List[Tensor], ids: Tensor) -> Tensor:";
    source += bits == 8 ? "\n    codes = torch.embedding(params[0], ids)\n" : kUnpackInt4Rows;
    source += "    codes = codes.float()\n";
    source += grouped ? R"TS(    scale = torch.embedding(params[1], ids).float().unsqueeze(-1)
    offset = torch.embedding(params[2], ids).float().unsqueeze(-1)
    shape = codes.size()[:-1]
    grouped = codes.reshape(shape + [scale.size(-2), -1])
    return (grouped * scale + offset).flatten(-2)
)TS"
                      : "    return codes * torch.embedding(params[1], ids) + "
                        "torch.embedding(params[2], ids)\n";
    return source;
}

class RowwiseScheme final : public Scheme {
public:
    explicit RowwiseScheme(int bits) : bits_(bits) {}
    std::string_view name() const override { return bits_ == 8 ? "int8_rowwise" : "int4_rowwise"; }
    std::string_view summary() const override {
        return bits_ == 8 ? "embedding rows as 8-bit codes, FP32 scale+offset per row (or FP16 "
                            "per group:N)"
                          : "embedding rows as 4-bit codes (2/byte), FP32 scale+offset per row "
                            "(or FP16 per group:N)";
    }
    bool supports(LayerKind kind) const override {
        return kind == LayerKind::Embedding || kind == LayerKind::EmbeddingBag;
    }
    std::string_view options_help() const override {
        return "per_channel (one scale per row, default) or group:N; symmetric or affine "
               "(default)";
    }

    ResolvedOptions resolve(const Layer& layer, const SchemeOptions& options) const override {
        const int64_t width = layer.weight_shape.at(1);
        ResolvedOptions r;
        r.granularity = options.granularity.value_or(Granularity::per_channel());
        if (options.reduce_range || r.granularity.kind == Granularity::Kind::PerTensor)
            throw config_error("layer '" + layer.path + "': " + std::string(name()) +
                               " takes per_channel (a scale per row) or group:N; remove "
                               "reduce_range and per_tensor");
        if (bits_ == 4 && width % 2 != 0)
            throw config_error("layer '" + layer.path +
                               "': int4_rowwise needs an even "
                               "embedding width, this one is " +
                               std::to_string(width) + "; use int8_rowwise");
        if (r.granularity.kind == Granularity::Kind::Group) {
            const int g = r.granularity.group_size;
            if (g % 2 != 0 || width % g != 0)
                throw config_error("layer '" + layer.path + "': group size " + std::to_string(g) +
                                   " must be even and divide the embedding width " +
                                   std::to_string(width) + "; or use per_channel");
            if (g == width) r.granularity = Granularity::per_channel();  // the same thing
        }
        r.symmetric = options.symmetric.value_or(false);
        return r;
    }

    int64_t stored_bytes(const Layer& layer, const ResolvedOptions& o) const override {
        const int64_t rows = layer.weight_shape.at(0);
        const int64_t codes = weight_elements(layer) * bits_ / 8;
        if (o.granularity.kind != Granularity::Kind::Group) return codes + rows * 2 * 4;
        return codes + weight_elements(layer) / o.granularity.group_size * 2 * 2;
    }

    void rewrite(RewriteContext& ctx, const ResolvedOptions& o) const override {
        const bool grouped = o.granularity.kind == Granularity::Kind::Group;
        GroupQuantized q;
        auto quantized = [&]() -> const GroupQuantized& {
            if (!q.codes.defined()) q = grid(ctx.weight(), o);
            return q;
        };
        torch::jit::Value* codes = ctx.attribute(
            "codes", [&] { return bits_ == 8 ? quantized().codes : pack_int4(quantized().codes); });
        torch::jit::Value* scale = ctx.attribute("scale", [&] { return quantized().scale; });
        torch::jit::Value* offset = ctx.attribute("offset", [&] { return quantized().offset; });
        replace_lookup(ctx, rows_source(bits_, grouped), {codes, scale, offset});
    }

    bool simulate(SimulationContext& ctx, const ResolvedOptions& o) const override {
        ctx.store_weight_as([this, o](const at::Tensor& w) { return dequantize_groups(grid(w, o)); });
        return true;
    }

private:
    // The codes rewrite() stores and simulate() trains on.
    GroupQuantized grid(const at::Tensor& w, const ResolvedOptions& o) const {
        const bool grouped = o.granularity.kind == Granularity::Kind::Group;
        return quantize_groups(w, grouped ? o.granularity.group_size : w.size(1), bits_,
                               o.symmetric, grouped ? at::kHalf : at::kFloat);
    }

    int bits_;
};

}  // namespace

std::unique_ptr<Scheme> make_int8_rowwise_scheme() { return std::make_unique<RowwiseScheme>(8); }
std::unique_ptr<Scheme> make_int4_rowwise_scheme() { return std::make_unique<RowwiseScheme>(4); }

}  // namespace embq
