// Quantized output vectors: what a search system stores per document. `embq embed
// --vectors int8` writes one byte per dimension, mapped over per-dimension ranges calibrated
// on sample vectors (as sentence-transformers' quantize_embeddings does, but rounded to
// nearest and clipped, not truncated and wrapped); `--vectors binary` writes sign bits, 8
// dimensions a byte (np.packbits order: dimension 0 is the high bit of byte 0). Both are
// .npy arrays (int8 '|i1', uint8 '|u1') that NumPy and FAISS read, with a small JSON beside
// them (`v.npy` -> `v.codes.json`) holding the ranges and the dimension, from which eval
// reads them back as float vectors.
#pragma once

#include <cstdint>
#include <filesystem>
#include <string>
#include <vector>

#include "embq/vectors.hpp"

namespace embq {

const char* to_string(VectorCodes codes) noexcept;        // "float32", "int8", "binary"
VectorCodes parse_vector_codes(const std::string& name);  // Usage error for others

// Bytes one vector of `dim` dimensions takes as `codes`.
int64_t code_bytes_per_vector(VectorCodes codes, int64_t dim);

// Per-dimension int8 ranges: code = round((x - start) / step) - 128, clipped to [-128, 127];
// read back as start + (code + 128) * step.
struct Int8Ranges {
    std::vector<float> start, step;
    int64_t dim() const { return static_cast<int64_t>(start.size()); }
};
// From the minimum and maximum of each dimension over `sample` (at least 2 rows).
Int8Ranges int8_ranges_from(const Vectors& sample);

// `rows` x `dim` floats as codes: int8 (rows x dim bytes) or packed sign bits
// (rows x code_bytes_per_vector bytes).
std::vector<uint8_t> encode_vectors(VectorCodes codes, const float* rows, int64_t count,
                                    int64_t dim, const Int8Ranges* ranges);

struct CodesInfo {
    VectorCodes codes = VectorCodes::Int8;
    int64_t dim = 0;          // of the float vectors the codes stand for
    Int8Ranges ranges;        // int8 only
    std::string calibration;  // int8: the sample vectors' file
};
// `v.npy` -> `v.codes.json`.
std::filesystem::path codes_info_path_for(const std::filesystem::path& vectors);
void write_codes_info(const std::filesystem::path& vectors, const CodesInfo& info);
CodesInfo read_codes_info(const std::filesystem::path& vectors);  // Input errors name the file

// Codes (`columns` bytes a row) back to float vectors: int8 over its ranges, bits as +-1.
Vectors decode_vectors(const CodesInfo& info, const std::vector<uint8_t>& codes, int64_t rows,
                       int64_t columns, const std::string& where);

}  // namespace embq
