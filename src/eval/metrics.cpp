#include "embq/metrics.hpp"

#include <algorithm>
#include <cmath>
#include <limits>
#include <memory>
#include <numeric>
#include <random>
#include <unordered_set>

#include <faiss/IndexBinaryFlat.h>
#include <faiss/IndexFlat.h>
#include <faiss/IndexHNSW.h>
#include <faiss/IndexIVFFlat.h>
#include <faiss/IndexPQ.h>
#include <faiss/IndexScalarQuantizer.h>
#include <spdlog/spdlog.h>

#include "embq/error.hpp"

namespace embq {

namespace {

using faiss_id = faiss::Index::idx_t;

void normalize_rows(Vectors& v) {
    for (int64_t r = 0; r < v.rows; ++r) {
        float* row = v.data.data() + r * v.dim;
        double norm = 0;
        for (int64_t c = 0; c < v.dim; ++c) norm += static_cast<double>(row[c]) * row[c];
        // A zero vector stays zero: it is equally far from everything, as it should be.
        const float scale = norm > 0 ? static_cast<float>(1.0 / std::sqrt(norm)) : 0.0f;
        for (int64_t c = 0; c < v.dim; ++c) row[c] *= scale;
    }
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

int64_t default_ivf_lists(int64_t rows) {
    // FAISS wants >= 39 training points per list; 4*sqrt(n) is its usual rule of thumb.
    const auto by_size = static_cast<int64_t>(4.0 * std::sqrt(static_cast<double>(rows)));
    return std::max<int64_t>(1, std::min(by_size, rows / 39));
}

std::unique_ptr<faiss::Index> build_index(const Vectors& base, SimilarityMetric metric,
                                          const IndexSpec& spec) {
    const auto dim = static_cast<int>(base.dim);
    std::unique_ptr<faiss::Index> index;
    switch (spec.kind) {
        case IndexSpec::Kind::Exact:
            index = std::make_unique<faiss::IndexFlat>(dim, faiss_metric(metric));
            break;
        case IndexSpec::Kind::Ivf: {
            const int64_t lists =
                spec.ivf_lists > 0 ? spec.ivf_lists : default_ivf_lists(base.rows);
            if (lists > base.rows)
                throw usage_error("--index ivf:" + std::to_string(lists) + " needs at least " +
                                  std::to_string(lists) + " corpus rows, the corpus has " +
                                  std::to_string(base.rows));
            auto coarse = std::make_unique<faiss::IndexFlat>(dim, faiss_metric(metric));
            auto ivf = std::make_unique<faiss::IndexIVFFlat>(coarse.release(), dim, lists,
                                                             faiss_metric(metric));
            ivf->own_fields = true;
            ivf->nprobe = static_cast<size_t>(std::min(spec.ivf_probes, lists));
            ivf->train(base.rows, base.data.data());
            index = std::move(ivf);
            break;
        }
        case IndexSpec::Kind::Hnsw: {
            auto hnsw = std::make_unique<faiss::IndexHNSWFlat>(
                dim, static_cast<int>(spec.hnsw_links), faiss_metric(metric));
            hnsw->hnsw.efSearch = static_cast<int>(spec.hnsw_ef_search);
            index = std::move(hnsw);
            break;
        }
        case IndexSpec::Kind::Sq8:
        case IndexSpec::Kind::Sq4: {
            const auto type = spec.kind == IndexSpec::Kind::Sq8 ? faiss::ScalarQuantizer::QT_8bit
                                                                : faiss::ScalarQuantizer::QT_4bit;
            index = std::make_unique<faiss::IndexScalarQuantizer>(dim, type, faiss_metric(metric));
            index->train(base.rows, base.data.data());
            break;
        }
        case IndexSpec::Kind::Pq: {
            const int64_t m = pq_subquantizers(spec, base.dim);
            // 8-bit codes: 256 centroids per sub-space, which k-means needs at least as
            // many rows for; FAISS asks 39 a centroid and would print its own warning.
            if (base.rows < 256)
                throw usage_error(
                    "--index pq needs at least 256 corpus rows to train its 256 "
                    "centroids per sub-space, the corpus has " +
                    std::to_string(base.rows) + "; use sq8 or sq4");
            if (base.rows < 256 * 39)
                spdlog::warn(
                    "--index pq trains on {} rows, fewer than the 9,984 its 256 "
                    "centroids want: its codes are coarser than a larger corpus's",
                    base.rows);
            auto pq = std::make_unique<faiss::IndexPQ>(dim, static_cast<size_t>(m), 8,
                                                       faiss_metric(metric));
            pq->pq.cp.min_points_per_centroid = 1;
            pq->train(base.rows, base.data.data());
            index = std::move(pq);
            break;
        }
        case IndexSpec::Kind::Binary:
            EMBQ_ASSERT(false && "sign bits have an index of their own, in index_search");
    }
    index->add(base.rows, base.data.data());
    return index;
}

// The sign bit of every dimension, packed 8 to a byte (the last byte zero-padded: the
// same zero bits on both sides add no Hamming distance).
std::vector<uint8_t> sign_bits(const Vectors& v) {
    const int64_t bytes = (v.dim + 7) / 8;
    std::vector<uint8_t> out(static_cast<size_t>(v.rows * bytes), 0);
    for (int64_t r = 0; r < v.rows; ++r)
        for (int64_t c = 0; c < v.dim; ++c)
            if (v.data[r * v.dim + c] > 0) out[r * bytes + c / 8] |= uint8_t(1u << (c % 8));
    return out;
}

// Ids and scores (larger is closer), `fetch` a query, from the index `spec` names.
void index_search(const Vectors& base, const Vectors& queries, int64_t fetch,
                  SimilarityMetric metric, const IndexSpec& spec, std::vector<faiss_id>& ids,
                  std::vector<float>& scores) {
    ids.assign(static_cast<size_t>(queries.rows * fetch), -1);
    scores.assign(ids.size(), -std::numeric_limits<float>::infinity());
    if (fetch == 0) return;
    if (spec.kind == IndexSpec::Kind::Binary) {
        faiss::IndexBinaryFlat index(static_cast<int>(8 * ((base.dim + 7) / 8)));
        index.add(base.rows, sign_bits(base).data());
        std::vector<int32_t> hamming(ids.size());
        index.search(queries.rows, sign_bits(queries).data(), fetch, hamming.data(), ids.data());
        for (size_t i = 0; i < ids.size(); ++i) scores[i] = -static_cast<float>(hamming[i]);
        return;
    }
    const auto index = build_index(base, metric, spec);
    index->search(queries.rows, queries.data.data(), fetch, scores.data(), ids.data());
    if (metric == SimilarityMetric::L2)
        for (float& d : scores) d = -d;
}

// Each query's candidates re-scored with the float vectors and re-ranked, best first.
void rescore(const Vectors& base, const Vectors& queries, int64_t fetch, SimilarityMetric metric,
             std::vector<faiss_id>& ids, std::vector<float>& scores) {
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

std::vector<double> average_ranks(const std::vector<double>& x) {
    std::vector<size_t> order(x.size());
    std::iota(order.begin(), order.end(), 0);
    std::stable_sort(order.begin(), order.end(), [&](size_t a, size_t b) { return x[a] < x[b]; });
    std::vector<double> ranks(x.size());
    for (size_t i = 0; i < order.size();) {
        size_t j = i;
        while (j + 1 < order.size() && x[order[j + 1]] == x[order[i]]) ++j;
        const double rank = 0.5 * static_cast<double>(i + j);  // average of ranks i..j
        for (size_t t = i; t <= j; ++t) ranks[order[t]] = rank;
        i = j + 1;
    }
    return ranks;
}

double pearson(const std::vector<double>& x, const std::vector<double>& y) {
    const auto n = static_cast<double>(x.size());
    const double mx = std::accumulate(x.begin(), x.end(), 0.0) / n;
    const double my = std::accumulate(y.begin(), y.end(), 0.0) / n;
    double sxy = 0, sxx = 0, syy = 0;
    for (size_t i = 0; i < x.size(); ++i) {
        sxy += (x[i] - mx) * (y[i] - my);
        sxx += (x[i] - mx) * (x[i] - mx);
        syy += (y[i] - my) * (y[i] - my);
    }
    if (sxx == 0 || syy == 0) return std::numeric_limits<double>::quiet_NaN();
    return sxy / std::sqrt(sxx * syy);
}

}  // namespace

double percentile_of_sorted(const std::vector<double>& sorted, double q) {
    if (sorted.empty()) return std::numeric_limits<double>::quiet_NaN();
    const double pos = q / 100.0 * static_cast<double>(sorted.size() - 1);
    const auto lo = static_cast<size_t>(std::floor(pos));
    const size_t hi = std::min(lo + 1, sorted.size() - 1);
    return sorted[lo] + (pos - static_cast<double>(lo)) * (sorted[hi] - sorted[lo]);
}

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

std::string IndexSpec::describe() const {
    std::string out;
    switch (kind) {
        case Kind::Exact: out = "exact"; break;
        case Kind::Ivf:
            out = "ivf:" + (ivf_lists > 0 ? std::to_string(ivf_lists) : std::string("auto")) +
                  " (nprobe " + std::to_string(ivf_probes) + ")";
            break;
        case Kind::Hnsw:
            out = "hnsw:" + std::to_string(hnsw_links) + " (efSearch " +
                  std::to_string(hnsw_ef_search) + ")";
            break;
        case Kind::Sq8: out = "sq8"; break;
        case Kind::Sq4: out = "sq4"; break;
        case Kind::Pq:
            out = "pq:" +
                  (pq_subquantizers > 0 ? std::to_string(pq_subquantizers) : std::string("dim/4"));
            break;
        case Kind::Binary: out = "binary"; break;
    }
    if (rescore > 0) out += ", rescored from " + std::to_string(rescore) + "x k";
    return out;
}

int64_t IndexSpec::code_bytes(int64_t dim) const {
    switch (kind) {
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

IndexSpec parse_index_spec(const std::string& text) {
    const auto colon = text.find(':');
    const std::string kind = text.substr(0, colon);
    IndexSpec spec;
    int64_t param = 0;
    if (colon != std::string::npos) {
        const std::string digits = text.substr(colon + 1);
        if (digits.empty() || digits.size() > 9 ||
            !std::all_of(digits.begin(), digits.end(),
                         [](char c) { return c >= '0' && c <= '9'; }) ||
            std::stoll(digits) == 0)
            throw usage_error("--index " + text + ": expected a positive number after ':'");
        param = std::stoll(digits);
    }
    const bool bare = colon == std::string::npos;
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
    throw usage_error("--index " + text +
                      ": expected exact, ivf[:LISTS], hnsw[:M], sq8, sq4, pq[:M] or binary");
}

Neighbours search(const Vectors& base, const Vectors& queries, int64_t k, SimilarityMetric metric,
                  const IndexSpec& spec, const std::vector<int64_t>* exclude) {
    EMBQ_ASSERT(base.dim == queries.dim && k > 0);
    EMBQ_ASSERT(!exclude || static_cast<int64_t>(exclude->size()) == queries.rows);
    const Vectors* b = &base;
    const Vectors* q = &queries;
    Vectors base_normalized, queries_normalized;
    if (metric == SimilarityMetric::Cosine) {
        base_normalized = base;
        queries_normalized = queries;
        normalize_rows(base_normalized);
        normalize_rows(queries_normalized);
        b = &base_normalized;
        q = &queries_normalized;
    }
    // One extra column so that dropping the query's own item still leaves k.
    const int64_t wanted = k + (exclude ? 1 : 0);
    const int64_t fetch = std::min<int64_t>(wanted * std::max<int64_t>(1, spec.rescore), base.rows);
    std::vector<faiss_id> ids;
    std::vector<float> scores;
    index_search(*b, *q, fetch, metric, spec, ids, scores);
    if (spec.rescore > 0) rescore(*b, *q, fetch, metric, ids, scores);

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

std::vector<double> recall_per_query(const Neighbours& truth, const Neighbours& found,
                                     int64_t k) {
    EMBQ_ASSERT(truth.queries == found.queries && k > 0 && k <= truth.k && k <= found.k);
    std::vector<double> out(static_cast<size_t>(truth.queries));
    std::unordered_set<int64_t> expected;
    for (int64_t q = 0; q < truth.queries; ++q) {
        expected.clear();
        for (int64_t c = 0; c < k; ++c)
            if (truth.row(q)[c] >= 0) expected.insert(truth.row(q)[c]);
        if (expected.empty()) {
            out[q] = 1.0;  // nothing to find (a base of one row): trivially agreed
            continue;
        }
        int64_t hits = 0;
        for (int64_t c = 0; c < k; ++c) hits += expected.count(found.row(q)[c]);
        out[q] = static_cast<double>(hits) / static_cast<double>(expected.size());
    }
    return out;
}

double recall_at_k(const Neighbours& truth, const Neighbours& found, int64_t k) {
    return mean_of(recall_per_query(truth, found, k));
}

namespace {

// The distance ann-benchmarks compares for each metric, from embq's similarity score.
double distance_of(double similarity, SimilarityMetric metric) {
    switch (metric) {
        case SimilarityMetric::Cosine: return 1.0 - similarity;
        case SimilarityMetric::L2: return std::sqrt(std::max(0.0, -similarity));
        case SimilarityMetric::InnerProduct: return -similarity;
    }
    return -similarity;
}

}  // namespace

std::vector<double> epsilon_recall_per_query(const Neighbours& truth, const Neighbours& found,
                                             const Vectors& base, const Vectors& queries,
                                             int64_t k, double epsilon, SimilarityMetric metric) {
    EMBQ_ASSERT(truth.queries == found.queries && k > 0 && k <= truth.k && k <= found.k);
    EMBQ_ASSERT(queries.rows == truth.queries && base.dim == queries.dim);
    std::vector<double> out(static_cast<size_t>(truth.queries));
    std::vector<int64_t> query_row, base_row;
    for (int64_t q = 0; q < truth.queries; ++q) {
        int64_t expected = 0, kth = -1;
        for (int64_t c = 0; c < k; ++c)
            if (truth.row(q)[c] >= 0) ++expected, kth = c;
        if (expected == 0) {
            out[q] = 1.0;
            continue;
        }
        // The FP32 score of each row the candidate found, in the FP32 space.
        query_row.clear();
        base_row.clear();
        for (int64_t c = 0; c < k; ++c)
            if (found.row(q)[c] >= 0) {
                query_row.push_back(q);
                base_row.push_back(found.row(q)[c]);
            }
        const std::vector<double> scores =
            pair_similarities(base, base_row, queries, query_row, metric);
        // The k-th score recomputed the same way, so float rounding in FAISS's search
        // never decides whether a true neighbour counts.
        const std::vector<double> kth_score = pair_similarities(
            base, {truth.row(q)[kth]}, queries, {q}, metric);
        const double limit = distance_of(kth_score[0], metric);
        const double tolerance = epsilon * std::abs(limit) + 1e-9;
        int64_t hits = 0;
        for (const double s : scores) hits += distance_of(s, metric) <= limit + tolerance;
        out[q] = static_cast<double>(std::min(hits, expected)) / static_cast<double>(expected);
    }
    return out;
}

double mean_of(const std::vector<double>& values) {
    if (values.empty()) return std::numeric_limits<double>::quiet_NaN();
    return std::accumulate(values.begin(), values.end(), 0.0) / static_cast<double>(values.size());
}

Interval bootstrap_interval(const std::vector<double>& values,
                            const std::function<double(std::vector<double>&)>& statistic,
                            uint64_t seed, int resamples, double level) {
    EMBQ_ASSERT(resamples > 0 && level > 0 && level < 1);
    if (values.empty()) {
        const double nan = std::numeric_limits<double>::quiet_NaN();
        return {nan, nan};
    }
    std::mt19937_64 rng(seed);
    std::vector<double> draw(values.size()), stats;
    stats.reserve(static_cast<size_t>(resamples));
    for (int r = 0; r < resamples; ++r) {
        for (auto& d : draw) d = values[rng() % values.size()];
        stats.push_back(statistic(draw));
    }
    std::sort(stats.begin(), stats.end());
    return {percentile_of_sorted(stats, 50.0 * (1.0 - level)),
            percentile_of_sorted(stats, 50.0 * (1.0 + level))};
}

std::vector<int64_t> sample_rows(int64_t rows, int64_t count, uint64_t seed) {
    std::vector<int64_t> all(static_cast<size_t>(std::max<int64_t>(rows, 0)));
    std::iota(all.begin(), all.end(), 0);
    if (count >= rows) return all;
    // Partial Fisher-Yates with the raw mt19937_64 stream: the engine's output is fixed by
    // the standard, unlike std::uniform_int_distribution's, so the sample is portable.
    std::mt19937_64 rng(seed);
    for (int64_t i = 0; i < count; ++i) {
        const auto j = i + static_cast<int64_t>(rng() % static_cast<uint64_t>(rows - i));
        std::swap(all[i], all[j]);
    }
    all.resize(static_cast<size_t>(count));
    std::sort(all.begin(), all.end());
    return all;
}

Vectors gather_rows(const Vectors& v, const std::vector<int64_t>& rows) {
    Vectors out;
    out.dim = v.dim;
    out.rows = static_cast<int64_t>(rows.size());
    out.data.reserve(rows.size() * static_cast<size_t>(v.dim));
    for (const int64_t r : rows) {
        EMBQ_ASSERT(r >= 0 && r < v.rows);
        out.data.insert(out.data.end(), v.data.begin() + r * v.dim,
                        v.data.begin() + (r + 1) * v.dim);
    }
    return out;
}

std::vector<int64_t> nonfinite_rows(const Vectors& v) {
    std::vector<int64_t> rows;
    for (int64_t r = 0; r < v.rows; ++r) {
        const float* row = v.data.data() + r * v.dim;
        if (!std::all_of(row, row + v.dim, [](float x) { return std::isfinite(x); }))
            rows.push_back(r);
    }
    return rows;
}

void zero_rows(Vectors& v, const std::vector<int64_t>& rows) {
    for (const int64_t r : rows) std::fill_n(v.data.begin() + r * v.dim, v.dim, 0.0f);
}

std::vector<double> rowwise_cosines(const Vectors& a, const Vectors& b) {
    EMBQ_ASSERT(a.rows == b.rows && a.dim == b.dim);
    std::vector<double> cos(static_cast<size_t>(a.rows));
    for (int64_t r = 0; r < a.rows; ++r) {
        const float* x = a.data.data() + r * a.dim;
        const float* y = b.data.data() + r * b.dim;
        double xy = 0, xx = 0, yy = 0;
        for (int64_t c = 0; c < a.dim; ++c) {
            xy += static_cast<double>(x[c]) * y[c];
            xx += static_cast<double>(x[c]) * x[c];
            yy += static_cast<double>(y[c]) * y[c];
        }
        // Two zero vectors agree perfectly; one zero vector against a real one does not.
        cos[r] = xx == 0 && yy == 0 ? 1.0 : (xx == 0 || yy == 0) ? 0.0 : xy / std::sqrt(xx * yy);
    }
    return cos;
}

CosineSummary summarise_cosines(std::vector<double> cos) {
    std::sort(cos.begin(), cos.end());
    CosineSummary s;
    if (cos.empty()) return s;
    s.mean = std::accumulate(cos.begin(), cos.end(), 0.0) / static_cast<double>(cos.size());
    s.min = cos.front();
    s.p1 = percentile_of_sorted(cos, 1);
    s.p5 = percentile_of_sorted(cos, 5);
    s.p50 = percentile_of_sorted(cos, 50);
    return s;
}

CosineSummary rowwise_cosine(const Vectors& a, const Vectors& b) {
    return summarise_cosines(rowwise_cosines(a, b));
}

double spearman(const std::vector<double>& x, const std::vector<double>& y) {
    EMBQ_ASSERT(x.size() == y.size());
    if (x.size() < 2) return std::numeric_limits<double>::quiet_NaN();
    return pearson(average_ranks(x), average_ranks(y));
}

std::vector<double> pair_similarities(const Vectors& left, const std::vector<int64_t>& a,
                                      const Vectors& right, const std::vector<int64_t>& b,
                                      SimilarityMetric metric) {
    EMBQ_ASSERT(a.size() == b.size() && left.dim == right.dim);
    std::vector<double> out(a.size());
    for (size_t i = 0; i < a.size(); ++i) {
        const float* x = left.data.data() + a[i] * left.dim;
        const float* y = right.data.data() + b[i] * right.dim;
        double xy = 0, xx = 0, yy = 0, d2 = 0;
        for (int64_t c = 0; c < left.dim; ++c) {
            xy += static_cast<double>(x[c]) * y[c];
            xx += static_cast<double>(x[c]) * x[c];
            yy += static_cast<double>(y[c]) * y[c];
            d2 += (static_cast<double>(x[c]) - y[c]) * (static_cast<double>(x[c]) - y[c]);
        }
        switch (metric) {
            case SimilarityMetric::Cosine:
                out[i] = xx > 0 && yy > 0 ? xy / std::sqrt(xx * yy) : 0.0;
                break;
            case SimilarityMetric::InnerProduct: out[i] = xy; break;
            case SimilarityMetric::L2: out[i] = -d2; break;
        }
    }
    return out;
}

RetrievalScores score_retrieval(const Neighbours& found, const std::vector<int64_t>& positive,
                                const std::vector<int64_t>& ks) {
    EMBQ_ASSERT(static_cast<int64_t>(positive.size()) == found.queries);
    RetrievalScores s;
    if (found.queries == 0) return s;
    std::vector<int64_t> rank(positive.size(), 0);  // 1-based; 0 = not within found.k
    for (int64_t q = 0; q < found.queries; ++q)
        for (int64_t c = 0; c < found.k; ++c)
            if (found.row(q)[c] == positive[q]) {
                rank[q] = c + 1;
                break;
            }
    const auto n = static_cast<double>(found.queries);
    for (const int64_t k : ks) {
        EMBQ_ASSERT(k <= found.k);
        const auto hits =
            std::count_if(rank.begin(), rank.end(), [k](int64_t r) { return r > 0 && r <= k; });
        s.hit_at.emplace_back(k, static_cast<double>(hits) / n);
    }
    double mrr = 0;
    for (const int64_t r : rank)
        if (r > 0 && r <= 10) mrr += 1.0 / static_cast<double>(r);
    s.mrr_at_10 = mrr / n;
    return s;
}

}  // namespace embq
