#include "schemes/int8_linear.hpp"

#include "embq/error.hpp"
#include "quantize/quant_math.hpp"
#include "schemes/schemes.hpp"

namespace embq {

at::Tensor quantize_int8_weight(const at::Tensor& w, bool per_channel) {
    const at::Tensor scales = symmetric_int8_scales(w, per_channel);
    if (per_channel) {
        return at::quantize_per_channel(w, scales.to(at::kDouble),
                                        at::zeros({w.size(0)}, at::kLong), 0, at::kQInt8);
    }
    return at::quantize_per_tensor(w, scales.item<double>(), 0, at::kQInt8);
}

c10::IValue prepack_int8_linear(const at::Tensor& qweight, const c10::optional<at::Tensor>& bias) {
    static const auto op =
        c10::Dispatcher::singleton().findSchemaOrThrow("quantized::linear_prepack", "");
    torch::jit::Stack stack{qweight, bias ? c10::IValue(*bias) : c10::IValue()};
    op.callBoxed(&stack);
    return stack.at(0);
}

ResolvedOptions resolve_int8_weight(std::string_view scheme, const Layer& layer,
                                    const SchemeOptions& options) {
    const std::string name(scheme);
    ResolvedOptions r;
    r.granularity = options.granularity.value_or(Granularity::per_channel());
    if (r.granularity.kind == Granularity::Kind::Group)
        throw config_error("layer '" + layer.path + "': " + name +
                           " takes per_tensor or "
                           "per_channel, not " +
                           r.granularity.to_string() + "; for group-wise weights use int4_weight");
    // The engines' int8 linear kernels take symmetric weights (zero point 0) only.
    if (options.symmetric == false)
        throw config_error("layer '" + layer.path + "': " + name +
                           " weights are symmetric; "
                           "remove \"symmetric\": false");
    r.symmetric = true;
    return r;
}

int64_t int8_linear_bytes(const Layer& layer, const ResolvedOptions& o) {
    const int64_t rows = layer.weight_shape.at(0);
    const int64_t qparams = o.granularity.kind == Granularity::Kind::PerChannel ? rows * 16 : 16;
    return weight_elements(layer) + qparams + bias_elements(layer) * 4;
}

}  // namespace embq
