// The config format as users write it: what parses, what each mistake is told, the
// glob and typo-suggestion helpers, and that the shipped configs and schema agree with
// the scheme registry.
#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include <algorithm>
#include <filesystem>
#include <set>

#include "core/suggest.hpp"
#include "embq/config.hpp"
#include "embq/error.hpp"
#include "test_support.hpp"

namespace embq {
namespace {

using nlohmann::json;

Config parse(const std::string& text) { return parse_config(json::parse(text), "embq.json"); }

// Parses `text`, expects a one-line Config error starting with the origin, and returns
// its message for further checks.
std::string config_error_of(const std::string& text) {
    try {
        parse(text);
    } catch (const Error& e) {
        EXPECT_EQ(e.category(), ErrorCategory::Config) << e.what();
        const std::string message = e.what();
        EXPECT_EQ(message.find('\n'), std::string::npos) << "one line: " << message;
        EXPECT_EQ(message.rfind("embq.json: ", 0), 0u) << "names the file: " << message;
        return message;
    }
    ADD_FAILURE() << "no error for " << text;
    return "";
}

using test::expect_contains;

TEST(Config, ParsesEveryKey) {
    const Config c = parse(R"({
      "$schema": "./embq-config.schema.json",
      "description": "test",
      "engine": "qnnpack",
      "defaults": {
        "linear": {"scheme": "int8_dynamic", "granularity": "per_tensor", "reduce_range": true},
        "embedding": {"scheme": "fp16"}
      },
      "rules": [
        {"match": "encoder.*.dense", "scheme": "fp32"},
        {"match": "*.intermediate.dense", "kind": "linear", "scheme": "int4_weight",
         "granularity": "group:64", "symmetric": false}
      ],
      "allow_unmatched_rules": true
    })");
    EXPECT_EQ(c.origin, "embq.json");
    EXPECT_EQ(c.engine, "qnnpack");
    EXPECT_TRUE(c.allow_unmatched_rules);
    ASSERT_EQ(c.defaults.size(), 2u);
    const SchemeChoice& linear = c.defaults.at(LayerKind::Linear);
    EXPECT_EQ(linear.scheme, "int8_dynamic");
    EXPECT_EQ(linear.options.granularity, Granularity::per_tensor());
    EXPECT_EQ(linear.options.reduce_range, true);
    EXPECT_FALSE(linear.options.symmetric.has_value()) << "unset options stay unset";
    EXPECT_EQ(c.defaults.at(LayerKind::Embedding).scheme, "fp16");

