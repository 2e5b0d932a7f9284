// Running calibration: sample texts through an instrumented copy of the model, every
// linear layer's input and output streamed into observers (include/embq/observers.hpp),
// the result written as a calibration file (include/embq/calibration.hpp).
//
// Only real tokens count: rows of padding positions (where the attention mask is 0) are
// dropped before the observers see an activation, so batch composition cannot drag a
// range towards what padding produces.
#pragma once

#include <cstdint>
#include <filesystem>
#include <functional>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "embq/calibration.hpp"
#include "embq/dataset.hpp"
#include "embq/model_options.hpp"

namespace embq {

struct CalibrateOptions {
    size_t samples = kDefaultCalibrationSamples;           // the first N texts of the data
    std::vector<std::string> observers{kDefaultObserver};  // specs; the first is the default
    int64_t batch_size = kDefaultCalibrationBatch;
    double convergence_tolerance = 0.01;  // warn when a range moved more over the last 10%
    double outlier_factor = 8.0;          // channel max |x| over the median channel's
    // Also sum X^T X of every linear layer's input (GPTQ rounding needs it): d x d floats
    // per layer in memory and in the sidecar, and about one extra matmul per layer per batch.
    bool input_gram = false;
    std::function<void(size_t done)> on_progress;
};

struct CalibrationRun {
    nlohmann::json document;            // the calibration file's content (sidecar not named yet)
    InputGrams grams;                   // with CalibrateOptions::input_gram, by layer
    std::vector<std::string> warnings;  // also stored in the document
    size_t samples = 0;                 // texts run through the model
    size_t layers = 0;                  // linear layers observed
    std::vector<std::string> layer_order;  // their paths in model order (the file sorts them)
    double seconds = 0;
    size_t tokens = 0;
};

// Calibrates the model at `model_path` (loaded afresh and instrumented in memory; the file
// is only read) on the first `options.samples` records of `data`. Throws a Usage error for
// an unknown observer spec, an Input error for data with no records or a model with no
// linear layer. Data shorter than `samples`, ranges still moving, outlier channels and
// NaN/Inf activations are warnings; a layer the data never reached is a warning and gets
// no range (quantizing it statically then fails with a message naming it).
CalibrationRun calibrate(const std::filesystem::path& model_path,
                         const EmbeddingModelOptions& model_options,
                         const std::filesystem::path& data, DatasetFormat format,
                         const CalibrateOptions& options);

// Writes the run's document to `path` and, when it has Gram matrices, the sidecar beside
// it (include/embq/calibration.hpp), each through a temporary file: a failed write leaves
// neither.
void write_calibration(const CalibrationRun& run, const std::filesystem::path& path);

}  // namespace embq
