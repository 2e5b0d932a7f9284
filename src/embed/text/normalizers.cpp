// Normalizers: BertNormalizer, Lowercase, NFD/NFKD/NFC/NFKC, StripAccents, Strip,
// Replace (literal strings and single-character runs), Prepend, Sequence.
#include <cstring>

#include "embed/text/components.hpp"
#include "embed/text/unicode.hpp"

namespace embq::text {
namespace {

namespace uc = unicode;

bool is_ascii(const std::string& s) {
    for (const char c : s)
        if (static_cast<unsigned char>(c) >= 0x80) return false;
    return true;
}

// ---- BertNormalizer --------------------------------------------------------------------
class BertNormalizer final : public Normalizer {
public:
    BertNormalizer(bool clean_text, bool chinese, bool strip_accents, bool lowercase)
        : clean_text_(clean_text),
          chinese_(chinese),
          strip_accents_(strip_accents),
          lowercase_(lowercase) {}

    void normalize(std::string& text, std::string& scratch) const override {
        // 1. clean text and pad CJK ideographs (one pass, text -> scratch).
        scratch.clear();
        scratch.reserve(text.size() + 8);
        const char* p = text.data();
        const char* end = p + text.size();
        while (p < end) {
            const auto b = static_cast<unsigned char>(*p);
            if (b < 0x80) {  // ASCII: no CJK, no accents
                ++p;
                if (clean_text_) {
                    if (b == '\t' || b == '\n' || b == '\r') {
                        scratch.push_back(' ');
                        continue;
                    }
                    if (b == 0 || b < 0x20 || b == 0x7F) continue;  // Cc
                }
                scratch.push_back(static_cast<char>(b));
                continue;
            }
            char32_t cp;
            const size_t n = uc::decode(p, end, cp);
            const uint16_t f = uc::flags(cp);
            if (clean_text_) {
                if (cp == 0xFFFD || (f & uc::kControl)) {
                    p += n;
                    continue;
                }
                if (f & uc::kWhitespace) {
                    scratch.push_back(' ');
                    p += n;
                    continue;
                }
            }
            if (chinese_ && (f & uc::kCjk)) {
                scratch.push_back(' ');
                scratch.append(p, n);
                scratch.push_back(' ');
            } else {
                scratch.append(p, n);
            }
            p += n;
        }
        // 2. strip accents (NFD, drop Mn), then lowercase, as HF does.
        if (strip_accents_ && !is_ascii(scratch)) {
            uc::normalize(uc::Form::NFD, scratch, text);
            scratch.clear();
            const char* q = text.data();
            const char* qend = q + text.size();
            while (q < qend) {
                char32_t cp;
                const size_t n = uc::decode(q, qend, cp);
                if (!(uc::flags(cp) & uc::kMn)) {
                    if (lowercase_)
                        uc::append_lower(scratch, cp);
                    else
                        scratch.append(q, n);
                }
                q += n;
            }
            text.swap(scratch);
            return;
        }
        if (lowercase_) {
            text.clear();
            lower_into(scratch, text);
            return;
        }
        text.swap(scratch);
    }

    static void lower_into(const std::string& in, std::string& out) {
        out.reserve(in.size());
        const char* q = in.data();
        const char* qend = q + in.size();
        while (q < qend) {
            const auto b = static_cast<unsigned char>(*q);
            if (b < 0x80) {
                out.push_back(static_cast<char>(b >= 'A' && b <= 'Z' ? b + 32 : b));
                ++q;
                continue;
            }
            char32_t cp;
            q += uc::decode(q, qend, cp);
            uc::append_lower(out, cp);
        }
    }

