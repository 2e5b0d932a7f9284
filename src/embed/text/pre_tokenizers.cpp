// Pre-tokenizers: BertPreTokenizer, Whitespace, WhitespaceSplit, Punctuation, Digits,
// CharDelimiterSplit, Metaspace, Sequence.
#include <algorithm>

#include "embed/text/components.hpp"
#include "embed/text/unicode.hpp"

namespace embq::text {
namespace {

namespace uc = unicode;

// Splits every span of `io` at the characters for which `is_delim(cp)` holds, with HF's
// SplitDelimiterBehavior semantics (each delimiter character is one match).
template <typename Pred>
void split_spans(PreTokens& io, PreTokens& scratch, SplitBehavior behavior, Pred is_delim) {
    struct Piece {
        uint32_t begin, end;
        bool match;
    };
    thread_local std::vector<Piece> pieces;
    thread_local std::vector<Piece> merged;
    scratch.spans.clear();
    const char* base = io.text.data();
    for (const Span& span : io.spans) {
        pieces.clear();
        uint32_t pos = span.begin;
        uint32_t word_start = span.begin;
        while (pos < span.end) {
            char32_t cp;
            const uint32_t n = static_cast<uint32_t>(uc::decode(base + pos, base + span.end, cp));
            if (is_delim(cp)) {
                if (word_start < pos) pieces.push_back({word_start, pos, false});
                pieces.push_back({pos, pos + n, true});
                word_start = pos + n;
            }
            pos += n;
        }
        if (word_start < span.end) pieces.push_back({word_start, span.end, false});

        merged.clear();
        switch (behavior) {
            case SplitBehavior::Removed:
                for (const Piece& p : pieces)
                    if (!p.match) merged.push_back(p);
                break;
            case SplitBehavior::Isolated: merged = pieces; break;
            case SplitBehavior::MergedWithPrevious: {
                bool previous_match = false;
                for (const Piece& p : pieces) {
                    if (p.match && !previous_match && !merged.empty())
                        merged.back().end = p.end;
                    else
                        merged.push_back(p);
                    previous_match = p.match;
                }
                break;
            }
            case SplitBehavior::MergedWithNext: {
                bool previous_match = false;  // walking backwards: "previous" is the one after
                for (size_t i = pieces.size(); i-- > 0;) {
                    const Piece& p = pieces[i];
                    if (p.match && !previous_match && !merged.empty())
                        merged.back().begin = p.begin;
                    else
                        merged.push_back(p);
                    previous_match = p.match;
                }
                std::reverse(merged.begin(), merged.end());
                break;
            }
            case SplitBehavior::Contiguous: {
                bool previous_match = false;
                for (const Piece& p : pieces) {
                    if (p.match == previous_match && !merged.empty())
                        merged.back().end = p.end;
                    else
                        merged.push_back(p);
                    previous_match = p.match;
                }
                break;
            }
        }
        for (const Piece& p : merged)
            if (p.begin < p.end) scratch.spans.push_back({p.begin, p.end});
    }
    io.spans.swap(scratch.spans);
}

const char* behavior_name(SplitBehavior b) {
    switch (b) {
        case SplitBehavior::Removed: return "removed";
        case SplitBehavior::Isolated: return "isolated";
        case SplitBehavior::MergedWithPrevious: return "merged with previous";
        case SplitBehavior::MergedWithNext: return "merged with next";
        case SplitBehavior::Contiguous: return "contiguous";
    }
    return "?";
}

// ---- BertPreTokenizer: split on White_Space (removed) and punctuation (isolated) ----------
class BertPreTokenizer final : public PreTokenizer {
public:
    void pre_tokenize(PreTokens& io, PreTokens& scratch) const override {
        scratch.spans.clear();
        const char* base = io.text.data();
        for (const Span& span : io.spans) {
            uint32_t pos = span.begin;
            uint32_t word_start = span.begin;
            while (pos < span.end) {
                const auto b = static_cast<unsigned char>(base[pos]);
                char32_t cp;
                uint32_t n;
                if (b < 0x80) {
                    cp = b;
                    n = 1;
                } else {
                    n = static_cast<uint32_t>(uc::decode(base + pos, base + span.end, cp));
                }
                const uint16_t f = uc::flags(cp);
                if (f & uc::kWhitespace) {
                    if (word_start < pos) scratch.spans.push_back({word_start, pos});
                    word_start = pos + n;
                } else if (f & uc::kBertPunct) {
                    if (word_start < pos) scratch.spans.push_back({word_start, pos});
                    scratch.spans.push_back({pos, pos + n});
                    word_start = pos + n;
                }
                pos += n;
            }
            if (word_start < span.end) scratch.spans.push_back({word_start, span.end});
        }
        io.spans.swap(scratch.spans);
    }
    std::string describe() const override { return "BERT pre-tokenizer"; }
};

// ---- Whitespace: the regex \w+|[^\w\s]+ -------------------------------------------------------
class WhitespacePreTokenizer final : public PreTokenizer {
public:
    void pre_tokenize(PreTokens& io, PreTokens& scratch) const override {
        scratch.spans.clear();
        const char* base = io.text.data();
        for (const Span& span : io.spans) {
            uint32_t pos = span.begin;
            int run = 0;  // 0: none, 1: word chars, 2: other non-space chars
            uint32_t run_start = pos;
            while (pos < span.end) {
                char32_t cp;
                const uint32_t n =
                    static_cast<uint32_t>(uc::decode(base + pos, base + span.end, cp));
                const uint16_t f = uc::flags(cp);
                const int kind = (f & uc::kWord) ? 1 : (f & uc::kWhitespace) ? 0 : 2;
                if (kind != run) {
                    if (run != 0) scratch.spans.push_back({run_start, pos});
                    run = kind;
                    run_start = pos;
                }
                pos += n;
            }
            if (run != 0) scratch.spans.push_back({run_start, span.end});
        }
        io.spans.swap(scratch.spans);
    }
    std::string describe() const override { return "whitespace pre-tokenizer"; }
};

class WhitespaceSplit final : public PreTokenizer {
public:
    void pre_tokenize(PreTokens& io, PreTokens& scratch) const override {
        split_spans(io, scratch, SplitBehavior::Removed,
                    [](char32_t cp) { return uc::has(cp, uc::kWhitespace); });
    }
    std::string describe() const override { return "whitespace split"; }
};

class Punctuation final : public PreTokenizer {
public:
    explicit Punctuation(SplitBehavior b) : behavior_(b) {}
    void pre_tokenize(PreTokens& io, PreTokens& scratch) const override {
        split_spans(io, scratch, behavior_,
                    [](char32_t cp) { return uc::has(cp, uc::kBertPunct); });
    }
    std::string describe() const override {
        return std::string("punctuation split (") + behavior_name(behavior_) + ")";
    }

private:
    SplitBehavior behavior_;
};

class Digits final : public PreTokenizer {
public:
    explicit Digits(bool individual) : individual_(individual) {}
    void pre_tokenize(PreTokens& io, PreTokens& scratch) const override {
        split_spans(io, scratch, individual_ ? SplitBehavior::Isolated : SplitBehavior::Contiguous,
                    [](char32_t cp) { return uc::has(cp, uc::kNumeric); });
    }
    std::string describe() const override { return individual_ ? "digits (individual)" : "digits"; }

private:
    bool individual_;
};

class CharDelimiterSplit final : public PreTokenizer {
public:
    explicit CharDelimiterSplit(char32_t delimiter) : delimiter_(delimiter) {}
    void pre_tokenize(PreTokens& io, PreTokens& scratch) const override {
        const char32_t d = delimiter_;
        split_spans(io, scratch, SplitBehavior::Removed, [d](char32_t cp) { return cp == d; });
    }
    std::string describe() const override { return "char delimiter split"; }

private:
    char32_t delimiter_;
};

// ---- Metaspace: ' ' -> replacement, prefix, split before each replacement --------------------
enum class Prepend { Always, First, Never };

class Metaspace final : public PreTokenizer {
public:
    Metaspace(char32_t replacement, Prepend prepend, bool split)
        : prepend_(prepend), split_(split) {
        uc::append(replacement_, replacement);
    }

