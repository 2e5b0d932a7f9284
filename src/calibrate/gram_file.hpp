// The calibration file's binary sidecar: every layer's input Gram matrix (X^T X) as
// float32, one after another in layer-path order. The JSON names the sidecar with its
// size and SHA-256 and says where each layer's matrix starts, so a sidecar that was
// truncated, edited or belongs to another run is refused, never half-used.
#pragma once

#include <filesystem>
#include <string>

#include <nlohmann/json.hpp>

#include "embq/calibration.hpp"

namespace embq {

// "calib.json" -> "calib.gram.bin", in the same directory.
std::filesystem::path gram_sidecar_path(const std::filesystem::path& calibration_path);

struct EncodedGrams {
    nlohmann::json section;  // {"file", "bytes", "sha256", "dtype", "layers": {path: {...}}}
    std::string bytes;       // the sidecar's content
};
EncodedGrams encode_grams(const InputGrams& grams, const std::string& file_name);

// Reads the sidecar `section` names, next to `calibration_path`; Input errors name the
// sidecar and say to recalibrate.
InputGrams read_grams(const nlohmann::json& section, const std::filesystem::path& calibration_path);

}  // namespace embq
