// `embq compare`: several configs on one model and one data set, side by side. Every config
// is read and planned first: one that cannot be (a typo, a rule for another model) is a
// Config error naming each such config, before anything is embedded. Then the FP32 model
// is embedded once (BaselineEvaluation) and each config quantized and evaluated with the
// same metrics and gates as `embq eval`; one that fails to calibrate, quantize or
// evaluate gets a row saying why, and the others still run.
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
    std::string target;    // --target for every config (QuantizeRequest::target)
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
    // Before each config is planned and quantized: its position (from 1), the count and name.
    std::function<void(size_t index, size_t count, const std::string& name)> config;
    // Before a model embeds the texts (all lists: corpus, queries, pairs): "FP32" or a config.
    std::function<void(const std::string& stage, size_t total)> start;
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
// One self-contained HTML file: the table, size against recall@10 with the frontier, size
// against speed, planned bytes by scheme per config, and the layers planned differently.
std::string compare_report_html(const CompareResult& result);
// JUnit XML: a test suite per config, a test case per gate; a config that did not run is
// one case with an error.
std::string compare_report_junit(const CompareResult& result);

}  // namespace embq
