// Loading a TorchScript model and finding its layers. Needs libtorch.
#pragma once

#include <filesystem>
#include <optional>
#include <string>

#include <torch/csrc/jit/mobile/module.h>
#include <torch/script.h>
#include <nlohmann/json.hpp>

#include "embq/layers.hpp"

namespace embq {

// The archive entry (under `extra/`) where embq records what it did to a model:
// embq's version, the config and the resolved plan. Absent in models embq did not write.
inline constexpr const char* kMetadataEntry = "embq.json";
// The card and tokenizer an embq output carries, so embed and eval of it need no flags.
inline constexpr const char* kCardEntry = "embq_card.json";
inline constexpr const char* kTokenizerEntry = "embq_tokenizer";

struct LoadedModel {
    std::filesystem::path path;
    torch::jit::Module module;  // empty when `lite` is set
    // A .ptl loaded by PyTorch Mobile's lite interpreter (load_model_to_run only): the
    // mobile artefact itself runs, not a TorchScript reading of the same file.
    std::optional<torch::jit::mobile::Module> lite;
    std::optional<nlohmann::json> embq_metadata;  // set for archives embq produced
    // What the archive carries (kCardEntry, kTokenizerEntry), and what quantize writes into
    // its output: the card's JSON (the tokenizer named by file name only) and the bytes of
    // its tokenizer file. Empty: none.
    std::string carried_card, carried_tokenizer;
};

// Loads a TorchScript archive on CPU in eval mode. A missing file, a file that is not
// a TorchScript archive, or a truncated/corrupt one is an Input error naming the file; a
// .ptl is a Usage error (quantize, calibrate and finetune work on TorchScript). An embq
// output is loaded on the quantized engine it was written for (its metadata's "engine")
// where this build has it, so its int8 layers run that engine's kernels: qnnpack for arm64.
LoadedModel load_model(const std::filesystem::path& path);
// What embed, eval, compare and bench run: load_model, or for a .ptl the lite interpreter.
LoadedModel load_model_to_run(const std::filesystem::path& path);

// forward()'s signature, from either runtime. An Input error when there is none.
const c10::FunctionSchema& forward_schema(const LoadedModel& model);

// Every quantizable layer (by the op its forward applies to its own weight) and every
// other module that owns parameters, in module order.
ModelInventory take_inventory(const torch::jit::Module& model);

}  // namespace embq
