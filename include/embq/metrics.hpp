// Agreement metrics between two embedding spaces, with FAISS doing the searching:
// neighbour recall, index compatibility, per-item cosine, rank correlation of
// similarities, and labelled retrieval scores. Plain float matrices in, numbers out;
// no models here (eval.hpp puts models and files around these).
#pragma once

#include <cstdint>
#include <functional>
#include <optional>
#include <string>
#include <vector>

#include "embq/search.hpp"
#include "embq/vectors.hpp"

namespace embq {

// Per query, |top-k of `found` ∩ top-k of `truth`| / k (1 when `truth` has no row to
// find). Both need >= k columns. recall_at_k is their mean.
std::vector<double> recall_per_query(const Neighbours& truth, const Neighbours& found, int64_t k);
double recall_at_k(const Neighbours& truth, const Neighbours& found, int64_t k);

// Tolerance-aware recall, as ann-benchmarks' "epsilon recall": a row the candidate
// returns in query q's top k counts when its distance to the query in the FP32 space
// (`base`, `queries`: the vectors `truth` was searched with) is within (1 + epsilon) of
// the FP32 k-th neighbour's distance. Distances: 1 - cosine, Euclidean for L2, -score for
// inner product (where the tolerance is epsilon * |k-th|). Rows whose FP32 scores tie
// within the tolerance count as agreed, so this is >= recall_per_query for each query.
std::vector<double> epsilon_recall_per_query(const Neighbours& truth, const Neighbours& found,
                                             const VectorView& base, const VectorView& queries,
                                             int64_t k, double epsilon, SimilarityMetric metric);

double mean_of(const std::vector<double>& values);  // NaN when empty

// A percentile-bootstrap interval of `statistic` over items: `resamples` draws of
// values.size() items with replacement (the same for the same seed), and the
// (1 - level) / 2 and (1 + level) / 2 quantiles of the statistic over those draws.
struct Interval {
    double low = 0, high = 0;
};
Interval bootstrap_interval(const std::vector<double>& values,
                            const std::function<double(std::vector<double>&)>& statistic,
                            uint64_t seed, int resamples = 1000, double level = 0.95);

// `count` distinct rows of [0, rows), sorted, the same for the same seed on every
// platform; all rows when count >= rows.
std::vector<int64_t> sample_rows(int64_t rows, int64_t count, uint64_t seed);
Vectors gather_rows(const VectorView& v, const std::vector<int64_t>& rows);

// Rows holding a NaN or an infinity, ascending (eval scores them as zero vectors, which
// are equally far from everything: VectorTable::zero_rows).
std::vector<int64_t> nonfinite_rows(const VectorView& v);

// Cosine between row i of `a` and row i of `b` (same shape), per row: two zero rows agree
// (1), one zero row against a real one does not (0).
std::vector<double> rowwise_cosines(const VectorView& a, const VectorView& b);

// Per-row cosines summarised.
struct CosineSummary {
    double mean = 0, min = 0, p1 = 0, p5 = 0, p50 = 0;
};
CosineSummary summarise_cosines(std::vector<double> cosines);
CosineSummary rowwise_cosine(const VectorView& a, const VectorView& b);  // both of the above

// The q-th percentile (0..100) of ascending values, interpolating linearly between the
// closest ranks (NumPy's default); NaN when empty.
double percentile_of_sorted(const std::vector<double>& sorted, double q);

// Spearman's rank correlation (ties get their average rank). NaN when either side is
// constant or there are fewer than 2 values.
double spearman(const std::vector<double>& x, const std::vector<double>& y);

// Similarity of row a[i] of `left` to row b[i] of `right`, as `metric` defines it.
std::vector<double> pair_similarities(const VectorView& left, const std::vector<int64_t>& a,
                                      const VectorView& right, const std::vector<int64_t>& b,
                                      SimilarityMetric metric);

// Labelled retrieval: query q's right answer is pool row positive[q].
struct RetrievalScores {
    std::vector<std::pair<int64_t, double>>
        hit_at;            // (k, fraction of queries with the answer in the top k)
    double mrr_at_10 = 0;  // mean of 1/rank, 0 beyond rank 10
};
RetrievalScores score_retrieval(const Neighbours& found, const std::vector<int64_t>& positive,
                                const std::vector<int64_t>& ks);

}  // namespace embq
