#include "embed/text/added_tokens.hpp"

#include <algorithm>

#include "embed/text/unicode.hpp"

namespace embq::text {
namespace {

namespace uc = unicode;

bool ends_with_word(std::string_view s) {  // regex \w$
    if (s.empty()) return false;
    size_t start = s.size() - 1;
    while (start > 0 && (static_cast<unsigned char>(s[start]) & 0xC0) == 0x80) --start;
    char32_t cp;
    uc::decode(s.data() + start, s.data() + s.size(), cp);
    return uc::has(cp, uc::kWord);
}

bool starts_with_word(std::string_view s) {  // regex ^\w
    if (s.empty()) return false;
    char32_t cp;
    uc::decode(s.data(), s.data() + s.size(), cp);
    return uc::has(cp, uc::kWord);
}

}  // namespace

void AddedTokenMatcher::add(const AddedToken& token) {
    if (token.content.empty()) return;
    by_first_byte_[static_cast<uint8_t>(token.content[0])].push_back(
        static_cast<uint32_t>(tokens_.size()));
    tokens_.push_back(token);
}

void AddedTokenMatcher::split(std::string_view text, std::vector<Segment>& out) const {
    out.clear();
    const size_t n = text.size();
    size_t start_offset = 0;
    size_t pos = 0;
    while (pos < n) {
        const auto& bucket = by_first_byte_[static_cast<uint8_t>(text[pos])];
        if (bucket.empty()) {
            ++pos;
            continue;
        }
        const AddedToken* best = nullptr;
        for (const uint32_t i : bucket) {
            const AddedToken& t = tokens_[i];
            if (t.content.size() <= n - pos &&
                text.compare(pos, t.content.size(), t.content) == 0 &&
                (best == nullptr || t.content.size() > best->content.size()))
                best = &t;
        }
        if (best == nullptr) {
            ++pos;
            continue;
        }
        size_t start = pos;
        size_t stop = pos + best->content.size();
        pos = stop;  // matches do not overlap, as in aho-corasick's find_iter
        if (start < start_offset) continue;  // inside the whitespace a previous rstrip took
        if (best->single_word) {
            const bool start_space = start == 0 || !ends_with_word(text.substr(0, start));
            const bool stop_space = stop == n || !starts_with_word(text.substr(stop));
            if (!start_space || !stop_space) continue;
        }
        if (best->lstrip) {  // swallow the White_Space before, not past the previous match
            size_t s = start;
            while (s > 0) {
                size_t b = s - 1;
                while (b > 0 && (static_cast<unsigned char>(text[b]) & 0xC0) == 0x80) --b;
                char32_t cp;
                uc::decode(text.data() + b, text.data() + s, cp);
                if (!uc::has(cp, uc::kWhitespace)) break;
                s = b;
            }
            start = std::max(s, start_offset);
        }
        if (best->rstrip) {
            while (stop < n) {
                char32_t cp;
                const size_t len = uc::decode(text.data() + stop, text.data() + n, cp);
                if (!uc::has(cp, uc::kWhitespace)) break;
                stop += len;
            }
        }
        if (start_offset < start)
            out.push_back({static_cast<uint32_t>(start_offset), static_cast<uint32_t>(start), -1});
        out.push_back({static_cast<uint32_t>(start), static_cast<uint32_t>(stop), best->id});
        start_offset = stop;
    }
    if (start_offset < n)
        out.push_back({static_cast<uint32_t>(start_offset), static_cast<uint32_t>(n), -1});
}

}  // namespace embq::text
