// Small libtorch helpers shared inside libembq.
#pragma once

#include <string>

#include <c10/core/ScalarType.h>

namespace embq {

// Names as users write them in configs and reports: "float32", "float16", "qint8", ...
std::string dtype_name(c10::ScalarType type);

}  // namespace embq

#include <exception>

namespace embq {

// The one line of an exception's message that says what went wrong: libtorch's errors
// carry a multi-line backtrace that users of a CLI do not need. The first non-empty line,
// except for the TorchScript interpreter's errors, whose first line only says that an op
// failed: there it is the last line, the cause.
std::string first_line_of(const std::exception& e);

}  // namespace embq
