// The stages of a tokenizer, as in Hugging Face tokenizers' pipeline:
//   added tokens -> normalizer -> pre-tokenizer -> model -> post-processor (+ truncation).
// Each stage is built from its tokenizer.json object by a factory that throws an Input
// error naming the file and the component for anything embq does not implement.
#pragma once

#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include <nlohmann/json.hpp>

#include "embq/error.hpp"
#include "embq/tokenizer.hpp"

namespace embq::text {

using Json = nlohmann::json;

// Where a component came from, for error messages: "<path>: <what>: <problem>".
struct LoadContext {
    std::string path;

    [[noreturn]] void fail(const std::string& message) const {
        throw input_error(path + ": " + message);
    }

    // Every key of `object` must be in `known`; `what` names the component
    // ("normalizer 'BertNormalizer'").
    void check_keys(const Json& object, std::initializer_list<const char*> known,
                    const std::string& what) const;
    bool get_bool(const Json& object, const char* key, bool fallback,
                  const std::string& what) const;
    std::string get_string(const Json& object, const char* key, const std::string& what) const;
    std::string get_string(const Json& object, const char* key, const std::string& fallback,
                           const std::string& what) const;
    int64_t get_int(const Json& object, const char* key, int64_t fallback,
                    const std::string& what) const;
    const Json& get_array(const Json& object, const char* key, const std::string& what) const;
};

// ---- normalizers ---------------------------------------------------------------------
class Normalizer {
public:
    virtual ~Normalizer() = default;
    // Rewrites `text` in place; `scratch` is a buffer the normalizer may use.
    virtual void normalize(std::string& text, std::string& scratch) const = 0;
    virtual std::string describe() const = 0;
};

// `json` may be null (no normalizer): returns nullptr.
std::unique_ptr<Normalizer> make_normalizer(const Json& json, const LoadContext& ctx);
// BERT's: clean text, CJK padding, strip accents, lowercase (vocab.txt files).
std::unique_ptr<Normalizer> make_bert_normalizer(bool lowercase);

// ---- pre-tokenizers ------------------------------------------------------------------
struct Span {
    uint32_t begin, end;
};

// The words of one section of text: spans of `text`. A pre-tokenizer either narrows the
// spans (splitting) or writes new text (Metaspace).
struct PreTokens {
    std::string text;
    std::vector<Span> spans;
    bool section_first = false;  // this section starts at offset 0 of the input
};

class PreTokenizer {
public:
    virtual ~PreTokenizer() = default;
    // Replaces io's spans (and maybe text); `scratch` is a buffer to build into.
    virtual void pre_tokenize(PreTokens& io, PreTokens& scratch) const = 0;
    virtual std::string describe() const = 0;
};

std::unique_ptr<PreTokenizer> make_pre_tokenizer(const Json& json, const LoadContext& ctx);
std::unique_ptr<PreTokenizer> make_bert_pre_tokenizer();

// ---- models --------------------------------------------------------------------------
class Model {
public:
    virtual ~Model() = default;
    // Appends the ids of one word (a non-empty pre-token) to `ids`.
    virtual void tokenize(std::string_view word, std::vector<int64_t>& ids) const = 0;
    virtual int64_t token_to_id(std::string_view token) const = 0;  // -1 when absent
    // The token of `id`, or nullptr.
    virtual const std::string* id_to_token(int64_t id) const = 0;
    virtual size_t size() const = 0;     // number of tokens
    virtual int64_t max_id() const = 0;  // largest id (-1 when empty)
    virtual std::string describe() const = 0;
};

std::unique_ptr<Model> make_model(const Json& json, const LoadContext& ctx);
// A WordPiece model from vocab.txt lines (ids are line numbers).
std::unique_ptr<Model> make_wordpiece(std::vector<std::string> vocab, const std::string& unk_token,
                                      const LoadContext& ctx);

// ---- post-processors -------------------------------------------------------------------
class PostProcessor {
public:
    virtual ~PostProcessor() = default;
    virtual size_t added_tokens() const = 0;  // special ids added around one sequence
    // Writes the template around `content` into `out` (ids and type_ids).
    virtual void process(const std::vector<int64_t>& content, Encoding& out) const = 0;
    virtual std::string describe() const = 0;
};

// `lookup` resolves a token string to its id (-1 when absent) through the model and the
// added tokens.
using TokenLookup = std::function<int64_t(std::string_view)>;
std::unique_ptr<PostProcessor> make_post_processor(const Json& json, const LoadContext& ctx,
                                                   const TokenLookup& lookup);
// [CLS] $A [SEP], every type id 0.
std::unique_ptr<PostProcessor> make_cls_sep_processor(int64_t cls_id, const std::string& cls,
                                                      int64_t sep_id, const std::string& sep);

// ---- splitting helpers shared by pre-tokenizers ------------------------------------------
enum class SplitBehavior { Removed, Isolated, MergedWithPrevious, MergedWithNext, Contiguous };

}  // namespace embq::text
