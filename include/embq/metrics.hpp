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

#include "embq/vectors.hpp"

namespace embq {

// How vectors are compared. Cosine searches inner product on L2-normalised copies;
// L2's "similarity" is the negated squared distance, so larger is always closer.
enum class SimilarityMetric { Cosine, InnerProduct, L2 };
const char* to_string(SimilarityMetric metric) noexcept;  // "cosine", "ip", "l2"
std::optional<SimilarityMetric> parse_similarity_metric(const std::string& name);

// Which FAISS index answers searches. Exact (IndexFlat) by default; IVF and HNSW for
// corpora too large for exact search; and the compressed indexes a search system stores
// to save memory: scalar quantizers (sq8, sq4: a byte or half a byte per dimension, with
// per-dimension ranges trained on the corpus), product quantization (pq:M: M bytes a
// vector) and sign bits (binary, Hamming distance: dim / 8 bytes). Each reports its own
// recall against exact search. With `rescore` R, the index returns R x k candidates and
// the float vectors re-rank them, the way a system keeps its float vectors on disk.
struct IndexSpec {
    enum class Kind { Exact, Ivf, Hnsw, Sq8, Sq4, Pq, Binary };
    Kind kind = Kind::Exact;
    int64_t ivf_lists = 0;  // 0: 4 * sqrt(rows), at most rows / 39 (FAISS's training rule)
    int64_t ivf_probes = 16;
    int64_t hnsw_links = 32;  // M
    int64_t hnsw_ef_search = 128;
    int64_t pq_subquantizers = 0;  // 0: dim / 4 (a byte for every 4 dimensions)
    int64_t rescore = 0;           // 0: the index's own scores; R: re-rank R x k with floats
    // "exact", "ivf:256 (nprobe 16)", "hnsw:32 (efSearch 128)", "sq8, rescore 4x", ...
    std::string describe() const;
    // Bytes the index stores per vector of `dim` floats for its codes (exact, IVF and
    // HNSW keep the floats: 4 x dim; their lists and links are not counted).
    int64_t code_bytes(int64_t dim) const;
};
// "exact", "ivf", "ivf:LISTS", "hnsw", "hnsw:M", "sq8", "sq4", "pq", "pq:M", "binary";
// anything else is a Usage error.
IndexSpec parse_index_spec(const std::string& text);

// The k nearest base rows of each query, best first. ids are -1 past the end when the
// base has fewer than k candidate rows.
struct Neighbours {
    int64_t queries = 0;
    int64_t k = 0;
    std::vector<int64_t> ids;   // queries x k
    std::vector<float> scores;  // similarity (larger is closer), queries x k
    const int64_t* row(int64_t q) const { return ids.data() + q * k; }
};

// Searches `queries` against `base`. When `exclude` is given, base row exclude[q] (the
// query's own item) never appears in query q's results.
Neighbours search(const Vectors& base, const Vectors& queries, int64_t k, SimilarityMetric metric,
                  const IndexSpec& index = {}, const std::vector<int64_t>* exclude = nullptr);

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
                                             const Vectors& base, const Vectors& queries,
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
Vectors gather_rows(const Vectors& v, const std::vector<int64_t>& rows);

// Rows holding a NaN or an infinity, ascending; zero_rows() sets such rows to 0 (a zero
// vector is equally far from everything, so it finds and is found by nothing in particular).
std::vector<int64_t> nonfinite_rows(const Vectors& v);
void zero_rows(Vectors& v, const std::vector<int64_t>& rows);

// Cosine between row i of `a` and row i of `b` (same shape), per row: two zero rows agree
// (1), one zero row against a real one does not (0).
std::vector<double> rowwise_cosines(const Vectors& a, const Vectors& b);

// Per-row cosines summarised.
struct CosineSummary {
    double mean = 0, min = 0, p1 = 0, p5 = 0, p50 = 0;
};
CosineSummary summarise_cosines(std::vector<double> cosines);
CosineSummary rowwise_cosine(const Vectors& a, const Vectors& b);  // both of the above

// The q-th percentile (0..100) of ascending values, interpolating linearly between the
// closest ranks (NumPy's default); NaN when empty.
double percentile_of_sorted(const std::vector<double>& sorted, double q);

// Spearman's rank correlation (ties get their average rank). NaN when either side is
// constant or there are fewer than 2 values.
double spearman(const std::vector<double>& x, const std::vector<double>& y);

// Similarity of row a[i] of `left` to row b[i] of `right`, as `metric` defines it.
std::vector<double> pair_similarities(const Vectors& left, const std::vector<int64_t>& a,
                                      const Vectors& right, const std::vector<int64_t>& b,
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
