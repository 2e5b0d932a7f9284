// Unigram (SentencePiece): the segmentation with the highest total log-probability
// (Viterbi over a byte trie of the pieces), as Hugging Face tokenizers computes it:
// characters no piece covers become unk (scored min_score - 10), consecutive unks fuse
// into one token, and with byte_fallback an unk becomes its UTF-8 bytes as <0xNN> pieces.
#include <algorithm>
#include <array>
#include <cmath>
#include <cstdio>
#include <limits>

#include "embed/text/models.hpp"
#include "embed/text/unicode.hpp"

namespace embq::text {
namespace {

// A byte trie over the pieces, flattened: each node's edges are contiguous and sorted.
class Trie {
public:
    // `keys` sorted and unique.
    void build(const std::vector<std::pair<std::string_view, int64_t>>& keys) {
        nodes_.clear();
        labels_.clear();
        targets_.clear();
        nodes_.push_back(Node{});
        if (!keys.empty()) build_node(0, keys, 0, keys.size(), 0);
    }

    // Calls f(length, id) for every piece that is a prefix of `text`, shortest first.
    template <typename F>
    void common_prefixes(std::string_view text, F&& f) const {
        uint32_t node = 0;
        for (size_t i = 0; i < text.size(); ++i) {
            const Node& n = nodes_[node];
            const uint8_t c = static_cast<uint8_t>(text[i]);
            const uint8_t* lb = labels_.data() + n.first_edge;
            const uint8_t* le = lb + n.edge_count;
            const uint8_t* hit;
            if (n.edge_count <= 8) {
                hit = lb;
                while (hit < le && *hit != c) ++hit;
            } else {
                hit = std::lower_bound(lb, le, c);
                if (hit != le && *hit != c) hit = le;
            }
            if (hit == le) return;
            node = targets_[n.first_edge + static_cast<uint32_t>(hit - lb)];
            if (nodes_[node].value >= 0) f(i + 1, nodes_[node].value);
        }
    }

private:
    struct Node {
        uint32_t first_edge = 0;
        uint32_t edge_count = 0;
        int64_t value = -1;
    };

    void build_node(uint32_t node, const std::vector<std::pair<std::string_view, int64_t>>& keys,
                    size_t lo, size_t hi, size_t depth) {
        if (keys[lo].first.size() == depth) {
            nodes_[node].value = keys[lo].second;
            ++lo;
        }
        // Group [lo, hi) by the byte at `depth`.
        std::vector<std::pair<size_t, size_t>> groups;
        for (size_t i = lo; i < hi;) {
            const char c = keys[i].first[depth];
            size_t j = i + 1;
            while (j < hi && keys[j].first[depth] == c) ++j;
            groups.emplace_back(i, j);
            i = j;
        }
        nodes_[node].first_edge = static_cast<uint32_t>(labels_.size());
        nodes_[node].edge_count = static_cast<uint32_t>(groups.size());
        const uint32_t first_child = static_cast<uint32_t>(nodes_.size());
        for (const auto& g : groups) {
            labels_.push_back(static_cast<uint8_t>(keys[g.first].first[depth]));
            targets_.push_back(static_cast<uint32_t>(nodes_.size()));
            nodes_.push_back(Node{});
        }
        for (size_t k = 0; k < groups.size(); ++k)
            build_node(first_child + static_cast<uint32_t>(k), keys, groups[k].first,
                       groups[k].second, depth + 1);
    }

    std::vector<Node> nodes_;
    std::vector<uint8_t> labels_;
    std::vector<uint32_t> targets_;
};

class Unigram final : public Model {
public:
    Unigram(Vocab vocab, std::vector<double> scores, int64_t unk_id, bool byte_fallback,
            std::string path)
        : vocab_(std::move(vocab)),
          scores_(std::move(scores)),
          unk_id_(unk_id),
          byte_fallback_(byte_fallback),
          path_(std::move(path)) {
        double min_score = std::numeric_limits<double>::infinity();
        for (const double s : scores_) min_score = std::min(min_score, s);
        unk_score_ = min_score - 10.0;
        std::vector<std::pair<std::string_view, int64_t>> keys;
        keys.reserve(vocab_.size());
        vocab_.map().for_each([&](std::string_view token, int64_t id) {
            if (!token.empty()) keys.emplace_back(token, id);
        });
        std::sort(keys.begin(), keys.end());
        trie_.build(keys);
        byte_ids_.fill(-1);
        if (byte_fallback_) {
            for (int b = 0; b < 256; ++b) {
                char name[8];
                std::snprintf(name, sizeof name, "<0x%02X>", b);
                byte_ids_[static_cast<size_t>(b)] = vocab_.find(name);
            }
        }
    }

