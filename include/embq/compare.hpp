// `embq compare`: several configs on one model and one data set, side by side. The FP32
// model is embedded once (BaselineEvaluation); each config is quantized and evaluated with
// the same metrics and gates as `embq eval`. A config that cannot be planned, quantized or
// evaluated gets a row saying why; the others still run.
#pragma once

#include <filesystem>
#include <functional>
#include <optional>
#include <string>
#include <vector>

#include <nlohmann/json_fwd.hpp>

#include "embq/eval.hpp"
#include "embq/gates.hpp"
#include "embq/plan.hpp"

namespace embq {

struct CompareInputs {
    std::filesystem::path model;                 // FP32 TorchScript
    std::vector<std::filesystem::path> configs;  // one row each, in this order
    EvalInputs eval;  // corpus, queries, pairs, card, batch size (baseline/candidate unused)
    std::filesystem::path keep_dir;  // empty: quantized models go to a temporary directory
    bool allow_unmatched_rules = false;
    // For configs whose plan needs calibration (int8_static, bias_correction): this file,
    // shared by every config, else each config's own "calibration" block is run (on
    // eval.model's card and tokenizer), as `embq quantize` does (workflow.hpp).
    std::filesystem::path calibration_file;
    std::string observer;  // the file's observer to use, or the one an inline block runs
};

struct CompareRow {
    std::string name;  // the config's file name without .json
    std::filesystem::path config;
    std::optional<Plan> plan;  // when the config planned
    std::string error;         // why the row has no result; empty when it ran
    std::optional<EvalResult> result;
    std::vector<GateVerdict> verdicts;
    bool passed() const;  // ran and every gate passed
};

struct CompareResult {
    std::vector<CompareRow> rows;
    uintmax_t baseline_bytes = 0;
    bool all_passed() const;
};

struct CompareProgress {
    std::function<void(const std::string& stage, size_t total)> start;  // "FP32", or a config name
    std::function<void(size_t done)> update;
};

CompareResult run_compare(const CompareInputs& inputs, const EvalOptions& options,
                          const std::vector<Gate>& gates, const CompareProgress& progress = {});

// Layers whose scheme differs between two plans, as "layer: A-scheme -> B-scheme" rows.
struct LayerDifference {
    std::string layer, first, second;
};
std::vector<LayerDifference> plan_differences(const Plan& first, const Plan& second);

// One row per config, the best value of each column marked with '*'; then, for each config
// after the first that planned, the layers it plans differently from that first one.
std::string compare_report_text(const CompareResult& result);
std::string compare_report_markdown(const CompareResult& result);
nlohmann::json compare_report_json(const CompareInputs& inputs, const CompareResult& result);

}  // namespace embq
