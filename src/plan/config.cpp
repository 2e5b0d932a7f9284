// Parsing and validating the quantization config (format: configs/README.md).
//
// Every check happens here, before any model is loaded, so a typo costs the user
// milliseconds, not a model load. Each error is one line: the file, the JSON key path
// at fault (`rules[1].scheme`, counted from 0 as jq does) and what to write instead.
#include "embq/config.hpp"

#include <algorithm>
#include <fstream>
#include <iterator>
#include <set>

#include "core/json_text.hpp"
#include "core/suggest.hpp"
#include "embq/error.hpp"
#include "embq/hardware.hpp"

namespace embq {

namespace {

using nlohmann::json;

const std::vector<std::string> kEngines = {"auto", "onednn", "qnnpack", "fbgemm"};
const std::vector<std::string> kTopKeys = {
    "$schema", "description",           "engine",     "target", "defaults",
    "rules",   "allow_unmatched_rules", "calibration"};
const std::vector<std::string> kChoiceKeys = {
    "scheme",          "granularity",      "symmetric", "reduce_range",
    "bias_correction", "activation_range", "rounding",  "smoothing"};
const std::vector<std::string> kRuleKeys = {
    "match",        "kind",         "scheme",          "granularity",      "symmetric",
    "reduce_range", "bias_correction", "activation_range", "rounding",     "smoothing"};
const std::vector<std::string> kCalibrationKeys = {"data", "samples", "observer", "batch_size"};

std::string join(const std::vector<std::string>& words) {
    std::string out;
    for (const auto& w : words) out += (out.empty() ? "" : ", ") + w;
    return out;
}

std::vector<std::string> kind_names() {
    std::vector<std::string> names;
    for (LayerKind k : all_layer_kinds()) names.emplace_back(to_string(k));
    return names;
}

std::vector<std::string> schemes_supporting(LayerKind kind) {
    return scheme_names([kind](const Scheme& s) { return s.supports(kind); });
}

// "unknown scheme 'int8_dynamc'; did you mean 'int8_dynamic'? (valid schemes: ...)":
// the suggestion when `word` looks like a typo, and always the full list.
std::string unknown(const std::string& what, const std::string& word,
                    const std::vector<std::string>& valid, const std::string& where = "") {
    const auto best = closest_match(word, valid);
    return "unknown " + what + " '" + word + "'" + where +
           (best ? "; did you mean '" + *best + "'?" : "") + " (valid " + what +
           "s: " + join(valid) + ")";
}

// How a value reads in a message: `the string "yes"`, `a number (3)`, `an array`.
std::string describe(const json& value) {
    switch (value.type()) {
        case json::value_t::string: return "the string " + value.dump();
        case json::value_t::boolean: return "the boolean " + value.dump();
        case json::value_t::number_integer:
        case json::value_t::number_unsigned:
        case json::value_t::number_float: return "the number " + value.dump();
        case json::value_t::null: return "null";
        case json::value_t::array: return "an array";
        case json::value_t::object: return "an object";
        default: return value.type_name();
    }
}

// Walks one document, keeping `origin` at hand for messages.
class Parser {
public:
    explicit Parser(std::string origin) : origin_(std::move(origin)) {}

    Config parse(const json& doc) const {
        if (!doc.is_object())
            throw fail("the config must be a JSON object ({...}) at top level, not " +
                       describe(doc));
        check_keys(doc, kTopKeys, "top level", true);

        Config config;
        config.origin = origin_;
        config.source = doc;
        if (doc.contains("description")) string(doc["description"], "description");
        if (doc.contains("engine")) config.engine = parse_engine(doc["engine"]);
        if (doc.contains("target")) config.target = parse_target(doc["target"]);
        if (doc.contains("defaults")) config.defaults = parse_defaults(doc["defaults"]);
        if (doc.contains("rules")) config.rules = parse_rules(doc["rules"]);
        if (doc.contains("allow_unmatched_rules"))
            config.allow_unmatched_rules =
                boolean(doc["allow_unmatched_rules"], "allow_unmatched_rules");
        if (doc.contains("calibration")) config.calibration = parse_calibration(doc["calibration"]);
        return config;
    }

private:
    std::string origin_;

