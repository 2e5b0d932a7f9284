// Text in, vectors out: tokenized batches through a TorchScript model, pooled and
// normalised as its model card says.
#pragma once

#include <functional>
#include <string>
#include <vector>

#include <torch/script.h>

#include "embq/dataset.hpp"
#include "embq/model_card.hpp"
#include "embq/tokenizer.hpp"
#include "embq/vectors.hpp"

namespace embq {

// A card for a model without one, from forward()'s argument names (which must all be
// known inputs). `how` receives one line saying what was inferred and from what.
ModelCard infer_model_card(const torch::jit::Module& model, std::string& how);

// Runs a model on token-id batches. Not thread-safe; one per thread.
class Embedder {
public:
    Embedder(torch::jit::Module model, ModelCard card);

    // Vectors [rows, dim] for `batch` (one id sequence each, already truncated): pads
    // to the longest, builds the inputs the card names, runs forward in inference mode,
    // selects the output, pools over the attention mask and L2-normalises if asked.
    at::Tensor embed(const std::vector<const Encoding*>& batch);

    const ModelCard& card() const { return card_; }
    int64_t pad_id() const { return pad_id_; }
    void set_pad_id(int64_t id) { pad_id_ = id; }

private:
    torch::jit::Module model_;
    ModelCard card_;
    int64_t pad_id_ = 0;
};

struct EmbedOptions {
    int64_t batch_size = 32;
    // Records sorted by length together: bounds memory while keeping padding small.
    size_t window = 4096;
    std::function<void(size_t done)> on_progress;  // called after each batch
};

struct EmbedStats {
    size_t texts = 0;
    size_t truncated = 0;      // texts longer than max_length, cut to it
    size_t empty_skipped = 0;  // from the dataset reader
    size_t tokens = 0;         // real tokens fed to the model
    size_t padded = 0;         // padding positions added to batches
    double tokenize_seconds = 0;
    double forward_seconds = 0;
    int64_t dim = 0;
};

// Streams `reader` through the model and writes one row per record, in input order,
// to `writer` (which the caller commits). Text records need `tokenizer`; JSONL
// records may carry input_ids. TSV pairs are a Usage error (they are for eval).
EmbedStats embed_dataset(Embedder& embedder, const Tokenizer* tokenizer, DatasetReader& reader,
                         std::unique_ptr<VectorWriter>& writer,
                         const std::filesystem::path& out_path, const EmbedOptions& options);

}  // namespace embq
