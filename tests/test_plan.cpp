// Resolving a config against a model: which scheme each layer gets and why, the errors
// that point at the rule to fix, and the totals users decide by. Most tests use a
// hand-built inventory (no model load); the last ones plan the fixture models with the
// shipped configs.
#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include <filesystem>
#include <sstream>

#include "embq/config.hpp"
#include "embq/error.hpp"
#include "embq/model.hpp"
#include "embq/plan.hpp"
#include "test_support.hpp"

namespace embq {
namespace {

using nlohmann::json;

Layer linear(const std::string& path, int64_t out, int64_t in) {
    Layer l;
    l.path = path;
    l.kind = LayerKind::Linear;
    l.weight_shape = {out, in};
    l.dtype = "float32";
    l.has_bias = true;
    l.params = out * in + out;
    l.bytes = l.params * 4;
    l.calls = 1;
    return l;
}

Layer table(const std::string& path, int64_t rows, int64_t dim,
            LayerKind kind = LayerKind::Embedding) {
    Layer l = linear(path, rows, dim);
    l.kind = kind;
    l.has_bias = false;
    l.params = rows * dim;
    l.bytes = l.params * 4;
    return l;
}

// One BERT-like encoder layer plus a LayerNorm nothing quantizes.
ModelInventory bert_like() {
    ModelInventory inv;
    inv.layers = {table("embeddings.word_embeddings", 100, 64),
                  linear("encoder.layer.0.attention.self.query", 64, 64),
                  linear("encoder.layer.0.attention.output.dense", 64, 64),
                  linear("encoder.layer.0.intermediate.dense", 256, 64),
                  linear("encoder.layer.0.output.dense", 64, 256)};
    inv.kept = {{"embeddings.LayerNorm", "LayerNorm", 128, 512}};
    return inv;
}

Plan plan_for(const std::string& config, const ModelInventory& inv = bert_like(),
              PlanOptions options = {}) {
    return make_plan(parse_config(json::parse(config), "embq.json"), inv, options);
}

const LayerPlan& at(const Plan& plan, const std::string& path) {
    const LayerPlan* lp = plan.find(path);
    EXPECT_NE(lp, nullptr) << path;
    if (!lp) throw std::logic_error("no layer " + path);
    return *lp;
}

// Plans `config`, expects a one-line Config error naming the origin, returns its message.
std::string plan_error_of(const std::string& config, const ModelInventory& inv = bert_like()) {
    try {
        plan_for(config, inv);
    } catch (const Error& e) {
        EXPECT_EQ(e.category(), ErrorCategory::Config) << e.what();
        const std::string message = e.what();
        EXPECT_EQ(message.find('\n'), std::string::npos) << "one line: " << message;
        EXPECT_EQ(message.rfind("embq.json: ", 0), 0u) << "names the file: " << message;
        return message;
    }
    ADD_FAILURE() << "no error for " << config;
    return "";
}

using test::expect_contains;

TEST(Plan, EveryLayerIsKeptFp32WhenNothingChoosesIt) {
    const Plan plan = plan_for("{}");
    ASSERT_EQ(plan.layers.size(), 5u);
    for (const auto& lp : plan.layers) {
        EXPECT_EQ(lp.scheme->name(), "fp32") << lp.layer.path;
        EXPECT_EQ(lp.chosen_by, "kept: no rule or default");
        EXPECT_EQ(lp.bytes_after, lp.layer.bytes);
    }
    EXPECT_EQ(plan.bytes_after(), plan.bytes_before());
}

TEST(Plan, LayersKeepInventoryOrder) {
    const Plan plan = plan_for("{}");
    const auto inv = bert_like();
    for (size_t i = 0; i < inv.layers.size(); ++i)
        EXPECT_EQ(plan.layers[i].layer.path, inv.layers[i].path);
}

TEST(Plan, DefaultAppliesToEveryLayerOfItsKind) {
    const Plan plan = plan_for(R"({"defaults": {"linear": {"scheme": "int8_dynamic"}}})");
    EXPECT_EQ(at(plan, "encoder.layer.0.attention.self.query").scheme->name(), "int8_dynamic");
    EXPECT_EQ(at(plan, "encoder.layer.0.output.dense").chosen_by, "default for linear");
    EXPECT_EQ(at(plan, "embeddings.word_embeddings").scheme->name(), "fp32");
    EXPECT_EQ(at(plan, "embeddings.word_embeddings").chosen_by, "kept: no rule or default");
}

TEST(Plan, SchemeDefaultsFillUnsetOptions) {
    const Plan plan = plan_for(R"({"defaults": {"linear": {"scheme": "int4_weight"}}})");
    const auto& lp = at(plan, "encoder.layer.0.intermediate.dense");
    EXPECT_EQ(lp.options.granularity, Granularity::group(64));
}

TEST(Plan, RuleOverridesDefault) {
    const Plan plan = plan_for(R"({
      "defaults": {"linear": {"scheme": "int8_dynamic"}},
      "rules": [{"match": "*.attention.output.dense", "scheme": "fp32"}]})");
    const auto& kept = at(plan, "encoder.layer.0.attention.output.dense");
    EXPECT_EQ(kept.scheme->name(), "fp32");
    EXPECT_EQ(kept.chosen_by, "rule 1 (*.attention.output.dense)");
    EXPECT_EQ(at(plan, "encoder.layer.0.output.dense").scheme->name(), "int8_dynamic")
        << "the glob must not catch encoder.layer.0.output.dense";
}

TEST(Plan, LaterRuleOverridesEarlier) {
    const Plan plan = plan_for(R"({"rules": [
      {"match": "encoder.*", "scheme": "int8_dynamic", "granularity": "per_tensor"},
      {"match": "*.intermediate.dense", "scheme": "int4_weight", "granularity": "group:32"},
      {"match": "encoder.layer.0.*", "kind": "linear", "scheme": "bf16"},
      {"match": "*.query", "scheme": "fp16"}]})");
    EXPECT_EQ(at(plan, "encoder.layer.0.attention.self.query").scheme->name(), "fp16");
    EXPECT_EQ(at(plan, "encoder.layer.0.attention.self.query").chosen_by, "rule 4 (*.query)");
    EXPECT_EQ(at(plan, "encoder.layer.0.intermediate.dense").scheme->name(), "bf16");
    EXPECT_EQ(at(plan, "encoder.layer.0.intermediate.dense").chosen_by,
              "rule 3 (encoder.layer.0.*)");
}

