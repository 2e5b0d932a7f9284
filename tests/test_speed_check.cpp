// The speed preflight: every rewritten layer timed once per scheme and shape against FP32,
// warnings that name the slow layers, and the flag on `embq plan`.
#include <gtest/gtest.h>

#include <cmath>

#include <nlohmann/json.hpp>

#include "embq/config.hpp"
#include "embq/layers.hpp"
#include "embq/model.hpp"
#include "embq/quantize.hpp"
#include "embq/speed_check.hpp"
#include "test_support.hpp"

namespace embq {
namespace {

const std::filesystem::path kConfigs = std::filesystem::path(EMBQ_SOURCE_DIR) / "configs";

Plan fixture_plan(const std::string& config) {
    LoadedModel loaded = load_model(test::fixture("bert_traced.pt"));
    PlanOptions options;
    options.allow_unmatched_rules = true;
    Plan plan = make_plan(load_config(kConfigs / config), take_inventory(loaded.module), options);
    resolve_engine(plan);
    return plan;
}

SpeedCheckOptions quick() {
    SpeedCheckOptions o;
    o.batch_sizes = {1, 4};
    o.tokens = 8;
    o.rounds = 1;
    o.calls = 2;
    return o;
}

TEST(SpeedCheck, EveryRewrittenLayerTimedOncePerSchemeAndShape) {
    const Plan plan = fixture_plan("int8-mixed.json");
    const SpeedCheck check = check_plan_speed(plan, quick());
    size_t rewritten = 0, grouped = 0;
    for (const auto& lp : plan.layers) rewritten += lp.scheme->rewrites() ? 1 : 0;
    for (const auto& g : check.groups) {
        grouped += g.layers.size();
        ASSERT_EQ(g.speedup.size(), 2u) << g.scheme;
        for (double s : g.speedup) EXPECT_TRUE(std::isfinite(s) && s > 0) << g.scheme;
        for (const auto& other : check.groups) {
            if (&other != &g) {
                EXPECT_FALSE(other.scheme == g.scheme && other.weight_shape == g.weight_shape);
            }
        }
    }
    EXPECT_EQ(grouped + check.not_timed.size(), rewritten);
    EXPECT_LT(check.groups.size(), rewritten);  // the fixture's layers share shapes
    const bool has_table = std::any_of(check.groups.begin(), check.groups.end(), [](const auto& g) {
        return g.kind == LayerKind::Embedding;
    });
    EXPECT_TRUE(has_table);
    test::expect_contains(format_speed_check(check), {"b1 x FP32", "b4 x FP32", "int8_dynamic"});
}

TEST(SpeedCheck, WarningsNameTheSlowLayersAndTheBatchSize) {
    SpeedCheck check;
    check.options.batch_sizes = {1, 32};
    check.groups.push_back({"int8_dynamic per_channel sym range:grid", LayerKind::Linear, {256, 256},
                            {"encoder.layer.0.query", "encoder.layer.1.query"}, {0.5, 2.0}});
    check.groups.push_back({"fp16", LayerKind::Linear, {256, 256}, {"pooler"}, {1.1, 1.2}});
    const auto warnings = speed_warnings(check);
    ASSERT_EQ(warnings.size(), 1u);
    test::expect_contains(warnings[0], {"at batch 1", "2 layers", "encoder.layer.0.query",
                                        "int8_dynamic", "256x256", "0.50x"});
}

TEST(SpeedCheckCli, PlanJsonCarriesTheSpeedCheck) {
    const auto r = test::run_embq({"plan", test::fixture("bert_traced.pt").string(),
                                   (kConfigs / "int8.json").string(), "--check-speed",
                                   "--speed-batch", "1,2", "--speed-tokens", "4", "--json"});
    ASSERT_EQ(r.exit_code, 0) << r.err;
    const auto plan = nlohmann::json::parse(r.out);
    const auto& speed = plan.at("speed_check");
    EXPECT_EQ(speed["batch_sizes"], nlohmann::json::array({1, 2}));
    ASSERT_FALSE(speed["groups"].empty());
    for (const auto& g : speed["groups"]) EXPECT_EQ(g["speedup_vs_fp32"].size(), 2u);
}

}  // namespace
}  // namespace embq
