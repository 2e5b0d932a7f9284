// The model card: how to call a model. Input names and order, the maximum length, which
// output to take, pooling, L2 normalisation and the tokenizer. A small JSON file:
//
//   {"inputs": ["input_ids", "attention_mask"], "max_length": 128,
//    "output": {"index": 0}, "pooling": "mean", "normalize": true,
//    "tokenizer": "tokenizer.json"}
//
// Without a card embq infers one from the model's forward signature (embed.hpp).
#pragma once

#include <filesystem>
#include <string>
#include <vector>

#include <nlohmann/json_fwd.hpp>

namespace embq {

// Names a model input may have; each is built from the tokenized batch.
const std::vector<std::string>& known_model_inputs();  // input_ids, attention_mask, token_type_ids

enum class Pooling { None, Mean, Cls, Max };
const char* to_string(Pooling pooling) noexcept;

// Which part of forward()'s result holds the vectors.
struct OutputSelector {
    enum class Kind { Tensor, TupleIndex, DictKey };
    Kind kind = Kind::Tensor;
    int64_t index = 0;             // TupleIndex
    std::string key;               // DictKey
    std::string describe() const;  // "the tensor", "tuple element 0", "dict key 'x'"
};

struct ModelCard {
    std::vector<std::string> inputs{"input_ids", "attention_mask"};  // in forward()'s order
    int64_t max_length = 128;
    OutputSelector output;
    Pooling pooling = Pooling::None;  // None: the model returns (N, D) itself
    bool normalize = false;
    std::filesystem::path tokenizer;  // empty: none (data must then hold input_ids)

    std::string describe() const;  // one line for logs
};

// Input errors name the file and the key, suggesting the closest key for a typo. A
// relative tokenizer path is resolved against the card's directory.
ModelCard load_model_card(const std::filesystem::path& path);
ModelCard parse_model_card(const nlohmann::json& doc, const std::string& origin,
                           const std::filesystem::path& base_dir);
nlohmann::json model_card_to_json(const ModelCard& card);

}  // namespace embq