TEST(Plan, OptionsComeFromTheWinningChoiceOnly) {
    // Rule 2 wins and sets no granularity: the scheme's default applies, not rule 1's.
    const Plan plan = plan_for(R"({"rules": [
      {"match": "*", "kind": "linear", "scheme": "int8_dynamic", "granularity": "per_tensor"},
      {"match": "*.query", "scheme": "int8_dynamic"}]})");
    EXPECT_EQ(at(plan, "encoder.layer.0.attention.self.query").options.granularity,
              Granularity::per_channel());
    EXPECT_EQ(at(plan, "encoder.layer.0.output.dense").options.granularity,
              Granularity::per_tensor());
}

TEST(Plan, KindFilterLimitsARule) {
    const Plan plan =
        plan_for(R"({"rules": [{"match": "*", "kind": "embedding", "scheme": "fp16"}]})");
    EXPECT_EQ(at(plan, "embeddings.word_embeddings").scheme->name(), "fp16");
    EXPECT_EQ(at(plan, "encoder.layer.0.attention.self.query").scheme->name(), "fp32");
}

TEST(Plan, RuleWhoseSchemeCannotApplyToAMatchedLayerNamesRuleLayerAndFix) {
    const auto m = plan_error_of(R"({"rules": [{"match": "*", "scheme": "int8_dynamic"}]})");
    EXPECT_EQ(m,
              "embq.json: rule 1 (*) matches embeddings.word_embeddings, an embedding layer, "
              "but scheme 'int8_dynamic' applies only to linear layers; add \"kind\": "
              "\"linear\" to rules[0] or narrow its match");
}

TEST(Plan, UnfitRuleIsAnErrorEvenWhenALaterRuleOverridesIt) {
    // A rule applies to all it matches; relying on a later rule to undo it hides mistakes.
    const auto m = plan_error_of(R"({"rules": [
      {"match": "*", "scheme": "int8_rowwise"},
      {"match": "encoder.*", "scheme": "int8_dynamic"}]})");
    expect_contains(m, {"rule 1 (*) matches encoder.layer.0.attention.self.query, a linear layer",
                        "\"kind\": \"embedding\" to rules[0]"});
}

