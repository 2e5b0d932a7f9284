// "Did you mean ...?": the closest known name to a mistyped one, for error messages
// (config keys and schemes, card keys, layer paths, metric and observer names).
// Internal to libembq; no libtorch.
#pragma once

#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace embq {

// The closest of `candidates` to `word` by edit distance, when close enough to be a
// plausible typo (at most max(2, |word| / 3) edits); ties keep the first candidate.
std::optional<std::string> closest_match(std::string_view word,
                                         const std::vector<std::string>& candidates);

}  // namespace embq
