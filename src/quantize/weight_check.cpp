#include "quantize/weight_check.hpp"

#include <cstdio>
#include <string>

#include "embq/error.hpp"
#include "model/graph_util.hpp"

namespace embq {

namespace {

constexpr double kFp16Max = 65504.0;

std::string position_of(const at::Tensor& flat_index, const at::Tensor& weight) {
    int64_t index = flat_index.item<int64_t>();
    std::string where;
    for (int64_t d = weight.dim() - 1; d >= 0; --d) {
        const int64_t size = weight.size(d);
        where = std::to_string(index % size) + (where.empty() ? "" : ", ") + where;
        index /= size;
    }
    return "[" + where + "]";
}

}  // namespace

void check_weights_representable(const torch::jit::Module& root, const Plan& plan) {
    for (const LayerPlan& lp : plan.layers) {
        if (!lp.scheme->rewrites()) continue;
        // In the weight's own dtype: a double copy of a large table would cost 8 bytes per
        // weight for a check that almost always passes.
        const at::Tensor weight = submodule(root, lp.layer.path).attr("weight").toTensor().detach();
        if (!at::isfinite(weight).all().item<bool>()) {
            const at::Tensor bad = ~at::isfinite(weight).reshape(-1);
            const int64_t bad_count = bad.sum().item<int64_t>();
            throw input_error("layer '" + lp.layer.path + "': its weight holds " +
                              std::to_string(bad_count) + " NaN or Inf values (the first at " +
                              position_of(bad.nonzero()[0][0], weight) +
                              "); no scheme can quantize them, so fix the model, or keep the "
                              "layer with a rule {\"match\": \"" +
                              lp.layer.path + "\", \"scheme\": \"fp32\"} if it is never used");
        }
        if (lp.scheme->name() != "fp16") continue;
        const double largest = weight.abs().max().item<double>();
        char largest_text[32];
        std::snprintf(largest_text, sizeof largest_text, "%.3g", largest);
        if (largest > kFp16Max)
            throw input_error("layer '" + lp.layer.path + "': weights up to " + largest_text +
                              " exceed fp16's largest value (65504) "
                              "and would become Inf; use bf16 (FP32's range) or fp32 for it");
    }
}

}  // namespace embq