    std::string describe() const override {
        std::string parts;
        auto add = [&](bool on, const char* name) {
            if (!on) return;
            if (!parts.empty()) parts += ", ";
            parts += name;
        };
        add(lowercase_, "lowercase");
        add(strip_accents_, "strip accents");
        add(chinese_, "CJK");
        add(clean_text_, "clean text");
        return "BERT normalizer (" + parts + ")";
    }

private:
    bool clean_text_, chinese_, strip_accents_, lowercase_;
};

// ---- Lowercase -------------------------------------------------------------------------
class Lowercase final : public Normalizer {
public:
    void normalize(std::string& text, std::string& scratch) const override {
        scratch.clear();
        BertNormalizer::lower_into(text, scratch);
        text.swap(scratch);
    }
    std::string describe() const override { return "lowercase"; }
};

// ---- Unicode normalization forms ---------------------------------------------------------
class UnicodeForm final : public Normalizer {
public:
    UnicodeForm(uc::Form form, const char* name) : form_(form), name_(name) {}
    void normalize(std::string& text, std::string& scratch) const override {
        uc::normalize(form_, text, scratch);
        text.swap(scratch);
    }
    std::string describe() const override { return name_; }

private:
    uc::Form form_;
    const char* name_;
};

// ---- StripAccents: drops every combining mark (M*), as HF's StripAccents does -------------
class StripAccents final : public Normalizer {
public:
    void normalize(std::string& text, std::string& scratch) const override {
        if (is_ascii(text)) return;
        scratch.clear();
        const char* p = text.data();
        const char* end = p + text.size();
        while (p < end) {
            char32_t cp;
            const size_t n = uc::decode(p, end, cp);
            if (!(uc::flags(cp) & uc::kMark)) scratch.append(p, n);
            p += n;
        }
        text.swap(scratch);
    }
    std::string describe() const override { return "strip accents"; }
};

// ---- Strip: leading / trailing White_Space ------------------------------------------------
class Strip final : public Normalizer {
public:
    Strip(bool left, bool right) : left_(left), right_(right) {}
    void normalize(std::string& text, std::string&) const override {
        size_t begin = 0, end = text.size();
        if (left_) {
            while (begin < end) {
                char32_t cp;
                const size_t n = uc::decode(text.data() + begin, text.data() + end, cp);
                if (!uc::has(cp, uc::kWhitespace)) break;
                begin += n;
            }
        }
        if (right_) {
            while (end > begin) {
                size_t start = end - 1;
                while (start > begin && (static_cast<unsigned char>(text[start]) & 0xC0) == 0x80)
                    --start;
                char32_t cp;
                uc::decode(text.data() + start, text.data() + end, cp);
                if (!uc::has(cp, uc::kWhitespace)) break;
                end = start;
            }
        }
        text = text.substr(begin, end - begin);
    }
    std::string describe() const override {
        return std::string("strip ") + (left_ && right_ ? "both" : left_ ? "left" : "right");
    }

private:
    bool left_, right_;
};

// ---- Replace ------------------------------------------------------------------------------
// Literal strings, or runs of one character ("c+", "c{n,}") which is all real
// tokenizer.json files use (" {2,}" in SentencePiece conversions).
class Replace final : public Normalizer {
public:
    Replace(std::string pattern, size_t min_run, std::string content, std::string shown)
        : pattern_(std::move(pattern)),
          min_run_(min_run),
          content_(std::move(content)),
          shown_(std::move(shown)) {}

