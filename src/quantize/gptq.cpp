#include "quantize/gptq.hpp"

#include "embq/error.hpp"

namespace embq {

at::Tensor gptq_codes(const at::Tensor& weight, const at::Tensor& gram, const GroupQuantized& grid,
                      const GptqOptions& options) {
    const int64_t rows = weight.size(0), cols = weight.size(1);
    EMBQ_ASSERT(weight.dim() == 2 && gram.dim() == 2 && gram.size(0) == cols &&
                gram.size(1) == cols);
    // The solve in double: the Gram matrix of 20k token rows spans many magnitudes.
    at::Tensor h = gram.to(at::kDouble).clone();
    const at::Tensor dead = h.diagonal() == 0;
    h.diagonal().masked_fill_(dead, 1.0);  // no coupling: those columns round to nearest

    const at::Tensor order = options.activation_order
                                 ? at::argsort(h.diagonal(), /*dim=*/0, /*descending=*/true)
                                 : at::arange(cols, at::kLong);
    at::Tensor w = weight.to(at::kFloat).index_select(1, order).clone();
    h = h.index_select(0, order).index_select(1, order);
    h.diagonal().add_(options.damping * h.diagonal().mean().item<double>());
    // U: the upper Cholesky factor of H^-1. Row i of U, divided by U[i, i], says how an
    // error in column i is best compensated by the columns after it.
    const at::Tensor u = at::linalg_cholesky(at::cholesky_inverse(at::linalg_cholesky(h)),
                                             /*upper=*/true)
                             .to(at::kFloat);

    at::Tensor codes = at::empty({rows, cols}, at::kByte);  // in the permuted order
    for (int64_t start = 0; start < cols; start += options.block) {
        const int64_t end = std::min(start + options.block, cols);
        at::Tensor block = w.slice(1, start, end).clone();
        at::Tensor errors = at::zeros_like(block);
        const at::Tensor u_block = u.slice(0, start, end).slice(1, start, end);
        for (int64_t i = 0; i < end - start; ++i) {
            const at::Tensor column = block.slice(1, i, i + 1);
            const int64_t original = order[start + i].item<int64_t>();
            auto [code, value] = round_columns(column, original, grid);
            codes.slice(1, start + i, start + i + 1).copy_(code);
            const at::Tensor error = (column - value) / u_block[i][i];
            block.slice(1, i).sub_(error.mm(u_block.slice(0, i, i + 1).slice(1, i)));
            errors.slice(1, i, i + 1).copy_(error);
        }
        if (end < cols)
            w.slice(1, end).sub_(errors.mm(u.slice(0, start, end).slice(1, end)));
    }
    at::Tensor out = at::empty_like(codes);
    out.index_copy_(1, order, codes);
    return out;
}

}  // namespace embq
