// Weights a scheme cannot represent, found before quantizing: a NaN or an infinity in any
// layer a scheme rewrites (its scale would become NaN, and every input that reaches the
// layer would give NaN later, far from the cause), and for fp16 magnitudes beyond its
// largest finite value (65504), which would become infinities. Internal to libembq.
#pragma once

#include <torch/script.h>

#include "embq/plan.hpp"

namespace embq {

// Input error naming the first such layer, what is wrong and what to do.
void check_weights_representable(const torch::jit::Module& root, const Plan& plan);

}  // namespace embq
