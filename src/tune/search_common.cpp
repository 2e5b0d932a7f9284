#include "tune/search_common.hpp"

#include <algorithm>
#include <cstdlib>

#include "core/suggest.hpp"
#include "embq/config.hpp"
#include "embq/error.hpp"
#include "embq/format.hpp"
#include "embq/workflow.hpp"

namespace embq {

namespace {

nlohmann::json option_value(const std::string& text) {
    if (text == "true") return true;
    if (text == "false") return false;
    char* end = nullptr;
    const double number = std::strtod(text.c_str(), &end);
    if (!text.empty() && end == text.c_str() + text.size()) return number;
    return text;
}

}  // namespace

bool Candidate::needs_calibration() const {
    return scheme->needs_calibration() || parsed.bias_correction.value_or(false) ||
           needs_input_gram() || parsed.smoothing.has_value();
}

bool Candidate::needs_input_gram() const {
    return parsed.rounding == Rounding::Gptq || parsed.smoothing == kSearchedSmoothing;
}

nlohmann::json Candidate::rule(const std::string& layer) const {
    nlohmann::json r = options;
    r["match"] = layer;
    r["scheme"] = std::string(scheme->name());
    return r;
}

int64_t Candidate::stored_bytes(const Layer& layer) const {
    return scheme->stored_bytes(layer, scheme->resolve(layer, parsed));
}

Candidate parse_candidate(const std::string& spec) {
    Candidate c;
    c.name = spec;
    const std::string name = spec.substr(0, spec.find('/'));
    c.scheme = find_scheme(name);
    if (!c.scheme) {
        const auto valid = scheme_names([](const Scheme& x) { return x.rewrites(); });
        const auto best = closest_match(name, valid);
        throw usage_error("--schemes: unknown scheme '" + name + "'" +
                          (best ? "; did you mean '" + *best + "'?" : "") +
                          " (candidates: " + format_list(valid, valid.size()) + ")");
    }
    if (!c.scheme->rewrites())
        throw usage_error("--schemes: " + name + " keeps a layer as it is; name schemes that quantize");
    for (size_t at = spec.find('/'); at != std::string::npos;) {
        const size_t next = spec.find('/', at + 1);
        const std::string item = spec.substr(at + 1, next == std::string::npos ? next : next - at - 1);
        const size_t eq = item.find('=');
        if (eq == std::string::npos || eq == 0)
            throw usage_error("--schemes " + spec + ": '" + item +
                              "' is not KEY=VALUE (e.g. nf4/rounding=gptq)");
        c.options[item.substr(0, eq)] = option_value(item.substr(eq + 1));
        at = next;
    }
    // Checked as the rule of a config: the same keys, values and messages.
    try {
        const Config config = parse_config({{"rules", {c.rule("*")}}}, "--schemes " + spec);
        c.parsed = config.rules.at(0).choice.options;
    } catch (const Error& e) {
        throw usage_error(e.what());
    }
    return c;
}

std::vector<Candidate> candidate_schemes(const std::vector<std::string>& names) {
    const std::vector<std::string> wanted = names.empty() ? default_candidate_schemes() : names;
    std::vector<Candidate> out;
    for (const auto& spec : wanted) {
        Candidate c = parse_candidate(spec);
        const bool seen = std::any_of(out.begin(), out.end(),
                                      [&](const Candidate& o) { return o.name == c.name; });
        if (!seen) out.push_back(std::move(c));
    }
    return out;
}

std::optional<Calibration> load_search_calibration(const SearchInputs& inputs,
                                                   const std::vector<Candidate>& candidates) {
    if (inputs.calibration_file.empty()) {
        for (const Candidate& c : candidates)
            if (c.needs_calibration())
                throw usage_error(c.name +
                                  " needs calibration: pass --calibration FILE (from 'embq "
                                  "calibrate" + (c.needs_input_gram() ? " --input-gram" : "") +
                                  "')");
        return std::nullopt;
    }
    Calibration calibration =
        load_calibration_for(inputs.calibration_file, inputs.model, inputs.observer);
    for (const Candidate& c : candidates)
        if (c.needs_input_gram() && !calibration.has_input_grams())
            throw usage_error(inputs.calibration_file.string() +
                              " has no input Gram matrices, which " + c.name +
                              " needs; recalibrate with 'embq calibrate --input-gram'");
    return calibration;
}

std::vector<std::string> layers_supporting(const ModelInventory& inventory,
                                           const std::vector<std::string>& layers,
                                           const Scheme& scheme) {
    std::vector<std::string> out;
    for (const auto& path : layers) {
        const Layer* layer = inventory.find(path);
        if (layer && scheme.supports(layer->kind)) out.push_back(path);
    }
    return out;
}

nlohmann::json config_for_layers(const std::vector<std::string>& layers,
                                 const Candidate& candidate) {
    nlohmann::json rules = nlohmann::json::array();
    for (const auto& path : layers) rules.push_back(candidate.rule(path));
    return {{"engine", "auto"}, {"rules", rules}};
}

nlohmann::json single_scheme_config(const ModelInventory& inventory, const Candidate& candidate) {
    std::vector<std::string> all;
    for (const auto& layer : inventory.layers) all.push_back(layer.path);
    return config_for_layers(layers_supporting(inventory, all, *candidate.scheme), candidate);
}

Plan plan_for(const ModelInventory& inventory, const nlohmann::json& config,
              bool have_calibration) {
    PlanOptions options;
    options.have_calibration = have_calibration;
    return plan_and_check_engine(parse_config(config, "<search>"), inventory, options);
}

bool is_agreement_metric(const ResolvedMetric& m) {
    const MetricNeeds n = m.info->needs;
    const std::string& p = m.info->pattern;
    return m.info->higher_is_better &&
           (n == MetricNeeds::Nothing || n == MetricNeeds::RetrievalPairs ||
            n == MetricNeeds::GradedPairs) &&
           p.find("_baseline") == std::string::npos && p.find("_candidate") == std::string::npos;
}

double agreement_loss(const std::string& metric, double value) {
    const bool delta = metric.size() > 6 && metric.compare(metric.size() - 6, 6, "_delta") == 0;
    return (delta ? 0.0 : 1.0) - value;
}

}  // namespace embq