TEST(Plan, SchemeOptionErrorsNameTheRuleOrDefault) {
    const auto by_rule = plan_error_of(R"({"rules": [
      {"match": "*.intermediate.dense", "scheme": "int4_weight", "granularity": "group:48"}]})");
    expect_contains(by_rule, {"embq.json: rule 1 (*.intermediate.dense): ",
                              "encoder.layer.0.intermediate.dense"});

    const auto by_default =
        plan_error_of(R"({"defaults": {"embedding": {"scheme": "fp16", "symmetric": true}}})");
    expect_contains(by_default,
                    {"embq.json: default for embedding: ", "embeddings.word_embeddings"});
}

TEST(Plan, RuleMatchingNoLayerIsAnErrorByDefault) {
    const auto m = plan_error_of(R"({"rules": [
      {"match": "*.query", "scheme": "fp16"},
      {"match": "*.qurey", "scheme": "fp16"}]})");
    EXPECT_EQ(m,
              "embq.json: rules[1].match '*.qurey' matches no layer; 'embq inspect MODEL' "
              "lists the layer paths; pass --allow-unmatched-rules to make this a warning");
}

TEST(Plan, UnmatchedExactPathSuggestsTheClosestLayer) {
    const auto m = plan_error_of(
        R"({"rules": [{"match": "encoder.layer.0.attention.self.querry", "scheme": "fp16"}]})");
    expect_contains(m, {"matches no layer (did you mean 'encoder.layer.0.attention.self.query'?)"});
}

TEST(Plan, UnmatchedWordsAndPrefixesSuggestTheGlobAndEveryRuleIsNamedAtOnce) {
    const auto m = plan_error_of(R"({"rules": [
      {"match": "attention", "scheme": "fp16"},
      {"match": "*.query", "scheme": "fp16"},
      {"match": "encoder.layer.0", "scheme": "fp32"},
      {"match": "encoder.layer.0.", "scheme": "fp32"}]})");
    expect_contains(m, {"rules[0].match 'attention' matches no layer (did you mean '*attention*' (",
                        "rules[2].match 'encoder.layer.0' matches no layer (did you mean "
                        "'encoder.layer.0.*' (",
                        "rules[3].match 'encoder.layer.0.' matches no layer (did you mean "
                        "'encoder.layer.0.*' ("});
    EXPECT_EQ(m.find("rules[1]"), std::string::npos) << m;
    EXPECT_EQ(m.find('\n'), std::string::npos) << m;
}

TEST(Plan, UnmatchedKindFilteredRuleSaysWhichKind) {
    const auto m = plan_error_of(
        R"({"rules": [{"match": "*", "kind": "embedding_bag", "scheme": "int8_rowwise"}]})");
    expect_contains(m, {"rules[0].match '*' matches no embedding_bag layer"});
}

TEST(Plan, UnmatchedRuleIsAWarningWhenAllowed) {
    const std::string rules = R"("rules": [{"match": "*.qurey", "scheme": "fp16"}])";
    const Plan by_config = plan_for("{" + rules + R"(, "allow_unmatched_rules": true})");
    ASSERT_EQ(by_config.warnings.size(), 1u);
    EXPECT_EQ(by_config.warnings[0],
              "embq.json: rules[0].match '*.qurey' matches no layer; the rule is ignored");

    PlanOptions options;
    options.allow_unmatched_rules = true;
    const Plan by_option = plan_for("{" + rules + "}", bert_like(), options);
    EXPECT_EQ(by_option.warnings, by_config.warnings);
}

TEST(Plan, BytesAddUpFromTheSchemes) {
    const Plan plan = plan_for(R"({
      "defaults": {"linear": {"scheme": "int8_dynamic"}, "embedding": {"scheme": "int8_rowwise"}},
      "rules": [{"match": "*.attention.output.dense", "scheme": "fp32"}]})");
    const auto inv = bert_like();
    int64_t before = 512, after = 512;  // the kept LayerNorm counts on both sides
    for (const auto& lp : plan.layers) {
        before += lp.layer.bytes;
        EXPECT_EQ(lp.bytes_after, lp.scheme->stored_bytes(lp.layer, lp.options)) << lp.layer.path;
        after += lp.bytes_after;
    }
    EXPECT_EQ(plan.bytes_before(), before);
    EXPECT_EQ(plan.bytes_before(), inv.all_totals().bytes);
    EXPECT_EQ(plan.bytes_after(), after);
    EXPECT_LT(plan.bytes_after(), plan.bytes_before() / 2);
    const auto& kept = at(plan, "encoder.layer.0.attention.output.dense");
    EXPECT_EQ(kept.bytes_after, kept.layer.bytes);
}

