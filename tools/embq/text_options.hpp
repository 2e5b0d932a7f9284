// How a command reads text into a model, declared once: --card, --tokenizer and
// --max-length (embed, calibrate, eval, compare, and quantize for a config's inline
// calibration), and --batch-size.
#pragma once

#include <cstdint>
#include <string>

#include <CLI/CLI.hpp>

#include "embq/model_options.hpp"

namespace embq::cli {

// `purpose` ends each help line, e.g. " (for the config's inline calibration)".
void add_model_text_options(CLI::App& app, EmbeddingModelOptions& options,
                            const std::string& purpose = "");
void add_batch_size_option(CLI::App& app, int64_t& batch_size);

}  // namespace embq::cli
