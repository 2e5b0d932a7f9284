// Factories for the registered schemes (one file each) and the helpers they share.
#pragma once

#include <memory>

#include "embq/scheme.hpp"

namespace embq {

std::unique_ptr<Scheme> make_fp32_scheme();
std::unique_ptr<Scheme> make_fp16_scheme();
std::unique_ptr<Scheme> make_bf16_scheme();
std::unique_ptr<Scheme> make_int8_dynamic_scheme();
std::unique_ptr<Scheme> make_int8_static_scheme();
std::unique_ptr<Scheme> make_int4_weight_scheme();
std::unique_ptr<Scheme> make_int8_rowwise_scheme();
std::unique_ptr<Scheme> make_int4_rowwise_scheme();
std::unique_ptr<Scheme> make_nf4_scheme();

// For schemes without options (fp32, fp16, bf16): a Config error naming the layer
// when a rule sets granularity, symmetric or reduce_range anyway.
ResolvedOptions reject_options(std::string_view scheme, const Layer& layer,
                               const SchemeOptions& options);

// Elements of the weight and of the bias (params minus weight).
int64_t weight_elements(const Layer& layer);
int64_t bias_elements(const Layer& layer);

}  // namespace embq
