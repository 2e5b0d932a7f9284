// Executing a plan: rewriting the model's forward graph layer by layer and writing a
// plain TorchScript file that runs in stock libtorch and PyTorch.
#pragma once

#include <filesystem>
#include <map>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "embq/calibration.hpp"
#include "embq/model.hpp"
#include "embq/plan.hpp"

namespace embq {

// Resolves the plan's engine in place for its target ("auto": the target's engine: on native
// the first of fbgemm, onednn, qnnpack this build has; on arm64 qnnpack; "none" when the
// build has none) and checks, by running each scheme's ops on a tiny input on that engine,
// that every scheme in the plan runs there. Throws a Config error naming the layers that
// cannot run and the schemes that need no quantized engine. Schemes the target's features
// make slow (bf16 without AVX512-BF16, int8 without dot-product instructions) become plan
// warnings naming their layers.
void resolve_engine(Plan& plan);

// The output format the plan's target needs: its runtime's (the mobile target's lite
// interpreter reads a .ptl; quantize_model writes one for any -o ending in .ptl). Checked by
// the commands that write a user's file, before any work; a mismatch is a Usage error.
void check_output_format(const Plan& plan, const std::filesystem::path& output);

struct QuantizeResult {
    std::string engine;
    std::map<std::string, int> rewritten_calls;  // layer path -> call sites rewritten
    std::vector<std::string> warnings;
    int64_t input_file_bytes = 0;
    int64_t output_file_bytes = 0;
};

// Quantizes `model` (consumed: its module is rewritten in place) as `plan` (its engine
// resolved by resolve_engine) says and
// writes it to `output` atomically (a temporary file renamed when complete and
// verified to load). `config_source` and the plan are stored in the archive under
// extra/embq.json. The input file is never written. `calibration` (the selected
// observer's ranges) is needed by int8_static and bias_correction; null when the plan
// has neither. `provenance` (an object) is merged into the stored metadata: what was
// done to the weights before quantizing (finetune's record).
QuantizeResult quantize_model(LoadedModel&& model, const Plan& plan,
                              const nlohmann::json& config_source,
                              const std::filesystem::path& output,
                              const Calibration* calibration = nullptr,
                              const nlohmann::json& provenance = nlohmann::json::object());

}  // namespace embq