    ASSERT_EQ(c.rules.size(), 2u);
    EXPECT_EQ(c.rules[0].match, "encoder.*.dense");
    EXPECT_FALSE(c.rules[0].kind.has_value());
    EXPECT_EQ(c.rules[0].index, 0u);
    EXPECT_EQ(c.rules[1].kind, LayerKind::Linear);
    EXPECT_EQ(c.rules[1].choice.scheme, "int4_weight");
    EXPECT_EQ(c.rules[1].choice.options.granularity, Granularity::group(64));
    EXPECT_EQ(c.rules[1].choice.options.symmetric, false);
    EXPECT_EQ(c.rules[1].index, 1u);
    EXPECT_EQ(c.source.at("description"), "test") << "the document is kept as read";
}

TEST(Config, EmptyObjectKeepsEverything) {
    const Config c = parse("{}");
    EXPECT_EQ(c.engine, "auto");
    EXPECT_TRUE(c.defaults.empty());
    EXPECT_TRUE(c.rules.empty());
    EXPECT_FALSE(c.allow_unmatched_rules);
}

// embq tune writes the evidence for each rule into "$comment"; a default has no such note.
TEST(Config, DollarKeysAllowedAtTopLevelAndInRules) {
    EXPECT_NO_THROW(parse(R"({"$schema": "x", "$comment": "y", "description": "z"})"));
    const Config c = parse(R"({"rules": [{"match": "*", "scheme": "fp16", "$comment": "why"}]})");
    ASSERT_EQ(c.rules.size(), 1u);
    EXPECT_EQ(c.rules[0].choice.scheme, "fp16");
    const auto m =
        config_error_of(R"({"defaults": {"linear": {"scheme": "fp16", "$comment": "x"}}})");
    expect_contains(m, {"unknown key '$comment'"});
}

TEST(Config, TopLevelMustBeAnObject) {
    const auto m = config_error_of(R"([{"match": "*", "scheme": "fp32"}])");
    expect_contains(m, {"must be a JSON object", "not an array"});
}

TEST(Config, UnknownTopLevelKeySuggestsClosest) {
    const auto m = config_error_of(R"({"rulez": []})");
    expect_contains(m, {"embq.json: unknown key 'rulez' at top level; did you mean 'rules'?"});
}

TEST(Config, UnknownKeyWithoutCloseMatchListsKnownKeys) {
    const auto m = config_error_of(R"({"quantization": {}})");
    EXPECT_EQ(m.find("did you mean"), std::string::npos) << m;
    expect_contains(m, {"unknown key 'quantization'", "defaults", "allow_unmatched_rules"});
}

TEST(Config, UnknownKeyInRuleAndDefaultNamesItsPath) {
    expect_contains(config_error_of(R"({"rules": [{"match": "*", "scheme": "fp32"},
                                        {"match": "*", "scheme": "fp32", "granularty": "x"}]})"),
                    {"unknown key 'granularty' at rules[1]; did you mean 'granularity'?"});
    expect_contains(
        config_error_of(R"({"defaults": {"linear": {"scheme": "fp32", "symetric": true}}})"),
        {"unknown key 'symetric' at defaults.linear; did you mean 'symmetric'?"});
    expect_contains(
        config_error_of(R"({"defaults": {"linear": {"scheme": "fp32", "match": "*"}}})"),
        {"unknown key 'match' at defaults.linear"});
}

TEST(Config, WrongTypesNameTheKeyAndTheExpectedType) {
    expect_contains(config_error_of(R"({"rules": [{"match": "*", "scheme": "int4_weight",
                                        "symmetric": "yes"}]})"),
                    {"rules[0].symmetric must be a boolean", "not the string \"yes\""});
    expect_contains(config_error_of(R"({"allow_unmatched_rules": 1})"),
                    {"allow_unmatched_rules must be a boolean", "the number 1"});
    expect_contains(config_error_of(R"({"rules": {"match": "*", "scheme": "fp32"}})"),
                    {"rules must be an array", "not an object"});
    expect_contains(config_error_of(R"({"rules": ["*"]})"),
                    {"rules[0] must be an object", "not the string \"*\""});
    expect_contains(config_error_of(R"({"defaults": {"linear": "int8_dynamic"}})"),
                    {"defaults.linear must be an object like {\"scheme\"", "the string"});
    expect_contains(config_error_of(R"({"defaults": []})"), {"defaults must be an object"});
    expect_contains(config_error_of(R"({"rules": [{"match": 3, "scheme": "fp32"}]})"),
                    {"rules[0].match must be a string", "the number 3"});
    expect_contains(config_error_of(R"({"engine": null})"), {"engine must be a string, not null"});
    expect_contains(config_error_of(R"({"rules": [{"match": "*", "scheme": "fp32", "kind": 1}]})"),
                    {"rules[0].kind must be a string"});
    expect_contains(config_error_of(R"({"description": ["a", "b"]})"),
                    {"description must be a string, not an array"});
}

TEST(Config, UnknownSchemeSuggestsClosestAndListsValid) {
    const auto m = config_error_of(R"({"rules": [{"match": "*", "scheme": "int8_dynamc"}]})");
    expect_contains(
        m, {"rules[0].scheme: unknown scheme 'int8_dynamc'", "did you mean 'int8_dynamic'?"});
    for (const Scheme* s : all_schemes()) expect_contains(m, {std::string(s->name())});

    const auto far = config_error_of(R"({"defaults": {"linear": {"scheme": "gptq"}}})");
    EXPECT_EQ(far.find("did you mean"), std::string::npos) << far;
    expect_contains(far, {"defaults.linear.scheme: unknown scheme 'gptq'", "valid schemes: fp32"});
}

