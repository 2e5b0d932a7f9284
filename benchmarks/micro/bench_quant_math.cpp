// Weight quantization arithmetic (src/quantize/quant_math.hpp, written once for every scheme):
// 4-bit group quantization and int4 nibble packing on one 1536x384 weight, MiniLM's FFN
// size. `embq quantize` runs these on every int4 layer, and the int4_weight scheme's
// forward unpacks and dequantizes on the fly, so they matter at both quantize and run time.
// Bytes/s counts the FP32 weight for quantize/dequantize and the unpacked uint8 codes for
// pack/unpack.
#include <benchmark/benchmark.h>

#include <random>
#include <vector>

#include <ATen/ATen.h>

#include "quantize/quant_math.hpp"

namespace {

constexpr int64_t kRows = 1536, kCols = 384, kGroup = 64;
constexpr int kBits = 4;

const at::Tensor& weight() {
    static const at::Tensor w = [] {
        std::mt19937 rng(42);
        std::normal_distribution<float> normal(0.0f, 0.05f);
        std::vector<float> values(static_cast<size_t>(kRows * kCols));
        for (auto& v : values) v = normal(rng);
        return at::from_blob(values.data(), {kRows, kCols}, at::kFloat).clone();
    }();
    return w;
}

embq::GroupQuantized quantized() {
    return embq::quantize_groups(weight(), kGroup, kBits, /*symmetric=*/true, at::kFloat);
}

void BM_QuantizeGroups(benchmark::State& state) {
    for (auto _ : state) {
        auto q = embq::quantize_groups(weight(), kGroup, kBits, true, at::kFloat);
        benchmark::DoNotOptimize(q.codes.data_ptr());
    }
    state.SetBytesProcessed(static_cast<int64_t>(state.iterations()) * kRows * kCols * 4);
}
BENCHMARK(BM_QuantizeGroups)->Unit(benchmark::kMicrosecond);

void BM_DequantizeGroups(benchmark::State& state) {
    const auto q = quantized();
    for (auto _ : state) {
        auto w = embq::dequantize_groups(q);
        benchmark::DoNotOptimize(w.data_ptr());
    }
    state.SetBytesProcessed(static_cast<int64_t>(state.iterations()) * kRows * kCols * 4);
}
BENCHMARK(BM_DequantizeGroups)->Unit(benchmark::kMicrosecond);

void BM_PackInt4(benchmark::State& state) {
    const at::Tensor codes = quantized().codes;
    for (auto _ : state) {
        auto packed = embq::pack_int4(codes);
        benchmark::DoNotOptimize(packed.data_ptr());
    }
    state.SetBytesProcessed(static_cast<int64_t>(state.iterations()) * kRows * kCols);
}
BENCHMARK(BM_PackInt4)->Unit(benchmark::kMicrosecond);

void BM_UnpackInt4(benchmark::State& state) {
    const at::Tensor packed = embq::pack_int4(quantized().codes);
    for (auto _ : state) {
        auto codes = embq::unpack_int4(packed);
        benchmark::DoNotOptimize(codes.data_ptr());
    }
    state.SetBytesProcessed(static_cast<int64_t>(state.iterations()) * kRows * kCols);
}
BENCHMARK(BM_UnpackInt4)->Unit(benchmark::kMicrosecond);

}  // namespace
