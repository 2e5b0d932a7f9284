// WordLevel: each pre-token is one token, or unk when the vocabulary lacks it.
#include "embed/text/models.hpp"

namespace embq::text {
namespace {

class WordLevel final : public Model {
public:
    WordLevel(Vocab vocab, std::string unk, std::string path)
        : vocab_(std::move(vocab)), unk_(std::move(unk)), path_(std::move(path)) {
        unk_id_ = vocab_.find(unk_);
    }

    void tokenize(std::string_view word, std::vector<int64_t>& ids) const override {
        const int64_t id = vocab_.find(word);
        if (id >= 0) {
            ids.push_back(id);
            return;
        }
        if (unk_id_ < 0)
            throw input_error(path_ + ": WordLevel needs its unk_token '" + unk_ +
                              "' but the vocabulary does not have it");
        ids.push_back(unk_id_);
    }

    int64_t token_to_id(std::string_view token) const override { return vocab_.find(token); }
    const std::string* id_to_token(int64_t id) const override { return vocab_.token(id); }
    size_t size() const override { return vocab_.size(); }
    int64_t max_id() const override { return vocab_.max_id(); }
    std::string describe() const override {
        return "WordLevel, " + std::to_string(vocab_.size()) + " tokens";
    }

private:
    Vocab vocab_;
    std::string unk_;
    std::string path_;
    int64_t unk_id_;
};

}  // namespace

std::unique_ptr<Model> make_wordlevel_model(const Json& json, const LoadContext& ctx) {
    const std::string what = "model 'WordLevel'";
    ctx.check_keys(json, {"type", "vocab", "unk_token"}, what);
    Vocab vocab = read_token_id_vocab(json, ctx, what);
    return std::make_unique<WordLevel>(std::move(vocab),
                                       ctx.get_string(json, "unk_token", "<unk>", what), ctx.path);
}

// ---- the model factory ---------------------------------------------------------------------
std::unique_ptr<Model> make_model(const Json& json, const LoadContext& ctx) {
    if (!json.is_object()) ctx.fail("\"model\" must be a JSON object");
    std::string type;
    if (json.contains("type")) {
        if (!json["type"].is_string()) ctx.fail("model 'type' must be a string");
        type = json["type"].get<std::string>();
    } else {  // files from older versions of tokenizers have untagged models
        if (json.contains("merges"))
            type = "BPE";
        else if (json.contains("vocab") && json["vocab"].is_array())
            type = "Unigram";
        else if (json.contains("continuing_subword_prefix") ||
                 json.contains("max_input_chars_per_word"))
            type = "WordPiece";
        else
            type = "WordLevel";
    }
    if (type == "WordPiece") return make_wordpiece_model(json, ctx);
    if (type == "Unigram") return make_unigram_model(json, ctx);
    if (type == "WordLevel") return make_wordlevel_model(json, ctx);
    ctx.fail("model type '" + type +
             "' is not supported by embq (supported: WordPiece, Unigram, WordLevel)");
}

}  // namespace embq::text
