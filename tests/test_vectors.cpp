#include "embq/vectors.hpp"

#include <gtest/gtest.h>
#include <unistd.h>

#include <cstdlib>
#include <cstring>
#include <string>
#include <vector>

#include "embq/error.hpp"
#include "test_support.hpp"

namespace {

namespace fs = std::filesystem;
using embq::ErrorCategory;
using embq::VectorFormat;
using embq::VectorWriter;
using embq::test::read_file;
using embq::test::TempDir;
using embq::test::write_file;

std::vector<float> ramp(int64_t n, float step = 0.25f, float start = -100.f) {
    std::vector<float> v(static_cast<size_t>(n));
    for (int64_t i = 0; i < n; ++i) v[static_cast<size_t>(i)] = start + step * float(i);
    return v;
}

void write_vectors(const fs::path& path, int64_t dim, const std::vector<float>& data) {
    VectorWriter w(path, dim);
    w.write_rows(data.data(), static_cast<int64_t>(data.size()) / dim);
    w.commit();
}

embq::Error read_error(const fs::path& path) {
    try {
        embq::read_vectors(path);
    } catch (const embq::Error& e) {
        return e;
    }
    ADD_FAILURE() << "no error reading " << path;
    return embq::Error(ErrorCategory::Runtime, "");
}

// One-line Input error that starts "<path>: " and contains `what`, the same from
// read_vectors and from mapping the file (eval maps, everything else reads).
void expect_read_error(const fs::path& path, const std::string& what) {
    const auto e = read_error(path);
    const std::string msg = e.what();
    EXPECT_EQ(e.category(), ErrorCategory::Input) << msg;
    EXPECT_EQ(msg.find('\n'), std::string::npos) << msg;
    EXPECT_EQ(msg.rfind(path.string() + ": ", 0), 0u) << msg;
    EXPECT_NE(msg.find(what), std::string::npos) << "'" << what << "' not in: " << msg;
    try {
        embq::VectorTable::map(path);
        ADD_FAILURE() << "mapped " << path;
    } catch (const embq::Error& mapped) {
        EXPECT_EQ(std::string(mapped.what()), msg);
    }
}

// A NumPy 1.0 file with the given header dict and raw data bytes.
std::string make_npy(const std::string& dict, const std::string& data, char major = 1) {
    std::string h = dict;
    const size_t prefix = major == 1 ? 10 : 12;
    while ((prefix + h.size() + 1) % 64 != 0) h += ' ';
    h += '\n';
    std::string out = std::string("\x93NUMPY", 6) + major + '\0';
    const size_t len = h.size();
    out += static_cast<char>(len & 0xFF);
    out += static_cast<char>((len >> 8) & 0xFF);
    if (major != 1) out += std::string(2, '\0');
    return out + h + data;
}

std::string float_bytes(const std::vector<float>& v) {
    return std::string(reinterpret_cast<const char*>(v.data()), v.size() * sizeof(float));
}

std::string int32_bytes(int32_t x) { return std::string(reinterpret_cast<const char*>(&x), 4); }

std::string python() { return EMBQ_TORCH_PYTHON; }

bool have_numpy() {
    static const bool ok =
        std::system((python() + " -c 'import numpy' >/dev/null 2>&1").c_str()) == 0;
    return ok;
}

// Runs a Python script with numpy; returns its exit status.
int run_python(const TempDir& dir, const std::string& script) {
    const auto path = dir / "script.py";
    write_file(path, script);
    const int rc = std::system((python() + " " + path.string()).c_str());
    return rc;
}

// ---- formats -------------------------------------------------------------------------

TEST(VectorFormat, ByExtension) {
    EXPECT_EQ(embq::vector_format_for("out/e.npy"), VectorFormat::Npy);
    EXPECT_EQ(embq::vector_format_for("E.NPY"), VectorFormat::Npy);
    EXPECT_EQ(embq::vector_format_for("base.fvecs"), VectorFormat::Fvecs);
}

TEST(VectorFormat, UnknownExtensionIsUsageError) {
    for (const std::string name : {"e.csv", "vectors"}) {
        try {
            embq::vector_format_for(name);
            FAIL() << name;
        } catch (const embq::Error& e) {
            const std::string msg = e.what();
            EXPECT_EQ(e.category(), ErrorCategory::Usage);
            EXPECT_EQ(msg.rfind(name + ": ", 0), 0u) << msg;
            EXPECT_NE(msg.find(".npy, .fvecs"), std::string::npos) << msg;
        }
    }
}

// ---- writing and reading back ----------------------------------------------------------

TEST(VectorWriter, NpyRoundTripAndHeaderLayout) {
    TempDir dir;
    const auto path = dir / "e.npy";
    const int64_t dim = 5;
    const auto data = ramp(7 * dim);
    {
        VectorWriter w(path, dim);
        w.write_rows(data.data(), 3);
        w.write_rows(data.data() + 3 * dim, 0);
        w.write_rows(data.data() + 3 * dim, 4);
        EXPECT_EQ(w.rows(), 7);
        w.commit();
    }
    const std::string bytes = read_file(path);
    ASSERT_GE(bytes.size(), 64u);
    EXPECT_EQ(bytes.substr(0, 8), std::string("\x93NUMPY\x01\x00", 8));
    const size_t header_len = static_cast<unsigned char>(bytes[8]) |
                              static_cast<size_t>(static_cast<unsigned char>(bytes[9])) << 8;
    EXPECT_EQ((10 + header_len) % 64, 0u);
    EXPECT_EQ(bytes[10 + header_len - 1], '\n');
    const std::string dict = "{'descr': '<f4', 'fortran_order': False, 'shape': (7, 5), }";
    EXPECT_EQ(bytes.substr(10, dict.size()), dict);
    EXPECT_EQ(bytes.find_first_not_of(' ', 10 + dict.size()), 10 + header_len - 1);
    EXPECT_EQ(bytes.size(), 10 + header_len + data.size() * 4);

    const auto v = embq::read_vectors(path);
    EXPECT_EQ(v.rows, 7);
    EXPECT_EQ(v.dim, dim);
    EXPECT_EQ(v.data, data);
}

TEST(VectorWriter, NpyHeaderLengthDoesNotDependOnRowCount) {
    TempDir dir;
    const int64_t dim = 3;
    write_vectors(dir / "zero.npy", dim, {});
    write_vectors(dir / "many.npy", dim, ramp(100000 * dim, 1.f, 0.f));
    const std::string zero = read_file(dir / "zero.npy");
    const std::string many = read_file(dir / "many.npy");
    EXPECT_EQ(zero.substr(8, 2), many.substr(8, 2));
    EXPECT_NE(many.find("'shape': (100000, 3), }"), std::string::npos);

    const auto v0 = embq::read_vectors(dir / "zero.npy");
    EXPECT_EQ(v0.rows, 0);
    EXPECT_EQ(v0.dim, dim);
    EXPECT_TRUE(v0.data.empty());
    const auto v1 = embq::read_vectors(dir / "many.npy");
    EXPECT_EQ(v1.rows, 100000);
    EXPECT_EQ(v1.data.back(), float(100000 * dim - 1));
}

TEST(VectorWriter, FvecsRoundTripAndLayout) {
    TempDir dir;
    const auto path = dir / "base.fvecs";
    const int64_t dim = 3;
    const auto data = ramp(4 * dim);
    {
        VectorWriter w(path, dim);
        w.write_rows(data.data(), 1);
        w.write_rows(data.data() + dim, 3);
        w.commit();
    }
    const std::string bytes = read_file(path);
    ASSERT_EQ(bytes.size(), 4u * (4 + 4 * dim));
    for (int r = 0; r < 4; ++r) {
        EXPECT_EQ(bytes.substr(r * 16, 4), int32_bytes(3)) << "row " << r;
        EXPECT_EQ(bytes.substr(r * 16 + 4, 12),
                  float_bytes({data.begin() + r * dim, data.begin() + (r + 1) * dim}));
    }
    const auto v = embq::read_vectors(path);
    EXPECT_EQ(v.rows, 4);
    EXPECT_EQ(v.dim, 3);
    EXPECT_EQ(v.data, data);

    write_vectors(dir / "empty.fvecs", 8, {});
    EXPECT_EQ(fs::file_size(dir / "empty.fvecs"), 0u);
    EXPECT_EQ(embq::read_vectors(dir / "empty.fvecs").rows, 0);
}

TEST(VectorWriter, WithoutCommitLeavesNoFile) {
    TempDir dir;
    for (const char* name : {"e.npy", "e.fvecs"}) {
        const auto path = dir / name;
        const auto tmp = fs::path(path.string() + ".tmp-" + std::to_string(::getpid()));
        {
            VectorWriter w(path, 4);
            const auto data = ramp(8);
            w.write_rows(data.data(), 2);
            EXPECT_TRUE(fs::exists(tmp)) << tmp;
            EXPECT_FALSE(fs::exists(path));
        }
        EXPECT_FALSE(fs::exists(tmp));
        EXPECT_FALSE(fs::exists(path));
    }
    EXPECT_TRUE(fs::is_empty(dir.path()));
}

TEST(VectorWriter, ExistingFileReplacedOnlyAtCommit) {
    TempDir dir;
    const auto path = dir / "e.npy";
    write_file(path, "old");
    VectorWriter w(path, 2);
    const auto data = ramp(4);
    w.write_rows(data.data(), 2);
    EXPECT_EQ(read_file(path), "old");
    w.commit();
    EXPECT_EQ(embq::read_vectors(path).data, data);
    EXPECT_EQ(std::distance(fs::directory_iterator(dir.path()), fs::directory_iterator()), 1);
}

TEST(VectorWriter, MisuseIsAnAssertion) {
    TempDir dir;
    EXPECT_THROW(VectorWriter(dir / "e.npy", 0), std::logic_error);
    EXPECT_THROW(VectorWriter(dir / "e.fvecs", -3), std::logic_error);
    EXPECT_TRUE(fs::is_empty(dir.path()));

    VectorWriter w(dir / "e.npy", 2);
    w.commit();
    const float row[2] = {1.f, 2.f};
    EXPECT_THROW(w.write_rows(row, 1), std::logic_error);
    EXPECT_THROW(w.commit(), std::logic_error);
}

TEST(VectorWriter, UnknownExtensionIsUsageError) {
    TempDir dir;
    try {
        VectorWriter w(dir / "e.bin", 4);
        FAIL();
    } catch (const embq::Error& e) {
        EXPECT_EQ(e.category(), ErrorCategory::Usage);
    }
    EXPECT_TRUE(fs::is_empty(dir.path()));
}

TEST(VectorWriter, UnwritableDirectoryIsRuntimeErrorNamingPath) {
    TempDir dir;
    const auto path = dir / "missing" / "e.npy";
    try {
        VectorWriter w(path, 4);
        FAIL();
    } catch (const embq::Error& e) {
        const std::string msg = e.what();
        EXPECT_EQ(e.category(), ErrorCategory::Runtime);
        EXPECT_EQ(msg.rfind(path.string() + ": ", 0), 0u) << msg;
        EXPECT_EQ(msg.find('\n'), std::string::npos);
    }
}

TEST(VectorWriter, WriteFailureIsRuntimeError) {
    if (!fs::exists("/dev/full")) GTEST_SKIP() << "no /dev/full";
    // Writing to /dev/full fails with ENOSPC; the temporary name "/dev/full.tmp-<pid>" is not
    // creatable by a normal user, so build the case with a symlink named like our temp file.
    TempDir dir;
    const auto path = dir / "e.fvecs";
    fs::create_symlink("/dev/full", path.string() + ".tmp-" + std::to_string(::getpid()));
    try {
        VectorWriter w(path, 1024);
        const auto data = ramp(1024 * 64);
        w.write_rows(data.data(), 64);
        w.commit();
        FAIL() << "no error writing to /dev/full";
    } catch (const embq::Error& e) {
        const std::string msg = e.what();
        EXPECT_EQ(e.category(), ErrorCategory::Runtime);
        EXPECT_EQ(msg.rfind(path.string() + ": ", 0), 0u) << msg;
    }
    EXPECT_FALSE(fs::exists(path));
}

// ---- NumPy interop -------------------------------------------------------------------------

TEST(VectorNumpy, NumpyLoadsOurNpy) {
    if (!have_numpy()) GTEST_SKIP() << python() << " cannot import numpy";
    TempDir dir;
    const auto path = dir / "e.npy";
    write_vectors(path, 17, ramp(1000 * 17));
    const std::string script =
        "import sys, numpy as np\n"
        "a = np.load(r'''" +
        path.string() +
        "''')\n"
        "want = (np.float32(-100) + np.float32(0.25) * np.arange(17000, dtype=np.float32))"
        ".reshape(1000, 17)\n"
        "ok = a.dtype == np.float32 and a.shape == (1000, 17) and a.flags['C_CONTIGUOUS'] "
        "and np.array_equal(a, want)\n"
        "print('numpy read', a.dtype, a.shape, 'equal' if ok else 'DIFFERENT')\n"
        "sys.exit(0 if ok else 1)\n";
    EXPECT_EQ(run_python(dir, script), 0);
}

TEST(VectorNumpy, WeReadNumpyFilesAndRejectOthers) {
    if (!have_numpy()) GTEST_SKIP() << python() << " cannot import numpy";
    TempDir dir;
    const std::string d = dir.path().string() + "/";
    const std::string script =
        "import numpy as np\n"
        "d = r'''" +
        d +
        "'''\n"
        "np.save(d + 'ok.npy', (np.arange(12, dtype=np.float32) * 0.5).reshape(4, 3))\n"
        "np.save(d + 'empty.npy', np.zeros((0, 8), dtype=np.float32))\n"
        "np.save(d + 'f8.npy', np.zeros((2, 3), dtype=np.float64))\n"
        "np.save(d + 'i4.npy', np.zeros((2, 3), dtype=np.int32))\n"
        "np.save(d + 'be.npy', np.zeros((2, 3), dtype='>f4'))\n"
        "np.save(d + 'fortran.npy', np.asfortranarray(np.zeros((2, 3), dtype=np.float32)))\n"
        "np.save(d + 'one_d.npy', np.zeros(5, dtype=np.float32))\n"
        "np.save(d + 'three_d.npy', np.zeros((2, 3, 4), dtype=np.float32))\n"
        "np.save(d + 'rec.npy', np.zeros(2, dtype=[('a', '<f4'), ('b', '<f4')]))\n";
    ASSERT_EQ(run_python(dir, script), 0);

    const auto ok = embq::read_vectors(dir / "ok.npy");
    EXPECT_EQ(ok.rows, 4);
    EXPECT_EQ(ok.dim, 3);
    ASSERT_EQ(ok.data.size(), 12u);
    for (int i = 0; i < 12; ++i) EXPECT_EQ(ok.data[i], 0.5f * i);
    const auto empty = embq::read_vectors(dir / "empty.npy");
    EXPECT_EQ(empty.rows, 0);
    EXPECT_EQ(empty.dim, 8);

    expect_read_error(dir / "f8.npy",
                      "dtype '<f8' is not supported; expected little-endian "
                      "float32 '<f4'");
    expect_read_error(dir / "i4.npy", "dtype '<i4' is not supported");
    expect_read_error(dir / "be.npy", "dtype '>f4' is not supported");
    expect_read_error(dir / "fortran.npy", "Fortran order; expected C order");
    expect_read_error(dir / "one_d.npy", "shape (5,) is 1-D; expected a 2-D array");
    expect_read_error(dir / "three_d.npy", "shape (2, 3, 4) is 3-D; expected a 2-D array");
    expect_read_error(dir / "rec.npy", "structured dtypes are not supported");
}

// ---- read errors ------------------------------------------------------------------------------

TEST(VectorRead, MissingFileAndDirectory) {
    TempDir dir;
    expect_read_error(dir / "nope.npy", "no such file");
    expect_read_error(dir / "nope.fvecs", "no such file");
    fs::create_directory(dir / "d.npy");
    expect_read_error(dir / "d.npy", "is a directory");
}

TEST(VectorRead, TruncatedNpy) {
    TempDir dir;
    const auto good = dir / "good.npy";
    write_vectors(good, 4, ramp(3 * 4));
    const std::string bytes = read_file(good);

    write_file(dir / "cut_data.npy", bytes.substr(0, bytes.size() - 3));
    expect_read_error(dir / "cut_data.npy",
                      "truncated: shape (3, 4) needs 48 bytes of float32 data after the header, "
                      "the file has 45");
    write_file(dir / "cut_header.npy", bytes.substr(0, 40));
    expect_read_error(dir / "cut_header.npy", "truncated .npy header");
    write_file(dir / "cut_prefix.npy", bytes.substr(0, 7));
    expect_read_error(dir / "cut_prefix.npy", "truncated .npy header");
    write_file(dir / "empty.npy", "");
    expect_read_error(dir / "empty.npy", "truncated .npy header");
    write_file(dir / "trailing.npy", bytes + "xyz");
    expect_read_error(dir / "trailing.npy", "3 bytes of trailing data");
}

TEST(VectorRead, MalformedNpy) {
    TempDir dir;
    write_file(dir / "text.npy", "this is not numpy, just a text file of some length\n");
    expect_read_error(dir / "text.npy", "not a .npy file");
    const std::string data = float_bytes(ramp(6));
    write_file(dir / "f8.npy",
               make_npy("{'descr': '<f8', 'fortran_order': False, 'shape': (1, 3), }", data));
    expect_read_error(dir / "f8.npy", "dtype '<f8' is not supported");
    write_file(dir / "fortran.npy",
               make_npy("{'descr': '<f4', 'fortran_order': True, 'shape': (2, 3), }", data));
    expect_read_error(dir / "fortran.npy", "Fortran order");
    write_file(dir / "one_d.npy",
               make_npy("{'descr': '<f4', 'fortran_order': False, 'shape': (6,), }", data));
    expect_read_error(dir / "one_d.npy", "shape (6,) is 1-D; expected a 2-D array (rows, dim)");
    write_file(dir / "scalar.npy",
               make_npy("{'descr': '<f4', 'fortran_order': False, 'shape': (), }", data));
    expect_read_error(dir / "scalar.npy", "shape () is 0-D");
    write_file(dir / "garbled.npy", make_npy("{'descr': '<f4', 'fortran_order': False", data));
    expect_read_error(dir / "garbled.npy", "not a valid .npy header");
    write_file(dir / "v9.npy", make_npy("{}", data, 9));
    expect_read_error(dir / "v9.npy", "unsupported .npy format version 9.0");

    // Version 2.0 (uint32 header length) and double quotes are read.
    write_file(
        dir / "v2.npy",
        make_npy("{\"descr\": \"<f4\", \"fortran_order\": False, \"shape\": (2, 3)}", data, 2));
    const auto v = embq::read_vectors(dir / "v2.npy");
    EXPECT_EQ(v.rows, 2);
    EXPECT_EQ(v.data, ramp(6));
}

TEST(VectorRead, TruncatedOrRaggedFvecs) {
    TempDir dir;
    const auto good = dir / "good.fvecs";
    write_vectors(good, 2, ramp(3 * 2));
    const std::string bytes = read_file(good);  // 3 rows of 12 bytes

    write_file(dir / "cut.fvecs", bytes.substr(0, bytes.size() - 2));
    expect_read_error(dir / "cut.fvecs",
                      "truncated or ragged .fvecs: 34 bytes is not a whole number of rows of "
                      "dim 2 (12 bytes each)");
    write_file(dir / "tiny.fvecs", bytes.substr(0, 3));
    expect_read_error(dir / "tiny.fvecs", "truncated or ragged .fvecs");

    // Rows of dim 2, 1 and 0: 12 + 8 + 4 bytes, a whole number of dim-2 rows, still ragged.
    const std::string ragged = int32_bytes(2) + float_bytes({1.f, 2.f}) + int32_bytes(1) +
                               float_bytes({3.f}) + int32_bytes(0);
    write_file(dir / "ragged.fvecs", ragged);
    expect_read_error(dir / "ragged.fvecs",
                      "truncated or ragged .fvecs: row 1 has dimension 1, row 0 has 2");

    write_file(dir / "negative.fvecs", int32_bytes(-4) + float_bytes(ramp(4)));
    expect_read_error(dir / "negative.fvecs", "row 0 has dimension -4");
}

// ---- mapped vectors (eval) -----------------------------------------------------------

// Row r of a view, as a vector.
std::vector<float> row_of(const embq::VectorView& v, int64_t r) {
    return {v.row(r), v.row(r) + v.dim};
}

TEST(VectorTable, MappedFilesHoldTheRowsReadVectorsReads) {
    TempDir dir;
    for (const std::string name : {"v.npy", "v.fvecs"}) {
        write_vectors(dir / name, 3, ramp(5 * 3));
        const embq::Vectors read = embq::read_vectors(dir / name);
        const embq::VectorTable mapped = embq::VectorTable::map(dir / name);
        EXPECT_TRUE(mapped.mapped()) << name;
        ASSERT_EQ(mapped.rows(), 5) << name;
        ASSERT_EQ(mapped.dim(), 3) << name;
        for (int64_t r = 0; r < 5; ++r) EXPECT_EQ(row_of(mapped, r), row_of(read, r)) << name;
    }
    // A file of no rows is an empty table, not a mapping of nothing.
    write_vectors(dir / "empty.npy", 3, {});
    EXPECT_EQ(embq::VectorTable::map(dir / "empty.npy").rows(), 0);
}

TEST(VectorTable, ZeroedRowsChangeMemoryNeverTheFile) {
    TempDir dir;
    const auto path = dir / "v.npy";
    write_vectors(path, 2, ramp(4 * 2));
    const std::string before = read_file(path);
    embq::VectorTable table = embq::VectorTable::map(path);
    table.zero_rows({1, 3});
    EXPECT_EQ(row_of(table, 1), (std::vector<float>{0.f, 0.f}));
    EXPECT_EQ(row_of(table, 3), (std::vector<float>{0.f, 0.f}));
    EXPECT_EQ(row_of(table, 2), (std::vector<float>{-99.f, -98.75f}));
    EXPECT_EQ(read_file(path), before);
    // Moved, the table keeps its rows (owned ones too: the view follows the buffer).
    embq::VectorTable moved = std::move(table);
    EXPECT_EQ(row_of(moved, 1), (std::vector<float>{0.f, 0.f}));
    embq::VectorTable owned(embq::read_vectors(path));
    EXPECT_FALSE(owned.mapped());
    embq::VectorTable owner = std::move(owned);
    EXPECT_EQ(row_of(owner, 2), (std::vector<float>{-99.f, -98.75f}));
}

}  // namespace
