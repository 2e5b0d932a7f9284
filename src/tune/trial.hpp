// One config tried end to end, as `embq sensitivity` and `embq tune` try many: planned
// from an in-memory config, quantized by the same code as `embq quantize` into a scratch
// file, and evaluated against the FP32 model, which is embedded once for all trials.
// Internal to libembq.
#pragma once

#include <filesystem>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "core/scratch_dir.hpp"
#include "embq/calibration.hpp"
#include "embq/eval.hpp"
#include "embq/gates.hpp"
#include "embq/layers.hpp"
#include "embq/plan.hpp"

namespace embq {

struct Trial {
    Plan plan;
    EvalResult result;
    std::vector<GateVerdict> verdicts;
    uintmax_t bytes = 0;  // the quantized model file
    double seconds = 0;   // quantizing and evaluating
    bool passed() const;  // every gate passed
};

class TrialRunner {
public:
    // Reads the texts and embeds them with the FP32 model (`on_texts` counts them).
    // `calibration`: for schemes that need it (int8_static, bias_correction).
    TrialRunner(const std::filesystem::path& model, const EvalInputs& eval,
                const EvalOptions& options, const std::vector<Gate>& gates,
                std::optional<Calibration> calibration,
                const std::function<void(size_t)>& on_texts = {});

    // Plans, quantizes and evaluates `config` (a config document); Config errors when it
    // does not plan, as `embq quantize` would give them.
    Trial run(const nlohmann::json& config, const std::function<void(size_t)>& on_texts = {});

    const ModelInventory& inventory() const { return inventory_; }
    uintmax_t fp32_bytes() const { return fp32_bytes_; }
    size_t texts() const { return baseline_->texts(); }  // per trial
    bool has_calibration() const { return calibration_.has_value(); }
    int trials_run() const { return trials_; }

private:
    std::filesystem::path model_;
    std::vector<Gate> gates_;
    std::optional<Calibration> calibration_;
    ModelInventory inventory_;
    uintmax_t fp32_bytes_ = 0;
    std::unique_ptr<BaselineEvaluation> baseline_;
    ScratchDir scratch_{"embq-trials"};
    int trials_ = 0;
};

}  // namespace embq
