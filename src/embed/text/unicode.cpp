#include "embed/text/unicode.hpp"

#include <algorithm>
#include <vector>

namespace embq::text::unicode {

uint16_t flags_slow(char32_t cp) {
    // The last range whose first <= cp.
    const FlagRange* begin = kFlagRanges;
    const FlagRange* end = kFlagRanges + kFlagRangeCount;
    const FlagRange* it =
        std::upper_bound(begin, end, static_cast<uint32_t>(cp),
                         [](uint32_t v, const FlagRange& r) { return v < r.first; });
    return it == begin ? 0 : (it - 1)->flags;
}

uint8_t combining_class(char32_t cp) {
    if (cp < 0x300) return 0;
    const CccRange* begin = kCccRanges;
    const CccRange* end = kCccRanges + kCccRangeCount;
    const CccRange* it =
        std::upper_bound(begin, end, static_cast<uint32_t>(cp),
                         [](uint32_t v, const CccRange& r) { return v < r.first; });
    if (it == begin) return 0;
    --it;
    return cp <= it->last ? it->ccc : 0;
}

size_t find_invalid_utf8(std::string_view s) {
    const char* p = s.data();
    const char* end = p + s.size();
    while (p < end) {
        if (static_cast<unsigned char>(*p) < 0x80) {
            ++p;
            continue;
        }
        char32_t cp;
        const size_t n = decode(p, end, cp);
        if (n == 1) return static_cast<size_t>(p - s.data());
        p += n;
    }
    return std::string_view::npos;
}

size_t count_chars(std::string_view s) {
    size_t n = 0;
    for (const char c : s) n += (static_cast<unsigned char>(c) & 0xC0) != 0x80;
    return n;
}

void append_lower(std::string& out, char32_t cp) {
    if (cp < 0x80) {
        out.push_back(static_cast<char>(cp >= 'A' && cp <= 'Z' ? cp + 32 : cp));
        return;
    }
    const CaseMapping* begin = kLowercase;
    const CaseMapping* end = kLowercase + kLowercaseCount;
    const CaseMapping* it =
        std::lower_bound(begin, end, static_cast<uint32_t>(cp),
                         [](const CaseMapping& m, uint32_t v) { return m.cp < v; });
    if (it != end && it->cp == cp) {
        append(out, it->lower);
        return;
    }
    for (size_t i = 0; i < kLowercaseMultiCount; ++i) {
        if (kLowercaseMulti[i].cp == cp) {
            for (uint8_t k = 0; k < kLowercaseMulti[i].length; ++k)
                append(out, kLowercaseMulti[i].lower[k]);
            return;
        }
    }
    append(out, cp);
}

namespace {

constexpr char32_t kSBase = 0xAC00, kLBase = 0x1100, kVBase = 0x1161, kTBase = 0x11A7;
constexpr char32_t kLCount = 19, kVCount = 21, kTCount = 28;
constexpr char32_t kNCount = kVCount * kTCount, kSCount = kLCount * kNCount;

void decompose_into(char32_t cp, bool compat, std::u32string& out) {
    if (cp < 0xC0) {  // nothing below U+00C0 decomposes canonically; U+00A0.. do under NFKD
        if (!compat || cp < 0xA0) {
            out.push_back(cp);
            return;
        }
    }
    if (cp >= kSBase && cp < kSBase + kSCount) {
        const char32_t s = cp - kSBase;
        out.push_back(kLBase + s / kNCount);
        out.push_back(kVBase + (s % kNCount) / kTCount);
        if (s % kTCount != 0) out.push_back(kTBase + s % kTCount);
        return;
    }
    const Decomposition* begin = kDecompositions;
    const Decomposition* end = kDecompositions + kDecompositionCount;
    const Decomposition* it =
        std::lower_bound(begin, end, static_cast<uint32_t>(cp),
                         [](const Decomposition& d, uint32_t v) { return d.cp < v; });
    const Decomposition* use = nullptr;
    for (; it != end && it->cp == cp; ++it) {
        if (!it->compat)
            use = it;  // canonical: used by both forms
        else if (compat)
            use = it;  // compatibility row comes second
    }
    if (use == nullptr) {
        out.push_back(cp);
        return;
    }
    for (uint8_t k = 0; k < use->length; ++k) out.push_back(kDecompPool[use->offset + k]);
}

char32_t compose_pair(char32_t a, char32_t b) {
    if (a >= kLBase && a < kLBase + kLCount && b >= kVBase && b < kVBase + kVCount)
        return kSBase + ((a - kLBase) * kVCount + (b - kVBase)) * kTCount;
    if (a >= kSBase && a < kSBase + kSCount && (a - kSBase) % kTCount == 0 && b > kTBase &&
        b < kTBase + kTCount)
        return a + (b - kTBase);
    const Composition* begin = kCompositions;
    const Composition* end = kCompositions + kCompositionCount;
    const Composition* it = std::lower_bound(
        begin, end, std::pair<uint32_t, uint32_t>(a, b),
        [](const Composition& c, const std::pair<uint32_t, uint32_t>& v) {
            return c.first < v.first || (c.first == v.first && c.second < v.second);
        });
    if (it != end && it->first == a && it->second == b) return it->composed;
    return 0;
}

}  // namespace

void normalize(Form form, std::string_view in, std::string& out) {
    out.clear();
    bool ascii = true;
    for (const char c : in) {
        if (static_cast<unsigned char>(c) >= 0x80) {
            ascii = false;
            break;
        }
    }
    if (ascii) {  // every normalization form leaves ASCII as it is
        out.assign(in.data(), in.size());
        return;
    }
    const bool compat = form == Form::NFKD || form == Form::NFKC;
    const bool compose = form == Form::NFC || form == Form::NFKC;

    thread_local std::u32string buf;
    thread_local std::vector<uint8_t> cls;
    buf.clear();
    const char* p = in.data();
    const char* end = p + in.size();
    while (p < end) {
        char32_t cp;
        p += decode(p, end, cp);
        decompose_into(cp, compat, buf);
    }
    // Canonical ordering: stable sort each run of non-starters by combining class.
    cls.resize(buf.size());
    for (size_t i = 0; i < buf.size(); ++i) cls[i] = combining_class(buf[i]);
    for (size_t i = 1; i < buf.size(); ++i) {
        if (cls[i] == 0) continue;
        size_t j = i;
        while (j > 0 && cls[j - 1] > cls[j]) {
            std::swap(cls[j - 1], cls[j]);
            std::swap(buf[j - 1], buf[j]);
            --j;
        }
    }
    if (compose) {
        size_t n = 0;            // composed length so far (in place)
        ptrdiff_t starter = -1;  // index of the last starter in the composed prefix
        uint8_t last_cc = 0;     // class of the last character kept after the starter
        for (size_t i = 0; i < buf.size(); ++i) {
            const char32_t c = buf[i];
            const uint8_t cc = cls[i];
            if (starter >= 0) {
                const bool adjacent = static_cast<size_t>(starter) + 1 == n;
                if (adjacent || (last_cc != 0 && last_cc < cc)) {
                    const char32_t composed = compose_pair(buf[starter], c);
                    if (composed != 0) {
                        buf[starter] = composed;
                        continue;
                    }
                }
            }
            if (cc == 0) starter = static_cast<ptrdiff_t>(n);
            last_cc = cc;
            buf[n++] = c;
        }
        buf.resize(n);
    }
    out.reserve(in.size() + in.size() / 2);
    for (const char32_t c : buf) append(out, c);
}

}  // namespace embq::text::unicode
