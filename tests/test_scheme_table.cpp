// The scheme table drives what it claims: `embq schemes`, the JSON Schema's scheme enum,
// and every message that lists schemes.
#include <gtest/gtest.h>

#include <algorithm>
#include <fstream>

#include <nlohmann/json.hpp>

#include "embq/config.hpp"
#include "embq/error.hpp"
#include "embq/layers.hpp"
#include "embq/plan.hpp"
#include "embq/scheme.hpp"
#include "test_support.hpp"

namespace embq {
namespace {

std::vector<std::string> sorted(std::vector<std::string> v) {
    std::sort(v.begin(), v.end());
    return v;
}

TEST(SchemeTable, JsonSchemaEnumListsEveryRegisteredScheme) {
    std::ifstream in(std::string(EMBQ_SOURCE_DIR) + "/configs/embq-config.schema.json");
    const auto schema = nlohmann::json::parse(in);
    const auto listed = schema.at("$defs").at("scheme").at("enum").get<std::vector<std::string>>();
    EXPECT_EQ(sorted(listed), sorted(scheme_names()))
        << "configs/embq-config.schema.json and src/schemes/registry.cpp disagree";
}

TEST(SchemeTable, EveryRowHasAUniqueNameASummaryAndAKind) {
    std::vector<std::string> names = scheme_names();
    EXPECT_EQ(std::unique(names.begin(), names.end()), names.end());
    for (const Scheme* s : all_schemes()) {
        EXPECT_FALSE(s->summary().empty()) << s->name();
        EXPECT_NE(supported_kinds(*s), "no") << s->name();
        EXPECT_EQ(find_scheme(s->name()), s);
        // Bias correction shifts a quantized weight's output: only options-taking schemes.
        if (s->quantizes_linear_weight()) {
            EXPECT_TRUE(s->takes_options()) << s->name();
        }
    }
}

TEST(SchemesCli, PrintsEveryScheme) {
    const auto r = test::run_embq({"schemes"});
    ASSERT_EQ(r.exit_code, 0) << r.err;
    for (const Scheme* s : all_schemes())
        test::expect_contains(r.out, {std::string(s->name()), std::string(s->summary())});
    test::expect_contains(r.out, {"calibration", "quantized engine", "bias_correction"});
}

// The bias_correction message lists exactly the schemes that take it, from the table.
TEST(SchemeTable, BiasCorrectionMessageIsGeneratedFromTheTable) {
    ModelInventory inventory;
    Layer layer;
    layer.path = "fc";
    layer.kind = LayerKind::Linear;
    layer.weight_shape = {4, 4};
    layer.params = 16;
    layer.bytes = 64;
    inventory.layers.push_back(layer);
    const Config config = parse_config(
        nlohmann::json::parse(
            R"({"defaults": {"linear": {"scheme": "fp16", "bias_correction": true}}})"),
        "<test>");
    PlanOptions options;
    options.have_calibration = true;
    try {
        make_plan(config, inventory, options);
        FAIL() << "fp16 with bias_correction planned";
    } catch (const Error& e) {
        const std::string message = e.what();
        const auto open = message.find("linear layers (");
        ASSERT_NE(open, std::string::npos) << message;
        const std::string listed = message.substr(open, message.find(')', open) - open) + " ";
        for (const Scheme* s : all_schemes()) {
            const std::string name(s->name());
            const bool named = listed.find(" " + name + ",") != std::string::npos ||
                               listed.find(" " + name + " ") != std::string::npos ||
                               listed.find("(" + name) != std::string::npos;
            EXPECT_EQ(named, s->quantizes_linear_weight()) << name << " in: " << message;
        }
    }
}

}  // namespace
}  // namespace embq