    void pre_tokenize(PreTokens& io, PreTokens& scratch) const override {
        scratch.text.clear();
        scratch.spans.clear();
        const std::string& rep = replacement_;
        for (const Span& span : io.spans) {
            if (span.begin == span.end) continue;
            const uint32_t out_begin = static_cast<uint32_t>(scratch.text.size());
            const std::string_view word(io.text.data() + span.begin, span.end - span.begin);
            const bool starts_with_rep = word[0] == ' ' || word.compare(0, rep.size(), rep) == 0;
            const bool prepend =
                !starts_with_rep &&
                (prepend_ == Prepend::Always ||
                 (prepend_ == Prepend::First && io.section_first && span.begin == 0));
            if (prepend) scratch.text += rep;
            for (const char c : word) {
                if (c == ' ')
                    scratch.text += rep;
                else
                    scratch.text.push_back(c);
            }
            const uint32_t out_end = static_cast<uint32_t>(scratch.text.size());
            if (!split_) {
                scratch.spans.push_back({out_begin, out_end});
                continue;
            }
            // MergedWithNext on the replacement: a new word starts at each replacement.
            uint32_t start = out_begin;
            size_t pos = scratch.text.find(rep, out_begin + 1);
            while (pos != std::string::npos && pos < out_end) {
                scratch.spans.push_back({start, static_cast<uint32_t>(pos)});
                start = static_cast<uint32_t>(pos);
                pos = scratch.text.find(rep, pos + rep.size());
            }
            scratch.spans.push_back({start, out_end});
        }
        io.text.swap(scratch.text);
        io.spans.swap(scratch.spans);
    }

