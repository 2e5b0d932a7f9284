#include "core/json_text.hpp"

#include "embq/error.hpp"

namespace embq {

void refuse_nul_bytes(std::string_view text, const std::string& origin) {
    const size_t nul = text.find('\0');
    if (nul == std::string_view::npos) return;
    throw input_error(origin + ": byte " + std::to_string(nul) +
                      " is a NUL, which JSON text never holds (a binary or damaged file?)");
}

std::string json_error_reason(const std::exception& e) {
    std::string what = e.what();
    if (what.rfind("[json.exception.", 0) == 0) {
        const size_t bracket = what.find("] ");
        if (bracket != std::string::npos) what.erase(0, bracket + 2);
    }
    if (what.rfind("parse error", 0) == 0) {
        const size_t colon = what.find(": ");
        if (colon != std::string::npos) what.erase(0, colon + 2);
    }
    return what;
}

}  // namespace embq