TEST(Config, SchemeIsRequired) {
    expect_contains(config_error_of(R"({"rules": [{"match": "*"}]})"),
                    {"rules[0]: missing required key 'scheme'", "int8_dynamic"});
    expect_contains(config_error_of(R"({"defaults": {"embedding": {}}})"),
                    {"defaults.embedding: missing required key 'scheme'"});
}

TEST(Config, MatchIsRequiredAndNotEmpty) {
    expect_contains(config_error_of(R"({"rules": [{"scheme": "fp32"}]})"),
                    {"rules[0]: missing required key 'match'"});
    expect_contains(config_error_of(R"({"rules": [{"match": "", "scheme": "fp32"}]})"),
                    {"rules[0].match is empty", "\"*\""});
}

TEST(Config, UnknownLayerKindListsValidKinds) {
    const auto in_defaults = config_error_of(R"({"defaults": {"linaer": {"scheme": "fp32"}}})");
    expect_contains(in_defaults, {"defaults: unknown layer kind 'linaer'", "did you mean 'linear'?",
                                  "linear, embedding, embedding_bag"});
    const auto in_rule =
        config_error_of(R"({"rules": [{"match": "*", "kind": "conv2d", "scheme": "fp32"}]})");
    expect_contains(in_rule, {"rules[0].kind: unknown layer kind 'conv2d'",
                              "linear, embedding, embedding_bag"});
}

TEST(Config, DefaultSchemeMustApplyToItsKind) {
    const auto m = config_error_of(R"({"defaults": {"embedding": {"scheme": "int8_dynamic"}}})");
    expect_contains(m, {"defaults.embedding.scheme: scheme 'int8_dynamic' does not apply to "
                        "embedding layers",
                        "int8_rowwise"});
    EXPECT_NO_THROW(parse(R"({"defaults": {"embedding_bag": {"scheme": "int4_rowwise"}}})"));
}

TEST(Config, KindFilteredRuleSchemeMustApplyToThatKind) {
    const auto m = config_error_of(
        R"({"rules": [{"match": "*", "kind": "linear", "scheme": "int8_rowwise"}]})");
    expect_contains(m, {"rules[0].scheme: scheme 'int8_rowwise' does not apply to linear layers",
                        "int8_dynamic"});
}

TEST(Config, BadGranularityListsAcceptedForms) {
    for (const char* bad : {"group64", "group:", "group:0", "per_row", "PER_CHANNEL"}) {
        const auto m = config_error_of(
            std::string(R"({"rules": [{"match": "*", "scheme": "int4_weight", "granularity": ")") +
            bad + "\"}]}");
        expect_contains(m, {"rules[0].granularity: '" + std::string(bad) + "' is not a granularity",
                            "per_tensor, per_channel or group:N"});
    }
}

TEST(Config, UnknownEngineListsValid) {
    const auto m = config_error_of(R"({"engine": "onedn"})");
    expect_contains(m, {"engine: unknown engine 'onedn'", "did you mean 'onednn'?",
                        "auto, onednn, qnnpack, fbgemm"});
    for (const char* ok : {"auto", "onednn", "qnnpack", "fbgemm"})
        EXPECT_EQ(parse(std::string(R"({"engine": ")") + ok + "\"}").engine, ok);
}

TEST(LoadConfig, MissingFileIsAnInputError) {
    test::TempDir dir;
    try {
        load_config(dir / "nope.json");
        FAIL() << "no error";
    } catch (const Error& e) {
        EXPECT_EQ(e.category(), ErrorCategory::Input);
        EXPECT_EQ(std::string(e.what()), (dir / "nope.json").string() + ": no such file");
    }
}

