// Scale/offset choice, rounding and 4-bit packing: the arithmetic every scheme shares.
#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>

#include "quantize/gptq.hpp"
#include "quantize/quant_math.hpp"

namespace embq {
namespace {

TEST(QuantMath, Int4PackingRoundTrips) {
    const at::Tensor codes = at::randint(0, 16, {7, 12}, at::kByte);
    const at::Tensor packed = pack_int4(codes);
    EXPECT_EQ(packed.sizes(), (at::IntArrayRef{7, 6}));
    EXPECT_TRUE(at::equal(unpack_int4(packed), codes));
    // Element 2i is the low nibble: a documented layout the TorchScript code relies on.
    const at::Tensor two = at::tensor({3, 10}, at::kByte).reshape({1, 2});
    EXPECT_EQ(pack_int4(two).item<uint8_t>(), 3 | (10 << 4));
}

TEST(QuantMath, SymmetricGroupsKeepZeroExactAndErrorWithinHalfAStep) {
    at::manual_seed(1);
    at::Tensor w = at::randn({4, 64});
    w.index_put_({0, 5}, 0.0);
    const auto q = quantize_groups(w, 16, 4, /*symmetric=*/true, at::kFloat);
    EXPECT_EQ(q.scale.sizes(), (at::IntArrayRef{4, 4}));
    const at::Tensor deq = dequantize_groups(q);
    EXPECT_FLOAT_EQ(deq.index({0, 5}).item<float>(), 0.0f);
    const at::Tensor step = q.scale.repeat_interleave(16, 1);
    EXPECT_TRUE(((deq - w).abs() <= step / 2 + 1e-6).all().item<bool>());
    EXPECT_LE(q.codes.max().item<uint8_t>(), 15);
}

TEST(QuantMath, AffineGroupsUseTheWholeRange) {
    const at::Tensor w = at::linspace(2.0, 5.0, 16).reshape({1, 16});  // all positive
    const auto q = quantize_groups(w, 16, 4, /*symmetric=*/false, at::kFloat);
    EXPECT_EQ(q.codes.min().item<uint8_t>(), 0);
    EXPECT_EQ(q.codes.max().item<uint8_t>(), 15);
    EXPECT_TRUE(at::allclose(dequantize_groups(q), w, 0, 1e-5)) << "16 levels for 16 values";
}

TEST(QuantMath, ConstantGroupIsExact) {
    const at::Tensor w = at::full({2, 8}, 0.25);
    for (bool symmetric : {true, false}) {
        const auto q = quantize_groups(w, 8, 8, symmetric, at::kFloat);
        EXPECT_TRUE(at::allclose(dequantize_groups(q), w, 0, 1e-6)) << symmetric;
        EXPECT_TRUE((q.scale > 0).all().item<bool>()) << "no zero scale";
    }
}

TEST(QuantMath, HalfPrecisionParametersAreUsedConsistently) {
    at::manual_seed(2);
    const at::Tensor w = at::randn({3, 32}) * 7;
    const auto q = quantize_groups(w, 32, 4, true, at::kHalf);
    EXPECT_EQ(q.scale.scalar_type(), at::kHalf);
    // Codes were chosen against the rounded scale: the error bound holds with it.
    const at::Tensor step = q.scale.to(at::kFloat).repeat_interleave(32, 1);
    EXPECT_TRUE(((dequantize_groups(q) - w).abs() <= step / 2 + 1e-5).all().item<bool>());
}

TEST(QuantMath, Int8ScalesPerChannelAndPerTensor) {
    const at::Tensor w = at::tensor({1.0f, -2.0f, 0.5f, 0.25f}).reshape({2, 2});
    const at::Tensor per_channel = symmetric_int8_scales(w, true);
    EXPECT_NEAR(per_channel[0].item<float>(), 2.0 / 127, 1e-7);
    EXPECT_NEAR(per_channel[1].item<float>(), 0.5 / 127, 1e-7);
    EXPECT_NEAR(symmetric_int8_scales(w, false).item<float>(), 2.0 / 127, 1e-7);
}

// ---------------------------------------------------------------------------------------
// NF4

TEST(Nf4, LevelsAreThePublishedTableAndItsConstruction) {
    // QLoRA's table (bitsandbytes), as published.
    const std::vector<float> published = {
        -1.0f, -0.6961928009986877f, -0.5250730514526367f, -0.39491748809814453f,
        -0.28444138169288635f, -0.18477343022823334f, -0.09105003625154495f, 0.0f,
        0.07958029955625534f, 0.16093020141124725f, 0.24611230194568634f, 0.33791524171829224f,
        0.44070982933044434f, 0.5626170039176941f, 0.7229568362236023f, 1.0f};
    const at::Tensor levels = nf4_levels();
    ASSERT_EQ(levels.numel(), 16);
    for (int i = 0; i < 16; ++i) EXPECT_FLOAT_EQ(levels[i].item<float>(), published[i]) << i;
    // The construction: normal quantiles at 8 even steps from 0.9677083 down to 0.5 for the
    // positive half, 7 for the negative, 0 added, divided by the largest.
    const double offset = 0.9677083;
    auto quantile = [](double p) {
        return std::sqrt(2.0) * at::erfinv(at::tensor(2 * p - 1, at::kDouble)).item<double>();
    };
    std::vector<double> built{0.0};
    for (int i = 0; i < 8; ++i) built.push_back(quantile(offset + (0.5 - offset) * i / 8));
    for (int i = 0; i < 7; ++i) built.push_back(-quantile(offset + (0.5 - offset) * i / 7));
    std::sort(built.begin(), built.end());
    for (int i = 0; i < 16; ++i) EXPECT_NEAR(levels[i].item<double>(), built[i] / built[15], 1e-6);
}

TEST(Nf4, CodesAreTheNearestLevelTimesTheGroupsAbsmax) {
    at::manual_seed(3);
    const at::Tensor w = at::randn({6, 64});
    const auto q = quantize_nf4_groups(w, 32, at::kFloat);
    const at::Tensor scale = w.reshape({6, 2, 32}).abs().amax(-1, true);
    // Brute force: every element against all 16 levels.
    const at::Tensor normalised = (w.reshape({6, 2, 32}) / scale).reshape({6, 64, 1});
    const at::Tensor brute = (normalised - nf4_levels().reshape({1, 1, 16})).abs().argmin(-1);
    EXPECT_TRUE(at::equal(q.codes.to(at::kLong), brute));
    const at::Tensor reference =
        (nf4_levels().index({brute}).reshape({6, 2, 32}) * scale).reshape({6, 64});
    EXPECT_TRUE(at::allclose(dequantize_groups(q), reference, 1e-6, 1e-7));
}

// ---------------------------------------------------------------------------------------
// GPTQ

// A layer whose inputs are strongly correlated (as real activations are): where GPTQ's
// error compensation has something to work with.
struct CorrelatedLayer {
    at::Tensor w, x, gram;
    CorrelatedLayer(int64_t rows, int64_t cols, int64_t samples, uint64_t seed) {
        at::manual_seed(seed);
        w = at::randn({rows, cols});
        const at::Tensor mix = at::randn({cols, cols}) / std::sqrt(static_cast<double>(cols));
        x = at::randn({samples, cols}).mm(mix + at::eye(cols)) * at::rand({cols}).add(0.2);
        gram = x.t().mm(x);
    }
    double output_error(const at::Tensor& dequantized) const {
        return (x.mm((w - dequantized).t())).pow(2).sum().item<double>();
    }
};

TEST(Gptq, OutputErrorBelowRoundToNearestOnTheSameGrid) {
    const CorrelatedLayer layer(32, 64, 512, 5);
    for (const bool order : {false, true}) {
        for (const int64_t group : {int64_t{16}, int64_t{64}}) {
            GroupQuantized q = quantize_groups(layer.w, group, 4, true, at::kFloat);
            const double nearest = layer.output_error(dequantize_groups(q));
            GptqOptions options;
            options.activation_order = order;
            options.block = 16;  // several blocks: the lazy updates are exercised
            q.codes = gptq_codes(layer.w, layer.gram, q, options);
            const double gptq = layer.output_error(dequantize_groups(q));
            EXPECT_LT(gptq, 0.8 * nearest) << "group " << group << " order " << order;
        }
    }
}

// The straightforward form of the same method (Optimal Brain Quantization with a fixed
// order): keep H^-1 explicitly, round one column, push its error onto the rest with
// H^-1's row, remove the column from H^-1. No Cholesky, no blocks.
at::Tensor slow_gptq(at::Tensor w, const at::Tensor& gram, const GroupQuantized& grid) {
    w = w.to(at::kDouble).clone();
    at::Tensor h = gram.to(at::kDouble).clone();
    h.diagonal().add_(0.01 * h.diagonal().mean().item<double>());
    at::Tensor hinv = at::inverse(h);
    const int64_t cols = w.size(1);
    at::Tensor codes = at::empty({w.size(0), cols}, at::kByte);
    for (int64_t i = 0; i < cols; ++i) {
        auto [code, value] = round_columns(w.slice(1, i, i + 1).to(at::kFloat), i, grid);
        codes.slice(1, i, i + 1).copy_(code);
        const double d = hinv[i][i].item<double>();
        const at::Tensor err = (w.slice(1, i, i + 1) - value.to(at::kDouble)) / d;
        w -= err.mm(hinv.slice(0, i, i + 1));
        hinv -= hinv.slice(1, i, i + 1).mm(hinv.slice(0, i, i + 1)) / d;
    }
    return codes;
}

TEST(Gptq, SameCodesAsTheSlowReference) {
    const CorrelatedLayer layer(16, 48, 256, 9);
    const GroupQuantized grid = quantize_groups(layer.w, 16, 4, false, at::kFloat).grid();
    GptqOptions options;
    options.activation_order = false;
    options.block = 8;
    const at::Tensor fast = gptq_codes(layer.w, layer.gram, grid, options);
    const at::Tensor slow = slow_gptq(layer.w, layer.gram, grid);
    // Rounding sits on knife edges now and then: float against double may flip a code.
    const double differ = (fast != slow).to(at::kDouble).mean().item<double>();
    EXPECT_LE(differ, 0.01) << "share of codes that differ";
}

TEST(Gptq, DeterministicAndUnreachedColumnsRoundToNearest) {
    CorrelatedLayer layer(8, 32, 128, 13);
    layer.x.slice(1, 5, 6).zero_();  // input 5 never active
    layer.gram = layer.x.t().mm(layer.x);
    const GroupQuantized grid = symmetric_int8_grid(layer.w, true);
    const at::Tensor a = gptq_codes(layer.w, layer.gram, grid);
    EXPECT_TRUE(at::equal(a, gptq_codes(layer.w, layer.gram, grid)));
    // Nothing flows into or out of column 5: it is rounded alone.
    EXPECT_TRUE(at::equal(a.select(1, 5), nearest_codes(layer.w, grid).select(1, 5)));
}

// ---------------------------------------------------------------------------------------
// SmoothQuant

TEST(Smoothing, FoldedLayerEqualsTheOriginalInFp32) {
    at::manual_seed(17);
    at::Tensor x = at::randn({64, 32});
    x.select(1, 4).mul_(40);  // an outlier channel
    const at::Tensor w = at::randn({16, 32});
    const at::Tensor s = smoothing_factors(w, x.abs().amax(0), 0.5);
    const at::Tensor folded = at::linear(x / s, w * s.unsqueeze(0));
    EXPECT_TRUE(at::allclose(folded, at::linear(x, w), 1e-5, 1e-4));
    // The outlier channel's range moved into the weight: after smoothing, channel 4's
    // max |x| is far closer to the others'.
    const at::Tensor smoothed = (x / s).abs().amax(0);
    EXPECT_LT(smoothed[4].item<double>() / smoothed.median().item<double>(),
              x.abs().amax(0)[4].item<double>() / x.abs().amax(0).median().item<double>() / 4);
}

TEST(Smoothing, UnusableChannelsKeepFactorOne) {
    const at::Tensor w = at::tensor({1.0f, 0.0f, 2.0f}).reshape({1, 3});
    const at::Tensor s = smoothing_factors(w, at::tensor({0.0f, 3.0f, 8.0f}), 0.5);
    EXPECT_FLOAT_EQ(s[0].item<float>(), 1.0f);  // no activity
    EXPECT_FLOAT_EQ(s[1].item<float>(), 1.0f);  // no weight
    EXPECT_NEAR(s[2].item<float>(), std::sqrt(8.0) / std::sqrt(2.0), 1e-5);
}

}  // namespace
}  // namespace embq
