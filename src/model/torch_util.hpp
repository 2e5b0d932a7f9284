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

// The first non-empty line of an exception's message: libtorch's errors carry a
// multi-line backtrace that users of a CLI do not need.
std::string first_line_of(const std::exception& e);

}  // namespace embq
