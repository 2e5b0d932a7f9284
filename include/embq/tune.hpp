// `embq tune`: the smallest (or fastest) per-layer config that passes every gate.
//
// 1. Sensitivity (sensitivity.hpp) on a subset of the search texts: each layer alone under
//    each candidate scheme, so every layer gets a ladder of choices (smallest first, fp16
//    and fp32 last), each with its measured loss on every gate's metric.
// 2. Predict: choose for each layer the rung that minimises the objective (bytes, or the
//    time the speed check predicts) while the predicted loss stays within a budget lambda.
//    The prediction adds the layers' error energies (1 - mean cosine of a layer's trial,
//    which adds across layers where strict recall does not) times each gate's loss per
//    unit of energy (a least-squares fit over the trials), as a share of the gate's slack
//    (1 - 0.97 for recall@10 >= 0.97).
// 3. Verify end to end (single-layer losses do not add exactly) on the search texts and
//    search lambda: double it while configs pass, halve it while they fail, bisect between.
// 4. Refine the best passing config: move single layers one rung smaller, cheapest
//    predicted loss first, keeping each move that still passes (moves predicted to lose
//    more than twice the smallest failing budget are skipped).
// 5. Report the chosen config on the held-out texts, which the search never saw.
// Every verified config joins a size/quality frontier; the log says what each step tried
// and why the search stopped.
#pragma once

#include <cstdint>
#include <filesystem>
#include <optional>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "embq/eval.hpp"
#include "embq/gates.hpp"
#include "embq/sensitivity.hpp"

namespace embq {

enum class TuneObjective { Size, Speed };
const char* to_string(TuneObjective objective) noexcept;  // "size", "speed"

struct TuneOptions {
    std::vector<Gate> gates;  // at least one on an agreement metric (recall@10, cosine.p5, ...)
    TuneObjective objective = TuneObjective::Size;
    std::optional<double> max_size;   // size_ratio bound; configs above it never pass
    int max_evals = 12;               // end-to-end verifications on the search texts
    double time_budget_seconds = 0;   // 0: no limit; checked between trials
    int64_t sensitivity_samples = 1000;  // search texts the sensitivity stage measures on
    // Search texts each verification uses, and held-out texts the result is measured on
    // (recall@K depends on the corpus size, so both parts are measured at one size). 0: all.
    int64_t search_samples = 0;
    SpeedCheckOptions speed;  // objective speed: the batch sizes and tokens timed
};

struct TuneInputs {
    SearchInputs search;  // search.eval: the search texts (and pairs)
    EvalInputs holdout;   // the held-out texts; the same files with another selection, or others
};

// One layer's choice in a config, with the evidence for it.
struct LayerChoice {
    std::string layer, scheme;
    int64_t bytes = 0;
    double predicted_loss = 0;  // share of the gates' slack its error energy predicts
    std::string evidence;       // for the config's "$comment"
};

struct TuneCandidate {
    int step = 0;         // 1-based, in order of evaluation
    std::string move;     // what the search tried: "lambda 1.00", "encoder.x: int8 -> int4"
    std::vector<LayerChoice> layers;
    int64_t bytes = 0;          // model file, measured
    double size_ratio = 0;      // bytes / FP32 bytes
    double predicted_cost = 0;  // objective: bytes, or predicted time (FP32 = 1)
    double predicted_loss = 0;  // sum over layers; <= 1 means "within every gate's slack"
    MetricValues metrics;       // on the search texts
    std::vector<GateVerdict> verdicts;
    bool gates_passed = false;  // every gate
    bool passed = false;        // every gate and max_size
    bool frontier = false;  // no other candidate is smaller with more agreement
    std::string why;        // what the result made the search do next
    nlohmann::json config;  // the config document, "$comment" on every rule
};

struct TuneResult {
    TuneOptions options;
    SensitivityResult sensitivity;
    std::vector<TuneCandidate> candidates;  // every config verified on the search texts
    std::optional<size_t> best;             // index into candidates
    std::optional<EvalResult> holdout;      // the best config on the held-out texts
    std::vector<GateVerdict> holdout_verdicts;
    bool holdout_passed = false;
    // Each config checked on the held-out texts, in order: (step, passed there).
    std::vector<std::pair<int, bool>> holdout_checked;
    std::string stopped;  // why the search ended
    int64_t search_texts = 0, holdout_texts = 0;
    uintmax_t fp32_bytes = 0;
    double seconds = 0;
    bool found() const { return best.has_value() && holdout_passed; }
};

// Usage errors (no gate, a gate on a metric tune cannot steer by, unknown schemes) come
// before any model is embedded.
TuneResult run_tune(const TuneInputs& inputs, const TuneOptions& options,
                    const EvalOptions& eval_options, const SearchProgress& progress = {});

std::string tune_report_text(const TuneResult& result);
std::string tune_report_markdown(const TuneResult& result);
// One self-contained page: the held-out gates, the search frontier plotted, the tables.
std::string tune_report_html(const TuneResult& result);
nlohmann::json tune_report_json(const TuneInputs& inputs, const TuneResult& result);

}  // namespace embq
