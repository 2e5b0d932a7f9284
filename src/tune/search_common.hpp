// What `embq sensitivity` and `embq tune` share: candidate schemes, configs written for a
// set of layers, the calibration the candidates need, and how far a metric is from FP32.
// Internal to libembq.
#pragma once

#include <optional>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "embq/calibration.hpp"
#include "embq/layers.hpp"
#include "embq/metric_catalogue.hpp"
#include "embq/plan.hpp"
#include "embq/scheme.hpp"
#include "embq/sensitivity.hpp"

namespace embq {

// What a layer may be given: a scheme with the options its rule sets, named as on the
// command line: "int8_dynamic", "nf4/rounding=gptq",
// "int8_static/smoothing=0.5/rounding=gptq", "int4_rowwise/granularity=group:32".
struct Candidate {
    std::string name;
    const Scheme* scheme = nullptr;
    nlohmann::json options = nlohmann::json::object();  // rule keys besides match and scheme
    SchemeOptions parsed;                                // the same, as the config reads them

    // Its scheme or its options need calibration (int8_static, bias_correction, gptq, ...).
    bool needs_calibration() const;
    bool needs_input_gram() const;  // rounding gptq
    // The rule that puts `layer` on this candidate.
    nlohmann::json rule(const std::string& layer) const;
    // Bytes `layer` takes stored this way; a Config error when the options do not fit it.
    int64_t stored_bytes(const Layer& layer) const;
};

// Parses one "SCHEME[/KEY=VALUE]..." (values: true, false, numbers, else strings), checked
// as a config rule would be; Usage errors name the spec.
Candidate parse_candidate(const std::string& spec);

// The candidates named (default_candidate_schemes() when none), each checked: unknown names
// and schemes that do not change a layer (fp32) are Usage errors; duplicates are dropped.
std::vector<Candidate> candidate_schemes(const std::vector<std::string>& names);

// The calibration file when one was given; a Usage error when a candidate needs
// calibration (or GPTQ's Gram matrices) and none was.
std::optional<Calibration> load_search_calibration(const SearchInputs& inputs,
                                                   const std::vector<Candidate>& candidates);

// The paths of `layers` whose kind `scheme` supports, in the given order.
std::vector<std::string> layers_supporting(const ModelInventory& inventory,
                                           const std::vector<std::string>& layers,
                                           const Scheme& scheme);

// A config with one exact rule per layer: everything else stays FP32.
nlohmann::json config_for_layers(const std::vector<std::string>& layers,
                                 const Candidate& candidate);
// Every layer the candidate's scheme supports on it.
nlohmann::json single_scheme_config(const ModelInventory& inventory, const Candidate& candidate);
// The plan of `config` with its engine resolved and checked.
Plan plan_for(const ModelInventory& inventory, const nlohmann::json& config, bool have_calibration);

// Whether a metric measures agreement with FP32 (recall@K, cosine.p5, hit@K_delta, ...):
// higher is better and FP32 against itself scores best. Not sizes, speeds or one model's
// own scores.
bool is_agreement_metric(const ResolvedMetric& metric);

// How far an agreement metric's value is from FP32 against itself (1 for recall and
// cosine, 0 for the *_delta metrics): 0 is no loss.
double agreement_loss(const std::string& metric, double value);

}  // namespace embq
