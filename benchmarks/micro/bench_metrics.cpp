// Metric kernels (include/embq/metrics.hpp) at the sizes `embq eval` uses by default:
// a 10,000-row corpus of 384-dim embeddings, k = 10. eval runs three exact searches per
// query set (baseline, candidate, cross), then recall@k on their results, the row-wise
// cosine summary over the corpus, and Spearman over 10,000 labelled-pair similarities.
// search() builds a FAISS IndexFlat and searches it (timed together, as eval calls it);
// the rest is embq's own code.
// The candidate space is the baseline plus small noise, like a quantized model's.
#include <benchmark/benchmark.h>

#include <random>
#include <vector>

#include "embq/metrics.hpp"

namespace {

constexpr int64_t kRows = 10000, kDim = 384, kK = 10, kQueries = 1000, kPairs = 10000;

embq::Vectors noisy(const embq::Vectors& v, float sigma, unsigned seed) {
    std::mt19937 rng(seed);
    std::normal_distribution<float> normal(0.0f, sigma);
    embq::Vectors out = v;
    for (auto& x : out.data) x += normal(rng);
    return out;
}

const embq::Vectors& baseline() {
    static const embq::Vectors v = [] {
        embq::Vectors out;
        out.rows = kRows;
        out.dim = kDim;
        out.data.assign(static_cast<size_t>(kRows * kDim), 0.0f);
        return noisy(out, 1.0f, 1);
    }();
    return v;
}

const embq::Vectors& candidate() {
    static const embq::Vectors v = noisy(baseline(), 0.05f, 2);
    return v;
}

// Queries are corpus rows (as eval samples them), each excluded from its own results.
void BM_SearchExactCosine(benchmark::State& state) {
    const int64_t queries = state.range(0);
    const std::vector<int64_t> rows = embq::sample_rows(kRows, queries, 3);
    const embq::Vectors q = embq::gather_rows(candidate(), rows);
    for (auto _ : state) {
        const embq::Neighbours n =
            embq::search(baseline(), q, kK, embq::SimilarityMetric::Cosine, {}, &rows);
        benchmark::DoNotOptimize(n.ids.data());
    }
    state.SetItemsProcessed(static_cast<int64_t>(state.iterations()) * queries);  // queries/s
}
BENCHMARK(BM_SearchExactCosine)->Arg(100)->Unit(benchmark::kMillisecond);

void BM_RecallAtK(benchmark::State& state) {
    const std::vector<int64_t> rows = embq::sample_rows(kRows, kQueries, 3);
    const auto metric = embq::SimilarityMetric::Cosine;
    const embq::Neighbours truth =
        embq::search(baseline(), embq::gather_rows(baseline(), rows), kK, metric, {}, &rows);
    const embq::Neighbours found =
        embq::search(candidate(), embq::gather_rows(candidate(), rows), kK, metric, {}, &rows);
    for (auto _ : state) benchmark::DoNotOptimize(embq::recall_at_k(truth, found, kK));
    state.SetItemsProcessed(static_cast<int64_t>(state.iterations()) * kQueries);  // queries/s
}
BENCHMARK(BM_RecallAtK)->Unit(benchmark::kMicrosecond);

void BM_RowwiseCosine(benchmark::State& state) {
    for (auto _ : state) {
        const embq::CosineSummary s = embq::rowwise_cosine(baseline(), candidate());
        benchmark::DoNotOptimize(s);
    }
    state.SetItemsProcessed(static_cast<int64_t>(state.iterations()) * kRows);  // rows/s
}
BENCHMARK(BM_RowwiseCosine)->Unit(benchmark::kMillisecond);

std::vector<int64_t> random_rows(unsigned seed) {
    std::mt19937 rng(seed);
    std::uniform_int_distribution<int64_t> pick(0, kRows - 1);
    std::vector<int64_t> out(kPairs);
    for (auto& r : out) r = pick(rng);
    return out;
}

void BM_PairSimilarities(benchmark::State& state) {
    const std::vector<int64_t> a = random_rows(4), b = random_rows(5);
    for (auto _ : state) {
        auto s =
            embq::pair_similarities(baseline(), a, baseline(), b, embq::SimilarityMetric::Cosine);
        benchmark::DoNotOptimize(s.data());
    }
    state.SetItemsProcessed(static_cast<int64_t>(state.iterations()) * kPairs);  // pairs/s
}
BENCHMARK(BM_PairSimilarities)->Unit(benchmark::kMillisecond);

void BM_Spearman(benchmark::State& state) {
    const std::vector<int64_t> a = random_rows(4), b = random_rows(5);
    const auto metric = embq::SimilarityMetric::Cosine;
    const std::vector<double> x = embq::pair_similarities(baseline(), a, baseline(), b, metric);
    const std::vector<double> y = embq::pair_similarities(candidate(), a, candidate(), b, metric);
    for (auto _ : state) benchmark::DoNotOptimize(embq::spearman(x, y));
    state.SetItemsProcessed(static_cast<int64_t>(state.iterations()) * kPairs);  // pairs/s
}
BENCHMARK(BM_Spearman)->Unit(benchmark::kMicrosecond);

}  // namespace
