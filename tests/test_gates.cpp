// Gates and metric names: parsing, suggestions for typos, verdicts at the boundary, and
// a gate on a missing or NaN metric never passing.
#include <gtest/gtest.h>

#include <cmath>

#include "embq/error.hpp"
#include "embq/gates.hpp"
#include "test_support.hpp"

namespace embq {
namespace {

TEST(MetricNames, KFamiliesAndFixedNamesResolve) {
    EXPECT_EQ(resolve_metric("recall@10").info->pattern, "recall@K");
    EXPECT_EQ(resolve_metric("recall@10").k, 10);
    EXPECT_EQ(resolve_metric("cross_recall@100").k, 100);
    EXPECT_EQ(resolve_metric("hit@1_delta").info->pattern, "hit@K_delta");
    EXPECT_EQ(resolve_metric("mrr@10_delta").info->pattern, "mrr@10_delta");
    EXPECT_EQ(resolve_metric("mrr@10_delta").k, 0);
    EXPECT_EQ(resolve_metric("cosine.p5").info->needs, MetricNeeds::Nothing);
    EXPECT_EQ(resolve_metric("size_ratio").info->needs, MetricNeeds::Models);
}

TEST(MetricNames, UnknownNamesAreUsageErrorsWithASuggestion) {
    const std::vector<std::pair<std::string, std::string>> cases = {
        {"recal@10", "did you mean 'recall@10'"},
        {"cosine.mea", "did you mean 'cosine.mean'"},
        {"recall@0", "unknown metric 'recall@0'"},
        {"mrr@5_delta", "unknown metric"},
        {"accuracy", "--list-metrics"},
    };
    for (const auto& [name, needle] : cases) {
        try {
            resolve_metric(name);
            ADD_FAILURE() << "accepted " << name;
        } catch (const Error& e) {
            EXPECT_EQ(e.category(), ErrorCategory::Usage);
            test::expect_contains(e.what(), {needle});
        }
    }
}

TEST(Gates, ParseOperatorsNumbersAndSpaces) {
    const Gate a = parse_gate("recall@10>=0.98");
    EXPECT_EQ(a.metric, "recall@10");
    EXPECT_EQ(a.op, Gate::Op::GreaterEqual);
    EXPECT_DOUBLE_EQ(a.threshold, 0.98);
    const Gate b = parse_gate(" size_ratio <= 0.35 ");
    EXPECT_EQ(b.metric, "size_ratio");
    EXPECT_EQ(b.op, Gate::Op::LessEqual);
    EXPECT_EQ(parse_gate("hit@1_delta>-0.01").op, Gate::Op::Greater);
    EXPECT_DOUBLE_EQ(parse_gate("hit@1_delta>-0.01").threshold, -0.01);
    EXPECT_EQ(parse_gate("cosine.min<1e-3").op, Gate::Op::Less);
}

TEST(Gates, MalformedGatesSayWhatAGateLooksLike) {
    for (const std::string bad :
         {"recall@10", "recall@10=0.9", "recall@10==0.9", ">=0.9", "recall@10>=", "recall@10>=abc",
          "recall@10>=0.9x", "recall@10>=nan"}) {
        try {
            parse_gate(bad);
            ADD_FAILURE() << "accepted " << bad;
        } catch (const Error& e) {
            EXPECT_EQ(e.category(), ErrorCategory::Usage) << bad;
            test::expect_contains(e.what(), {"'" + bad + "'", "recall@10>=0.98"});
        }
    }
}

TEST(Gates, VerdictsAtTheBoundaryAndForMissingOrNaNValues) {
    MetricValues values;
    values.set("recall@10", 0.98);
    values.set("size_ratio", 0.40);
    values.set("similarity_spearman", std::nan(""));
    const std::vector<Gate> gates = {
        parse_gate("recall@10>=0.98"), parse_gate("recall@10>0.98"), parse_gate("size_ratio<=0.35"),
        parse_gate("similarity_spearman>=0"), parse_gate("cross_recall@10>=0")};
    const auto v = check_gates(gates, values);
    ASSERT_EQ(v.size(), 5u);
    EXPECT_TRUE(v[0].passed);
    EXPECT_FALSE(v[1].passed);
    EXPECT_FALSE(v[2].passed);
    EXPECT_FALSE(v[3].passed);  // NaN never passes
    EXPECT_FALSE(v[4].passed);  // not computed never passes
    EXPECT_FALSE(v[4].value.has_value());
    test::expect_contains(v[2].explain(), {"size_ratio = 0.4000", "<= 0.35", "FAIL"});
    test::expect_contains(v[4].explain(), {"missing", "FAIL"});
}

TEST(Gates, MetricValuesKeepReportOrderAndOverwrite) {
    MetricValues values;
    values.set("b", 1);
    values.set("a", 2);
    values.set("b", 3);
    ASSERT_EQ(values.all().size(), 2u);
    EXPECT_EQ(values.all()[0].first, "b");
    EXPECT_EQ(*values.get("b"), 3);
    EXPECT_FALSE(values.get("c"));
}

}  // namespace
}  // namespace embq
