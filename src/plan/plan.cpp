// The plan: the config resolved against one model's inventory. The precedence
// (kept < default < rules in order) is written down in config.hpp; choose() below is
// its whole implementation.
#include "embq/plan.hpp"
#include "embq/format.hpp"

#include <cstdio>
#include <sstream>

#include <nlohmann/json.hpp>

#include "core/suggest.hpp"
#include "core/text_table.hpp"
#include "embq/error.hpp"

namespace embq {

namespace {

// What chose a layer's scheme, before the scheme resolves its options.
struct Choice {
    std::string scheme = "fp32";
    SchemeOptions options;
    std::string chosen_by = "kept: no rule or default";
};

std::string rule_label(const Rule& rule, size_t position) {
    return "rule " + std::to_string(position + 1) + " (" + rule.match + ")";
}

// "a linear layer", "an embedding layer".
std::string a_kind_layer(LayerKind kind) {
    const std::string name = to_string(kind);
    return (name.find_first_of("aeiou") == 0 ? "an " : "a ") + name + " layer";
}

std::string rule_key(size_t position) { return "rules[" + std::to_string(position) + "]"; }

const Scheme& scheme_named(const Config& config, const std::string& name,
                           const std::string& chosen_by) {
    // parse_config already rejects unknown names; this guards hand-built configs.
    if (const Scheme* scheme = find_scheme(name)) return *scheme;
    throw config_error(config.origin + ": " + chosen_by + ": unknown scheme '" + name + "'");
}

// A rule applies to every layer it matches, so a rule without a kind filter whose
// scheme cannot handle one of them is a mistake even when a later rule overrides it:
// the user should say which kind the rule means.
void check_rule_applies(const Config& config, const Rule& rule, size_t position,
                        const Layer& layer) {
    const Scheme& scheme = scheme_named(config, rule.choice.scheme, rule_label(rule, position));
    if (scheme.supports(layer.kind)) return;
    const std::string kinds = supported_kinds(scheme);
    throw config_error(config.origin + ": " + rule_label(rule, position) + " matches " +
                       layer.path + ", " + a_kind_layer(layer.kind) + ", but scheme '" +
                       rule.choice.scheme + "' applies only to " + kinds +
                       " layers; add \"kind\": \"" + kinds.substr(0, kinds.find(',')) + "\" to " +
                       rule_key(position) + " or narrow its match");
}

bool rule_matches(const Rule& rule, const Layer& layer) {
    return (!rule.kind || *rule.kind == layer.kind) && glob_match(rule.match, layer.path);
}

// The precedence chain: the fp32 fallback, then the default for the layer's kind, then
// every matching rule in order, each overriding what came before.
Choice choose(const Config& config, const Layer& layer, std::vector<int>& rule_hits) {
    Choice choice;
    if (auto it = config.defaults.find(layer.kind); it != config.defaults.end())
        choice = {it->second.scheme, it->second.options,
                  std::string("default for ") + to_string(layer.kind)};
    for (size_t i = 0; i < config.rules.size(); ++i) {
        const Rule& rule = config.rules[i];
        if (!rule_matches(rule, layer)) continue;
        ++rule_hits[i];
        check_rule_applies(config, rule, i, layer);
        choice = {rule.choice.scheme, rule.choice.options, rule_label(rule, i)};
    }
    return choice;
}

// An option only some schemes take, set on a layer whose scheme does not: "bias_correction
// applies to weight-quantized linear layers (int8_dynamic, ...), not fp16 on pooler".
Error option_not_taken(const Config& config, const Choice& choice, const Layer& layer,
                       const std::string& option, const std::string& applies_to,
                       const std::function<bool(const Scheme&)>& takes_it) {
    return config_error(config.origin + ": " + choice.chosen_by + ": " + option + " applies to " +
                        applies_to + " (" + format_alternatives(scheme_names(takes_it)) +
                        "), not " + choice.scheme + " on " + layer.path);
}

LayerPlan plan_layer(const Config& config, const Layer& layer, const Choice& choice) {
    LayerPlan plan;
    plan.layer = layer;
    plan.chosen_by = choice.chosen_by;
    plan.scheme = &scheme_named(config, choice.scheme, choice.chosen_by);
    // Defaults are checked against their kind by parse_config; this guards hand-built configs.
    if (!plan.scheme->supports(layer.kind))
        throw config_error(config.origin + ": " + choice.chosen_by + ": scheme '" + choice.scheme +
                           "' does not apply to " + layer.path + ", " + a_kind_layer(layer.kind));
    try {
        plan.options = plan.scheme->resolve(layer, choice.options);
    } catch (const Error& e) {
        // The scheme names the layer; we add where in the config the choice was made.
        throw config_error(config.origin + ": " + choice.chosen_by + ": " + e.what());
    }
    if (choice.options.bias_correction.value_or(false)) {
        // Only schemes that quantize a linear layer's weight shift its output.
        if (layer.kind != LayerKind::Linear || !plan.scheme->quantizes_linear_weight())
            throw option_not_taken(config, choice, layer, "bias_correction",
                                   "weight-quantized linear layers",
                                   [](const Scheme& s) { return s.quantizes_linear_weight(); });
        plan.options.bias_correction = true;
    }
    if (choice.options.rounding) {
        if (layer.kind != LayerKind::Linear || !plan.scheme->quantizes_linear_weight())
            throw option_not_taken(config, choice, layer, "rounding",
                                   "weight-quantized linear layers",
                                   [](const Scheme& s) { return s.quantizes_linear_weight(); });
        plan.options.rounding = *choice.options.rounding;
    }
    if (choice.options.smoothing) {
        if (!plan.scheme->smooths_activations())
            throw option_not_taken(config, choice, layer, "smoothing", "int8 linear layers",
                                   [](const Scheme& s) { return s.smooths_activations(); });
        plan.options.smoothing = *choice.options.smoothing;
    }
    if (choice.options.activation_range) {
        if (!plan.scheme->picks_activation_range())
            throw option_not_taken(config, choice, layer, "activation_range",
                                   "schemes that quantize activations per call",
                                   [](const Scheme& s) { return s.picks_activation_range(); });
        plan.options.activation_range = *choice.options.activation_range;
    }
    plan.bytes_after = plan.scheme->stored_bytes(layer, plan.options);
    return plan;
}

bool has_wildcard(const std::string& glob) { return glob.find_first_of("*?") != std::string::npos; }

// What a rule without a wildcard that matches nothing was likely meant to be: a prefix of
// layer paths ("encoder.layer.3" -> "encoder.layer.3.*"), a word inside them
// ("attention" -> "*attention*"), else the closest path (a typo).
std::optional<std::string> suggested_match(const std::string& match,
                                           const std::vector<std::string>& paths) {
    const auto matching = [&](const std::string& glob) {
        size_t n = 0;
        for (const auto& p : paths) n += glob_match(glob, p);
        return n;
    };
    const auto with_count = [](const std::string& glob, size_t n) {
        return glob + "' (" + std::to_string(n) + (n == 1 ? " layer" : " layers") + ")";
    };
    std::string prefix = match;
    while (!prefix.empty() && prefix.back() == '.') prefix.pop_back();
    if (!prefix.empty()) {
        if (const size_t n = matching(prefix + ".*")) return with_count(prefix + ".*", n);
        if (const size_t n = matching("*" + match + "*")) return with_count("*" + match + "*", n);
    }
    if (const auto near = closest_match(match, paths)) return *near + "'";
    return std::nullopt;
}

// A rule that matches nothing is usually a typo in a layer path: an error by default,
// since silently quantizing a layer the user meant to keep costs accuracy. Every such rule
// is named in the one error.
void check_unmatched_rules(const Config& config, const ModelInventory& inventory,
                           const std::vector<int>& rule_hits, bool allowed, Plan& plan) {
    std::vector<std::string> problems;
    for (size_t i = 0; i < config.rules.size(); ++i) {
        if (rule_hits[i] > 0) continue;
        const Rule& rule = config.rules[i];
        std::string what = rule_key(i) + ".match '" + rule.match + "' matches no " +
                           (rule.kind ? std::string(to_string(*rule.kind)) + " " : "") + "layer";
        if (allowed) {
            plan.warnings.push_back(config.origin + ": " + what + "; the rule is ignored");
            continue;
        }
        std::vector<std::string> paths;
        for (const auto& layer : inventory.layers)
            if (!rule.kind || *rule.kind == layer.kind) paths.push_back(layer.path);
        const auto near =
            has_wildcard(rule.match) ? std::nullopt : suggested_match(rule.match, paths);
        if (near) what += " (did you mean '" + *near + "?)";
        problems.push_back(what);
    }
    if (problems.empty()) return;
    std::string all;
    for (const auto& p : problems) all += (all.empty() ? "" : "; ") + p;
    throw config_error(config.origin + ": " + all +
                       "; 'embq inspect MODEL' lists the layer paths; pass "
                       "--allow-unmatched-rules to make this a warning");
}

// The option that makes a layer need calibration when its scheme alone does not.
std::string calibrated_option(const ResolvedOptions& o) {
    if (o.bias_correction) return "bias_correction";
    if (o.rounding == Rounding::Gptq) return "rounding gptq";
    return "smoothing";  // an alpha, or "auto"
}

void check_calibration(const Config& config, const Plan& plan, const PlanOptions& options) {
    if (options.have_calibration) return;
    for (const auto& first : plan.layers) {
        if (!first.needs_calibration()) continue;
        std::vector<std::string> layers;
        for (const auto& lp : plan.layers)
            if (lp.needs_calibration()) layers.push_back(lp.layer.path);
        const std::string what = first.scheme->needs_calibration()
                                     ? "scheme '" + std::string(first.scheme->name()) + "'"
                                     : calibrated_option(first.options);
        throw config_error(
            config.origin + ": " + what + " (" + first.chosen_by + ", layers " +
            format_list(layers) +
            ") needs calibration: pass --calibration FILE (written by "
            "'embq calibrate') or add \"calibration\": {\"data\": ...} to the config");
    }
}

std::string options_text(const LayerPlan& lp) {
    if (!lp.scheme->takes_options()) return "-";
    std::string text =
        lp.options.granularity.to_string() + (lp.options.symmetric ? " sym" : " asym");
    if (lp.options.reduce_range) text += " reduce_range";
    if (lp.options.bias_correction) text += " bias_correction";
    if (lp.options.rounding == Rounding::Gptq) text += " gptq";
    if (lp.options.smoothing == kSearchedSmoothing) text += " smooth:auto";
    if (lp.options.smoothing > 0) text += " smooth:" + format_fixed(lp.options.smoothing, 2);
    if (lp.scheme->picks_activation_range())
        text += std::string(" range:") + to_string(lp.options.activation_range);
    return text;
}

int64_t kept_bytes(const Plan& plan) {
    int64_t bytes = 0;
    for (const auto& k : plan.kept) bytes += k.bytes;
    return bytes;
}

// Per scheme, in registry order: how many layers and their bytes before and after.
std::string format_scheme_totals(const Plan& plan) {
    TextTable table({"scheme", "layers", "before", "after"});
    for (const Scheme* scheme : all_schemes()) {
        int count = 0;
        int64_t before = 0, after = 0;
        for (const auto& lp : plan.layers) {
            if (lp.scheme != scheme) continue;
            ++count;
            before += lp.layer.bytes;
            after += lp.bytes_after;
        }
        if (count)
            table.add_row({std::string(scheme->name()), std::to_string(count), format_bytes(before),
                           format_bytes(after)});
    }
    const int64_t kept = kept_bytes(plan);
    table.add_row({"kept (not quantizable)", std::to_string(plan.kept.size()), format_bytes(kept),
                   format_bytes(kept)});
    table.add_row({"total", std::to_string(plan.layers.size() + plan.kept.size()),
                   format_bytes(plan.bytes_before()), format_bytes(plan.bytes_after())});
    return table.render();
}

}  // namespace

bool LayerPlan::needs_calibration() const {
    return scheme->needs_calibration() || options.bias_correction || needs_input_gram() ||
           options.smoothing != 0;
}

bool LayerPlan::needs_input_gram() const {
    return options.rounding == Rounding::Gptq || options.smoothing == kSearchedSmoothing;
}

bool Plan::needs_calibration() const {
    for (const auto& lp : layers)
        if (lp.needs_calibration()) return true;
    return false;
}

bool Plan::needs_input_gram() const {
    for (const auto& lp : layers)
        if (lp.needs_input_gram()) return true;
    return false;
}

int64_t Plan::bytes_before() const {
    int64_t bytes = kept_bytes(*this);
    for (const auto& lp : layers) bytes += lp.layer.bytes;
    return bytes;
}

int64_t Plan::bytes_after() const {
    int64_t bytes = kept_bytes(*this);
    for (const auto& lp : layers) bytes += lp.bytes_after;
    return bytes;
}

const LayerPlan* Plan::find(const std::string& path) const {
    for (const auto& lp : layers)
        if (lp.layer.path == path) return &lp;
    return nullptr;
}

Plan make_plan(const Config& config, const ModelInventory& inventory, const PlanOptions& options) {
    Plan plan;
    plan.engine = config.engine;
    plan.target = config.target;
    plan.kept = inventory.kept;
    std::vector<int> rule_hits(config.rules.size(), 0);
    for (const auto& layer : inventory.layers)
        plan.layers.push_back(plan_layer(config, layer, choose(config, layer, rule_hits)));
    check_unmatched_rules(config, inventory, rule_hits,
                          config.allow_unmatched_rules || options.allow_unmatched_rules, plan);
    check_calibration(config, plan, options);
    return plan;
}

std::string scheme_text(const LayerPlan& layer) {
    const std::string options = options_text(layer);
    return std::string(layer.scheme->name()) + (options == "-" ? "" : " " + options);
}

std::string format_plan(const Plan& plan) {
    TextTable table({"layer", "kind", "scheme", "options", "chosen by", "before", "after"});
    for (const auto& lp : plan.layers) {
        table.add_row({lp.layer.path, to_string(lp.layer.kind), std::string(lp.scheme->name()),
                       options_text(lp), lp.chosen_by, format_bytes(lp.layer.bytes),
                       format_bytes(lp.bytes_after)});
    }
    std::ostringstream out;
    out << table.render() << "\n" << format_scheme_totals(plan);
    out << "\nsize: " << format_bytes(plan.bytes_before()) << " -> "
        << format_bytes(plan.bytes_after()) << " ("
        << format_percent(plan.bytes_after(), plan.bytes_before()) << " of the original)\n";
    for (const auto& w : plan.warnings) out << "warning: " << w << "\n";
    return out.str();
}

nlohmann::json plan_to_json(const Plan& plan) {
    nlohmann::json layers = nlohmann::json::array();
    for (const auto& lp : plan.layers) {
        // Options a scheme does not take are null, not placeholder values.
        const bool options = lp.scheme->takes_options();
        layers.push_back(
            {{"path", lp.layer.path},
             {"kind", to_string(lp.layer.kind)},
             {"scheme", std::string(lp.scheme->name())},
             {"granularity",
              options ? nlohmann::json(lp.options.granularity.to_string()) : nlohmann::json()},
             {"symmetric", options ? nlohmann::json(lp.options.symmetric) : nlohmann::json()},
             {"reduce_range", options ? nlohmann::json(lp.options.reduce_range) : nlohmann::json()},
             {"bias_correction", lp.options.bias_correction},
             {"rounding", lp.layer.kind == LayerKind::Linear && lp.scheme->quantizes_linear_weight()
                              ? nlohmann::json(to_string(lp.options.rounding))
                              : nlohmann::json()},
             {"smoothing", lp.options.smoothing == kSearchedSmoothing ? nlohmann::json("auto")
                           : lp.options.smoothing > 0 ? nlohmann::json(lp.options.smoothing)
                                                      : nlohmann::json()},
             {"activation_range", lp.scheme->picks_activation_range()
                                      ? nlohmann::json(to_string(lp.options.activation_range))
                                      : nlohmann::json()},
             {"chosen_by", lp.chosen_by},
             {"bytes_before", lp.layer.bytes},
             {"bytes_after", lp.bytes_after}});
    }
    nlohmann::json kept = nlohmann::json::array();
    for (const auto& k : plan.kept) {
        kept.push_back({{"path", k.path},
                        {"type_name", k.type_name},
                        {"params", k.params},
                        {"bytes", k.bytes}});
    }
    const int64_t before = plan.bytes_before(), after = plan.bytes_after();
    return {{"engine", plan.engine},
            {"target", plan.target},
            {"layers", layers},
            {"kept", kept},
            {"bytes_before", before},
            {"bytes_after", after},
            {"size_ratio", before ? static_cast<double>(after) / before : 1.0},
            {"warnings", plan.warnings}};
}

}  // namespace embq