    Error fail(const std::string& message) const { return config_error(origin_ + ": " + message); }

    // Keys starting with `$` (`$schema`, `$comment`) are for editors, JSON tools and
    // people: allowed at top level and in rules (embq tune notes its evidence there), not
    // in choices or the calibration object.
    void check_keys(const json& object, const std::vector<std::string>& known,
                    const std::string& where, bool allow_dollar_keys) const {
        for (const auto& item : object.items()) {
            const std::string& key = item.key();
            if (std::find(known.begin(), known.end(), key) != known.end()) continue;
            if (allow_dollar_keys && !key.empty() && key[0] == '$') continue;
            throw fail(unknown("key", key, known, " at " + where));
        }
    }

    void require_object(const json& value, const std::string& path,
                        const std::string& example) const {
        if (!value.is_object())
            throw fail(path + " must be an object like " + example + ", not " + describe(value));
    }

    bool boolean(const json& value, const std::string& path) const {
        if (!value.is_boolean())
            throw fail(path + " must be a boolean (true or false), not " + describe(value));
        return value.get<bool>();
    }

    std::string string(const json& value, const std::string& path) const {
        if (!value.is_string()) throw fail(path + " must be a string, not " + describe(value));
        return value.get<std::string>();
    }

    std::string parse_engine(const json& value) const {
        const std::string engine = string(value, "engine");
        if (std::find(kEngines.begin(), kEngines.end(), engine) == kEngines.end())
            throw fail("engine: " + unknown("engine", engine, kEngines));
        return engine;
    }

    std::string parse_target(const json& value) const {
        const std::string target = string(value, "target");
        const auto& names = target_names();
        if (std::find(names.begin(), names.end(), target) == names.end())
            throw fail("target: " + unknown("target", target, names));
        return target;
    }

    int64_t positive_integer(const json& value, const std::string& path) const {
        if (!value.is_number_integer() || value.get<int64_t>() < 1)
            throw fail(path + " must be a whole number of at least 1, not " + describe(value));
        return value.get<int64_t>();
    }

    // {"data": "calib.txt", "samples": 1000, "observer": "percentile:99.99"}; a relative
    // data path is taken relative to the config file, which is where it was written.
    CalibrationSpec parse_calibration(const json& value) const {
        require_object(value, "calibration", R"({"data": "calib.txt", "samples": 1000})");
        check_keys(value, kCalibrationKeys, "calibration", false);
        if (!value.contains("data"))
            throw fail("calibration: missing required key 'data' (sample texts, one per line)");
        CalibrationSpec spec;
        spec.data = string(value["data"], "calibration.data");
        if (spec.data.empty()) throw fail("calibration.data is empty; name a file of sample texts");
        if (spec.data.is_relative() && origin_ != "<inline>")
            spec.data = std::filesystem::path(origin_).parent_path() / spec.data;
        if (value.contains("samples"))
            spec.samples =
                static_cast<size_t>(positive_integer(value["samples"], "calibration.samples"));
        if (value.contains("observer"))
            spec.observer = string(value["observer"], "calibration.observer");
        if (value.contains("batch_size"))
            spec.batch_size = positive_integer(value["batch_size"], "calibration.batch_size");
        return spec;
    }

    LayerKind parse_kind(const std::string& name, const std::string& path) const {
        if (auto kind = parse_layer_kind(name)) return *kind;
        throw fail(path + ": " + unknown("layer kind", name, kind_names()));
    }