TEST(LoadConfig, DirectoryIsAnInputError) {
    test::TempDir dir;
    try {
        load_config(dir.path());
        FAIL() << "no error";
    } catch (const Error& e) {
        EXPECT_EQ(e.category(), ErrorCategory::Input);
        expect_contains(e.what(), {"is a directory"});
    }
}

TEST(LoadConfig, InvalidJsonNamesLineAndColumn) {
    test::TempDir dir;
    const auto path = dir / "broken.json";
    // Line 3 lacks a comma after the first rule's closing brace.
    test::write_file(path,
                     "{\n  \"rules\": [\n    {\"match\": \"*\", \"scheme\": \"fp32\"}\n"
                     "    {\"match\": \"x\", \"scheme\": \"fp32\"}\n  ]\n}\n");
    try {
        load_config(path);
        FAIL() << "no error";
    } catch (const Error& e) {
        EXPECT_EQ(e.category(), ErrorCategory::Input);
        const std::string m = e.what();
        EXPECT_EQ(m.find('\n'), std::string::npos) << m;
        expect_contains(m, {path.string() + ":4:5: invalid JSON: "});
        EXPECT_EQ(m.find("json.exception"), std::string::npos) << "no library prefix: " << m;
    }
}

TEST(LoadConfig, EmptyFileIsInvalidJson) {
    test::TempDir dir;
    test::write_file(dir / "empty.json", "");
    try {
        load_config(dir / "empty.json");
        FAIL() << "no error";
    } catch (const Error& e) {
        EXPECT_EQ(e.category(), ErrorCategory::Input);
        expect_contains(e.what(), {"empty.json:1:1: invalid JSON"});
    }
}

TEST(LoadConfig, DuplicateKeyIsAnError) {
    test::TempDir dir;
    test::write_file(dir / "dup.json", R"({"rules": [], "engine": "auto", "rules": []})");
    try {
        load_config(dir / "dup.json");
        FAIL() << "no error";
    } catch (const Error& e) {
        EXPECT_EQ(e.category(), ErrorCategory::Input);
        expect_contains(e.what(), {"dup.json: key 'rules' appears twice"});
    }
    // The same key in different objects is fine.
    test::write_file(dir / "ok.json", R"({"rules": [{"match": "a", "scheme": "fp32"},
                                                    {"match": "b", "scheme": "fp32"}]})");
    EXPECT_EQ(load_config(dir / "ok.json").rules.size(), 2u);
}

TEST(LoadConfig, CommentsAreAllowedAndOriginIsThePath) {
    test::TempDir dir;
    const auto path = dir / "commented.json";
    test::write_file(path,
                     "{\n  // keep the pooler as it is\n  \"engine\": \"onednn\" /* fast */\n}\n");
    const Config c = load_config(path);
    EXPECT_EQ(c.engine, "onednn");
    EXPECT_EQ(c.origin, path.string());
}

TEST(LoadConfig, ConfigErrorsNameThePath) {
    test::TempDir dir;
    const auto path = dir / "typo.json";
    test::write_file(path, R"({"defualts": {}})");
    try {
        load_config(path);
        FAIL() << "no error";
    } catch (const Error& e) {
        EXPECT_EQ(e.category(), ErrorCategory::Config);
        EXPECT_EQ(std::string(e.what()),
                  path.string() +
                      ": unknown key 'defualts' at top level; did you mean "
                      "'defaults'? (valid keys: $schema, description, engine, target, "
                      "defaults, rules, allow_unmatched_rules, calibration)");
    }
}

TEST(LoadConfig, InlineCalibrationDataIsRelativeToTheConfigFile) {
    test::TempDir dir;
    std::filesystem::create_directories(dir / "configs");
    const auto path = dir / "configs" / "static.json";
    test::write_file(path, R"({"calibration": {"data": "texts/calib.txt", "samples": 200},
                              "defaults": {"linear": {"scheme": "int8_static", "bias_correction": true}}})");
    const Config config = load_config(path);
    ASSERT_TRUE(config.calibration);
    EXPECT_EQ(config.calibration->data, dir / "configs" / "texts" / "calib.txt");
    EXPECT_EQ(config.calibration->samples, 200u);
    EXPECT_EQ(config.calibration->observer, kDefaultObserver);
    EXPECT_EQ(config.defaults.at(LayerKind::Linear).options.bias_correction, true);
}

