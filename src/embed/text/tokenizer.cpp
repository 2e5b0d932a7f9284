// load_tokenizer and the pipeline that runs the stages: added tokens, normalizer,
// pre-tokenizer, model, truncation, post-processor.
//
// The reference is Hugging Face tokenizers (the Rust library behind tokenizer.json):
// tests/data/tokenizer/reference.json holds its ids for every fixture, and the Unicode tables
// reproduce its character classes code point for code point (tools/gen_unicode_tables.py).
// Supported: normalizers BertNormalizer, Lowercase, NFD, NFKD, NFC, NFKC, StripAccents,
// Strip, Replace (literal text, "c+" and "c{n,}" regexes), Prepend, Sequence; pre-tokenizers
// BertPreTokenizer, Whitespace, WhitespaceSplit, Punctuation, Digits, CharDelimiterSplit,
// Metaspace, Sequence; models WordPiece, Unigram (with byte_fallback), WordLevel;
// post-processors TemplateProcessing (single sequence), BertProcessing, RobertaProcessing,
// ByteLevel (no effect on ids), Sequence; added tokens with single_word / lstrip / rstrip /
// normalized. Everything else is an Input error naming it (notably the Precompiled
// SentencePiece normalizer, BPE, ByteLevel and Split pre-tokenizers, general regexes).
// One known approximation: Metaspace prepend_scheme "first" prepends to the word that
// starts the normalized text, where HF asks whether the word maps back to offset 0 of the
// original text; they differ only when a pre-tokenizer before Metaspace splits inside the
// expansion of the first character (NFKC "⑵" -> "(2)") or a normalizer removed leading text.
#include "embq/tokenizer.hpp"

#include <fstream>
#include <sstream>
#include <unordered_map>

#include "core/json_text.hpp"
#include "embed/text/added_tokens.hpp"
#include "embed/text/components.hpp"
#include "embed/text/unicode.hpp"
#include "embq/error.hpp"

namespace embq {
namespace text {
namespace {

class PipelineTokenizer final : public Tokenizer {
public:
    std::unique_ptr<Normalizer> normalizer;
    std::unique_ptr<PreTokenizer> pre_tokenizer;
    std::unique_ptr<Model> model;
    std::unique_ptr<PostProcessor> post_processor;
    AddedTokenMatcher raw_added;         // matched in the raw text
    AddedTokenMatcher normalized_added;  // matched in the normalized text
    std::unordered_map<int64_t, std::string> added_by_id;
    std::unordered_map<std::string, int64_t> added_by_content;
    int64_t pad = 0;
    std::string pad_note;
    bool truncate_left = false;
    size_t default_max_length = 0;  // from the file's "truncation", 0: none
    std::string description;

    int64_t lookup(std::string_view token) const {
        const auto it = added_by_content.find(std::string(token));
        if (it != added_by_content.end()) return it->second;
        return model->token_to_id(token);
    }

