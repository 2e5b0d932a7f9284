// A model's vocabulary: token -> id (hash map) and id -> token.
#pragma once

#include <string>
#include <string_view>
#include <vector>

#include "embed/text/components.hpp"
#include "embed/text/string_map.hpp"

namespace embq::text {

class Vocab {
public:
    // `n`: how many tokens the file has. Ids must lie in [0, 4 n + 1024) (real vocabularies
    // are dense; this bounds the id -> token table). The last id given for a token wins.
    void reserve(size_t n) {
        map_.reserve(n);
        tokens_.reserve(n);
        id_limit_ = static_cast<int64_t>(4 * n + 1024);
    }

    void add(std::string_view token, int64_t id, const LoadContext& ctx, const std::string& what) {
        if (id < 0 || id >= id_limit_)
            ctx.fail(what + ": token id " + std::to_string(id) + " of '" + std::string(token) +
                     "' is out of range for a vocabulary of this size");
        map_.insert(token, id);
        if (static_cast<size_t>(id) >= tokens_.size()) tokens_.resize(static_cast<size_t>(id) + 1);
        tokens_[static_cast<size_t>(id)] = std::string(token);
        has_.resize(tokens_.size(), false);
        has_[static_cast<size_t>(id)] = true;
    }

    int64_t find(std::string_view token) const { return map_.find(token); }
    const std::string* token(int64_t id) const {
        if (id < 0 || static_cast<size_t>(id) >= tokens_.size() || !has_[static_cast<size_t>(id)])
            return nullptr;
        return &tokens_[static_cast<size_t>(id)];
    }
    size_t size() const { return map_.size(); }
    int64_t max_id() const { return static_cast<int64_t>(tokens_.size()) - 1; }
    const StringIdMap& map() const { return map_; }

private:
    StringIdMap map_;
    std::vector<std::string> tokens_;
    std::vector<bool> has_;
    int64_t id_limit_ = 1024;
};

// The `"vocab": {"token": id, ...}` object WordPiece and WordLevel models share.
inline Vocab read_token_id_vocab(const Json& model, const LoadContext& ctx,
                                 const std::string& what) {
    const auto it = model.find("vocab");
    if (it == model.end() || !it->is_object())
        ctx.fail(what + ": 'vocab' must be an object of token: id");
    Vocab vocab;
    vocab.reserve(it->size());
    for (auto v = it->begin(); v != it->end(); ++v) {
        if (!v->is_number_integer())
            ctx.fail(what + ": the id of token '" + v.key() + "' is not an integer");
        vocab.add(v.key(), v->get<int64_t>(), ctx, what);
    }
    return vocab;
}

}  // namespace embq::text
