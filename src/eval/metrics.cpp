#include "embq/metrics.hpp"

#include <algorithm>
#include <cmath>
#include <limits>
#include <memory>
#include <numeric>
#include <random>
#include <unordered_set>

#include "embq/error.hpp"

namespace embq {

namespace {

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
                                             const VectorView& base, const VectorView& queries,
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

Vectors gather_rows(const VectorView& v, const std::vector<int64_t>& rows) {
    Vectors out;
    out.dim = v.dim;
    out.rows = static_cast<int64_t>(rows.size());
    out.data.reserve(rows.size() * static_cast<size_t>(v.dim));
    for (const int64_t r : rows) {
        EMBQ_ASSERT(r >= 0 && r < v.rows);
        out.data.insert(out.data.end(), v.row(r), v.row(r) + v.dim);
    }
    return out;
}

std::vector<int64_t> nonfinite_rows(const VectorView& v) {
    std::vector<int64_t> rows;
    for (int64_t r = 0; r < v.rows; ++r) {
        const float* row = v.row(r);
        if (!std::all_of(row, row + v.dim, [](float x) { return std::isfinite(x); }))
            rows.push_back(r);
    }
    return rows;
}

std::vector<double> rowwise_cosines(const VectorView& a, const VectorView& b) {
    EMBQ_ASSERT(a.rows == b.rows && a.dim == b.dim);
    std::vector<double> cos(static_cast<size_t>(a.rows));
    for (int64_t r = 0; r < a.rows; ++r) {
        const float* x = a.row(r);
        const float* y = b.row(r);
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

CosineSummary rowwise_cosine(const VectorView& a, const VectorView& b) {
    return summarise_cosines(rowwise_cosines(a, b));
}

double spearman(const std::vector<double>& x, const std::vector<double>& y) {
    EMBQ_ASSERT(x.size() == y.size());
    if (x.size() < 2) return std::numeric_limits<double>::quiet_NaN();
    return pearson(average_ranks(x), average_ranks(y));
}

std::vector<double> pair_similarities(const VectorView& left, const std::vector<int64_t>& a,
                                      const VectorView& right, const std::vector<int64_t>& b,
                                      SimilarityMetric metric) {
    EMBQ_ASSERT(a.size() == b.size() && left.dim == right.dim);
    std::vector<double> out(a.size());
    for (size_t i = 0; i < a.size(); ++i) {
        const float* x = left.row(a[i]);
        const float* y = right.row(b[i]);
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