    // The keys a default and a rule share: scheme, granularity, symmetric, reduce_range.
    SchemeChoice parse_choice(const json& object, const std::string& path) const {
        if (!object.contains("scheme"))
            throw fail(path + ": missing required key 'scheme' (valid schemes: " +
                       join(scheme_names()) + ")");
        SchemeChoice choice;
        choice.scheme = string(object["scheme"], path + ".scheme");
        if (!find_scheme(choice.scheme))
            throw fail(path + ".scheme: " + unknown("scheme", choice.scheme, scheme_names()));
        if (object.contains("granularity"))
            choice.options.granularity =
                parse_granularity(object["granularity"], path + ".granularity");
        if (object.contains("symmetric"))
            choice.options.symmetric = boolean(object["symmetric"], path + ".symmetric");
        if (object.contains("reduce_range"))
            choice.options.reduce_range = boolean(object["reduce_range"], path + ".reduce_range");
        if (object.contains("bias_correction"))
            choice.options.bias_correction =
                boolean(object["bias_correction"], path + ".bias_correction");
        if (object.contains("activation_range")) {
            const std::string text = string(object["activation_range"], path + ".activation_range");
            choice.options.activation_range = parse_activation_range(text);
            if (!choice.options.activation_range)
                throw fail(path + ".activation_range: '" + text + "' is not row, grid or exact");
        }
        if (object.contains("rounding")) {
            const std::string text = string(object["rounding"], path + ".rounding");
            choice.options.rounding = parse_rounding(text);
            if (!choice.options.rounding)
                throw fail(path + ".rounding: '" + text + "' is not nearest or gptq");
        }
        if (object.contains("smoothing")) {
            const json& alpha = object["smoothing"];
            if (alpha == "auto") {
                choice.options.smoothing = kSearchedSmoothing;
            } else if (alpha.is_number() && alpha.get<double>() > 0.0 &&
                       alpha.get<double>() <= 1.0) {
                choice.options.smoothing = alpha.get<double>();
            } else {
                throw fail(path + ".smoothing must be SmoothQuant's alpha, a number in (0, 1] "
                           "such as 0.5, or \"auto\", not " + describe(alpha));
            }
        }
        return choice;
    }

    Granularity parse_granularity(const json& value, const std::string& path) const {
        const std::string text = string(value, path);
        if (auto g = Granularity::parse(text)) return *g;
        throw fail(
            path + ": '" + text +
            "' is not a granularity; use per_tensor, per_channel or group:N (e.g. group:64)");
    }

    // A default or a kind-filtered rule whose scheme cannot apply to that kind could
    // never do anything: say so now rather than when a model is planned.
    void check_supports(const SchemeChoice& choice, LayerKind kind, const std::string& path) const {
        if (find_scheme(choice.scheme)->supports(kind)) return;
        throw fail(path + ": scheme '" + choice.scheme + "' does not apply to " + to_string(kind) +
                   " layers (schemes for " + to_string(kind) + ": " +
                   join(schemes_supporting(kind)) + ")");
    }

    std::map<LayerKind, SchemeChoice> parse_defaults(const json& value) const {
        require_object(value, "defaults", R"({"linear": {"scheme": "int8_dynamic"}})");
        std::map<LayerKind, SchemeChoice> defaults;
        for (const auto& [name, entry] : value.items()) {
            const std::string path = "defaults." + name;
            const LayerKind kind = parse_kind(name, "defaults");
            require_object(entry, path, R"({"scheme": "int8_dynamic"})");
            check_keys(entry, kChoiceKeys, path, false);
            SchemeChoice choice = parse_choice(entry, path);
            check_supports(choice, kind, path + ".scheme");
            defaults[kind] = std::move(choice);
        }
        return defaults;
    }

    std::vector<Rule> parse_rules(const json& value) const {
        if (!value.is_array())
            throw fail(
                R"(rules must be an array like [{"match": "*.query", "scheme": "fp32"}], not )" +
                describe(value));
        std::vector<Rule> rules;
        for (size_t i = 0; i < value.size(); ++i) rules.push_back(parse_rule(value[i], i));
        return rules;
    }

