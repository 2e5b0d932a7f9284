// Loading a TorchScript model and finding its layers. Needs libtorch.
#pragma once

#include <filesystem>
#include <optional>
#include <string>

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
    torch::jit::Module module;
    std::optional<nlohmann::json> embq_metadata;  // set for archives embq produced
    // What the archive carries (kCardEntry, kTokenizerEntry), and what quantize writes into
    // its output: the card's JSON (the tokenizer named by file name only) and the bytes of
    // its tokenizer file. Empty: none.
    std::string carried_card, carried_tokenizer;
};

// Loads a TorchScript archive on CPU in eval mode. A missing file, a file that is not
// a TorchScript archive, or a truncated/corrupt one is an Input error naming the file.
LoadedModel load_model(const std::filesystem::path& path);

// Every quantizable layer (by the op its forward applies to its own weight) and every
// other module that owns parameters, in module order.
ModelInventory take_inventory(const torch::jit::Module& model);

}  // namespace embq