TEST(ParseConfig, CalibrationErrorsNameTheKey) {
    auto message = [](const nlohmann::json& calibration) {
        try {
            parse_config({{"calibration", calibration}}, "c.json");
        } catch (const Error& e) {
            EXPECT_EQ(e.category(), ErrorCategory::Config);
            return std::string(e.what());
        }
        return std::string("no error");
    };
    test::expect_contains(message({{"samples", 10}}),
                          {"calibration", "missing required key 'data'"});
    test::expect_contains(message({{"data", "x.txt"}, {"samples", 0}}),
                          {"calibration.samples", "at least 1"});
    test::expect_contains(message({{"data", "x.txt"}, {"sample", 5}}),
                          {"'sample'", "did you mean 'samples'"});
    test::expect_contains(message("calib.txt"), {"calibration must be an object"});
}

TEST(Glob, StarMatchesAnyRunIncludingDots) {
    EXPECT_TRUE(glob_match("*", ""));
    EXPECT_TRUE(glob_match("*", "encoder.layer.0.attention.self.query"));
    EXPECT_TRUE(glob_match("*.query", "encoder.layer.0.attention.self.query"));
    EXPECT_TRUE(glob_match("encoder.*.query", "encoder.layer.11.attention.self.query"));
    EXPECT_TRUE(glob_match("encoder.layer.*.attention.output.dense",
                           "encoder.layer.3.attention.output.dense"));
    EXPECT_FALSE(
        glob_match("encoder.layer.*.attention.output.dense", "encoder.layer.3.output.dense"));
    EXPECT_TRUE(glob_match("*.output.dense", "encoder.layer.3.attention.output.dense"))
        << "a glob is not anchored at dot boundaries";
    EXPECT_TRUE(glob_match("a**b", "ab"));
    EXPECT_TRUE(glob_match("a*b*c", "a.x.b.y.c"));
    EXPECT_FALSE(glob_match("a*b*c", "a.x.b.y"));
}

TEST(Glob, QuestionMarkMatchesExactlyOneCharacter) {
    EXPECT_TRUE(glob_match("encoder.layer.?.output.dense", "encoder.layer.7.output.dense"));
    EXPECT_FALSE(glob_match("encoder.layer.?.output.dense", "encoder.layer.10.output.dense"));
    EXPECT_TRUE(glob_match("encoder.layer.??.output.dense", "encoder.layer.10.output.dense"));
    EXPECT_FALSE(glob_match("?", ""));
}

TEST(Glob, WithoutWildcardsMatchesTheWholePathOnly) {
    EXPECT_TRUE(glob_match("embeddings.word_embeddings", "embeddings.word_embeddings"));
    EXPECT_FALSE(glob_match("embeddings", "embeddings.word_embeddings")) << "no prefix match";
    EXPECT_FALSE(glob_match("word_embeddings", "embeddings.word_embeddings")) << "no suffix match";
    EXPECT_FALSE(glob_match("Embeddings.word_embeddings", "embeddings.word_embeddings"))
        << "case-sensitive";
}

TEST(Glob, ManyStarsOnALongPathStayFast) {
    // Naive recursive matching takes exponential time on this; the iterative one is linear
    // per star. (Not timed: a regression would hang the test.)
    const std::string text(4000, 'a');
    EXPECT_FALSE(glob_match("*a*a*a*a*a*a*a*a*a*a*a*a*b", text));
    EXPECT_TRUE(glob_match("*a*a*a*a*a*a*a*a*a*a*a*a*", text));
}

