// Scale/offset choice, rounding and 4-bit packing: the arithmetic every scheme shares.
#include <gtest/gtest.h>

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
    const at::Tensor deq = dequantize_groups(q, 16);
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
    EXPECT_TRUE(at::allclose(dequantize_groups(q, 16), w, 0, 1e-5)) << "16 levels for 16 values";
}

TEST(QuantMath, ConstantGroupIsExact) {
    const at::Tensor w = at::full({2, 8}, 0.25);
    for (bool symmetric : {true, false}) {
        const auto q = quantize_groups(w, 8, 8, symmetric, at::kFloat);
        EXPECT_TRUE(at::allclose(dequantize_groups(q, 8), w, 0, 1e-6)) << symmetric;
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
    EXPECT_TRUE(((dequantize_groups(q, 32) - w).abs() <= step / 2 + 1e-5).all().item<bool>());
}

TEST(QuantMath, Int8ScalesPerChannelAndPerTensor) {
    const at::Tensor w = at::tensor({1.0f, -2.0f, 0.5f, 0.25f}).reshape({2, 2});
    const at::Tensor per_channel = symmetric_int8_scales(w, true);
    EXPECT_NEAR(per_channel[0].item<float>(), 2.0 / 127, 1e-7);
    EXPECT_NEAR(per_channel[1].item<float>(), 0.5 / 127, 1e-7);
    EXPECT_NEAR(symmetric_int8_scales(w, false).item<float>(), 2.0 / 127, 1e-7);
}

}  // namespace
}  // namespace embq
