// embq's one error type. Every failure a user can cause or see is an embq::Error
// with a category; the CLI catches it once and maps the category to an exit code.
// Broken internal invariants are not Errors: they are EMBQ_ASSERT failures (bugs).
#pragma once

#include <stdexcept>
#include <string>

namespace embq {

enum class ErrorCategory {
    Usage,    // bad command line: unknown flag, missing argument, unknown metric name
    Input,    // a file that is missing, unreadable, corrupt or of the wrong kind
    Config,   // a config or plan that cannot be applied to this model
    Runtime,  // the work itself failed (an op missing at run time, out of disk, ...)
};

// Documented process exit codes (README "Exit codes").
enum ExitCode : int {
    kExitOk = 0,
    kExitGateFailed = 1,
    kExitBadInput = 2,  // usage, config and input errors
    kExitRuntime = 3,
};

class Error : public std::runtime_error {
public:
    Error(ErrorCategory category, const std::string& message)
        : std::runtime_error(message), category_(category) {}
    ErrorCategory category() const noexcept { return category_; }

private:
    ErrorCategory category_;
};

int exit_code_for(ErrorCategory category) noexcept;
// ": No space left on device" for a nonzero errno, "" for 0: the tail of an I/O error.
std::string errno_text(int err);
const char* to_string(ErrorCategory category) noexcept;

// Shorthands that read well at the throw site: throw input_error(path + ": ...").
inline Error usage_error(const std::string& m) { return Error(ErrorCategory::Usage, m); }
inline Error input_error(const std::string& m) { return Error(ErrorCategory::Input, m); }
inline Error config_error(const std::string& m) { return Error(ErrorCategory::Config, m); }
// Not `runtime_error`: it returns an embq::Error, which std::runtime_error is not.
inline Error runtime_failure(const std::string& m) { return Error(ErrorCategory::Runtime, m); }

[[noreturn]] void assertion_failed(const char* expr, const char* file, int line);

}  // namespace embq

// For invariants embq itself guarantees; a failure is a bug in embq, not a user error.
#define EMBQ_ASSERT(cond) \
    ((cond) ? static_cast<void>(0) : ::embq::assertion_failed(#cond, __FILE__, __LINE__))
