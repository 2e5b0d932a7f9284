// Streamed dataset reading: one std::getline per record, so memory holds one line at a
// time whatever the file size. Every line is checked as UTF-8 before it is parsed.
#include "embq/dataset.hpp"

#include <algorithm>
#include <cctype>
#include <cerrno>
#include <charconv>
#include <cmath>
#include <limits>
#include <string_view>
#include <system_error>

#include <nlohmann/json.hpp>

#include "core/json_text.hpp"
#include "embq/error.hpp"

namespace embq {

namespace fs = std::filesystem;

namespace {

constexpr const char* kAcceptedExtensions = ".txt, .text, .jsonl, .ndjson, .tsv";

std::string lower(std::string s) {
    std::transform(s.begin(), s.end(), s.begin(),
                   [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
    return s;
}

bool is_blank(std::string_view s) {
    return std::all_of(s.begin(), s.end(), [](char c) {
        return c == ' ' || c == '\t' || c == '\r' || c == '\n' || c == '\v' || c == '\f';
    });
}

std::string_view trim(std::string_view s) {
    const auto blank = [](char c) { return c == ' ' || c == '\t' || c == '\v' || c == '\f'; };
    while (!s.empty() && blank(s.front())) s.remove_prefix(1);
    while (!s.empty() && blank(s.back())) s.remove_suffix(1);
    return s;
}

// Returns the 0-based offset of the first byte of the first invalid sequence, or npos.
// Rejects overlong forms, UTF-16 surrogates (U+D800..U+DFFF), code points above
// U+10FFFF, stray continuation bytes and sequences cut short (Unicode table 3-7).
size_t first_invalid_utf8(std::string_view s) {
    const auto* p = reinterpret_cast<const unsigned char*>(s.data());
    const size_t n = s.size();
    size_t i = 0;
    while (i < n) {
        const unsigned char c = p[i];
        if (c < 0x80) {
            ++i;
            continue;
        }
        size_t len = 0;
        unsigned char lo = 0x80, hi = 0xBF;  // allowed range of the second byte
        if (c >= 0xC2 && c <= 0xDF) {
            len = 2;
        } else if (c == 0xE0) {
            len = 3, lo = 0xA0;  // no overlongs
        } else if ((c >= 0xE1 && c <= 0xEC) || c == 0xEE || c == 0xEF) {
            len = 3;
        } else if (c == 0xED) {
            len = 3, hi = 0x9F;  // no surrogates
        } else if (c == 0xF0) {
            len = 4, lo = 0x90;  // no overlongs
        } else if (c >= 0xF1 && c <= 0xF3) {
            len = 4;
        } else if (c == 0xF4) {
            len = 4, hi = 0x8F;  // nothing above U+10FFFF
        } else {
            return i;  // 0x80..0xC1 (continuation / overlong lead) or 0xF5..0xFF
        }
        if (i + len > n) return i;  // truncated
        if (p[i + 1] < lo || p[i + 1] > hi) return i;
        for (size_t k = 2; k < len; ++k) {
            if (p[i + k] < 0x80 || p[i + k] > 0xBF) return i;
        }
        i += len;
    }
    return std::string_view::npos;
}

const char* json_type(const nlohmann::json& j) {
    if (j.is_number_float()) return "a floating-point number";
    if (j.is_number()) return "an integer";
    if (j.is_string()) return "a string";
    if (j.is_boolean()) return "a boolean";
    if (j.is_null()) return "null";
    if (j.is_array()) return "an array";
    if (j.is_object()) return "an object";
    return j.type_name();
}

constexpr const char* kJsonlExpected =
    R"(expected one JSON object per line with "text" (a string) or "input_ids" )"
    R"((an array of non-negative integers))";

// "<path>:<line>: ", built only when a record is rejected.
struct LineRef {
    const std::string& path;
    size_t line;
    std::string operator()() const { return path + ":" + std::to_string(line) + ": "; }
};

// {"text": "..."} or {"input_ids": [...]}.
void parse_jsonl_record(std::string_view view, const LineRef& at, Record& record) {
    if (view.find('\0') != std::string_view::npos)
        throw input_error(at() + "holds a NUL byte, which JSON text never holds; " +
                          kJsonlExpected);
    nlohmann::json j;
    try {
        j = nlohmann::json::parse(view.begin(), view.end());
    } catch (const nlohmann::json::exception& e) {
        throw input_error(at() + "invalid JSON (" + json_error_reason(e) + "); " + kJsonlExpected);
    }
    if (!j.is_object()) {
        throw input_error(at() + "found " + json_type(j) + "; " + kJsonlExpected);
    }
    const auto text = j.find("text");
    const auto ids = j.find("input_ids");
    if (text != j.end() && ids != j.end()) {
        throw input_error(at() + R"(has both "text" and "input_ids"; give one of them)");
    }
    if (text == j.end() && ids == j.end()) {
        throw input_error(at() + R"(has neither "text" nor "input_ids"; )" + kJsonlExpected);
    }
    if (text != j.end()) {
        if (!text->is_string()) {
            throw input_error(at() + R"("text" is )" + json_type(*text) + "; expected a string");
        }
        record.text = text->get_ref<const std::string&>();
        return;
    }
    if (!ids->is_array()) {
        throw input_error(at() + R"("input_ids" is )" + json_type(*ids) +
                          "; expected an array of non-negative integers");
    }
    if (ids->empty()) {
        throw input_error(at() + R"("input_ids" is empty; expected at least )"
                                 "one token id");
    }
    std::vector<int64_t> out;
    out.reserve(ids->size());
    for (size_t k = 0; k < ids->size(); ++k) {
        const auto& v = (*ids)[k];
        const bool ok =
            (v.is_number_unsigned() &&
             v.get<uint64_t>() <= static_cast<uint64_t>(std::numeric_limits<int64_t>::max())) ||
            (v.is_number_integer() && !v.is_number_unsigned() && v.get<int64_t>() >= 0);
        if (!ok) {
            throw input_error(at() + R"("input_ids"[)" + std::to_string(k) + "] is " + v.dump() +
                              "; expected a non-negative integer");
        }
        out.push_back(v.get<int64_t>());
    }
    record.input_ids = std::move(out);
}

// a<TAB>b or a<TAB>b<TAB>score.
void parse_tsv_record(std::string_view view, const LineRef& at, Record& record) {
    std::string_view cols[3];
    size_t ncols = 0;
    size_t start = 0;
    while (true) {
        const size_t tab = view.find('\t', start);
        const auto col = view.substr(
            start, tab == std::string_view::npos ? std::string_view::npos : tab - start);
        if (ncols < 3) cols[ncols] = col;
        ++ncols;
        if (tab == std::string_view::npos) break;
        start = tab + 1;
    }
    if (ncols != 2 && ncols != 3) {
        throw input_error(at() + "found " + std::to_string(ncols) +
                          (ncols == 1 ? " column" : " columns") +
                          "; expected a<TAB>b or a<TAB>b<TAB>score");
    }
    if (is_blank(cols[0])) throw input_error(at() + "column 1 (a) is empty");
    if (is_blank(cols[1])) throw input_error(at() + "column 2 (b) is empty");
    record.text.assign(cols[0]);
    record.text_b.assign(cols[1]);
    if (ncols == 3) {
        const std::string_view s = trim(cols[2]);
        double score = 0.0;
        const auto [end, ec] = std::from_chars(s.data(), s.data() + s.size(), score);
        if (s.empty() || ec != std::errc() || end != s.data() + s.size() || !std::isfinite(score)) {
            throw input_error(at() + "score '" + std::string(cols[2]) + "' is not a finite number");
        }
        record.score = score;
    }
}

}  // namespace

DatasetFormat dataset_format_for(const fs::path& path) {
    const std::string ext = lower(path.extension().string());
    if (ext == ".txt" || ext == ".text") return DatasetFormat::Text;
    if (ext == ".jsonl" || ext == ".ndjson") return DatasetFormat::Jsonl;
    if (ext == ".tsv") return DatasetFormat::TsvPairs;
    const std::string what =
        ext.empty() ? "has no extension" : "has an unknown dataset extension '" + ext + "'";
    throw usage_error(path.string() + ": " + what + " (accepted: " + kAcceptedExtensions +
                      "); pass --format text|jsonl|tsv to choose the format");
}

std::optional<DatasetFormat> parse_dataset_format(const std::string& name) {
    if (name == "text") return DatasetFormat::Text;
    if (name == "jsonl") return DatasetFormat::Jsonl;
    if (name == "tsv") return DatasetFormat::TsvPairs;
    return std::nullopt;
}

DatasetReader::DatasetReader(const fs::path& path, DatasetFormat format)
    : path_(path), format_(format) {
    std::error_code ec;
    const auto status = fs::status(path_, ec);
    if (!fs::exists(status)) {
        throw input_error(path_.string() + ": no such file" +
                          (ec && ec != std::errc::no_such_file_or_directory
                               ? " (" + ec.message() + ")"
                               : std::string()));
    }
    if (fs::is_directory(status)) {
        throw input_error(path_.string() + ": is a directory; expected a dataset file");
    }
    errno = 0;
    in_.open(path_, std::ios::binary);
    if (!in_.is_open()) {
        const int err = errno;
        throw input_error(path_.string() + ": cannot open for reading" + errno_text(err));
    }
}

bool DatasetReader::next(Record& record) {
    std::string line;
    const std::string& where = path_.string();
    while (std::getline(in_, line)) {
        const size_t line_no = ++stats_.lines;
        const LineRef at{where, line_no};
        if (!line.empty() && line.back() == '\r') line.pop_back();

        const size_t bad = first_invalid_utf8(line);
        if (bad != std::string_view::npos) {
            throw input_error(at() + "invalid UTF-8 at byte " + std::to_string(bad + 1));
        }
        std::string_view view(line);
        if (line_no == 1 && view.substr(0, 3) == "\xEF\xBB\xBF") view.remove_prefix(3);
        if (is_blank(view)) {
            ++stats_.empty_skipped;
            continue;
        }

        record.line = line_no;
        record.text.clear();
        record.input_ids.reset();
        record.text_b.clear();
        record.score.reset();

        switch (format_) {
            case DatasetFormat::Text: record.text.assign(view); break;
            case DatasetFormat::Jsonl: parse_jsonl_record(view, at, record); break;
            case DatasetFormat::TsvPairs: parse_tsv_record(view, at, record); break;
        }
        ++stats_.records;
        return true;
    }
    if (in_.bad()) {
        throw input_error(where + ": read error after line " + std::to_string(stats_.lines));
    }
    return false;
}

}  // namespace embq