TEST(ClosestMatch, FindsTyposWithinTheThreshold) {
    const std::vector<std::string> keys = {"engine", "defaults", "rules", "allow_unmatched_rules"};
    EXPECT_EQ(closest_match("rulez", keys), "rules");
    EXPECT_EQ(closest_match("defualts", keys), "defaults");
    EXPECT_EQ(closest_match("Engine", keys), "engine");
    EXPECT_EQ(closest_match("allow_unmatched_rule", keys), "allow_unmatched_rules");
    EXPECT_EQ(closest_match("quantization", keys), std::nullopt);
    EXPECT_EQ(closest_match("", {"abc"}), std::nullopt) << "3 edits > max(2, 0)";
    EXPECT_EQ(closest_match("ab", {"abcd"}), "abcd") << "2 edits allowed for short words";
}

TEST(ClosestMatch, ThresholdGrowsWithLengthAndTiesKeepTheFirst) {
    // 12 letters: up to 4 edits.
    EXPECT_EQ(closest_match("int8_dynamic", {"int4_dynaXYZ"}), "int4_dynaXYZ");
    EXPECT_EQ(closest_match("int8_dynamic", {"iXt4_dynaXYZ"}), std::nullopt) << "5 edits";
    EXPECT_EQ(closest_match("int6_rowwise", {"int8_rowwise", "int4_rowwise"}), "int8_rowwise");
    EXPECT_EQ(closest_match("int6_rowwise", {"int4_rowwise", "int8_rowwise"}), "int4_rowwise");
}

// The shipped configs and the schema are documentation users copy from: they must
// agree with the code.
std::filesystem::path configs_dir() { return std::filesystem::path(EMBQ_SOURCE_DIR) / "configs"; }

TEST(ShippedConfigs, EveryConfigParsesAndDescribesItself) {
    int count = 0;
    for (const auto& entry : std::filesystem::directory_iterator(configs_dir())) {
        const auto& path = entry.path();
        if (path.extension() != ".json" || path.filename() == "embq-config.schema.json") continue;
        SCOPED_TRACE(path.string());
        const Config c = load_config(path);
        EXPECT_EQ(c.source.value("$schema", ""), "./embq-config.schema.json");
        EXPECT_FALSE(c.source.value("description", "").empty());
        ++count;
    }
    EXPECT_GE(count, 4);
}

TEST(ShippedConfigs, SchemaListsEveryRegisteredSchemeKindAndEngine) {
    const json schema = json::parse(test::read_file(configs_dir() / "embq-config.schema.json"));
    const auto schemes = schema.at("$defs").at("scheme").at("enum").get<std::set<std::string>>();
    for (const Scheme* s : all_schemes())
        EXPECT_TRUE(schemes.count(std::string(s->name())))
            << s->name() << " missing from the schema";
    const auto kinds = schema.at("$defs")
                           .at("rule")
                           .at("properties")
                           .at("kind")
                           .at("enum")
                           .get<std::vector<std::string>>();
    std::vector<std::string> expected_kinds;
    for (LayerKind k : all_layer_kinds()) expected_kinds.emplace_back(to_string(k));
    EXPECT_EQ(kinds, expected_kinds);
    const auto& default_kinds = schema.at("properties").at("defaults").at("properties");
    for (const auto& k : expected_kinds) EXPECT_TRUE(default_kinds.contains(k)) << k;
    // Every engine the schema lists is one parse_config accepts.
    for (const auto& engine : schema.at("properties").at("engine").at("enum"))
        EXPECT_NO_THROW(parse(json{{"engine", engine}}.dump())) << engine;
}

TEST(ShippedConfigs, ReadmeDescribesEveryRegisteredScheme) {
    const std::string readme = test::read_file(configs_dir() / "README.md");
    for (const Scheme* s : all_schemes())
        EXPECT_NE(readme.find("`" + std::string(s->name()) + "`"), std::string::npos)
            << s->name() << " is not documented in configs/README.md";
}

}  // namespace
}  // namespace embq
