// FAISS indexes over vector views. The base is never copied whole: exact search scans it
// in blocks and merges each block's top candidates, trained indexes learn from a sample
// and take the base a block at a time, and cosine normalises each block as it goes.
#include "embq/search.hpp"

#include <algorithm>
#include <cmath>
#include <limits>
#include <numeric>

#include <faiss/IndexBinaryFlat.h>
#include <faiss/IndexFlat.h>
#include <faiss/IndexHNSW.h>
#include <faiss/IndexIVFFlat.h>
#include <faiss/IndexIVFPQ.h>
#include <faiss/IndexPQ.h>
#include <faiss/IndexScalarQuantizer.h>
#include <faiss/utils/distances.h>
#include <spdlog/spdlog.h>

#include "embq/error.hpp"
#include "embq/metrics.hpp"

namespace embq {

namespace {

using faiss_id = faiss::Index::idx_t;

// Rows a block holds: 16,384 rows of 384 floats is 24 MiB.
constexpr int64_t kBlockRows = 16384;

// Trained indexes learn from at most this many rows, or 64 per IVF list where that is
// more (FAISS asks for 39 to 256 a centroid): enough for their ranges and centroids, and
// the sample, not the corpus, is what is copied.
constexpr int64_t kTrainingRows = 65536;

void normalise_row(float* row, int64_t dim) {
    double norm = 0;
    for (int64_t c = 0; c < dim; ++c) norm += static_cast<double>(row[c]) * row[c];
    // A zero vector stays zero: it is equally far from everything, as it should be.
    const float scale = norm > 0 ? static_cast<float>(1.0 / std::sqrt(norm)) : 0.0f;
    for (int64_t c = 0; c < dim; ++c) row[c] *= scale;
}

// Rows `rows` of `v` as one contiguous block, normalised for cosine.
void copy_rows(const VectorView& v, const std::vector<int64_t>& rows, SimilarityMetric metric,
               std::vector<float>& out) {
    out.resize(rows.size() * static_cast<size_t>(v.dim));
    for (size_t i = 0; i < rows.size(); ++i) {
        float* dst = out.data() + i * static_cast<size_t>(v.dim);
        std::copy_n(v.row(rows[i]), v.dim, dst);
        if (metric == SimilarityMetric::Cosine) normalise_row(dst, v.dim);
    }
}

// Rows [begin, end) of `v`, the same way.
void copy_block(const VectorView& v, int64_t begin, int64_t end, SimilarityMetric metric,
                std::vector<float>& out) {
    std::vector<int64_t> rows(static_cast<size_t>(end - begin));
    std::iota(rows.begin(), rows.end(), begin);
    copy_rows(v, rows, metric, out);
}

faiss::MetricType faiss_metric(SimilarityMetric metric) {
    return metric == SimilarityMetric::L2 ? faiss::METRIC_L2 : faiss::METRIC_INNER_PRODUCT;
}

int64_t pq_subquantizers(const IndexSpec& spec, int64_t dim) {
    const int64_t m = spec.pq_subquantizers > 0 ? spec.pq_subquantizers : dim / 4;
    if (m < 1 || dim % m != 0)
        throw usage_error("--index pq:" + std::to_string(m) +
                          ": the number of sub-spaces must "
                          "divide the dimension " +
                          std::to_string(dim) +
                          " (e.g. pq:" + std::to_string(std::max<int64_t>(1, dim / 8)) + ")");
    return m;
}

// 8-bit PQ codes: 256 centroids per sub-space, which k-means needs at least as many rows
// for; FAISS asks 39 a centroid and would print its own warning.
void check_pq_training_rows(int64_t rows) {
    if (rows < 256)
        throw usage_error(
            "--index pq needs at least 256 corpus rows to train its 256 "
            "centroids per sub-space, the corpus has " +
            std::to_string(rows) + "; use sq8 or sq4");
    if (rows < 256 * 39)
        spdlog::warn(
            "--index pq trains on {} rows, fewer than the 9,984 its 256 "
            "centroids want: its codes are coarser than a larger corpus's",
            rows);
}

int64_t default_ivf_lists(int64_t rows) {
    // FAISS wants >= 39 training points per list; 4*sqrt(n) is its usual rule of thumb.
    const auto by_size = static_cast<int64_t>(4.0 * std::sqrt(static_cast<double>(rows)));
    return std::max<int64_t>(1, std::min(by_size, rows / 39));
}

faiss::ScalarQuantizer::QuantizerType sq_type(IndexSpec::Kind kind) {
    return kind == IndexSpec::Kind::Sq8 ? faiss::ScalarQuantizer::QT_8bit
                                        : faiss::ScalarQuantizer::QT_4bit;
}

// An untrained index of the kind `spec` names; `lists` is the IVF list count.
std::unique_ptr<faiss::Index> make_index(const IndexSpec& spec, int64_t rows, int64_t dim_,
                                         SimilarityMetric metric, int64_t lists) {
    const auto dim = static_cast<int>(dim_);
    const faiss::MetricType fm = faiss_metric(metric);
    switch (spec.kind) {
        case IndexSpec::Kind::Ivf: {
            auto coarse = std::make_unique<faiss::IndexFlat>(dim, fm);
            const auto nlist = static_cast<size_t>(lists);
            std::unique_ptr<faiss::IndexIVF> ivf;
            switch (spec.ivf_codes) {
                case IndexSpec::Kind::Sq8:
                case IndexSpec::Kind::Sq4:
                    ivf = std::make_unique<faiss::IndexIVFScalarQuantizer>(
                        coarse.get(), dim, nlist, sq_type(spec.ivf_codes), fm);
                    break;
                case IndexSpec::Kind::Pq:
                    check_pq_training_rows(rows);
                    ivf = std::make_unique<faiss::IndexIVFPQ>(
                        coarse.get(), dim, nlist, static_cast<size_t>(pq_subquantizers(spec, dim_)),
                        8, fm);
                    break;
                default: ivf = std::make_unique<faiss::IndexIVFFlat>(coarse.get(), dim, nlist, fm);
            }
            coarse.release();
            ivf->own_fields = true;
            ivf->nprobe = static_cast<size_t>(std::min(spec.ivf_probes, lists));
            return ivf;
        }
        case IndexSpec::Kind::Hnsw: {
            auto hnsw =
                std::make_unique<faiss::IndexHNSWFlat>(dim, static_cast<int>(spec.hnsw_links), fm);
            hnsw->hnsw.efSearch = static_cast<int>(spec.hnsw_ef_search);
            return hnsw;
        }
        case IndexSpec::Kind::Sq8:
        case IndexSpec::Kind::Sq4:
            return std::make_unique<faiss::IndexScalarQuantizer>(dim, sq_type(spec.kind), fm);
        case IndexSpec::Kind::Pq: {
            check_pq_training_rows(rows);
            auto pq = std::make_unique<faiss::IndexPQ>(
                dim, static_cast<size_t>(pq_subquantizers(spec, dim_)), 8, fm);
            pq->pq.cp.min_points_per_centroid = 1;
            return pq;
        }
        case IndexSpec::Kind::Exact:
        case IndexSpec::Kind::Binary: break;
    }
    EMBQ_ASSERT(false && "exact search and sign bits have no trained index");
    return nullptr;
}

std::unique_ptr<faiss::Index> build_index(const VectorView& base, SimilarityMetric metric,
                                          const IndexSpec& spec) {
    int64_t lists = 0;
    if (spec.kind == IndexSpec::Kind::Ivf) {
        lists = spec.ivf_lists > 0 ? spec.ivf_lists : default_ivf_lists(base.rows);
        if (lists > base.rows)
            throw usage_error("--index ivf:" + std::to_string(lists) + " needs at least " +
                              std::to_string(lists) + " corpus rows, the corpus has " +
                              std::to_string(base.rows));
    }
    auto index = make_index(spec, base.rows, base.dim, metric, lists);
    std::vector<float> block;
    if (!index->is_trained) {
        const int64_t wanted = std::max(kTrainingRows, 64 * lists);
        copy_rows(base, sample_rows(base.rows, wanted, 0), metric, block);
        index->train(static_cast<faiss_id>(block.size() / static_cast<size_t>(base.dim)),
                     block.data());
    }
    for (int64_t begin = 0; begin < base.rows; begin += kBlockRows) {
        const int64_t end = std::min(base.rows, begin + kBlockRows);
        copy_block(base, begin, end, metric, block);
        index->add(end - begin, block.data());
    }
    return index;
}

// The sign bit of each dimension of rows [begin, end), packed 8 to a byte (the last byte
// zero-padded: the same zero bits on both sides add no Hamming distance).
std::vector<uint8_t> sign_bits(const VectorView& v, int64_t begin, int64_t end) {
    const int64_t bytes = (v.dim + 7) / 8;
    std::vector<uint8_t> out(static_cast<size_t>((end - begin) * bytes), 0);
    for (int64_t r = begin; r < end; ++r)
        for (int64_t c = 0; c < v.dim; ++c)
            if (v.row(r)[c] > 0) out[(r - begin) * bytes + c / 8] |= uint8_t(1u << (c % 8));
    return out;
}

std::unique_ptr<faiss::IndexBinary> build_sign_index(const VectorView& base) {
    auto index =
        std::make_unique<faiss::IndexBinaryFlat>(static_cast<int>(8 * ((base.dim + 7) / 8)));
    for (int64_t begin = 0; begin < base.rows; begin += kBlockRows) {
        const int64_t end = std::min(base.rows, begin + kBlockRows);
        index->add(end - begin, sign_bits(base, begin, end).data());
    }
    return index;
}

// Merges a block's candidates into the running best `fetch` of one query. Both lists are
// best first; on equal scores the running list (lower row ids) goes first, as FAISS's own
// flat search keeps the earlier row.
void merge_candidates(int64_t fetch, const faiss_id* block_ids, const float* block_scores,
                      int64_t block_k, faiss_id* ids, float* scores,
                      std::vector<std::pair<float, faiss_id>>& merged) {
    merged.clear();
    int64_t a = 0, b = 0;
    while (static_cast<int64_t>(merged.size()) < fetch && (a < fetch || b < block_k)) {
        const bool a_live = a < fetch && ids[a] >= 0;
        const bool b_live = b < block_k && block_ids[b] >= 0;
        if (!a_live && !b_live) break;
        if (a_live && (!b_live || scores[a] >= block_scores[b])) {
            merged.emplace_back(scores[a], ids[a]);
            ++a;
        } else {
            merged.emplace_back(block_scores[b], block_ids[b]);
            ++b;
        }
    }
    for (int64_t c = 0; c < fetch; ++c) {
        const bool filled = c < static_cast<int64_t>(merged.size());
        ids[c] = filled ? merged[c].second : -1;
        scores[c] = filled ? merged[c].first : -std::numeric_limits<float>::infinity();
    }
}

// Exact search, a block of the base at a time.
void exact_candidates(const VectorView& base, const std::vector<float>& queries, int64_t nq,
                      int64_t fetch, SimilarityMetric metric, std::vector<faiss_id>& ids,
                      std::vector<float>& scores) {
    const auto dim = static_cast<size_t>(base.dim);
    std::vector<float> block, block_scores;
    std::vector<faiss_id> block_ids;
    std::vector<std::pair<float, faiss_id>> merged;
    for (int64_t begin = 0; begin < base.rows; begin += kBlockRows) {
        const int64_t end = std::min(base.rows, begin + kBlockRows);
        copy_block(base, begin, end, metric, block);
        const int64_t rows = end - begin, block_k = std::min(fetch, rows);
        block_ids.assign(static_cast<size_t>(nq * block_k), -1);
        block_scores.assign(block_ids.size(), 0.0f);
        const auto n = static_cast<size_t>(nq), b = static_cast<size_t>(rows),
                   kk = static_cast<size_t>(block_k);
        if (metric == SimilarityMetric::L2) {
            faiss::knn_L2sqr(queries.data(), block.data(), dim, n, b, kk, block_scores.data(),
                             block_ids.data());
            for (float& d : block_scores) d = -d;
        } else {
            faiss::knn_inner_product(queries.data(), block.data(), dim, n, b, kk,
                                     block_scores.data(), block_ids.data());
        }
        for (faiss_id& id : block_ids)
            if (id >= 0) id += begin;
        for (int64_t q = 0; q < nq; ++q)
            merge_candidates(fetch, block_ids.data() + q * block_k,
                             block_scores.data() + q * block_k, block_k, ids.data() + q * fetch,
                             scores.data() + q * fetch, merged);
    }
}

// Each query's candidates re-scored with the float vectors and re-ranked, best first.
void rescore(const VectorView& base, const VectorView& queries, int64_t fetch,
             SimilarityMetric metric, std::vector<faiss_id>& ids, std::vector<float>& scores) {
    std::vector<int64_t> query_row, candidates;
    std::vector<size_t> order;
    for (int64_t q = 0; q < queries.rows; ++q) {
        candidates.clear();
        for (int64_t c = 0; c < fetch; ++c)
            if (ids[q * fetch + c] >= 0) candidates.push_back(ids[q * fetch + c]);
        query_row.assign(candidates.size(), q);
        const std::vector<double> exact =
            pair_similarities(queries, query_row, base, candidates, metric);
        order.resize(candidates.size());
        std::iota(order.begin(), order.end(), 0);
        // Ties keep the index's order, so the result does not depend on the sort.
        std::stable_sort(order.begin(), order.end(),
                         [&](size_t a, size_t b) { return exact[a] > exact[b]; });
        for (int64_t c = 0; c < fetch; ++c) {
            const bool filled = c < static_cast<int64_t>(order.size());
            ids[q * fetch + c] = filled ? candidates[order[c]] : -1;
            scores[q * fetch + c] = filled ? static_cast<float>(exact[order[c]])
                                           : -std::numeric_limits<float>::infinity();
        }
    }
}

}  // namespace

const char* to_string(SimilarityMetric metric) noexcept {
    switch (metric) {
        case SimilarityMetric::Cosine: return "cosine";
        case SimilarityMetric::InnerProduct: return "ip";
        case SimilarityMetric::L2: return "l2";
    }
    return "?";
}

std::optional<SimilarityMetric> parse_similarity_metric(const std::string& name) {
    if (name == "cosine") return SimilarityMetric::Cosine;
    if (name == "ip") return SimilarityMetric::InnerProduct;
    if (name == "l2") return SimilarityMetric::L2;
    return std::nullopt;
}

namespace {

std::string describe_codes(const IndexSpec& spec, IndexSpec::Kind codes) {
    switch (codes) {
        case IndexSpec::Kind::Sq8: return "sq8";
        case IndexSpec::Kind::Sq4: return "sq4";
        case IndexSpec::Kind::Pq:
            return "pq:" + (spec.pq_subquantizers > 0 ? std::to_string(spec.pq_subquantizers)
                                                      : std::string("dim/4"));
        default: return "";
    }
}

}  // namespace

std::string IndexSpec::describe() const {
    std::string out;
    switch (kind) {
        case Kind::Exact: out = "exact"; break;
        case Kind::Ivf:
            out = "ivf:" + (ivf_lists > 0 ? std::to_string(ivf_lists) : std::string("auto"));
            if (ivf_codes != Kind::Exact) out += "," + describe_codes(*this, ivf_codes);
            out += " (nprobe " + std::to_string(ivf_probes) + ")";
            break;
        case Kind::Hnsw:
            out = "hnsw:" + std::to_string(hnsw_links) + " (efSearch " +
                  std::to_string(hnsw_ef_search) + ")";
            break;
        case Kind::Sq8:
        case Kind::Sq4:
        case Kind::Pq: out = describe_codes(*this, kind); break;
        case Kind::Binary: out = "binary"; break;
    }
    if (rescore > 0) out += ", rescored from " + std::to_string(rescore) + "x k";
    return out;
}

int64_t IndexSpec::code_bytes(int64_t dim) const {
    switch (kind == Kind::Ivf ? ivf_codes : kind) {
        case Kind::Exact:
        case Kind::Ivf:
        case Kind::Hnsw: return 4 * dim;
        case Kind::Sq8: return dim;
        case Kind::Sq4: return (dim + 1) / 2;
        case Kind::Pq: return embq::pq_subquantizers(*this, dim);
        case Kind::Binary: return (dim + 7) / 8;
    }
    return 0;
}

namespace {

// "NAME" or "NAME:N" (N a positive number of at most 9 digits): the name and N (0 bare).
std::pair<std::string, int64_t> name_and_number(const std::string& part, const std::string& text) {
    const auto colon = part.find(':');
    if (colon == std::string::npos) return {part, 0};
    const std::string digits = part.substr(colon + 1);
    if (digits.empty() || digits.size() > 9 ||
        !std::all_of(digits.begin(), digits.end(), [](char c) { return c >= '0' && c <= '9'; }) ||
        std::stoll(digits) == 0)
        throw usage_error("--index " + text + ": expected a positive number after ':'");
    return {part.substr(0, colon), std::stoll(digits)};
}

}  // namespace

IndexSpec parse_index_spec(const std::string& text) {
    const std::string expected =
        ": expected exact, ivf[:LISTS][,sq8|,sq4|,pq[:M]], hnsw[:M], sq8, sq4, pq[:M] or binary";
    const auto comma = text.find(',');
    const auto [kind, param] = name_and_number(text.substr(0, comma), text);
    IndexSpec spec;
    if (comma != std::string::npos) {
        // IVF lists of codes, FAISS's "IVF1024,SQ8".
        const auto [codes, m] = name_and_number(text.substr(comma + 1), text);
        const bool known = codes == "pq" || (m == 0 && (codes == "sq8" || codes == "sq4"));
        if (kind != "ivf" || !known) throw usage_error("--index " + text + expected);
        spec.kind = IndexSpec::Kind::Ivf;
        spec.ivf_lists = param;
        spec.ivf_codes = codes == "sq8"   ? IndexSpec::Kind::Sq8
                         : codes == "sq4" ? IndexSpec::Kind::Sq4
                                          : IndexSpec::Kind::Pq;
        spec.pq_subquantizers = m;
        return spec;
    }
    const bool bare = text.find(':') == std::string::npos;
    if (kind == "exact" && bare) return spec;
    if (kind == "ivf") {
        spec.kind = IndexSpec::Kind::Ivf;
        spec.ivf_lists = param;
        return spec;
    }
    if (kind == "hnsw") {
        spec.kind = IndexSpec::Kind::Hnsw;
        if (param > 0) spec.hnsw_links = param;
        return spec;
    }
    if (kind == "pq") {
        spec.kind = IndexSpec::Kind::Pq;
        spec.pq_subquantizers = param;
        return spec;
    }
    if (bare && (kind == "sq8" || kind == "sq4" || kind == "binary")) {
        spec.kind = kind == "sq8"   ? IndexSpec::Kind::Sq8
                    : kind == "sq4" ? IndexSpec::Kind::Sq4
                                    : IndexSpec::Kind::Binary;
        return spec;
    }
    throw usage_error("--index " + text + expected);
}

// ---- NeighbourIndex -----------------------------------------------------------------

NeighbourIndex::NeighbourIndex(const VectorView& base, SimilarityMetric metric,
                               const IndexSpec& spec)
    : base_(base), metric_(metric), spec_(spec) {
    if (base.rows == 0) return;
    if (spec.kind == IndexSpec::Kind::Binary)
        binary_ = build_sign_index(base);
    else if (spec.kind != IndexSpec::Kind::Exact)
        index_ = build_index(base, metric, spec);
}

NeighbourIndex::~NeighbourIndex() = default;

void NeighbourIndex::candidates(const VectorView& queries, int64_t fetch,
                                std::vector<faiss_id>& ids, std::vector<float>& scores) const {
    ids.assign(static_cast<size_t>(queries.rows * fetch), -1);
    scores.assign(ids.size(), -std::numeric_limits<float>::infinity());
    if (fetch == 0 || queries.rows == 0) return;
    if (binary_) {
        std::vector<int32_t> hamming(ids.size());
        binary_->search(queries.rows, sign_bits(queries, 0, queries.rows).data(), fetch,
                        hamming.data(), ids.data());
        for (size_t i = 0; i < ids.size(); ++i) scores[i] = -static_cast<float>(hamming[i]);
        return;
    }
    std::vector<float> q;
    copy_block(queries, 0, queries.rows, metric_, q);
    if (!index_) {
        exact_candidates(base_, q, queries.rows, fetch, metric_, ids, scores);
        return;
    }
    index_->search(queries.rows, q.data(), fetch, scores.data(), ids.data());
    if (metric_ == SimilarityMetric::L2)
        for (float& d : scores) d = -d;
}

Neighbours NeighbourIndex::search(const VectorView& queries, int64_t k,
                                  const std::vector<int64_t>* exclude) const {
    EMBQ_ASSERT(base_.dim == queries.dim && k > 0);
    EMBQ_ASSERT(!exclude || static_cast<int64_t>(exclude->size()) == queries.rows);
    // One extra column so that dropping the query's own item still leaves k.
    const int64_t wanted = k + (exclude ? 1 : 0);
    const int64_t fetch =
        std::min<int64_t>(wanted * std::max<int64_t>(1, spec_.rescore), base_.rows);
    std::vector<faiss_id> ids;
    std::vector<float> scores;
    candidates(queries, fetch, ids, scores);
    if (spec_.rescore > 0) rescore(base_, queries, fetch, metric_, ids, scores);

    Neighbours out;
    out.queries = queries.rows;
    out.k = k;
    out.ids.assign(static_cast<size_t>(queries.rows * k), -1);
    out.scores.assign(out.ids.size(), -std::numeric_limits<float>::infinity());
    for (int64_t r = 0; r < queries.rows; ++r) {
        int64_t kept = 0;
        for (int64_t c = 0; c < fetch && kept < k; ++c) {
            const faiss_id id = ids[r * fetch + c];
            if (id < 0 || (exclude && id == (*exclude)[r])) continue;
            out.ids[r * k + kept] = id;
            out.scores[r * k + kept] = scores[r * fetch + c];
            ++kept;
        }
    }
    return out;
}

Neighbours search(const VectorView& base, const VectorView& queries, int64_t k,
                  SimilarityMetric metric, const IndexSpec& index,
                  const std::vector<int64_t>* exclude) {
    return NeighbourIndex(base, metric, index).search(queries, k, exclude);
}

}  // namespace embq
