// Agreement metrics on vectors whose answers are known: exact search with self-exclusion,
// recall@k, cosine percentiles, Spearman, labelled retrieval, approximate and compressed
// indexes, and the degradation that controlled noise must produce.
#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <functional>
#include <numeric>
#include <random>
#include <set>

#include "embq/error.hpp"
#include "embq/metrics.hpp"

namespace embq {
namespace {

Vectors matrix(int64_t dim, std::vector<float> data) {
    Vectors v;
    v.dim = dim;
    v.rows = static_cast<int64_t>(data.size()) / dim;
    v.data = std::move(data);
    return v;
}

// Points 0, 1, 2, ... on a line: each one's nearest neighbours are its index neighbours.
Vectors line(int64_t n) {
    std::vector<float> data;
    for (int64_t i = 0; i < n; ++i) data.insert(data.end(), {static_cast<float>(i), 0.0f});
    return matrix(2, data);
}

Vectors gaussian(int64_t rows, int64_t dim, uint64_t seed, float sigma = 1.0f) {
    std::mt19937_64 rng(seed);
    std::normal_distribution<float> normal(0.0f, sigma);
    Vectors v;
    v.rows = rows;
    v.dim = dim;
    v.data.resize(static_cast<size_t>(rows * dim));
    for (auto& x : v.data) x = normal(rng);
    return v;
}

Vectors plus(const Vectors& a, const Vectors& b) {
    Vectors out = a;
    for (size_t i = 0; i < out.data.size(); ++i) out.data[i] += b.data[i];
    return out;
}

Neighbours neighbours(int64_t k, std::vector<int64_t> ids) {
    Neighbours n;
    n.k = k;
    n.queries = static_cast<int64_t>(ids.size()) / k;
    n.ids = std::move(ids);
    n.scores.assign(n.ids.size(), 0.0f);
    return n;
}

TEST(Search, ExactL2FindsIndexNeighboursAndSkipsTheQueryItself) {
    const Vectors base = line(10);
    const std::vector<int64_t> rows = {0, 5, 9};
    const Vectors queries = gather_rows(base, rows);
    const Neighbours n = search(base, queries, 2, SimilarityMetric::L2, {}, &rows);
    ASSERT_EQ(n.queries, 3);
    EXPECT_EQ(std::vector<int64_t>(n.row(0), n.row(0) + 2), (std::vector<int64_t>{1, 2}));
    const std::vector<int64_t> middle(n.row(1), n.row(1) + 2);
    EXPECT_TRUE((middle == std::vector<int64_t>{4, 6}) || (middle == std::vector<int64_t>{6, 4}));
    EXPECT_EQ(std::vector<int64_t>(n.row(2), n.row(2) + 2), (std::vector<int64_t>{8, 7}));
    EXPECT_FLOAT_EQ(n.scores[0], -1.0f);  // L2 similarity is the negated squared distance
}

TEST(Search, CosineIgnoresLengthInnerProductDoesNot) {
    // Row 1 points the same way as the query but is long; row 0 is short and 45 degrees off.
    const Vectors base = matrix(2, {1, 1, 10, 0});
    const Vectors query = matrix(2, {1, 0});
    EXPECT_EQ(search(base, query, 1, SimilarityMetric::Cosine).ids[0], 1);
    EXPECT_EQ(search(base, query, 1, SimilarityMetric::InnerProduct).ids[0], 1);
    const Vectors short_base = matrix(2, {0.9f, 0.1f, 0.1f, 0});
    EXPECT_EQ(search(short_base, query, 1, SimilarityMetric::Cosine).ids[0], 1);
    EXPECT_EQ(search(short_base, query, 1, SimilarityMetric::InnerProduct).ids[0], 0);
}

TEST(Search, FewerRowsThanKLeaveMinusOne) {
    const Vectors base = line(3);
    const Neighbours n = search(base, gather_rows(base, {0}), 5, SimilarityMetric::L2);
    EXPECT_EQ(n.ids, (std::vector<int64_t>{0, 1, 2, -1, -1}));
}

TEST(Recall, CountsTheOverlapOfTopK) {
    const Neighbours truth = neighbours(3, {1, 2, 3, /**/ 0, 2, 3});
    const Neighbours found = neighbours(3, {3, 1, 9, /**/ 7, 8, 0});
    EXPECT_DOUBLE_EQ(recall_at_k(truth, found, 3), (2.0 / 3 + 1.0 / 3) / 2);
    EXPECT_DOUBLE_EQ(recall_at_k(truth, found, 1), 0.0);  // top-1: {1} vs {3}, {0} vs {7}
    EXPECT_DOUBLE_EQ(recall_at_k(truth, truth, 3), 1.0);
}

TEST(Recall, IdenticalSpacesAgreeCompletely) {
    const Vectors v = gaussian(500, 16, 1);
    const auto rows = sample_rows(v.rows, 100, 7);
    const Vectors q = gather_rows(v, rows);
    const Neighbours a = search(v, q, 10, SimilarityMetric::Cosine, {}, &rows);
    const Neighbours b = search(v, q, 10, SimilarityMetric::Cosine, {}, &rows);
    EXPECT_DOUBLE_EQ(recall_at_k(a, b, 10), 1.0);
    const CosineSummary c = rowwise_cosine(v, v);
    EXPECT_NEAR(c.min, 1.0, 1e-9);
    EXPECT_NEAR(c.mean, 1.0, 1e-9);
}

TEST(Recall, ControlledNoiseDegradesAsExpected) {
    // Candidate = baseline + N(0, sigma^2) noise per coordinate. For N(0, 1) baselines the
    // cosine concentrates at 1/sqrt(1 + sigma^2), and recall falls as sigma grows.
    const Vectors base = gaussian(2000, 64, 11);
    const auto rows = sample_rows(base.rows, 200, 3);
    const Neighbours truth =
        search(base, gather_rows(base, rows), 10, SimilarityMetric::Cosine, {}, &rows);
    double previous = 1.01;
    for (const float sigma : {0.0f, 0.1f, 0.3f, 1.0f}) {
        const Vectors cand = plus(base, gaussian(base.rows, base.dim, 99, sigma));
        const double expected_cos = 1.0 / std::sqrt(1.0 + sigma * sigma);
        EXPECT_NEAR(rowwise_cosine(base, cand).mean, expected_cos, 0.01) << "sigma " << sigma;
        const Neighbours found =
            search(cand, gather_rows(cand, rows), 10, SimilarityMetric::Cosine, {}, &rows);
        const double recall = recall_at_k(truth, found, 10);
        EXPECT_LT(recall, previous) << "sigma " << sigma;
        previous = recall;
        if (sigma == 0.0f) {
            EXPECT_DOUBLE_EQ(recall, 1.0);
        }
    }
    EXPECT_LT(previous, 0.5);  // sigma 1 halves the signal: neighbours mostly lost
}

TEST(Cosine, PercentilesInterpolateLikeNumPy) {
    // Row i of b is at angle theta_i to row i of a, so cosines are known exactly.
    std::vector<float> a, b;
    const std::vector<double> cosines = {1.0, 0.9, 0.8, 0.5, 0.0};
    for (const double c : cosines) {
        a.insert(a.end(), {1, 0});
        b.insert(b.end(), {static_cast<float>(c), static_cast<float>(std::sqrt(1 - c * c))});
    }
    const CosineSummary s = rowwise_cosine(matrix(2, a), matrix(2, b));
    EXPECT_NEAR(s.min, 0.0, 1e-6);
    EXPECT_NEAR(s.mean, 0.64, 1e-6);
    EXPECT_NEAR(s.p50, 0.8, 1e-6);
    EXPECT_NEAR(s.p5, 0.0 + 0.2 * 0.5, 1e-6);  // position 0.05 * 4 = 0.2 between 0.0 and 0.5
    EXPECT_NEAR(s.p1, 0.04 * 0.5, 1e-6);
}

TEST(Spearman, AverageRanksForTies) {
    // Ranks x: 1..5; y = (5, 6, 7, 8, 7) ranks (1, 2, 3.5, 5, 3.5): r = 8 / sqrt(10 * 9.5).
    EXPECT_NEAR(spearman({1, 2, 3, 4, 5}, {5, 6, 7, 8, 7}), 8.0 / std::sqrt(95.0), 1e-12);
    EXPECT_NEAR(spearman({1, 2, 3}, {30, 20, 10}), -1.0, 1e-12);
    EXPECT_TRUE(std::isnan(spearman({1, 2, 3}, {4, 4, 4})));  // constant: undefined, not 0
}

TEST(Retrieval, HitAtKAndMrrFromRanks) {
    // Positives 0, 1, 2, 3 found at ranks 1, 3, never, 2.
    const Neighbours found = neighbours(3, {0, 5, 6, /**/ 4, 5, 1, /**/ 7, 8, 9, /**/ 9, 3, 8});
    const RetrievalScores s = score_retrieval(found, {0, 1, 2, 3}, {1, 3});
    ASSERT_EQ(s.hit_at.size(), 2u);
    EXPECT_DOUBLE_EQ(s.hit_at[0].second, 0.25);
    EXPECT_DOUBLE_EQ(s.hit_at[1].second, 0.75);
    EXPECT_DOUBLE_EQ(s.mrr_at_10, (1.0 + 1.0 / 3 + 0 + 0.5) / 4);
}

TEST(Sampling, DeterministicDistinctSorted) {
    const auto a = sample_rows(1000, 50, 42);
    EXPECT_EQ(a, sample_rows(1000, 50, 42));
    EXPECT_NE(a, sample_rows(1000, 50, 43));
    ASSERT_EQ(a.size(), 50u);
    for (size_t i = 1; i < a.size(); ++i) EXPECT_LT(a[i - 1], a[i]);
    EXPECT_EQ(sample_rows(5, 10, 0), (std::vector<int64_t>{0, 1, 2, 3, 4}));
}

// Clustered data, as embeddings are: 20 centres, points scattered around them.
Vectors clustered(int64_t rows, int64_t dim) {
    const Vectors centres = gaussian(20, dim, 5, 3.0f);
    Vectors base;
    base.dim = dim;
    std::mt19937_64 rng(8);
    std::normal_distribution<float> noise(0.0f, 1.0f);
    for (int64_t i = 0; i < rows; ++i) {
        const int64_t c = i % 20;
        for (int64_t d = 0; d < dim; ++d)
            base.data.push_back(centres.data[c * dim + d] + noise(rng));
        ++base.rows;
    }
    return base;
}

TEST(ApproximateIndex, IvfAndHnswKeepMostOfExactRecall) {
    const Vectors base = clustered(4000, 32);
    const auto rows = sample_rows(base.rows, 200, 1);
    const Vectors q = gather_rows(base, rows);
    const Neighbours exact = search(base, q, 10, SimilarityMetric::Cosine, {}, &rows);
    for (const std::string spec : {"ivf", "hnsw"}) {
        const Neighbours approx =
            search(base, q, 10, SimilarityMetric::Cosine, parse_index_spec(spec), &rows);
        EXPECT_GT(recall_at_k(exact, approx, 10), 0.8) << spec;
    }
}

// The compressed indexes lose recall in the order of their bits a dimension, and
// re-ranking their candidates with the float vectors wins most of it back.
TEST(CompressedIndex, RecallFollowsTheBitsAndRescoringRecoversIt) {
    const Vectors base = clustered(3000, 64);
    const auto rows = sample_rows(base.rows, 200, 1);
    const Vectors q = gather_rows(base, rows);
    const Neighbours exact = search(base, q, 10, SimilarityMetric::Cosine, {}, &rows);
    const auto recall = [&](const std::string& text, int64_t rescore = 0) {
        IndexSpec spec = parse_index_spec(text);
        spec.rescore = rescore;
        return recall_at_k(exact, search(base, q, 10, SimilarityMetric::Cosine, spec, &rows), 10);
    };
    const double sq8 = recall("sq8"), sq4 = recall("sq4"), pq = recall("pq:16"),
                 binary = recall("binary");
    EXPECT_GT(sq8, 0.9);
    EXPECT_GT(sq8, sq4);
    EXPECT_GT(sq4, binary);
    EXPECT_GT(pq, binary);
    EXPECT_LT(binary, 0.9);  // 64 bits a vector: far from exact alone
    const double rescored = recall("binary", 8);
    EXPECT_GT(rescored, binary + 0.1);
    EXPECT_GE(recall("sq8", 4), sq8);
    // The float vectors decide the final order, so a rescored query's own item (excluded)
    // never comes back and every id is distinct.
    IndexSpec spec = parse_index_spec("binary");
    spec.rescore = 4;
    const Neighbours n = search(base, q, 10, SimilarityMetric::Cosine, spec, &rows);
    for (int64_t r = 0; r < n.queries; ++r) {
        std::set<int64_t> seen(n.row(r), n.row(r) + 10);
        EXPECT_EQ(seen.size(), 10u);
        EXPECT_EQ(seen.count(rows[r]), 0u);
        for (int64_t c = 1; c < 10; ++c) EXPECT_GE(n.scores[r * 10 + c - 1], n.scores[r * 10 + c]);
    }
}

// Exact search scans the base a block at a time (so a mapped corpus is never copied)
// and merges the blocks' candidates: what it returns are the true top k of every query,
// by a plain scan, for each metric, with rows from every block.
TEST(ExactSearch, BlocksMergeToTheTrueTopK) {
    const Vectors base = gaussian(40000, 8, 21);  // more than two blocks of 16,384 rows
    const Vectors q = gaussian(30, 8, 22);
    const int64_t k = 20;
    bool saw_last_block = false;
    for (const auto metric :
         {SimilarityMetric::Cosine, SimilarityMetric::InnerProduct, SimilarityMetric::L2}) {
        const Neighbours n = search(base, q, k, metric);
        std::vector<int64_t> all(static_cast<size_t>(base.rows));
        std::iota(all.begin(), all.end(), 0);
        for (int64_t r = 0; r < q.rows; ++r) {
            const std::vector<double> scores =
                pair_similarities(q, std::vector<int64_t>(all.size(), r), base, all, metric);
            std::vector<double> sorted = scores;
            std::nth_element(sorted.begin(), sorted.begin() + (k - 1), sorted.end(),
                             std::greater<>());
            const double kth = sorted[k - 1];
            std::set<int64_t> seen;
            for (int64_t c = 0; c < k; ++c) {
                const int64_t id = n.row(r)[c];
                ASSERT_GE(id, 0);
                seen.insert(id);
                saw_last_block |= id >= 2 * 16384;
                EXPECT_GE(scores[id], kth - 1e-4) << to_string(metric) << " query " << r;
                if (c > 0) EXPECT_GE(n.scores[r * k + c - 1], n.scores[r * k + c]);
            }
            EXPECT_EQ(seen.size(), static_cast<size_t>(k));
        }
    }
    EXPECT_TRUE(saw_last_block);
}

// IVF lists of codes: FAISS's "IVF64,SQ8" is the index a large corpus is served from.
TEST(CompressedIndex, IvfListsOfCodes) {
    EXPECT_EQ(parse_index_spec("ivf:64,sq8").ivf_codes, IndexSpec::Kind::Sq8);
    EXPECT_EQ(parse_index_spec("ivf:64,sq8").describe(), "ivf:64,sq8 (nprobe 16)");
    EXPECT_EQ(parse_index_spec("ivf,sq4").code_bytes(384), 192);
    EXPECT_EQ(parse_index_spec("ivf:64,sq8").code_bytes(384), 384);
    EXPECT_EQ(parse_index_spec("ivf,pq:16").code_bytes(384), 16);
    EXPECT_EQ(parse_index_spec("ivf").code_bytes(384), 1536);
    for (const std::string bad :
         {"ivf,sq16", "sq8,ivf", "ivf:64,", "hnsw,sq8", "ivf,sq8:2", "ivf,pq:0", "exact,sq8"}) {
        try {
            parse_index_spec(bad);
            ADD_FAILURE() << "accepted " << bad;
        } catch (const Error& e) {
            EXPECT_EQ(e.category(), ErrorCategory::Usage) << bad;
        }
    }
    const Vectors base = clustered(4000, 32);
    const auto rows = sample_rows(base.rows, 200, 3);
    const Vectors q = gather_rows(base, rows);
    const Neighbours exact = search(base, q, 10, SimilarityMetric::Cosine, {}, &rows);
    IndexSpec spec = parse_index_spec("ivf:32,sq8");
    const NeighbourIndex index(base, SimilarityMetric::Cosine, spec);
    const Neighbours once = index.search(q, 10, &rows);
    const double alone = recall_at_k(exact, once, 10);
    EXPECT_GT(alone, 0.8);
    // An index built once answers again the same (eval searches the baseline's index
    // with both models' queries), and as a fresh index of the same rows would.
    EXPECT_EQ(index.search(q, 10, &rows).ids, once.ids);
    EXPECT_EQ(search(base, q, 10, SimilarityMetric::Cosine, spec, &rows).ids, once.ids);
    spec.rescore = 4;
    EXPECT_GE(recall_at_k(exact, search(base, q, 10, SimilarityMetric::Cosine, spec, &rows), 10),
              alone);
}

TEST(CompressedIndex, CodeBytesAndWhatCannotBeTrained) {
    EXPECT_EQ(parse_index_spec("exact").code_bytes(384), 1536);
    EXPECT_EQ(parse_index_spec("sq8").code_bytes(384), 384);
    EXPECT_EQ(parse_index_spec("sq4").code_bytes(384), 192);
    EXPECT_EQ(parse_index_spec("pq").code_bytes(384), 96);
    EXPECT_EQ(parse_index_spec("pq:48").code_bytes(384), 48);
    EXPECT_EQ(parse_index_spec("binary").code_bytes(384), 48);
    EXPECT_EQ(parse_index_spec("binary").code_bytes(30), 4);  // padded to whole bytes
    // Dimensions that are not a multiple of 8 still search: the padding bits agree.
    const Vectors odd = clustered(300, 30);
    EXPECT_EQ(search(odd, odd, 3, SimilarityMetric::Cosine, parse_index_spec("binary")).k, 3);

    const Vectors small = clustered(100, 32);
    for (const auto& [text, message] : std::vector<std::pair<std::string, std::string>>{
             {"pq", "at least 256 corpus rows"}, {"pq:5", "must divide the dimension 32"}}) {
        try {
            search(text == "pq" ? small : clustered(300, 32), small, 5, SimilarityMetric::Cosine,
                   parse_index_spec(text));
            ADD_FAILURE() << "accepted " << text;
        } catch (const Error& e) {
            EXPECT_EQ(e.category(), ErrorCategory::Usage) << text;
            EXPECT_NE(std::string(e.what()).find(message), std::string::npos) << e.what();
        }
    }
}

TEST(ApproximateIndex, SpecsParseAndMistakesAreUsageErrors) {
    EXPECT_EQ(parse_index_spec("exact").kind, IndexSpec::Kind::Exact);
    EXPECT_EQ(parse_index_spec("ivf:64").ivf_lists, 64);
    EXPECT_EQ(parse_index_spec("hnsw:16").hnsw_links, 16);
    EXPECT_EQ(parse_index_spec("sq4").kind, IndexSpec::Kind::Sq4);
    EXPECT_EQ(parse_index_spec("pq:8").pq_subquantizers, 8);
    EXPECT_EQ(parse_index_spec("binary").kind, IndexSpec::Kind::Binary);
    for (const std::string bad :
         {"flat", "ivf:", "ivf:0", "hnsw:x", "exact:3", "ivf:-2", "sq8:2", "binary:1", "sq16"}) {
        try {
            parse_index_spec(bad);
            ADD_FAILURE() << "accepted " << bad;
        } catch (const Error& e) {
            EXPECT_EQ(e.category(), ErrorCategory::Usage) << bad;
        }
    }
}

// eps_recall and bootstrap intervals: the figures sensitivity and tune rank by.
TEST(Recall, EpsilonForgivesNearTiesButNotRealMisses) {
    // One query along x; base rows 0 and 1 are at almost the same FP32 angle from it, row 2
    // is far. FP32's top-1 is row 0.
    const Vectors base = matrix(2, {1.0f, 0.100f, 1.0f, 0.1001f, 0.0f, 1.0f});
    const Vectors query = matrix(2, {1.0f, 0.0f});
    const Neighbours truth = search(base, query, 1, SimilarityMetric::Cosine);
    ASSERT_EQ(truth.row(0)[0], 0);
    Neighbours near_tie = truth, far = truth;
    near_tie.ids = {1};
    far.ids = {2};
    EXPECT_EQ(recall_at_k(truth, near_tie, 1), 0.0);  // the strict metric calls it lost
    for (const auto metric : {SimilarityMetric::Cosine, SimilarityMetric::L2}) {
        const Neighbours t = search(base, query, 1, metric);
        EXPECT_EQ(epsilon_recall_per_query(t, near_tie, base, query, 1, 0.01, metric)[0], 1.0);
        EXPECT_EQ(epsilon_recall_per_query(t, far, base, query, 1, 0.01, metric)[0], 0.0);
        EXPECT_EQ(epsilon_recall_per_query(t, t, base, query, 1, 0.0, metric)[0], 1.0);
    }
    // No tolerance: the near tie is a miss again.
    EXPECT_EQ(epsilon_recall_per_query(truth, near_tie, base, query, 1, 0.0,
                                       SimilarityMetric::Cosine)[0],
              0.0);
}

TEST(Recall, BootstrapIntervalHoldsTheMeanAndNarrowsWithMoreItems) {
    auto mean = [](std::vector<double>& v) { return mean_of(v); };
    std::vector<double> few, many;
    for (int i = 0; i < 40; ++i) few.push_back(i % 4 == 0 ? 0.0 : 1.0);
    for (int i = 0; i < 4000; ++i) many.push_back(i % 4 == 0 ? 0.0 : 1.0);
    const Interval a = bootstrap_interval(few, mean, 7), b = bootstrap_interval(many, mean, 7);
    EXPECT_LT(a.low, 0.75);
    EXPECT_GT(a.high, 0.75);
    EXPECT_LT(b.low, 0.75);
    EXPECT_GT(b.high, 0.75);
    EXPECT_LT(b.high - b.low, (a.high - a.low) / 4);  // ~1/sqrt(100) as wide
    const Interval again = bootstrap_interval(few, mean, 7);
    EXPECT_EQ(again.low, a.low);  // the same seed, the same interval
    EXPECT_EQ(again.high, a.high);
}

}  // namespace
}  // namespace embq
