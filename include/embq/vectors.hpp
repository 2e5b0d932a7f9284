// Float32 vector files: NumPy `.npy` (2-D, little-endian float32, C order) and FAISS
// `.fvecs` (per row: int32 dimension then the floats). Writers stream rows and publish
// the file atomically (temporary name, renamed by commit()); readers check the format.
#pragma once

#include <cstdint>
#include <filesystem>
#include <string>
#include <vector>

#include "embq/atomic_file.hpp"

namespace embq {

enum class VectorFormat { Npy, Fvecs };

// By extension (.npy, .fvecs); anything else is a Usage error.
VectorFormat vector_format_for(const std::filesystem::path& path);

// What a row is stored as: float32, or codes (vector_codes.hpp).
enum class VectorCodes { Float32, Int8, Binary };

class VectorWriter {
public:
    // Float32 rows of `dim` (write_rows), or codes of `dim`-dimensional vectors
    // (write_codes: int8 or packed bits, .npy only).
    VectorWriter(const std::filesystem::path& path, int64_t dim,
                 VectorCodes codes = VectorCodes::Float32);
    // Destroyed without commit(): the temporary file is removed, nothing published.
    VectorWriter(const VectorWriter&) = delete;
    VectorWriter& operator=(const VectorWriter&) = delete;

    void write_rows(const float* data, int64_t rows);  // rows x dim floats, row-major
    void write_codes(const uint8_t* codes, int64_t rows);  // rows x code_bytes_per_vector
    void commit();                                     // finish the file and rename it into place
    int64_t rows() const { return rows_; }

private:
    void check_written() const;  // Runtime error when the stream failed (disk full)
    std::string descr() const;   // the .npy dtype: '<f4', '|i1', '|u1'

    VectorFormat format_;
    VectorCodes codes_;
    int64_t dim_;  // float32: the dimension; codes: bytes a row
    int64_t rows_ = 0;
    AtomicFile file_;
    std::ofstream& out_;
};

// Read-only rows of floats wherever they live: row r starts at data + r * stride (a
// .fvecs file puts each row's dimension between rows, so its stride is dim + 1).
struct VectorView {
    const float* data = nullptr;
    int64_t rows = 0, dim = 0, stride = 0;
    const float* row(int64_t r) const { return data + r * stride; }
};

struct Vectors {
    int64_t rows = 0;
    int64_t dim = 0;
    std::vector<float> data;  // rows x dim, row-major
    operator VectorView() const { return {data.data(), rows, dim, dim}; }
};

// Input errors name the file and what is wrong (truncated, wrong dtype, ragged fvecs).
// int8/uint8 .npy codes from `embed --vectors` are read back as floats (vector_codes.hpp).
Vectors read_vectors(const std::filesystem::path& path);

// The vectors eval compares: rows embedded in memory, or a float32 vector file mapped
// into memory, so that a corpus of millions of rows costs page cache, which the kernel can
// drop, rather than a copy. Mapped privately: the file is never written, and the few rows
// zero_rows() changes get private pages. Move-only (the view points into what it owns).
class VectorTable {
public:
    VectorTable() = default;
    VectorTable(Vectors owned);  // NOLINT(google-explicit-constructor): embedded vectors
    // The same checks and messages as read_vectors; code files (int8/uint8) are decoded
    // into memory, as are files whose rows are not 4-byte aligned.
    static VectorTable map(const std::filesystem::path& path);
    ~VectorTable();
    VectorTable(VectorTable&& other) noexcept;
    VectorTable& operator=(VectorTable&& other) noexcept;
    VectorTable(const VectorTable&) = delete;
    VectorTable& operator=(const VectorTable&) = delete;

    operator VectorView() const { return view_; }
    int64_t rows() const { return view_.rows; }
    int64_t dim() const { return view_.dim; }
    bool mapped() const { return mapping_ != nullptr; }
    void zero_rows(const std::vector<int64_t>& rows);

private:
    void release();
    Vectors owned_;
    void* mapping_ = nullptr;  // mmap'd file, or nullptr when owned_ holds the rows
    size_t mapping_bytes_ = 0;
    VectorView view_;
};

}  // namespace embq
