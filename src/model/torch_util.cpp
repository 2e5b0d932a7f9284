#include "model/torch_util.hpp"

#include <sstream>
#include <vector>

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
    std::vector<std::string> lines;
    std::istringstream in(what);
    for (std::string line; std::getline(in, line);)
        if (line.find_first_not_of(" \t") != std::string::npos) lines.push_back(line);
    if (lines.empty()) return what;
    // The interpreter's first line only says that an op failed; the cause ("RuntimeError:
    // index out of range in self") is the last line, after the TorchScript traceback.
    static const std::string kInterpreter = "The following operation failed in the TorchScript";
    if (lines.front().rfind(kInterpreter, 0) == 0 && lines.size() > 1) return lines.back();
    return lines.front();
}

}  // namespace embq