    Rule parse_rule(const json& entry, size_t index) const {
        const std::string path = "rules[" + std::to_string(index) + "]";
        require_object(entry, path, R"({"match": "*.query", "scheme": "fp32"})");
        check_keys(entry, kRuleKeys, path, true);
        Rule rule;
        rule.index = index;
        if (!entry.contains("match"))
            throw fail(path +
                       ": missing required key 'match' (a glob over layer paths, e.g. "
                       "\"encoder.layer.*.attention.self.query\")");
        rule.match = string(entry["match"], path + ".match");
        if (rule.match.empty())
            throw fail(path +
                       ".match is empty; use a glob over layer paths such as \"*.query\", "
                       "or \"*\" for every layer");
        if (entry.contains("kind"))
            rule.kind = parse_kind(string(entry["kind"], path + ".kind"), path + ".kind");
        rule.choice = parse_choice(entry, path);
        if (rule.kind) check_supports(rule.choice, *rule.kind, path + ".scheme");
        return rule;
    }
};

// 1-based line and column of a 1-based byte position, as editors count them.
std::pair<size_t, size_t> line_and_column(const std::string& text, size_t byte) {
    const size_t end = std::min(byte == 0 ? 0 : byte - 1, text.size());
    size_t line = 1, line_start = 0;
    for (size_t i = 0; i < end; ++i) {
        if (text[i] == '\n') {
            ++line;
            line_start = i + 1;
        }
    }
    return {line, end - line_start + 1};
}

// nlohmann keeps the last of duplicate keys silently; a config with two "rules"
// arrays would lose the first without a word, so reject duplicates while parsing. A
// config is a few levels deep; a document nested thousands deep (valid JSON) would
// overflow the stack of the recursive walks that follow, so it stops here.
class ConfigParseCheck {
public:
    static constexpr int kMaxDepth = 64;

    explicit ConfigParseCheck(std::string origin) : origin_(std::move(origin)) {}

    bool operator()(int depth, json::parse_event_t event, json& parsed) {
        if (depth > kMaxDepth)
            throw input_error(origin_ + ": nested deeper than " + std::to_string(kMaxDepth) +
                              " levels; a config needs about 5");
        if (event == json::parse_event_t::object_start) keys_.emplace_back();
        if (event == json::parse_event_t::object_end) keys_.pop_back();
        if (event == json::parse_event_t::key && !keys_.empty()) {
            const std::string key = parsed.get<std::string>();
            if (!keys_.back().insert(key).second)
                throw input_error(origin_ + ": key '" + key +
                                  "' appears twice in the same object; keep one");
        }
        return true;
    }

private:
    std::string origin_;
    std::vector<std::set<std::string>> keys_;
};

}  // namespace

Config parse_config(const nlohmann::json& document, const std::string& origin) {
    return Parser(origin).parse(document);
}

Config load_config(const std::filesystem::path& path) {
    namespace fs = std::filesystem;
    const std::string origin = path.string();
    std::error_code ec;
    if (!fs::exists(path, ec)) throw input_error(origin + ": no such file");
    if (fs::is_directory(path, ec))
        throw input_error(origin + ": is a directory, not a config file");
    std::ifstream in(path, std::ios::binary);
    const std::string content((std::istreambuf_iterator<char>(in)),
                              std::istreambuf_iterator<char>());
    if (!in.is_open() || in.bad())
        throw input_error(origin + ": cannot read the file (check its permissions)");

    refuse_nul_bytes(content, origin);
    json document;
    try {
        // Comments are allowed: a config is read by people as much as by programs.
        document = json::parse(content, ConfigParseCheck(origin), /*allow_exceptions=*/true,
                               /*ignore_comments=*/true);
    } catch (const json::parse_error& e) {
        const auto [line, column] = line_and_column(content, e.byte);
        throw input_error(origin + ":" + std::to_string(line) + ":" + std::to_string(column) +
                          ": invalid JSON: " + json_error_reason(e));
    } catch (const json::exception& e) {  // a number out of range: no position
        throw input_error(origin + ": invalid JSON: " + json_error_reason(e));
    }
    return parse_config(document, origin);
}

bool glob_match(std::string_view pattern, std::string_view text) {
    // Greedy with one backtrack point: on a mismatch, let the last `*` swallow one more
    // character. Linear in practice, never exponential, unlike naive recursion.
    size_t p = 0, t = 0;
    size_t star = std::string_view::npos, star_text = 0;
    while (t < text.size()) {
        if (p < pattern.size() && (pattern[p] == '?' || pattern[p] == text[t])) {
            ++p;
            ++t;
        } else if (p < pattern.size() && pattern[p] == '*') {
            star = p++;
            star_text = t;
        } else if (star != std::string_view::npos) {
            p = star + 1;
            t = ++star_text;
        } else {
            return false;
        }
    }
    while (p < pattern.size() && pattern[p] == '*') ++p;
    return p == pattern.size();
}

}  // namespace embq
