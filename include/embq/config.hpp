// The quantization config: a JSON document that says which scheme each layer gets.
// Format reference: configs/README.md; JSON Schema: configs/embq-config.schema.json.
//
// Precedence (lowest to highest), implemented by make_plan():
//   1. a layer is kept as it is (fp32) unless something below chooses for it;
//   2. `defaults[kind]` applies to every layer of that kind;
//   3. `rules` apply in order, each matching layer paths with a glob; a later matching
//      rule overrides an earlier one, and any rule overrides the default.
#pragma once

#include <filesystem>
#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include <nlohmann/json.hpp>

#include "embq/calibration.hpp"
#include "embq/layers.hpp"
#include "embq/scheme.hpp"

namespace embq {

struct SchemeChoice {
    std::string scheme;  // a registered scheme name (validated by parse_config)
    SchemeOptions options;
};

struct Rule {
    std::string match;              // glob over dotted layer paths: `*` any run, `?` one char
    std::optional<LayerKind> kind;  // when set, the rule only matches layers of this kind
    SchemeChoice choice;
    size_t index = 0;  // position in `rules`, for messages ("rule 2")
};

// Calibration run by `embq quantize` itself (the config's "calibration" object), for
// configs that use int8_static or bias_correction without a calibration file.
struct CalibrationSpec {
    std::filesystem::path data;  // relative paths resolved against the config's folder
    size_t samples = kDefaultCalibrationSamples;
    std::string observer = kDefaultObserver;
    int64_t batch_size = kDefaultCalibrationBatch;
};

struct Config {
    std::string origin;           // file name, or "<inline>", for error messages
    std::string engine = "auto";  // auto | onednn | qnnpack | fbgemm
    // Where the output is deployed: a name of target_names() (hardware.hpp); "native" (this
    // machine) when the config names none.
    std::string target = "native";
    std::map<LayerKind, SchemeChoice> defaults;
    std::vector<Rule> rules;
    bool allow_unmatched_rules = false;
    std::optional<CalibrationSpec> calibration;
    nlohmann::json source;  // the document as read; stored in the output archive
};

// Validates and converts a parsed document. Config errors name `origin` and the key
// path at fault (`rules[2].scheme`), and suggest the closest known name for a typo.
Config parse_config(const nlohmann::json& document, const std::string& origin);

// Reads and parses a config file: a missing file or invalid JSON is an Input error
// naming the file (and line/column for JSON syntax errors).
Config load_config(const std::filesystem::path& path);

// `*` matches any run of characters (dots included), `?` any one character.
bool glob_match(std::string_view pattern, std::string_view text);

}  // namespace embq