    Encoding encode(std::string_view text, size_t max_length) const override {
        struct Workspace {
            std::vector<AddedTokenMatcher::Segment> raw, norm;
            std::string section, scratch;
            PreTokens words, words_scratch;
            std::vector<int64_t> content;
        };
        thread_local Workspace ws;
        ws.content.clear();

        if (raw_added.empty()) {
            ws.raw.clear();
            if (!text.empty()) ws.raw.push_back({0, static_cast<uint32_t>(text.size()), -1});
        } else {
            raw_added.split(text, ws.raw);
        }
        for (const auto& seg : ws.raw) {
            if (seg.id >= 0) {
                ws.content.push_back(seg.id);
                continue;
            }
            ws.section.assign(text.data() + seg.begin, seg.end - seg.begin);
            if (normalizer) normalizer->normalize(ws.section, ws.scratch);
            if (normalized_added.empty()) {
                ws.norm.clear();
                if (!ws.section.empty())
                    ws.norm.push_back({0, static_cast<uint32_t>(ws.section.size()), -1});
            } else {
                normalized_added.split(ws.section, ws.norm);
            }
            for (const auto& part : ws.norm) {
                if (part.id >= 0) {
                    ws.content.push_back(part.id);
                    continue;
                }
                PreTokens& w = ws.words;
                if (ws.norm.size() == 1) {
                    w.text.swap(ws.section);
                } else {
                    w.text.assign(ws.section, part.begin, part.end - part.begin);
                }
                w.spans.clear();
                w.spans.push_back({0, static_cast<uint32_t>(w.text.size())});
                w.section_first = seg.begin == 0 && part.begin == 0;
                if (pre_tokenizer) pre_tokenizer->pre_tokenize(w, ws.words_scratch);
                for (const Span& s : w.spans) {
                    if (s.begin < s.end)
                        model->tokenize(std::string_view(w.text.data() + s.begin, s.end - s.begin),
                                        ws.content);
                }
            }
        }

        Encoding out;
        const size_t limit = max_length > 0 ? max_length : default_max_length;
        if (limit > 0) {
            const size_t added = post_processor->added_tokens();
            if (limit < added)
                throw config_error("max_length " + std::to_string(limit) +
                                   " leaves no room: the tokenizer adds " + std::to_string(added) +
                                   " special tokens to every text");
            const size_t room = limit - added;
            if (ws.content.size() > room) {
                out.truncated = true;
                if (truncate_left)
                    ws.content.erase(ws.content.begin(),
                                     ws.content.end() - static_cast<ptrdiff_t>(room));
                else
                    ws.content.resize(room);
            }
        }
        post_processor->process(ws.content, out);
        return out;
    }

    std::vector<std::string> id_to_tokens(const std::vector<int64_t>& ids) const override {
        std::vector<std::string> out;
        out.reserve(ids.size());
        for (const int64_t id : ids) {
            const auto it = added_by_id.find(id);
            if (it != added_by_id.end()) {
                out.push_back(it->second);
                continue;
            }
            const std::string* t = model->id_to_token(id);
            out.push_back(t ? *t : "<id " + std::to_string(id) + ">");
        }
        return out;
    }

    int64_t pad_id() const override { return pad; }

    size_t vocab_size() const override {
        int64_t max_id = model->max_id();
        for (const auto& [id, content] : added_by_id) max_id = std::max(max_id, id);
        return static_cast<size_t>(max_id + 1);
    }

    std::string describe() const override { return description; }

