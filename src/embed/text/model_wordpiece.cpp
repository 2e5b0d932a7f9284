// WordPiece: greedy longest-match-first, continuation pieces carry a prefix ("##"), a
// word with no segmentation or longer than max_input_chars_per_word is one unk token.
#include "embed/text/models.hpp"
#include "embed/text/unicode.hpp"

namespace embq::text {
namespace {

class WordPiece final : public Model {
public:
    WordPiece(Vocab vocab, std::string unk, std::string prefix, size_t max_chars, std::string path)
        : vocab_(std::move(vocab)),
          unk_(std::move(unk)),
          prefix_(std::move(prefix)),
          max_chars_(max_chars),
          path_(std::move(path)) {
        unk_id_ = vocab_.find(unk_);
        continuation_.reserve(vocab_.size());
        vocab_.map().for_each([&](std::string_view token, int64_t id) {
            if (token.size() > prefix_.size() && token.compare(0, prefix_.size(), prefix_) == 0)
                continuation_.insert(token.substr(prefix_.size()), id);
        });
    }

    void tokenize(std::string_view word, std::vector<int64_t>& ids) const override {
        if (unicode::count_chars(word) > max_chars_) {
            ids.push_back(unk_id());
            return;
        }
        const size_t mark = ids.size();
        size_t start = 0;
        while (start < word.size()) {
            size_t end = word.size();
            int64_t id = StringIdMap::kMissing;
            while (start < end) {
                const std::string_view piece = word.substr(start, end - start);
                id = start == 0 ? vocab_.find(piece) : continuation_.find(piece);
                if (id != StringIdMap::kMissing) break;
                // Step back one character.
                --end;
                while (end > start && (static_cast<unsigned char>(word[end]) & 0xC0) == 0x80) --end;
            }
            if (id == StringIdMap::kMissing) {
                ids.resize(mark);
                ids.push_back(unk_id());
                return;
            }
            ids.push_back(id);
            start = end;
        }
    }

    int64_t token_to_id(std::string_view token) const override { return vocab_.find(token); }
    const std::string* id_to_token(int64_t id) const override { return vocab_.token(id); }
    size_t size() const override { return vocab_.size(); }
    int64_t max_id() const override { return vocab_.max_id(); }
    std::string describe() const override {
        return "WordPiece, " + std::to_string(vocab_.size()) + " tokens";
    }

private:
    int64_t unk_id() const {
        if (unk_id_ == StringIdMap::kMissing)
            throw input_error(path_ + ": WordPiece needs its unk_token '" + unk_ +
                              "' but the vocabulary does not have it");
        return unk_id_;
    }

    Vocab vocab_;
    StringIdMap continuation_;  // pieces that start with the prefix, prefix removed
    std::string unk_;
    std::string prefix_;
    size_t max_chars_;
    std::string path_;
    int64_t unk_id_;
};

}  // namespace

std::unique_ptr<Model> make_wordpiece_model(const Json& json, const LoadContext& ctx) {
    const std::string what = "model 'WordPiece'";
    ctx.check_keys(
        json,
        {"type", "unk_token", "continuing_subword_prefix", "max_input_chars_per_word", "vocab"},
        what);
    Vocab vocab = read_token_id_vocab(json, ctx, what);
    const int64_t max_chars = ctx.get_int(json, "max_input_chars_per_word", 100, what);
    if (max_chars < 0) ctx.fail(what + ": max_input_chars_per_word must not be negative");
    return std::make_unique<WordPiece>(
        std::move(vocab), ctx.get_string(json, "unk_token", "[UNK]", what),
        ctx.get_string(json, "continuing_subword_prefix", "##", what),
        static_cast<size_t>(max_chars), ctx.path);
}

std::unique_ptr<Model> make_wordpiece(std::vector<std::string> tokens, const std::string& unk_token,
                                      const LoadContext& ctx) {
    Vocab vocab;
    vocab.reserve(tokens.size());
    for (size_t i = 0; i < tokens.size(); ++i)
        vocab.add(tokens[i], static_cast<int64_t>(i), ctx, "vocab.txt");
    return std::make_unique<WordPiece>(std::move(vocab), unk_token, "##", 100, ctx.path);
}

}  // namespace embq::text
