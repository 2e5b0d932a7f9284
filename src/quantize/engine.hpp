// Quantized engines (oneDNN, QNNPACK, FBGEMM): naming them and switching libtorch
// to one. Internal to libembq.
#pragma once

#include <string>

namespace embq {

// Makes `engine` ("onednn", "qnnpack", "fbgemm") libtorch's current quantized engine.
// The engine decides how int8 weights are packed, so it must be set before packing.
void use_engine(const std::string& engine);

}  // namespace embq
