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

// The schemes named (default_candidate_schemes() when none), each checked: unknown names
// and schemes that do not change a layer (fp32) are Usage errors.
std::vector<const Scheme*> candidate_schemes(const std::vector<std::string>& names);

// The calibration file when one was given; a Usage error when a candidate needs
// calibration and none was.
std::optional<Calibration> load_search_calibration(const SearchInputs& inputs,
                                                   const std::vector<const Scheme*>& schemes);

// The paths of `layers` whose kind `scheme` supports, in the given order.
std::vector<std::string> layers_supporting(const ModelInventory& inventory,
                                           const std::vector<std::string>& layers,
                                           const Scheme& scheme);

// A config with one exact rule per layer: everything else stays FP32.
nlohmann::json config_for_layers(const std::vector<std::string>& layers, const std::string& scheme);
// Every layer the scheme supports on it.
nlohmann::json single_scheme_config(const ModelInventory& inventory, const Scheme& scheme);
// The plan of `config` with its engine resolved and checked.
Plan plan_for(const ModelInventory& inventory, const nlohmann::json& config, bool have_calibration);

// Bytes `layer` takes stored by `scheme` with its default options.
int64_t stored_bytes_with_defaults(const Layer& layer, const Scheme& scheme);

// Whether a metric measures agreement with FP32 (recall@K, cosine.p5, hit@K_delta, ...):
// higher is better and FP32 against itself scores best. Not sizes, speeds or one model's
// own scores.
bool is_agreement_metric(const ResolvedMetric& metric);

// How far an agreement metric's value is from FP32 against itself (1 for recall and
// cosine, 0 for the *_delta metrics): 0 is no loss.
double agreement_loss(const std::string& metric, double value);

}  // namespace embq
