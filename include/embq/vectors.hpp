// Float32 vector files: NumPy `.npy` (2-D, little-endian float32, C order) and FAISS
// `.fvecs` (per row: int32 dimension then the floats). Writers stream rows and publish
// the file atomically (temporary name, renamed by commit()); readers check the format.
#pragma once

#include <cstdint>
#include <filesystem>
#include <vector>

#include "embq/atomic_file.hpp"

namespace embq {

enum class VectorFormat { Npy, Fvecs };

// By extension (.npy, .fvecs); anything else is a Usage error.
VectorFormat vector_format_for(const std::filesystem::path& path);

class VectorWriter {
public:
    VectorWriter(const std::filesystem::path& path, int64_t dim);
    // Destroyed without commit(): the temporary file is removed, nothing published.
    VectorWriter(const VectorWriter&) = delete;
    VectorWriter& operator=(const VectorWriter&) = delete;

    void write_rows(const float* data, int64_t rows);  // rows x dim floats, row-major
    void commit();                                     // finish the file and rename it into place
    int64_t rows() const { return rows_; }

private:
    void check_written() const;  // Runtime error when the stream failed (disk full)

    VectorFormat format_;
    int64_t dim_;
    int64_t rows_ = 0;
    AtomicFile file_;
    std::ofstream& out_;
};

struct Vectors {
    int64_t rows = 0;
    int64_t dim = 0;
    std::vector<float> data;  // rows x dim, row-major
};

// Input errors name the file and what is wrong (truncated, wrong dtype, ragged fvecs).
Vectors read_vectors(const std::filesystem::path& path);

}  // namespace embq
