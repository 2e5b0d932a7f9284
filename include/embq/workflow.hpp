// The plan-and-calibrate workflow that `embq plan`, `embq quantize` and `embq compare`
// (and every later command that quantizes) share, so each does it the same way:
//
//   1. read the config (cheap, and the likelier to be wrong), load the model;
//   2. plan; a scheme that needs calibration is allowed when a calibration file was given
//      or the config carries a "calibration" block;
//   3. resolve the quantized engine once and check every scheme of the plan runs on it;
//   4. when the plan needs calibration (Plan::needs_calibration), take it from the file,
//      else run the config's inline block;
//   5. quantize_model (quantize.hpp) with that plan and calibration.
#pragma once

#include <filesystem>
#include <functional>
#include <optional>
#include <string>
#include <vector>

#include "embq/calibration.hpp"
#include "embq/config.hpp"
#include "embq/model.hpp"
#include "embq/model_options.hpp"
#include "embq/plan.hpp"
#include "embq/quantize.hpp"

namespace embq {

struct QuantizeRequest {
    std::filesystem::path model;   // FP32 TorchScript
    std::filesystem::path config;  // quantization config (JSON)
    bool allow_unmatched_rules = false;
    // A model embq already quantized is refused (its quantized layers would be planned
    // as what they now are, far from the FP32 source) unless this is set.
    bool requantize = false;
    // --calibration: a file from `embq calibrate`, used instead of any inline block.
    std::filesystem::path calibration_file;
    // --observer: which of the file's observers to take ranges from, or the observer the
    // config's inline calibration runs. Empty: the file's first, or the config's.
    std::string observer;
    // How the inline calibration reads its text (card, tokenizer, max length).
    EmbeddingModelOptions calibration_model;
    // The one-liner (`--scheme int8_dynamic --keep-fp32 'encoder.layer.11.*'`), with or instead
    // of `config`: `scheme` becomes the default of every layer kind it supports, and each
    // `keep_fp32` glob a rule, after the config's own, that keeps its layers fp32.
    std::string scheme;
    std::vector<std::string> keep_fp32;
    // --target: where the output is deployed (hardware.hpp), in place of the config's
    // "target"; empty: the config's, else native.
    std::string target;
};

struct PlannedModel {
    LoadedModel model;
    Config config;
    Plan plan;  // engine resolved and checked (steps 1-3)
};

// Step 1: `config` read, with `scheme` and `keep_fp32` applied to the document, so the config
// stored in the output is the one that ran. Neither a config nor a scheme, or an unknown
// scheme, is a Usage error.
Config load_request_config(const QuantizeRequest& request);

// Steps 1-3. Config errors name the config, the rule and the layer.
PlannedModel load_and_plan(const QuantizeRequest& request);

// Steps 2-3 for a config and model already read (compare checks every config first).
Plan plan_request(const QuantizeRequest& request, const Config& config, const LoadedModel& model);

// Steps 2-3 for a config already in memory (the speed check's one-layer models, tune's
// trials): make_plan, then the engine resolved and checked.
Plan plan_and_check_engine(const Config& config, const ModelInventory& inventory,
                           const PlanOptions& options);

// Reads a calibration file for the model at `model`: an Input error naming both SHA-256s
// when the file calibrated another model. Selects `observer` when it is not empty.
Calibration load_calibration_for(const std::filesystem::path& file,
                                 const std::filesystem::path& model, const std::string& observer);

// Step 4: the calibration `planned.plan` needs, or nullopt when it needs none: the file
// (load_calibration_for), else the config's inline block, run with the input Gram
// matrices when a layer's rounding needs them. A file without them, for such a plan, is
// a Usage error that says how to record them.
// `on_warning` receives the inline calibration's warnings (ranges still moving, ...).
std::optional<Calibration> obtain_calibration(
    const QuantizeRequest& request, const PlannedModel& planned,
    const std::function<void(const std::string&)>& on_warning = {});

}  // namespace embq
