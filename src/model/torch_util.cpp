#include "model/torch_util.hpp"

namespace embq {

std::string dtype_name(c10::ScalarType type) {
    switch (type) {
        case c10::kFloat: return "float32";
        case c10::kDouble: return "float64";
        case c10::kHalf: return "float16";
        case c10::kBFloat16: return "bfloat16";
        case c10::kChar: return "int8";
        case c10::kByte: return "uint8";
        case c10::kInt: return "int32";
        case c10::kLong: return "int64";
        case c10::kQInt8: return "qint8";
        case c10::kQUInt8: return "quint8";
        case c10::kQUInt4x2: return "quint4x2";
        default: return c10::toString(type);
    }
}

}  // namespace embq

#include <c10/util/Exception.h>

namespace embq {

std::string first_line_of(const std::exception& e) {
    const auto* c10_error = dynamic_cast<const c10::Error*>(&e);
    const std::string what = c10_error ? c10_error->what_without_backtrace() : e.what();
    size_t start = 0;
    while (start < what.size()) {
        const size_t end = what.find('\n', start);
        const std::string line = what.substr(start, end == std::string::npos ? end : end - start);
        if (line.find_first_not_of(" \t") != std::string::npos) return line;
        if (end == std::string::npos) break;
        start = end + 1;
    }
    return what;
}

}  // namespace embq
