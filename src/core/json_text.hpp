// nlohmann's parser treats a NUL byte as the end of its input, so "{...}\0anything" reads
// as valid JSON and the rest of the file is silently ignored. Every JSON file embq reads
// goes through this check first. Internal to libembq.
#pragma once

#include <exception>
#include <string>
#include <string_view>

namespace embq {

// Input error "ORIGIN: byte N is a NUL ..." when `text` holds one.
void refuse_nul_bytes(std::string_view text, const std::string& origin);

// What an exception of nlohmann's parser says, without its "[json.exception.parse_error.101]
// parse error at line 1, column 7: " prefix (callers print the position their own way).
// Every reader catches nlohmann::json::exception, not only parse_error: a number too large
// for a double ("1e999") is an out_of_range error thrown while parsing.
std::string json_error_reason(const std::exception& e);

}  // namespace embq