    void normalize(std::string& text, std::string& scratch) const override {
        if (pattern_.empty() || text.find(pattern_) == std::string::npos) return;
        scratch.clear();
        size_t pos = 0;
        while (pos < text.size()) {
            const size_t hit = text.find(pattern_, pos);
            if (hit == std::string::npos) break;
            size_t run_end = hit + pattern_.size();
            size_t count = 1;
            if (min_run_ > 0) {  // a run of the single-character pattern
                while (text.compare(run_end, pattern_.size(), pattern_) == 0) {
                    run_end += pattern_.size();
                    ++count;
                }
            }
            scratch.append(text, pos, hit - pos);
            if (min_run_ == 0 || count >= min_run_)
                scratch += content_;
            else
                scratch.append(text, hit, run_end - hit);
            pos = run_end;
        }
        if (pos < text.size()) scratch.append(text, pos, std::string::npos);
        text.swap(scratch);
    }
    std::string describe() const override { return "replace " + shown_; }

private:
    std::string pattern_;
    size_t min_run_;  // 0: literal; n: runs of at least n copies
    std::string content_;
    std::string shown_;
};

// ---- Prepend --------------------------------------------------------------------------------
class Prepend final : public Normalizer {
public:
    explicit Prepend(std::string prefix) : prefix_(std::move(prefix)) {}
    void normalize(std::string& text, std::string&) const override {
        if (!text.empty()) text.insert(0, prefix_);
    }
    std::string describe() const override { return "prepend '" + prefix_ + "'"; }

private:
    std::string prefix_;
};

// ---- Sequence -------------------------------------------------------------------------------
class SequenceNormalizer final : public Normalizer {
public:
    explicit SequenceNormalizer(std::vector<std::unique_ptr<Normalizer>> parts)
        : parts_(std::move(parts)) {}
    void normalize(std::string& text, std::string& scratch) const override {
        for (const auto& n : parts_) n->normalize(text, scratch);
    }
    std::string describe() const override {
        std::string s;
        for (const auto& n : parts_) s += (s.empty() ? "" : ", ") + n->describe();
        return s.empty() ? "no normalizer" : s;
    }

private:
    std::vector<std::unique_ptr<Normalizer>> parts_;
};

const char* const kSupported =
    "BertNormalizer, Lowercase, NFD, NFKD, NFC, NFKC, StripAccents, Strip, Replace, Prepend, "
    "Sequence";

// A regex from a Replace pattern: a literal, "c+" or "c{n,}". Returns false if unsupported.
bool parse_simple_regex(const std::string& re, std::string& literal, size_t& min_run) {
    static const char* const kMeta = "\\.^$|?*+()[]{}";
    std::string lit;
    size_t i = 0;
    auto read_char = [&](std::string& out) -> bool {  // one literal (maybe escaped) char
        if (i >= re.size()) return false;
        if (re[i] == '\\') {
            if (i + 1 >= re.size()) return false;
            const char c = re[i + 1];
            if (std::strchr(kMeta, c) == nullptr && c != ' ' && c != '-' && c != '#' && c != '&' &&
                c != '~' && c != '/')
                return false;  // \s, \d, \w, ...: classes, not literals
            out.push_back(c);
            i += 2;
            return true;
        }
        if (std::strchr(kMeta, re[i]) != nullptr) return false;
        const auto b = static_cast<unsigned char>(re[i]);
        const size_t n = b < 0x80 ? 1 : b < 0xE0 ? 2 : b < 0xF0 ? 3 : 4;
        out.append(re, i, n);
        i += n;
        return true;
    };
    // All literal?
    {
        std::string all;
        i = 0;
        bool ok = true;
        while (i < re.size() && ok) ok = read_char(all);
        if (ok) {
            literal = all;
            min_run = 0;
            return !literal.empty();
        }
    }
    i = 0;
    std::string one;
    if (!read_char(one)) return false;
    const std::string rest = re.substr(i);
    if (rest == "+") {
        literal = one;
        min_run = 1;
        return true;
    }
    if (rest.size() >= 4 && rest.front() == '{' && rest.compare(rest.size() - 2, 2, ",}") == 0) {
        const std::string digits = rest.substr(1, rest.size() - 3);
        if (digits.empty() || digits.find_first_not_of("0123456789") != std::string::npos)
            return false;
        literal = one;
        min_run = std::stoul(digits);
        if (min_run == 0) return false;
        return true;
    }
    return false;
}

}  // namespace

std::unique_ptr<Normalizer> make_bert_normalizer(bool lowercase) {
    return std::make_unique<BertNormalizer>(true, true, lowercase, lowercase);
}

std::unique_ptr<Normalizer> make_normalizer(const Json& json, const LoadContext& ctx) {
    if (json.is_null()) return nullptr;
    if (!json.is_object() || !json.contains("type") || !json["type"].is_string())
        ctx.fail("normalizer must be an object with a \"type\"");
    const std::string type = json["type"].get<std::string>();
    const std::string what = "normalizer '" + type + "'";
    if (type == "BertNormalizer") {
        ctx.check_keys(json,
                       {"type", "clean_text", "handle_chinese_chars", "strip_accents", "lowercase"},
                       what);
        const bool lowercase = ctx.get_bool(json, "lowercase", true, what);
        const bool strip =
            ctx.get_bool(json, "strip_accents", lowercase, what);  // null: as lowercase
        return std::make_unique<BertNormalizer>(
            ctx.get_bool(json, "clean_text", true, what),
            ctx.get_bool(json, "handle_chinese_chars", true, what), strip, lowercase);
    }
    if (type == "Lowercase") {
        ctx.check_keys(json, {"type"}, what);
        return std::make_unique<Lowercase>();
    }
    if (type == "NFD" || type == "NFKD" || type == "NFC" || type == "NFKC") {
        ctx.check_keys(json, {"type"}, what);
        const uc::Form form = type == "NFD"    ? uc::Form::NFD
                              : type == "NFKD" ? uc::Form::NFKD
                              : type == "NFC"  ? uc::Form::NFC
                                               : uc::Form::NFKC;
        static const char* const kNames[] = {"NFD", "NFKD", "NFC", "NFKC"};
        return std::make_unique<UnicodeForm>(form, kNames[static_cast<int>(form)]);
    }
    if (type == "StripAccents") {
        ctx.check_keys(json, {"type"}, what);
        return std::make_unique<StripAccents>();
    }
    if (type == "Strip") {
        ctx.check_keys(json, {"type", "strip_left", "strip_right"}, what);
        const bool left = ctx.get_bool(json, "strip_left", true, what);
        const bool right = ctx.get_bool(json, "strip_right", true, what);
        return std::make_unique<Strip>(left, right);
    }
    if (type == "Prepend") {
        ctx.check_keys(json, {"type", "prepend"}, what);
        return std::make_unique<Prepend>(ctx.get_string(json, "prepend", what));
    }
    if (type == "Replace") {
        ctx.check_keys(json, {"type", "pattern", "content"}, what);
        const std::string content = ctx.get_string(json, "content", what);
        const auto it = json.find("pattern");
        if (it == json.end() || !it->is_object()) ctx.fail(what + ": 'pattern' must be an object");
        if (it->contains("String") && (*it)["String"].is_string()) {
            const std::string s = (*it)["String"].get<std::string>();
            if (s.empty()) ctx.fail(what + ": the pattern is empty");
            return std::make_unique<Replace>(s, 0, content, "'" + s + "' with '" + content + "'");
        }
        if (it->contains("Regex") && (*it)["Regex"].is_string()) {
            const std::string re = (*it)["Regex"].get<std::string>();
            std::string literal;
            size_t min_run = 0;
            if (!parse_simple_regex(re, literal, min_run))
                ctx.fail(what + ": regex pattern '" + re +
                         "' is not supported by embq (supported: literal text, 'c+' and 'c{n,}')");
            return std::make_unique<Replace>(literal, min_run, content,
                                             "/" + re + "/ with '" + content + "'");
        }
        ctx.fail(what + ": 'pattern' must be {\"String\": ...} or {\"Regex\": ...}");
    }
    if (type == "Sequence") {
        ctx.check_keys(json, {"type", "normalizers"}, what);
        std::vector<std::unique_ptr<Normalizer>> parts;
        for (const Json& part : ctx.get_array(json, "normalizers", what)) {
            auto n = make_normalizer(part, ctx);
            if (n) parts.push_back(std::move(n));
        }
        return std::make_unique<SequenceNormalizer>(std::move(parts));
    }
    if (type == "Precompiled")
        ctx.fail(
            "normalizer type 'Precompiled' (a SentencePiece precompiled charsmap) is not supported "
            "by "
            "embq (supported: " +
            std::string(kSupported) + ")");
    ctx.fail("normalizer type '" + type + "' is not supported by embq (supported: " + kSupported +
             ")");
}

}  // namespace embq::text