TEST(Plan, CarriesEngineAndKeptModules) {
    const Plan plan = plan_for(R"({"engine": "qnnpack"})");
    EXPECT_EQ(plan.engine, "qnnpack");
    ASSERT_EQ(plan.kept.size(), 1u);
    EXPECT_EQ(plan.kept[0].path, "embeddings.LayerNorm");
    EXPECT_EQ(plan.find("embeddings.LayerNorm"), nullptr) << "kept modules are not layers";
}

TEST(Plan, OnlyInt8StaticAndBiasCorrectionNeedCalibration) {
    PlanOptions without;
    without.have_calibration = false;
    EXPECT_NO_THROW(
        plan_for(R"({"defaults": {"linear": {"scheme": "int8_dynamic"}}})", bert_like(), without));
    EXPECT_THROW(
        plan_for(R"({"defaults": {"linear": {"scheme": "int8_static"}}})", bert_like(), without),
        Error);
    EXPECT_THROW(
        plan_for(R"({"defaults": {"linear": {"scheme": "int4_weight", "bias_correction": true}}})",
                 bert_like(), without),
        Error);
    PlanOptions with;
    with.have_calibration = true;
    const Plan plan =
        plan_for(R"({"defaults": {"linear": {"scheme": "int8_static", "bias_correction": true}}})",
                 bert_like(), with);
    EXPECT_EQ(scheme_text(plan.layers.back()), "int8_static per_channel sym bias_correction");
}

TEST(Plan, JsonHasEveryField) {
    const Plan plan = plan_for(R"({
      "defaults": {"linear": {"scheme": "int8_dynamic"}, "embedding": {"scheme": "fp16"}},
      "rules": [{"match": "*.intermediate.dense", "scheme": "int4_weight", "symmetric": false},
                {"match": "nothing", "scheme": "fp32"}],
      "allow_unmatched_rules": true})");
    const json j = plan_to_json(plan);
    EXPECT_EQ(j.at("engine"), "auto");
    ASSERT_EQ(j.at("layers").size(), 5u);
    const json& q = j["layers"][1];
    EXPECT_EQ(q.at("path"), "encoder.layer.0.attention.self.query");
    EXPECT_EQ(q.at("kind"), "linear");
    EXPECT_EQ(q.at("scheme"), "int8_dynamic");
    EXPECT_EQ(q.at("granularity"), "per_channel");
    EXPECT_EQ(q.at("symmetric"), true);
    EXPECT_EQ(q.at("reduce_range"), false);
    EXPECT_EQ(q.at("chosen_by"), "default for linear");
    EXPECT_EQ(q.at("bytes_before"), (64 * 64 + 64) * 4);
    EXPECT_EQ(q.at("bytes_after"), plan.layers[1].bytes_after);

    const json& i = j["layers"][3];
    EXPECT_EQ(i.at("granularity"), "group:64");
    EXPECT_EQ(i.at("symmetric"), false);
    EXPECT_EQ(i.at("chosen_by"), "rule 1 (*.intermediate.dense)");

    const json& e = j["layers"][0];
    EXPECT_EQ(e.at("scheme"), "fp16");
    EXPECT_TRUE(e.at("granularity").is_null()) << "fp16 takes no options";
    EXPECT_TRUE(e.at("symmetric").is_null());

    EXPECT_EQ(j.at("kept").size(), 1u);
    EXPECT_EQ(j["kept"][0].at("path"), "embeddings.LayerNorm");
    EXPECT_EQ(j.at("bytes_before"), plan.bytes_before());
    EXPECT_EQ(j.at("bytes_after"), plan.bytes_after());
    EXPECT_DOUBLE_EQ(j.at("size_ratio").get<double>(),
                     static_cast<double>(plan.bytes_after()) / plan.bytes_before());
    ASSERT_EQ(j.at("warnings").size(), 1u);
    expect_contains(j["warnings"][0].get<std::string>(), {"'nothing' matches no layer"});
}

