// Text in, vectors out: tokenized batches through a TorchScript model, pooled and
// normalised as its model card says.
#pragma once

#include <filesystem>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include <torch/script.h>

#include "embq/dataset.hpp"
#include "embq/model.hpp"
#include "embq/model_card.hpp"
#include "embq/model_options.hpp"
#include "embq/shards.hpp"
#include "embq/tokenizer.hpp"
#include "embq/vectors.hpp"

namespace embq {

// A card for a model without one, from forward()'s argument names (which must all be
// known inputs). `how` receives one line saying what was inferred and from what.
ModelCard infer_model_card(const c10::FunctionSchema& forward, std::string& how);

// Runs a model on token-id batches. Not thread-safe; one per thread.
class Embedder {
public:
    Embedder(torch::jit::Module model, ModelCard card);
    // A .ptl's model, run by the lite interpreter (embed, eval, compare and bench only).
    Embedder(torch::jit::mobile::Module lite, ModelCard card);

    // Vectors [rows, dim] for `batch` (one id sequence each, already truncated): pads
    // to the longest, builds the inputs the card names, runs forward (in inference mode
    // unless set_gradients), selects the output, pools over the attention mask and
    // L2-normalises if asked.
    at::Tensor embed(const std::vector<const Encoding*>& batch);

    const ModelCard& card() const { return card_; }
    // The model embed() runs (a handle: changing it changes what embed() runs). A Usage
    // error for a lite-interpreter model, which calibration and fine-tuning cannot change.
    torch::jit::Module& module();
    bool runs_lite_interpreter() const { return lite_.has_value(); }
    // Called before each forward with the batch's attention mask [rows, tokens] (1: a
    // real token, 0: padding); calibration uses it to drop padding positions.
    void set_before_forward(std::function<void(const at::Tensor& attention_mask)> hook) {
        before_forward_ = std::move(hook);
    }
    // With gradients on, embed() records autograd history (fine-tuning's student);
    // off (the default), it runs in inference mode.
    void set_gradients(bool on) { gradients_ = on; }
    int64_t pad_id() const { return pad_id_; }
    void set_pad_id(int64_t id) { pad_id_ = id; }
    // Token ids must be in [0, rows) of the model's token table; 0: unknown, only
    // negative ids are refused. Beyond the table, libtorch's error would name neither
    // the id nor the record.
    void set_token_rows(int64_t rows) { token_rows_ = rows; }
    int64_t token_rows() const { return token_rows_; }
    // The first id of `ids` outside the table, if any.
    std::optional<int64_t> first_unknown_id(const std::vector<int64_t>& ids) const;

private:
    torch::jit::Module model_;
    std::optional<torch::jit::mobile::Module> lite_;
    ModelCard card_;
    int64_t pad_id_ = 0;
    int64_t token_rows_ = 0;
    bool gradients_ = false;
    std::function<void(const at::Tensor&)> before_forward_;
};

struct EmbedOptions {
    int64_t batch_size = 32;
    // Records sorted by length together: bounds memory while keeping padding small.
    size_t window = 4096;
    size_t max_records = 0;  // embed_dataset: stop after this many records (0: all)
    // embed_dataset: embed only this shard's blocks of `window` records (shards.hpp).
    ShardSpec shard;
    std::function<void(size_t done)> on_progress;  // called after each batch
};

struct EmbedStats {
    size_t texts = 0;
    size_t records_seen = 0;   // embed_dataset: records read, this shard's or not
    size_t truncated = 0;      // texts longer than max_length, cut to it
    size_t empty_skipped = 0;  // from the dataset reader
    size_t tokens = 0;         // real tokens fed to the model
    size_t padded = 0;         // padding positions added to batches
    double tokenize_seconds = 0;
    double forward_seconds = 0;
    int64_t dim = 0;
};

// Receives embedded rows in input order, a window at a time: `count` rows of `dim` floats.
using RowSink = std::function<void(const float* rows, int64_t count, int64_t dim)>;
// Yields the next encoding (already truncated to the card's max_length); false at the end.
using EncodingSource = std::function<bool(Encoding& next)>;

// The core loop: buffers a window of encodings, embeds it in batches sorted by length
// and passes the rows on in input order. Fills every EmbedStats field except
// tokenize_seconds and empty_skipped, which belong to the source.
EmbedStats embed_stream(Embedder& embedder, const EncodingSource& next, const RowSink& sink,
                        const EmbedOptions& options);

// One record as the model's token ids: JSONL input_ids as given (truncated to max_length),
// text through `tokenizer`. Usage errors naming `source`: text without a tokenizer, TSV
// pairs (they are for eval).
Encoding encode_record(const Record& record, const Tokenizer* tokenizer, size_t max_length,
                       const std::filesystem::path& source);

// Streams `reader` through the model. Text records need `tokenizer`; JSONL records may
// carry input_ids. TSV pairs are a Usage error (they are for eval). No records at all is
// an Input error.
EmbedStats embed_dataset(Embedder& embedder, const Tokenizer* tokenizer, DatasetReader& reader,
                         const RowSink& sink, const EmbedOptions& options);

// The card a model is read with, and where it came from. In this order: --card
// (options.card); the card the model carries (an embq output, kCardEntry); a card file
// beside the model, `<stem>.card.json` then `card.json`; else inferred from forward().
// --tokenizer and --max-length override what the card says.
struct ResolvedCard {
    ModelCard card;
    std::string tokenizer_bytes;  // the tokenizer the model carries; empty: card.tokenizer
    std::string how;              // for the log: "card: card.json (beside the model)"
    bool inferred = false;
};
ResolvedCard resolve_model_card(const LoadedModel& model, const EmbeddingModelOptions& options);

// Sets what `model` carries into a quantized output (LoadedModel::carried_card and
// carried_tokenizer): the card resolve_model_card finds in a file (given, carried, beside
// the model) with the bytes of its tokenizer. With no card file and no --tokenizer,
// nothing: a load of the output infers the same card again.
void carry_model_card(LoadedModel& model, const EmbeddingModelOptions& options);

// A model ready to embed text: its Embedder and the tokenizer its card names.
struct EmbeddingModel {
    std::filesystem::path path;
    Embedder embedder;
    std::unique_ptr<Tokenizer> tokenizer;  // null when the card names none
    // How it runs here, for reports: "TorchScript", "lite interpreter, int8 on qnnpack (built
    // for target mobile)".
    std::string runs_as;
};

EmbeddingModel open_embedding_model(const std::filesystem::path& model_path,
                                    const EmbeddingModelOptions& options);

// Embeds texts held in memory; rows in the order given.
Vectors embed_texts(EmbeddingModel& model, const std::vector<std::string>& texts,
                    const EmbedOptions& options, EmbedStats* stats = nullptr);

// Embeds records held in memory (text, or JSONL input_ids given to the model as they are);
// rows in the order given. Errors name `source` and the record's line: text without a
// tokenizer, a token id beyond the model's table.
Vectors embed_records(EmbeddingModel& model, const std::vector<Record>& records,
                      const std::filesystem::path& source, const EmbedOptions& options);

}  // namespace embq
