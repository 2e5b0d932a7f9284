// Text to token ids, in C++ with no Python at run time. Reads Hugging Face
// `tokenizer.json` (WordPiece, Unigram, WordLevel models with the normalizers,
// pre-tokenizers and post-processor templates real embedding models use) and BERT
// `vocab.txt`. Anything a file asks for that embq does not implement is an Input error
// naming it: never a silent difference from the reference tokenizer.
#pragma once

#include <cstdint>
#include <filesystem>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

namespace embq {

struct Encoding {
    std::vector<int64_t> ids;       // with the special tokens of the post-processor template
    std::vector<int64_t> type_ids;  // token_type_ids, same length as ids
    bool truncated = false;         // the text had more tokens than max_length allowed
};

class Tokenizer {
public:
    virtual ~Tokenizer() = default;

    // Tokenizes one UTF-8 text (the caller has validated the UTF-8). With max_length > 0
    // the result is at most max_length ids: content tokens are cut, special tokens kept.
    virtual Encoding encode(std::string_view text, size_t max_length) const = 0;

    // The tokens of `ids` as strings (for messages, tests and `--show-tokens`).
    virtual std::vector<std::string> id_to_tokens(const std::vector<int64_t>& ids) const = 0;

    virtual int64_t pad_id() const = 0;
    virtual size_t vocab_size() const = 0;
    // One line: "WordPiece, 30522 tokens, BERT normalizer (lowercase, strip accents)".
    virtual std::string describe() const = 0;
};

// `tokenizer.json` (by content: a JSON object with a "model") or a BERT `vocab.txt`
// (one token per line; BERT uncased conventions: lowercase, strip accents, [CLS] ... [SEP]).
// A directory is read as the tokenizer.json or vocab.txt in it.
std::unique_ptr<Tokenizer> load_tokenizer(const std::filesystem::path& path);

// The file load_tokenizer reads for `path` (a directory's tokenizer.json or vocab.txt),
// and its bytes.
std::filesystem::path tokenizer_file(const std::filesystem::path& path);
std::string read_tokenizer_file(const std::filesystem::path& path);

// A tokenizer from a file's bytes held in memory (the one an embq output carries), either
// kind; errors name `origin`.
std::unique_ptr<Tokenizer> parse_tokenizer(const std::string& content, const std::string& origin);

}  // namespace embq
