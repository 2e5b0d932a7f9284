// Activation observers (include/embq/observers.hpp): `embq calibrate` streams every
// watched layer's input through Observer::observe, batch after batch, so observe() is
// the calibration hot loop; range() runs once per layer at the end, and for the mse and
// entropy kinds it is an O(bins^2) search over the 2,048-bin histogram. ChannelRange
// runs beside them to flag outlier channels.
// A batch is 32 sentences x 20 tokens x 384 features of N(0, 1) with a few outliers
// (+-40, as LLM.int8()-style outlier features give); 8 distinct batches, fixed seeds.
#include <benchmark/benchmark.h>

#include <random>
#include <string>
#include <vector>

#include "embq/observers.hpp"

namespace {

constexpr size_t kSentences = 32, kTokens = 20, kFeatures = 384;
constexpr size_t kBatchValues = kSentences * kTokens * kFeatures;
constexpr size_t kBatches = 8;

const std::vector<std::vector<float>>& batches() {
    static const std::vector<std::vector<float>> all = [] {
        std::vector<std::vector<float>> out;
        for (size_t b = 0; b < kBatches; ++b) {
            std::mt19937 rng(static_cast<unsigned>(1000 + b));
            std::normal_distribution<float> normal(0.0f, 1.0f);
            std::vector<float> v(kBatchValues);
            for (auto& x : v) x = normal(rng);
            // Feature 7 is an outlier channel on a few tokens.
            for (size_t t = 0; t < kSentences * kTokens; t += 97)
                v[t * kFeatures + 7] = (t % 2 ? 40.0f : -40.0f) + normal(rng);
            out.push_back(std::move(v));
        }
        return out;
    }();
    return all;
}

void BM_ObserverObserve(benchmark::State& state, const std::string& kind) {
    embq::Observer observer = embq::make_observer(kind);
    const auto& data = batches();
    size_t b = 0;
    for (auto _ : state) {
        observer.observe(data[b].data(), kBatchValues, kSentences);
        b = (b + 1) % kBatches;
    }
    benchmark::DoNotOptimize(observer.values());
    state.SetItemsProcessed(static_cast<int64_t>(state.iterations() * kBatchValues));
}

void BM_ObserverRange(benchmark::State& state, const std::string& kind) {
    embq::Observer observer = embq::make_observer(kind);
    for (const auto& batch : batches()) observer.observe(batch.data(), kBatchValues, kSentences);
    for (auto _ : state) {
        const embq::ClipRange range = observer.range();
        benchmark::DoNotOptimize(range);
    }
}

void BM_ChannelRange(benchmark::State& state) {
    embq::ChannelRange channels(kFeatures);
    const auto& data = batches();
    size_t b = 0;
    for (auto _ : state) {
        channels.observe(data[b].data(), kSentences * kTokens);
        b = (b + 1) % kBatches;
    }
    benchmark::DoNotOptimize(channels.max().data());
    state.SetItemsProcessed(static_cast<int64_t>(state.iterations() * kBatchValues));
}
BENCHMARK(BM_ChannelRange)->Unit(benchmark::kMicrosecond);

// One observe and one range benchmark per kind in the observer table, so a new kind is
// benchmarked without touching this file.
[[maybe_unused]] const bool registered = [] {
    for (const std::string& kind : embq::observer_names()) {
        benchmark::RegisterBenchmark(("BM_ObserverObserve/" + kind).c_str(), BM_ObserverObserve,
                                     kind)
            ->Unit(benchmark::kMicrosecond);
        benchmark::RegisterBenchmark(("BM_ObserverRange/" + kind).c_str(), BM_ObserverRange, kind)
            ->Unit(benchmark::kMicrosecond);
    }
    return true;
}();

}  // namespace
