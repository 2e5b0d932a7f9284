#include "embq/error.hpp"

#include <cstring>

namespace embq {

std::string errno_text(int err) { return err != 0 ? std::string(": ") + std::strerror(err) : ""; }

int exit_code_for(ErrorCategory category) noexcept {
    switch (category) {
        case ErrorCategory::Usage:
        case ErrorCategory::Input:
        case ErrorCategory::Config: return kExitBadInput;
        case ErrorCategory::Runtime: return kExitRuntime;
    }
    return kExitRuntime;
}

const char* to_string(ErrorCategory category) noexcept {
    switch (category) {
        case ErrorCategory::Usage: return "usage";
        case ErrorCategory::Input: return "input";
        case ErrorCategory::Config: return "config";
        case ErrorCategory::Runtime: return "runtime";
    }
    return "unknown";
}

void assertion_failed(const char* expr, const char* file, int line) {
    throw std::logic_error(std::string("internal error (please report): ") + expr + " at " + file +
                           ":" + std::to_string(line));
}

}  // namespace embq
