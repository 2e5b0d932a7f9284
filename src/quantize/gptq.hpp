// GPTQ (OPTQ: Frantar, Ashkboos, Hoefler, Alistarh, ICLR 2023): rounding a linear layer's
// weight onto its scheme's grid so that the layer's output on the calibration inputs
// moves as little as possible, rather than each weight as little as possible.
#pragma once

#include <ATen/ATen.h>

#include "quantize/quant_math.hpp"

namespace embq {

struct GptqOptions {
    // Added to the Gram matrix's diagonal as a fraction of its mean: keeps the solve
    // stable where inputs are (nearly) collinear. 0.01 as in the paper.
    double damping = 0.01;
    // Round the columns with the largest input energy (diagonal of X^T X) first, while
    // the most columns are left to absorb their error ("act order"); the codes are
    // returned in the weight's own column order.
    bool activation_order = true;
    int64_t block = 128;  // columns whose updates are applied together (speed only)
};

// Codes for `weight` [rows, cols] on `grid` (its scales, offsets and levels, chosen from
// the FP32 weight before rounding) minimising ||(W - Q) X^T||^2 where `gram` = X^T X
// [cols, cols] of the calibration inputs. Columns in turn: round, then spread the rounding
// error over the columns not yet rounded through the Cholesky factor of the inverse
// damped Gram matrix. Columns no input reached (a zero diagonal) round to nearest.
// Deterministic for the same inputs.
at::Tensor gptq_codes(const at::Tensor& weight, const at::Tensor& gram, const GroupQuantized& grid,
                      const GptqOptions& options = {});

}  // namespace embq
