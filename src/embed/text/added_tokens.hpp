// Added tokens ([CLS], <mask>, ...): found in the text before anything else and kept whole,
// with Hugging Face's rules: leftmost-longest match, single_word, lstrip, rstrip. Tokens
// marked `normalized` are matched in the normalized text, the others in the raw text.
#pragma once

#include <array>
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

namespace embq::text {

struct AddedToken {
    std::string content;
    int64_t id = -1;
    bool single_word = false;
    bool lstrip = false;
    bool rstrip = false;
    bool normalized = false;
    bool special = false;
};

class AddedTokenMatcher {
public:
    struct Segment {
        uint32_t begin, end;
        int64_t id;  // -1: plain text
    };

    void add(const AddedToken& token);  // a token with empty content is ignored
    bool empty() const { return tokens_.empty(); }

    // Splits `text` into plain-text and added-token segments (plain segments are never
    // empty; an empty text gives no segment).
    void split(std::string_view text, std::vector<Segment>& out) const;

private:
    std::vector<AddedToken> tokens_;
    std::array<std::vector<uint32_t>, 256> by_first_byte_;
};

}  // namespace embq::text
