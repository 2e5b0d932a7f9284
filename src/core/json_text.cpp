#include "core/json_text.hpp"

#include "embq/error.hpp"

namespace embq {

void refuse_nul_bytes(std::string_view text, const std::string& origin) {
    const size_t nul = text.find('\0');
    if (nul == std::string_view::npos) return;
    throw input_error(origin + ": byte " + std::to_string(nul) +
                      " is a NUL, which JSON text never holds (a binary or damaged file?)");
}

}  // namespace embq