    void finish(const std::string& json_pad_token) {
        // The pad id: the file's padding setting, else [PAD] / <pad>, else 0.
        if (!json_pad_token.empty()) {
            pad_note = json_pad_token;
        } else {
            for (const char* name : {"[PAD]", "<pad>", "<PAD>"}) {
                const int64_t id = lookup(name);
                if (id >= 0) {
                    pad = id;
                    pad_note = name;
                    break;
                }
            }
        }
        std::string d = model->describe();
        d += ", " + (normalizer ? normalizer->describe() : std::string("no normalizer"));
        d += ", " + (pre_tokenizer ? pre_tokenizer->describe() : std::string("no pre-tokenizer"));
        d += ", " + post_processor->describe();
        d += ", pad " + (pad_note.empty() ? std::string("id 0") : pad_note);
        if (default_max_length > 0) d += ", truncates at " + std::to_string(default_max_length);
        description = d;
    }
};

std::string read_all(const std::filesystem::path& path) {
    std::ifstream in(path, std::ios::binary);
    if (!in) throw input_error(path.string() + ": cannot read the tokenizer file");
    std::ostringstream ss;
    ss << in.rdbuf();
    if (in.bad()) throw input_error(path.string() + ": cannot read the tokenizer file");
    return ss.str();
}

std::unique_ptr<Tokenizer> from_json(const Json& root, const LoadContext& ctx) {
    ctx.check_keys(root,
                   {"version", "truncation", "padding", "added_tokens", "normalizer",
                    "pre_tokenizer", "model", "post_processor", "decoder"},
                   "tokenizer.json");
    auto tok = std::make_unique<PipelineTokenizer>();
    tok->normalizer = make_normalizer(root.value("normalizer", Json()), ctx);
    tok->pre_tokenizer = make_pre_tokenizer(root.value("pre_tokenizer", Json()), ctx);
    tok->model = make_model(root["model"], ctx);

    // Added tokens.
    if (root.contains("added_tokens") && !root["added_tokens"].is_null()) {
        const Json& list = root["added_tokens"];
        if (!list.is_array()) ctx.fail("'added_tokens' must be an array");
        for (const Json& a : list) {
            const std::string what = "added token";
            ctx.check_keys(
                a, {"id", "content", "single_word", "lstrip", "rstrip", "normalized", "special"},
                what);
            AddedToken t;
            t.content = ctx.get_string(a, "content", what);
            // Hugging Face does not take the file's id: it re-adds each token, which gets
            // its vocabulary id, or the next id after the vocabulary and earlier added tokens.
            if (ctx.get_int(a, "id", -1, what) < 0)
                ctx.fail("added token '" + t.content + "' has no valid id");
            t.id = tok->lookup(t.content);
            if (t.id < 0) {
                const int64_t vocab_size = static_cast<int64_t>(tok->model->size());
                int64_t max_added = -1;
                for (const auto& [id, content] : tok->added_by_id)
                    max_added = std::max(max_added, id);
                t.id = max_added < 0 ? vocab_size
                                     : (max_added >= vocab_size ? max_added + 1 : vocab_size);
            }
            t.single_word = ctx.get_bool(a, "single_word", false, what);
            t.lstrip = ctx.get_bool(a, "lstrip", false, what);
            t.rstrip = ctx.get_bool(a, "rstrip", false, what);
            t.special = ctx.get_bool(a, "special", false, what);
            t.normalized = ctx.get_bool(a, "normalized", !t.special, what);
            tok->added_by_id[t.id] = t.content;
            tok->added_by_content[t.content] = t.id;
            if (t.normalized) {
                AddedToken n = t;
                if (tok->normalizer) {
                    std::string scratch;
                    tok->normalizer->normalize(n.content, scratch);
                }
                tok->normalized_added.add(n);
            } else {
                tok->raw_added.add(t);
            }
        }
    }

    const PipelineTokenizer* self = tok.get();
    tok->post_processor =
        make_post_processor(root.value("post_processor", Json()), ctx,
                            [self](std::string_view t) { return self->lookup(t); });

    std::string pad_token;
    if (root.contains("padding") && root["padding"].is_object()) {
        const Json& p = root["padding"];
        const std::string what = "padding";
        if (p.contains("pad_id")) {
            tok->pad = ctx.get_int(p, "pad_id", 0, what);
            pad_token = ctx.get_string(p, "pad_token", "", what);
            if (pad_token.empty()) pad_token = "id " + std::to_string(tok->pad);
        }
    }
    if (root.contains("truncation") && root["truncation"].is_object()) {
        const Json& t = root["truncation"];
        const std::string what = "truncation";
        const std::string direction = ctx.get_string(t, "direction", "Right", what);
        if (direction != "Right" && direction != "Left")
            ctx.fail("truncation direction '" + direction + "' is unknown");
        tok->truncate_left = direction == "Left";
        const int64_t max_length = ctx.get_int(t, "max_length", 0, what);
        if (max_length < 0) ctx.fail("truncation max_length must not be negative");
        tok->default_max_length = static_cast<size_t>(max_length);
    }
    tok->finish(pad_token);
    return tok;
}

std::unique_ptr<Tokenizer> from_vocab_txt(const std::string& content, const LoadContext& ctx) {
    std::vector<std::string> tokens;
    size_t line_start = 0;
    while (line_start < content.size()) {
        size_t line_end = content.find('\n', line_start);
        if (line_end == std::string::npos) line_end = content.size();
        std::string line = content.substr(line_start, line_end - line_start);
        // HF reads vocab.txt lines with trim_end (whitespace, \r included).
        while (!line.empty() && (line.back() == ' ' || line.back() == '\t' || line.back() == '\r' ||
                                 line.back() == '\v' || line.back() == '\f'))
            line.pop_back();
        const size_t bad = unicode::find_invalid_utf8(line);
        if (bad != std::string::npos || line.find('\0') != std::string::npos)
            ctx.fail("line " + std::to_string(tokens.size() + 1) +
                     ": not UTF-8 text (neither a tokenizer.json nor a BERT vocab.txt)");
        tokens.push_back(std::move(line));
        line_start = line_end + 1;
    }
    std::unordered_map<std::string, int64_t> index;
    for (size_t i = 0; i < tokens.size(); ++i) index[tokens[i]] = static_cast<int64_t>(i);
    for (const char* required : {"[UNK]", "[CLS]", "[SEP]"}) {
        if (!index.count(required))
            ctx.fail(std::string("no ") + required +
                     " line: neither a tokenizer.json (a JSON object with a \"model\") nor a BERT "
                     "vocab.txt");
    }
    auto tok = std::make_unique<PipelineTokenizer>();
    tok->normalizer = make_bert_normalizer(true);
    tok->pre_tokenizer = make_bert_pre_tokenizer();
    tok->post_processor = make_cls_sep_processor(index["[CLS]"], "[CLS]", index["[SEP]"], "[SEP]");
    // BERT's special tokens are added tokens: "[MASK]" in the text is the mask token.
    for (const char* special : {"[PAD]", "[UNK]", "[CLS]", "[SEP]", "[MASK]"}) {
        const auto it = index.find(special);
        if (it == index.end()) continue;
        AddedToken t;
        t.content = special;
        t.id = it->second;
        t.special = true;
        tok->raw_added.add(t);
        tok->added_by_id[t.id] = t.content;
        tok->added_by_content[t.content] = t.id;
    }
    tok->model = make_wordpiece(std::move(tokens), "[UNK]", ctx);
    tok->finish("");
    return tok;
}

}  // namespace
}  // namespace text

std::filesystem::path tokenizer_file(const std::filesystem::path& path) {
    namespace fs = std::filesystem;
    std::error_code ec;
    if (fs::is_directory(path, ec)) {
        if (fs::exists(path / "tokenizer.json", ec)) return path / "tokenizer.json";
        if (fs::exists(path / "vocab.txt", ec)) return path / "vocab.txt";
        throw input_error(path.string() +
                          ": a directory with neither tokenizer.json nor vocab.txt");
    }
    if (!fs::exists(path, ec)) throw input_error(path.string() + ": no such tokenizer file");
    return path;
}

std::string read_tokenizer_file(const std::filesystem::path& path) {
    return text::read_all(tokenizer_file(path));
}

std::unique_ptr<Tokenizer> load_tokenizer(const std::filesystem::path& path) {
    const std::filesystem::path file = tokenizer_file(path);
    return parse_tokenizer(text::read_all(file), file.string());
}

std::unique_ptr<Tokenizer> parse_tokenizer(const std::string& content, const std::string& origin) {
    text::LoadContext ctx{origin};

    size_t first = 0;
    while (first < content.size() && (content[first] == ' ' || content[first] == '\t' ||
                                      content[first] == '\n' || content[first] == '\r'))
        ++first;
    if (content.compare(0, 3, "\xEF\xBB\xBF") == 0)
        first = std::max<size_t>(first, 3);  // UTF-8 BOM
    if (first < content.size() && content[first] == '{') {
        refuse_nul_bytes(content, origin);
        text::Json root;
        try {
            root = text::Json::parse(content);
        } catch (const text::Json::exception& e) {
            ctx.fail("not valid JSON (" + json_error_reason(e) + ")");
        }
        if (!root.is_object() || !root.contains("model") || !root["model"].is_object())
            ctx.fail("not a tokenizer.json: no \"model\" object");
        try {
            return text::from_json(root, ctx);
        } catch (const text::Json::exception& e) {
            std::string what = e.what();
            const size_t cut = what.find("] ");
            if (cut != std::string::npos && what.compare(0, 1, "[") == 0)
                what = what.substr(cut + 2);
            ctx.fail("malformed tokenizer.json (" + what + ")");
        }
    }
    if (content.empty())
        ctx.fail("the file is empty (expected a tokenizer.json or a BERT vocab.txt)");
    return text::from_vocab_txt(content, ctx);
}

}  // namespace embq
