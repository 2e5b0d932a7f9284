// fp32: the layer is kept exactly as it is. The choice for sensitive layers.
#include "embq/error.hpp"
#include "schemes/schemes.hpp"

namespace embq {

namespace {

class Fp32Scheme final : public Scheme {
public:
    std::string_view name() const override { return "fp32"; }
    std::string_view summary() const override { return "kept as it is: FP32 weights and compute"; }
    bool supports(LayerKind) const override { return true; }
    bool rewrites() const override { return false; }
    ResolvedOptions resolve(const Layer& layer, const SchemeOptions& options) const override {
        return reject_options(name(), layer, options);
    }
    int64_t stored_bytes(const Layer& layer, const ResolvedOptions&) const override {
        return layer.bytes;
    }
    void rewrite(RewriteContext&, const ResolvedOptions&) const override {}
};

}  // namespace

std::unique_ptr<Scheme> make_fp32_scheme() { return std::make_unique<Fp32Scheme>(); }

ResolvedOptions reject_options(std::string_view scheme, const Layer& layer,
                               const SchemeOptions& options) {
    if (options.granularity || options.symmetric || options.reduce_range)
        throw config_error(
            "layer '" + layer.path + "': scheme '" + std::string(scheme) +
            "' takes no granularity, symmetric or reduce_range options; remove them");
    return {};
}

int64_t weight_elements(const Layer& layer) {
    int64_t n = 1;
    for (int64_t d : layer.weight_shape) n *= d;
    return n;
}

int64_t bias_elements(const Layer& layer) { return layer.params - weight_elements(layer); }

}  // namespace embq
