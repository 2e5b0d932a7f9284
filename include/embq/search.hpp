// Nearest-neighbour search with FAISS over rows that may live in a memory-mapped file:
// exact search scans the base in blocks (no copy of it), and trained indexes learn from a
// sample and take the base in blocks, so a million-row corpus costs the index, not a
// second corpus. Used by every metric that needs neighbours (metrics.hpp).
#pragma once

#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "embq/vectors.hpp"

namespace faiss {
struct Index;
struct IndexBinary;
}  // namespace faiss

namespace embq {

// How vectors are compared. Cosine searches inner product on L2-normalised copies (made a
// block at a time); L2's "similarity" is the negated squared distance, so larger is
// always closer.
enum class SimilarityMetric { Cosine, InnerProduct, L2 };
const char* to_string(SimilarityMetric metric) noexcept;  // "cosine", "ip", "l2"
std::optional<SimilarityMetric> parse_similarity_metric(const std::string& name);

// Which FAISS index answers searches. Exact by default; IVF and HNSW for corpora too
// large for exact search; and the compressed indexes a search system stores to save
// memory: scalar quantizers (sq8, sq4: a byte or half a byte per dimension, with
// per-dimension ranges trained on the corpus), product quantization (pq:M: M bytes a
// vector) and sign bits (binary, Hamming distance: dim / 8 bytes). IVF lists hold float
// vectors, or the codes of sq8, sq4 or pq (FAISS's "IVF1024,SQ8"): the index a large
// corpus is served from. Each reports its own recall against exact search. With
// `rescore` R, the index returns R x k candidates and the float vectors re-rank them, the
// way a system keeps its float vectors on disk.
struct IndexSpec {
    enum class Kind { Exact, Ivf, Hnsw, Sq8, Sq4, Pq, Binary };
    Kind kind = Kind::Exact;
    int64_t ivf_lists = 0;  // 0: 4 * sqrt(rows), at most rows / 39 (FAISS's training rule)
    int64_t ivf_probes = 16;
    Kind ivf_codes = Kind::Exact;  // what IVF lists store: floats (Exact), Sq8, Sq4 or Pq
    int64_t hnsw_links = 32;       // M
    int64_t hnsw_ef_search = 128;
    int64_t pq_subquantizers = 0;  // 0: dim / 4 (a byte for every 4 dimensions)
    int64_t rescore = 0;           // 0: the index's own scores; R: re-rank R x k with floats
    // "exact", "ivf:256 (nprobe 16)", "ivf:1024,sq8 (nprobe 16)", "hnsw:32 (efSearch
    // 128)", "sq8, rescored from 4x k", ...
    std::string describe() const;
    // Bytes the index stores per vector of `dim` floats for its codes (exact, IVF with
    // float lists and HNSW keep the floats: 4 x dim; lists, ids and links are not counted).
    int64_t code_bytes(int64_t dim) const;
};
// "exact", "ivf", "ivf:LISTS", "ivf[:LISTS],sq8|sq4|pq[:M]", "hnsw", "hnsw:M", "sq8",
// "sq4", "pq", "pq:M", "binary"; anything else is a Usage error.
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

// An index over `base`, built once and searched with any number of query sets (the
// baseline's index answers both the baseline's and the candidate's queries). It keeps a
// view of `base` for exact search and rescoring: the rows must outlive it.
class NeighbourIndex {
public:
    NeighbourIndex(const VectorView& base, SimilarityMetric metric, const IndexSpec& spec);
    ~NeighbourIndex();
    NeighbourIndex(const NeighbourIndex&) = delete;
    NeighbourIndex& operator=(const NeighbourIndex&) = delete;

    // When `exclude` is given, base row exclude[q] (the query's own item) never appears
    // in query q's results.
    Neighbours search(const VectorView& queries, int64_t k,
                      const std::vector<int64_t>* exclude = nullptr) const;

private:
    // Ids and scores, `fetch` a query, from the index (or the exact scan).
    void candidates(const VectorView& queries, int64_t fetch, std::vector<int64_t>& ids,
                    std::vector<float>& scores) const;

    VectorView base_;
    SimilarityMetric metric_;
    IndexSpec spec_;
    std::unique_ptr<faiss::Index> index_;         // trained kinds; null for exact
    std::unique_ptr<faiss::IndexBinary> binary_;  // sign bits
};

// One search against a fresh index: NeighbourIndex(base, metric, index).search(...).
Neighbours search(const VectorView& base, const VectorView& queries, int64_t k,
                  SimilarityMetric metric, const IndexSpec& index = {},
                  const std::vector<int64_t>* exclude = nullptr);

}  // namespace embq
