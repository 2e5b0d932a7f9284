// nlohmann's parser treats a NUL byte as the end of its input, so "{...}\0anything" reads
// as valid JSON and the rest of the file is silently ignored. Every JSON file embq reads
// goes through this check first. Internal to libembq.
#pragma once

#include <string>
#include <string_view>

namespace embq {

// Input error "ORIGIN: byte N is a NUL ..." when `text` holds one.
void refuse_nul_bytes(std::string_view text, const std::string& origin);

}  // namespace embq
