// The Unicode the tokenizers need, with no Unicode library: UTF-8 decoding, character
// classes, lowercase, and the NFD / NFKD / NFC / NFKC normalization forms. The data
// tables are generated (tools/gen_unicode_tables.py -> unicode_tables.cpp).
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

namespace embq::text::unicode {

// Character classes (bits of flags()). Keep in sync with tools/gen_unicode_tables.py.
// Each class is what Hugging Face tokenizers uses (see tools/gen_unicode_tables.py: its
// Unicode versions differ per class; the generator applies the measured differences).
enum Flag : uint16_t {
    kWhitespace = 1 << 0,  // the White_Space property (Rust's char::is_whitespace)
    kControl = 1 << 1,     // "other": Cc Cf Co Cs, not unassigned code points
    kBertPunct = 1 << 2,   // P* or ASCII punctuation/symbols (BERT's _is_punctuation)
    kMn = 1 << 3,          // nonspacing mark (BERT's strip accents)
    kMark = 1 << 4,        // M* (the StripAccents normalizer)
    kWord = 1 << 5,        // regex \w: Alphabetic, M*, Nd, Pc, Join_Control
    kNumeric = 1 << 6,     // N* (Rust's char::is_numeric)
    kCjk = 1 << 7,         // BERT's CJK ideograph ranges (as HF writes them)
};

// ---- generated data (unicode_tables.cpp) ------------------------------------------
struct FlagRange {
    uint32_t first;
    uint16_t flags;
};
struct CccRange {
    uint32_t first, last;
    uint8_t ccc;
};
struct Decomposition {
    uint32_t cp;
    uint16_t offset;  // into kDecompPool
    uint8_t length;
    uint8_t compat;  // 1: compatibility-only mapping (NFKD), 0: canonical (NFD and NFKD)
};
struct Composition {
    uint32_t first, second, composed;
};
struct CaseMapping {
    uint32_t cp, lower;
};
struct MultiCaseMapping {
    uint32_t cp;
    uint32_t lower[3];
    uint8_t length;
};

extern const char kUnicodeVersion[];
extern const uint16_t kLatin1Flags[256];
extern const FlagRange kFlagRanges[];
extern const size_t kFlagRangeCount;
extern const CccRange kCccRanges[];
extern const size_t kCccRangeCount;
extern const uint32_t kDecompPool[];
extern const Decomposition kDecompositions[];
extern const size_t kDecompositionCount;
extern const Composition kCompositions[];
extern const size_t kCompositionCount;
extern const CaseMapping kLowercase[];
extern const size_t kLowercaseCount;
extern const MultiCaseMapping kLowercaseMulti[];
extern const size_t kLowercaseMultiCount;

// ---- lookups -----------------------------------------------------------------------
uint16_t flags_slow(char32_t cp);  // binary search, cp >= 256

inline uint16_t flags(char32_t cp) { return cp < 256 ? kLatin1Flags[cp] : flags_slow(cp); }
inline bool has(char32_t cp, uint16_t flag) { return (flags(cp) & flag) != 0; }

uint8_t combining_class(char32_t cp);

// ---- UTF-8 -------------------------------------------------------------------------
// Decodes the code point at `p` (p < end) and returns its length in bytes. Invalid or
// truncated sequences decode as U+FFFD of length 1 (callers validate user text first).
inline size_t decode(const char* p, const char* end, char32_t& cp) {
    const auto b0 = static_cast<unsigned char>(p[0]);
    if (b0 < 0x80) {
        cp = b0;
        return 1;
    }
    auto cont = [&](ptrdiff_t i) -> int {
        if (p + i >= end) return -1;
        const auto b = static_cast<unsigned char>(p[i]);
        return (b & 0xC0) == 0x80 ? (b & 0x3F) : -1;
    };
    if (b0 >= 0xC2 && b0 < 0xE0) {
        const int c1 = cont(1);
        if (c1 >= 0) {
            cp = (char32_t(b0 & 0x1F) << 6) | char32_t(c1);
            return 2;
        }
    } else if (b0 >= 0xE0 && b0 < 0xF0) {
        const int c1 = cont(1), c2 = c1 >= 0 ? cont(2) : -1;
        if (c2 >= 0) {
            const char32_t v = (char32_t(b0 & 0x0F) << 12) | (char32_t(c1) << 6) | char32_t(c2);
            if (v >= 0x800 && (v < 0xD800 || v > 0xDFFF)) {
                cp = v;
                return 3;
            }
        }
    } else if (b0 >= 0xF0 && b0 < 0xF5) {
        const int c1 = cont(1), c2 = c1 >= 0 ? cont(2) : -1, c3 = c2 >= 0 ? cont(3) : -1;
        if (c3 >= 0) {
            const char32_t v = (char32_t(b0 & 0x07) << 18) | (char32_t(c1) << 12) |
                               (char32_t(c2) << 6) | char32_t(c3);
            if (v >= 0x10000 && v <= 0x10FFFF) {
                cp = v;
                return 4;
            }
        }
    }
    cp = 0xFFFD;
    return 1;
}

inline void append(std::string& out, char32_t cp) {
    if (cp < 0x80) {
        out.push_back(static_cast<char>(cp));
    } else if (cp < 0x800) {
        const char b[2] = {static_cast<char>(0xC0 | (cp >> 6)),
                           static_cast<char>(0x80 | (cp & 0x3F))};
        out.append(b, 2);
    } else if (cp < 0x10000) {
        const char b[3] = {static_cast<char>(0xE0 | (cp >> 12)),
                           static_cast<char>(0x80 | ((cp >> 6) & 0x3F)),
                           static_cast<char>(0x80 | (cp & 0x3F))};
        out.append(b, 3);
    } else {
        const char b[4] = {
            static_cast<char>(0xF0 | (cp >> 18)), static_cast<char>(0x80 | ((cp >> 12) & 0x3F)),
            static_cast<char>(0x80 | ((cp >> 6) & 0x3F)), static_cast<char>(0x80 | (cp & 0x3F))};
        out.append(b, 4);
    }
}

// The byte offset of the first invalid sequence, or npos when `s` is valid UTF-8.
size_t find_invalid_utf8(std::string_view s);

// The number of code points in `s` (valid UTF-8).
size_t count_chars(std::string_view s);

// ---- case and normalization ----------------------------------------------------------
// Appends the lowercase of `cp` (one to three code points) to `out`.
void append_lower(std::string& out, char32_t cp);

enum class Form { NFD, NFKD, NFC, NFKC };
// Writes the normalization form of `in` to `out` (cleared first).
void normalize(Form form, std::string_view in, std::string& out);

}  // namespace embq::text::unicode