TEST(Plan, TableShowsEveryChoiceAndTheTotals) {
    const Plan plan = plan_for(R"({
      "defaults": {"linear": {"scheme": "int8_dynamic"}},
      "rules": [{"match": "*.intermediate.dense", "scheme": "int4_weight", "symmetric": false},
                {"match": "nothing", "scheme": "fp32"}],
      "allow_unmatched_rules": true})");
    const std::string text = format_plan(plan);
    expect_contains(
        text, {"layer", "kind", "scheme", "options", "chosen by", "before", "after",
               "encoder.layer.0.attention.self.query", "per_channel sym", "group:64 asym",
               "default for linear", "rule 1 (*.intermediate.dense)", "kept: no rule or default",
               "kept (not quantizable)", "total", "size: ", "% of the original",
               "warning: embq.json: rules[1].match 'nothing' matches no layer"});
    // One row per scheme in the totals: int8_dynamic has the 3 linears left by default.
    std::istringstream lines(text);
    std::string line, scheme, count;
    while (std::getline(lines, line) && line.rfind("int8_dynamic ", 0) != 0) {}
    std::istringstream(line) >> scheme >> count;
    EXPECT_EQ(scheme + " " + count, "int8_dynamic 3") << text;
}

// ---- the fixture models with the shipped configs --------------------------------

std::filesystem::path shipped(const std::string& name) {
    return std::filesystem::path(EMBQ_SOURCE_DIR) / "configs" / name;
}

TEST(PlanFixture, Int8Fp16EmbeddingsOnBertTraced) {
    const ModelInventory inv = take_inventory(load_model(test::fixture("bert_traced.pt")).module);
    const Plan plan = make_plan(load_config(shipped("int8-fp16-embeddings.json")), inv, {});
    ASSERT_EQ(plan.layers.size(), 15u);
    for (const char* path :
         {"encoder.layer.0.attention.output.dense", "encoder.layer.1.attention.output.dense"}) {
        EXPECT_EQ(at(plan, path).scheme->name(), "fp32") << path;
        EXPECT_EQ(at(plan, path).chosen_by, "rule 1 (*.attention.output.dense)");
    }
    EXPECT_EQ(at(plan, "encoder.layer.1.output.dense").scheme->name(), "int8_dynamic");
    EXPECT_EQ(at(plan, "encoder.layer.1.intermediate.dense").options.granularity,
              Granularity::per_channel());
    EXPECT_EQ(at(plan, "embeddings.word_embeddings").scheme->name(), "fp16");
    EXPECT_TRUE(plan.warnings.empty()) << "the fp32 rule matches this BERT-like model";
    EXPECT_EQ(plan.bytes_before(), inv.all_totals().bytes);
    EXPECT_LT(plan.bytes_after(), plan.bytes_before() / 2);
}

TEST(PlanFixture, RecommendedConfigOnBertTraced) {
    // int8-mixed: feed-forward int8, attention projections and pooler fp16, tables int8 row-wise.
    const ModelInventory inv = take_inventory(load_model(test::fixture("bert_traced.pt")).module);
    const Plan plan = make_plan(load_config(shipped("int8-mixed.json")), inv, {});
    for (const char* path :
         {"encoder.layer.0.attention.self.query", "encoder.layer.1.attention.self.value",
          "encoder.layer.1.attention.output.dense"})
        EXPECT_EQ(at(plan, path).scheme->name(), "fp16") << path;
    for (const char* path : {"encoder.layer.0.intermediate.dense", "encoder.layer.1.output.dense"})
        EXPECT_EQ(at(plan, path).scheme->name(), "int8_dynamic") << path;
    EXPECT_EQ(at(plan, "embeddings.word_embeddings").scheme->name(), "int8_rowwise");
    EXPECT_LT(plan.bytes_after(), plan.bytes_before() * 40 / 100);
}

TEST(PlanFixture, EveryShippedConfigPlansTheFixtures) {
    for (const char* model : {"bert_traced.pt", "embedding_bag.pt"}) {
        const ModelInventory inv = take_inventory(load_model(test::fixture(model)).module);
        for (const auto& entry : std::filesystem::directory_iterator(shipped(""))) {
            const auto& path = entry.path();
            if (path.extension() != ".json" || path.filename() == "embq-config.schema.json")
                continue;
            SCOPED_TRACE(std::string(model) + " with " + path.filename().string());
            Plan plan;
            ASSERT_NO_THROW(plan = make_plan(load_config(path), inv, {}));
            EXPECT_EQ(plan.layers.size(), inv.layers.size());
            EXPECT_LT(plan.bytes_after(), plan.bytes_before())
                << "every shipped config saves bytes";
        }
    }
}

}  // namespace
}  // namespace embq
