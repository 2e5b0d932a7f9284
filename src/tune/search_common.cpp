#include "tune/search_common.hpp"

#include <algorithm>

#include "core/suggest.hpp"
#include "embq/config.hpp"
#include "embq/error.hpp"
#include "embq/format.hpp"
#include "embq/workflow.hpp"

namespace embq {

std::vector<const Scheme*> candidate_schemes(const std::vector<std::string>& names) {
    const std::vector<std::string> wanted = names.empty() ? default_candidate_schemes() : names;
    std::vector<const Scheme*> out;
    for (const auto& name : wanted) {
        const Scheme* s = find_scheme(name);
        if (!s) {
            const auto valid = scheme_names([](const Scheme& x) { return x.rewrites(); });
            const auto best = closest_match(name, valid);
            throw usage_error("--schemes: unknown scheme '" + name + "'" +
                              (best ? "; did you mean '" + *best + "'?" : "") +
                              " (candidates: " + format_list(valid, valid.size()) + ")");
        }
        if (!s->rewrites())
            throw usage_error("--schemes: " + name +
                              " keeps a layer as it is; name schemes that quantize");
        if (std::find(out.begin(), out.end(), s) == out.end()) out.push_back(s);
    }
    return out;
}

std::optional<Calibration> load_search_calibration(const SearchInputs& inputs,
                                                   const std::vector<const Scheme*>& schemes) {
    if (inputs.calibration_file.empty()) {
        for (const Scheme* s : schemes)
            if (s->needs_calibration())
                throw usage_error(std::string(s->name()) +
                                  " needs calibration: pass --calibration FILE (from 'embq "
                                  "calibrate')");
        return std::nullopt;
    }
    return load_calibration_for(inputs.calibration_file, inputs.model, inputs.observer);
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
                                 const std::string& scheme) {
    nlohmann::json rules = nlohmann::json::array();
    for (const auto& path : layers) rules.push_back({{"match", path}, {"scheme", scheme}});
    return {{"engine", "auto"}, {"rules", rules}};
}

nlohmann::json single_scheme_config(const ModelInventory& inventory, const Scheme& scheme) {
    std::vector<std::string> all;
    for (const auto& layer : inventory.layers) all.push_back(layer.path);
    return config_for_layers(layers_supporting(inventory, all, scheme), std::string(scheme.name()));
}

Plan plan_for(const ModelInventory& inventory, const nlohmann::json& config,
              bool have_calibration) {
    PlanOptions options;
    options.have_calibration = have_calibration;
    return plan_and_check_engine(parse_config(config, "<search>"), inventory, options);
}

int64_t stored_bytes_with_defaults(const Layer& layer, const Scheme& scheme) {
    return scheme.stored_bytes(layer, scheme.resolve(layer, {}));
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