    void tokenize(std::string_view word, std::vector<int64_t>& ids) const override {
        struct Best {
            double score;
            int64_t id;
            uint32_t start;
            bool set;
        };
        thread_local std::vector<Best> best;
        const size_t n = word.size();
        best.assign(n + 1, Best{0.0, -1, 0, false});
        best[0].set = true;
        const char* base = word.data();
        size_t start = 0;
        while (start < n) {
            const double here = best[start].score;
            char32_t cp;
            const size_t char_len = unicode::decode(base + start, base + n, cp);
            bool single = false;
            trie_.common_prefixes(word.substr(start), [&](size_t len, int64_t id) {
                Best& target = best[start + len];
                const double candidate = here + scores_[static_cast<size_t>(id)];
                if (!target.set || candidate > target.score) {
                    target = Best{candidate, id, static_cast<uint32_t>(start), true};
                }
                if (len == char_len) single = true;
            });
            if (!single) {
                if (unk_id_ < 0)
                    throw input_error(
                        path_ +
                        ": the Unigram model has no unk_id, and the text has a character "
                        "none of its pieces covers");
                Best& target = best[start + char_len];
                const double candidate = here + unk_score_;
                if (!target.set || candidate > target.score)
                    target = Best{candidate, unk_id_, static_cast<uint32_t>(start), true};
            }
            start += char_len;
        }
        // Back-track, then emit in order, fusing consecutive unks.
        thread_local std::vector<std::pair<uint32_t, uint32_t>> path;  // (start, end)
        path.clear();
        for (size_t end = n; end > 0;) {
            const size_t s = best[end].start;
            path.emplace_back(static_cast<uint32_t>(s), static_cast<uint32_t>(end));
            end = s;
        }
        size_t unk_begin = 0, unk_end = 0;
        bool in_unk = false;
        for (size_t k = path.size(); k-- > 0;) {
            const auto [s, e] = path[k];
            const int64_t id = best[e].id;
            if (id == unk_id_) {
                if (!in_unk) unk_begin = s;
                unk_end = e;
                in_unk = true;
                continue;
            }
            if (in_unk) {
                emit_unk(word.substr(unk_begin, unk_end - unk_begin), ids);
                in_unk = false;
            }
            ids.push_back(id);
        }
        if (in_unk) emit_unk(word.substr(unk_begin, unk_end - unk_begin), ids);
    }

    int64_t token_to_id(std::string_view token) const override { return vocab_.find(token); }
    const std::string* id_to_token(int64_t id) const override { return vocab_.token(id); }
    size_t size() const override { return vocab_.size(); }
    int64_t max_id() const override { return vocab_.max_id(); }
    std::string describe() const override {
        return "Unigram, " + std::to_string(vocab_.size()) + " pieces" +
               (byte_fallback_ ? ", byte fallback" : "");
    }

private:
    void emit_unk(std::string_view text, std::vector<int64_t>& ids) const {
        const int64_t id = vocab_.find(text);
        if (id >= 0) {
            ids.push_back(id);
            return;
        }
        if (byte_fallback_) {
            bool all = true;
            for (const char c : text) all = all && byte_ids_[static_cast<uint8_t>(c)] >= 0;
            if (all) {
                for (const char c : text) ids.push_back(byte_ids_[static_cast<uint8_t>(c)]);
                return;
            }
        }
        ids.push_back(unk_id_);
    }

    Vocab vocab_;
    std::vector<double> scores_;  // by id
    int64_t unk_id_;
    bool byte_fallback_;
    std::string path_;
    double unk_score_ = 0;
    Trie trie_;
    std::array<int64_t, 256> byte_ids_{};
};

}  // namespace

std::unique_ptr<Model> make_unigram_model(const Json& json, const LoadContext& ctx) {
    const std::string what = "model 'Unigram'";
    ctx.check_keys(json, {"type", "unk_id", "vocab", "byte_fallback"}, what);
    const Json& pieces = ctx.get_array(json, "vocab", what);
    Vocab vocab;
    vocab.reserve(pieces.size());
    std::vector<double> scores;
    scores.reserve(pieces.size());
    for (size_t i = 0; i < pieces.size(); ++i) {
        const Json& p = pieces[i];
        if (!p.is_array() || p.size() != 2 || !p[0].is_string() || !p[1].is_number())
            ctx.fail(what + ": vocab entry " + std::to_string(i) + " is not a [piece, score] pair");
        const double score = p[1].get<double>();
        if (!std::isfinite(score))
            ctx.fail(what + ": the score of vocab entry " + std::to_string(i) + " is not finite");
        vocab.add(p[0].get_ref<const std::string&>(), static_cast<int64_t>(i), ctx, what);
        scores.push_back(score);
    }
    const int64_t unk_id = ctx.get_int(json, "unk_id", -1, what);
    if (unk_id < -1 || (unk_id >= 0 && static_cast<size_t>(unk_id) >= pieces.size()))
        ctx.fail(what + ": unk_id " + std::to_string(unk_id) + " is not an id of the vocabulary");
    return std::make_unique<Unigram>(std::move(vocab), std::move(scores), unk_id,
                                     ctx.get_bool(json, "byte_fallback", false, what), ctx.path);
}

}  // namespace embq::text