    std::string describe() const override {
        std::string s = "metaspace '" + replacement_ + "'";
        s += prepend_ == Prepend::Always  ? " (prepend always"
             : prepend_ == Prepend::First ? " (prepend first"
                                          : " (prepend never";
        s += split_ ? ", split)" : ")";
        return s;
    }

private:
    std::string replacement_;
    Prepend prepend_;
    bool split_;
};

class SequencePreTokenizer final : public PreTokenizer {
public:
    explicit SequencePreTokenizer(std::vector<std::unique_ptr<PreTokenizer>> parts)
        : parts_(std::move(parts)) {}
    void pre_tokenize(PreTokens& io, PreTokens& scratch) const override {
        for (const auto& p : parts_) p->pre_tokenize(io, scratch);
    }
    std::string describe() const override {
        std::string s;
        for (const auto& p : parts_) s += (s.empty() ? "" : " + ") + p->describe();
        return s.empty() ? "no pre-tokenizer" : s;
    }

private:
    std::vector<std::unique_ptr<PreTokenizer>> parts_;
};

const char* const kSupported =
    "BertPreTokenizer, Whitespace, WhitespaceSplit, Punctuation, Digits, CharDelimiterSplit, "
    "Metaspace, Sequence";

SplitBehavior parse_behavior(const Json& json, const LoadContext& ctx, const std::string& what) {
    const std::string b = ctx.get_string(json, "behavior", "Isolated", what);
    if (b == "Removed") return SplitBehavior::Removed;
    if (b == "Isolated") return SplitBehavior::Isolated;
    if (b == "MergedWithPrevious") return SplitBehavior::MergedWithPrevious;
    if (b == "MergedWithNext") return SplitBehavior::MergedWithNext;
    if (b == "Contiguous") return SplitBehavior::Contiguous;
    ctx.fail(what + ": behavior '" + b + "' is not supported by embq");
}

char32_t single_char(const std::string& s, const LoadContext& ctx, const std::string& what,
                     const char* key) {
    char32_t cp = 0;
    if (s.empty() || uc::decode(s.data(), s.data() + s.size(), cp) != s.size())
        ctx.fail(what + ": '" + key + "' must be a single character");
    return cp;
}

}  // namespace

std::unique_ptr<PreTokenizer> make_bert_pre_tokenizer() {
    return std::make_unique<BertPreTokenizer>();
}

std::unique_ptr<PreTokenizer> make_pre_tokenizer(const Json& json, const LoadContext& ctx) {
    if (json.is_null()) return nullptr;
    if (!json.is_object() || !json.contains("type") || !json["type"].is_string())
        ctx.fail("pre_tokenizer must be an object with a \"type\"");
    const std::string type = json["type"].get<std::string>();
    const std::string what = "pre_tokenizer '" + type + "'";
    if (type == "BertPreTokenizer") {
        ctx.check_keys(json, {"type"}, what);
        return std::make_unique<BertPreTokenizer>();
    }
    if (type == "Whitespace") {
        ctx.check_keys(json, {"type"}, what);
        return std::make_unique<WhitespacePreTokenizer>();
    }
    if (type == "WhitespaceSplit") {
        ctx.check_keys(json, {"type"}, what);
        return std::make_unique<WhitespaceSplit>();
    }
    if (type == "Punctuation") {
        ctx.check_keys(json, {"type", "behavior"}, what);
        return std::make_unique<Punctuation>(parse_behavior(json, ctx, what));
    }
    if (type == "Digits") {
        ctx.check_keys(json, {"type", "individual_digits"}, what);
        return std::make_unique<Digits>(ctx.get_bool(json, "individual_digits", false, what));
    }
    if (type == "CharDelimiterSplit") {
        ctx.check_keys(json, {"type", "delimiter"}, what);
        return std::make_unique<CharDelimiterSplit>(
            single_char(ctx.get_string(json, "delimiter", what), ctx, what, "delimiter"));
    }
    if (type == "Metaspace") {
        // str_rep is derived from replacement (older files carry both).
        ctx.check_keys(
            json, {"type", "replacement", "str_rep", "add_prefix_space", "prepend_scheme", "split"},
            what);
        const char32_t rep = single_char(ctx.get_string(json, "replacement", "\u2581", what), ctx,
                                         what, "replacement");
        Prepend prepend = Prepend::Always;
        if (json.contains("prepend_scheme") && !json["prepend_scheme"].is_null()) {
            const std::string s = ctx.get_string(json, "prepend_scheme", what);
            if (s == "always")
                prepend = Prepend::Always;
            else if (s == "first")
                prepend = Prepend::First;
            else if (s == "never")
                prepend = Prepend::Never;
            else
                ctx.fail(what + ": prepend_scheme '" + s + "' is not supported by embq");
        } else if (!ctx.get_bool(json, "add_prefix_space", true, what)) {
            prepend = Prepend::Never;
        }
        return std::make_unique<Metaspace>(rep, prepend, ctx.get_bool(json, "split", true, what));
    }
    if (type == "Sequence") {
        ctx.check_keys(json, {"type", "pretokenizers"}, what);
        std::vector<std::unique_ptr<PreTokenizer>> parts;
        for (const Json& part : ctx.get_array(json, "pretokenizers", what)) {
            auto p = make_pre_tokenizer(part, ctx);
            if (p) parts.push_back(std::move(p));
        }
        return std::make_unique<SequencePreTokenizer>(std::move(parts));
    }
    ctx.fail("pre_tokenizer type '" + type +
             "' is not supported by embq (supported: " + kSupported + ")");
}

}  // namespace embq::text
