// `embq sensitivity`: how much each layer (and each group of layers) costs in agreement
// with FP32 when it alone is quantized. Every entry quantizes only its layers with one
// candidate scheme, everything else FP32, and is evaluated against the FP32 model on the
// same texts (embedded once) with eval's metrics, with bootstrap intervals over queries
// and items so that signal can be told from noise. `embq tune` starts from this table.
#pragma once

#include <cstdint>
#include <filesystem>
#include <functional>
#include <optional>
#include <string>
#include <vector>

#include <nlohmann/json_fwd.hpp>

#include "embq/eval.hpp"
#include "embq/metrics.hpp"
#include "embq/speed_check.hpp"

namespace embq {

// What the commands that search configs (sensitivity, tune) share: the model, the texts
// and how to read them, the candidate schemes and the calibration some schemes need.
struct SearchInputs {
    std::filesystem::path model;  // FP32 TorchScript
    EvalInputs eval;              // corpus (and pairs) to measure on; baseline/candidate unused
    // Candidate schemes, each tried on the layers of the kinds it supports. Empty: the
    // defaults of default_candidate_schemes().
    std::vector<std::string> schemes;
    std::filesystem::path calibration_file;  // for int8_static and bias_correction
    std::string observer;                    // the file's observer to use
};

// int8_dynamic and int4_weight for linears, int8_rowwise and int4_rowwise for tables:
// the schemes that make a model smaller without calibration. fp16 is left out because it
// keeps agreement (cosine 1.0000 on every model measured), so measuring it wastes trials.
std::vector<std::string> default_candidate_schemes();

// Which layers an entry quantizes.
struct SensitivityTarget {
    enum class Kind { Layer, Block, Role, LayerKind, Pattern };
    Kind kind = Kind::Layer;
    std::string name;  // the layer path, "encoder.layer.0", "encoder.layer.*.output.dense",
                       // "linear", or the pattern
    std::vector<std::string> layers;
};
const char* to_string(SensitivityTarget::Kind kind) noexcept;  // "layer", "block", ...

// Groups of layers besides each layer alone, because errors add up.
struct GroupOptions {
    bool blocks = true;   // layers sharing a path prefix up to a number: encoder.layer.0.*
    bool roles = false;   // the same layer in every block: encoder.layer.*.output.dense
    bool kinds = true;    // every layer of a kind
    std::vector<std::string> patterns;  // globs (config syntax), one group each
};
std::vector<SensitivityTarget> sensitivity_targets(const ModelInventory& inventory,
                                                   const GroupOptions& groups);

struct SensitivityOptions {
    int64_t samples = 1000;              // texts of the corpus measured (0: all)
    std::string rank_by = "recall@10";   // a catalogue metric; entries ranked by its loss
    GroupOptions groups;
    int bootstrap_resamples = 1000;      // 0: no intervals
    // Metrics measured besides rank_by (their K computed, their inputs checked up front).
    std::vector<std::string> also_measure;
    std::optional<SpeedCheckOptions> speed;  // also time each layer under each scheme
};

struct SensitivityEntry {
    SensitivityTarget target;
    std::string scheme;
    std::vector<std::string> layers;  // the target's layers the scheme applies to
    int64_t bytes_before = 0, bytes_after = 0;  // those layers, FP32 and as stored by the scheme
    MetricValues metrics;
    // 95% bootstrap intervals of the metrics computed from per-item values (recall@K and
    // eps_recall@K over queries, cosine.mean and cosine.pN over items).
    std::vector<std::pair<std::string, Interval>> intervals;
    std::vector<double> speedup;  // per SpeedCheckOptions batch size; empty when not timed
    std::string error;            // why the entry has no result
    double seconds = 0;

    std::optional<Interval> interval(const std::string& metric) const;
    int64_t bytes_saved() const { return bytes_before - bytes_after; }
};

struct SensitivityResult {
    SensitivityOptions options;
    EvalOptions eval_options;  // as run
    std::vector<SensitivityEntry> entries;  // layers, then groups; each part ranked
    int64_t texts = 0;                      // corpus texts measured
    uintmax_t fp32_bytes = 0;
    double baseline_seconds = 0, seconds = 0;
    // How far from FP32 the entry is on rank_by (0: no loss; larger: more sensitive).
    double loss(const SensitivityEntry& entry) const;
};

struct SearchProgress {
    std::function<void(const std::string& stage, size_t total)> start;
    std::function<void(size_t done)> update;
};

// Runs every (target, candidate scheme) entry. Usage errors (unknown scheme, a rank
// metric the data cannot give) come before the FP32 model is embedded.
SensitivityResult run_sensitivity(const SearchInputs& inputs, const SensitivityOptions& options,
                                  const EvalOptions& eval_options,
                                  const SearchProgress& progress = {});

// A metric's 95% bootstrap interval from an evaluation's per-item values, when it has them.
std::optional<Interval> metric_interval(const EvalResult& result, const std::string& metric,
                                        uint64_t seed, int resamples);

// Ranked tables (layers, then groups), and the layers to quantize first: the most bytes
// saved for the least loss.
std::string sensitivity_report_text(const SensitivityResult& result);
std::string sensitivity_report_markdown(const SensitivityResult& result);
// One self-contained page: the loss of each layer and group as bars, the tables.
std::string sensitivity_report_html(const SensitivityResult& result);
nlohmann::json sensitivity_report_json(const SearchInputs& inputs, const SensitivityResult& result);

}  // namespace embq
