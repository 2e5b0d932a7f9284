// How long `embq eval`'s search part takes at scale, and why it uses FAISS: 100,000
// corpus vectors of dimension 384 (MiniLM's width), a candidate space with quantization-
// like noise, 1,000 sampled queries. Times every search eval runs, then compares FAISS's
// exact search with a straightforward loop (dot products + partial sort) on the same
// queries, side by side in one run.
//
//   build/benchmarks/embq_bench_eval_search [--rows N] [--dim D] [--queries Q] [--naive-queries M]
#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <numeric>
#include <random>
#include <string>
#include <vector>

#include "embq/metrics.hpp"
#include "embq/runtime.hpp"

namespace {

using Clock = std::chrono::steady_clock;

double seconds_since(Clock::time_point t0) {
    return std::chrono::duration<double>(Clock::now() - t0).count();
}

// Clustered vectors, as sentence embeddings are: 1,000 centres with scatter around them.
embq::Vectors clustered(int64_t rows, int64_t dim, uint64_t seed) {
    std::mt19937_64 rng(seed);
    std::normal_distribution<float> normal;
    std::vector<float> centres(static_cast<size_t>(1000 * dim));
    for (auto& x : centres) x = normal(rng);
    embq::Vectors v;
    v.rows = rows;
    v.dim = dim;
    v.data.resize(static_cast<size_t>(rows * dim));
    for (int64_t r = 0; r < rows; ++r) {
        const float* c = centres.data() + (r % 1000) * dim;
        for (int64_t d = 0; d < dim; ++d) v.data[r * dim + d] = c[d] + 0.5f * normal(rng);
    }
    return v;
}

embq::Vectors with_noise(const embq::Vectors& v, float sigma, uint64_t seed) {
    std::mt19937_64 rng(seed);
    std::normal_distribution<float> normal(0.0f, sigma);
    embq::Vectors out = v;
    for (auto& x : out.data) x += normal(rng);
    return out;
}

// The loop FAISS replaces: inner products against every row, then the top k.
std::vector<int64_t> naive_top_k(const embq::Vectors& base, const float* query, int64_t k) {
    std::vector<float> scores(static_cast<size_t>(base.rows));
    for (int64_t r = 0; r < base.rows; ++r) {
        const float* row = base.data.data() + r * base.dim;
        float s = 0;
        for (int64_t d = 0; d < base.dim; ++d) s += row[d] * query[d];
        scores[r] = s;
    }
    std::vector<int64_t> ids(static_cast<size_t>(base.rows));
    std::iota(ids.begin(), ids.end(), 0);
    std::partial_sort(ids.begin(), ids.begin() + k, ids.end(),
                      [&](int64_t a, int64_t b) { return scores[a] > scores[b]; });
    ids.resize(static_cast<size_t>(k));
    return ids;
}

int64_t arg(int argc, char** argv, const std::string& name, int64_t fallback) {
    for (int i = 1; i + 1 < argc; ++i)
        if (argv[i] == name) return std::atoll(argv[i + 1]);
    return fallback;
}

}  // namespace

int main(int argc, char** argv) {
    const int64_t rows = arg(argc, argv, "--rows", 100000);
    const int64_t dim = arg(argc, argv, "--dim", 384);
    const int64_t n_queries = arg(argc, argv, "--queries", 1000);
    const int64_t naive_queries = arg(argc, argv, "--naive-queries", 100);
    const int64_t k = 100;
    const int threads = embq::configure_threads(0).intra_op;

    const embq::Vectors base = clustered(rows, dim, 1);
    const embq::Vectors cand = with_noise(base, 0.05f, 2);
    const auto query_rows = embq::sample_rows(rows, n_queries, 0);
    const embq::Vectors q_base = embq::gather_rows(base, query_rows);
    const embq::Vectors q_cand = embq::gather_rows(cand, query_rows);

    // The three searches eval runs for recall@K and cross_recall@K (inner product here, so
    // the naive loop below computes exactly the same thing).
    const auto metric = embq::SimilarityMetric::InnerProduct;
    auto t0 = Clock::now();
    const auto truth = embq::search(base, q_base, k, metric, {}, &query_rows);
    const double truth_s = seconds_since(t0);
    t0 = Clock::now();
    const auto found = embq::search(cand, q_cand, k, metric, {}, &query_rows);
    const auto cross = embq::search(base, q_cand, k, metric, {}, &query_rows);
    const double other_s = seconds_since(t0);
    t0 = Clock::now();
    const auto cos = embq::rowwise_cosine(base, cand);
    const double cosine_s = seconds_since(t0);

    // Naive loop on the first `naive_queries` queries (it is slow), per query vs FAISS.
    t0 = Clock::now();
    int64_t agree = 0;
    for (int64_t q = 0; q < naive_queries; ++q) {
        const auto ids = naive_top_k(base, q_base.data.data() + q * dim, k + 1);
        for (int64_t c = 0; c < 10; ++c) {
            const int64_t want = truth.row(q)[c];
            agree += std::find(ids.begin(), ids.end(), want) != ids.end();
        }
    }
    const double naive_s = seconds_since(t0);
    const double faiss_per_query = truth_s / static_cast<double>(n_queries);
    const double naive_per_query = naive_s / static_cast<double>(naive_queries);

    std::printf("eval search benchmark: %lld x %lld corpus, %lld queries, k %lld, %d threads\n",
                static_cast<long long>(rows), static_cast<long long>(dim),
                static_cast<long long>(n_queries), static_cast<long long>(k), threads);
    std::printf("| step | seconds |\n|---|---:|\n");
    std::printf("| FP32 truth search (FAISS IndexFlatIP) | %.2f |\n", truth_s);
    std::printf("| candidate + cross searches | %.2f |\n", other_s);
    std::printf("| per-item cosine over the corpus | %.2f |\n", cosine_s);
    std::printf("recall@10 %.4f, cross_recall@10 %.4f, cosine mean %.4f (noise sigma 0.05)\n",
                embq::recall_at_k(truth, found, 10), embq::recall_at_k(truth, cross, 10), cos.mean);
    std::printf(
        "per query: FAISS %.2f ms, naive loop %.2f ms: FAISS %.1fx faster (target >= 10x); "
        "FAISS top-10 inside the naive top-%lld: %.1f%%\n",
        1e3 * faiss_per_query, 1e3 * naive_per_query, naive_per_query / faiss_per_query,
        static_cast<long long>(k + 1),
        100.0 * static_cast<double>(agree) / static_cast<double>(10 * naive_queries));
    return naive_per_query / faiss_per_query >= 10.0 ? 0 : 1;
}
