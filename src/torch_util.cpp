#include "torch_util.hpp"

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
