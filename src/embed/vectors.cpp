// Float32 vector files (.npy, .fvecs). Writers stream rows into an AtomicFile, so
// readers never see a partial file.
#include "embq/vectors.hpp"

#include "embq/vector_codes.hpp"

#include <algorithm>
#include <cctype>
#include <cerrno>
#include <cstring>
#include <limits>
#include <string>
#include <string_view>
#include <system_error>
#include <utility>

#include <fcntl.h>
#include <sys/mman.h>
#include <unistd.h>

#include "embq/error.hpp"
#include "embq/format.hpp"

// Both formats are little-endian and rows are written straight from memory.
#if defined(__BYTE_ORDER__) && defined(__ORDER_LITTLE_ENDIAN__)
static_assert(__BYTE_ORDER__ == __ORDER_LITTLE_ENDIAN__,
              "embq's vector files assume a little-endian host");
#endif
static_assert(sizeof(float) == 4 && std::numeric_limits<float>::is_iec559,
              "embq's vector files assume IEEE-754 float32");

namespace embq {

namespace fs = std::filesystem;

namespace {

constexpr char kNpyMagic[] = "\x93NUMPY";  // 6 bytes, then major and minor version
constexpr size_t kNpyMagicLen = 6;
constexpr int kReservedRowDigits = 20;  // any int64 row count fits in the reserved header

std::string lower(std::string s) {
    std::transform(s.begin(), s.end(), s.begin(),
                   [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
    return s;
}

// The NumPy 1.0 header: magic, version, uint16 length, then a Python dict literal padded
// with spaces and ended by '\n' so the data starts at a multiple of 64 bytes. The row
// count is written into a field of `rows_width` characters (left-aligned, spaces after),
// so that the header written at commit() has exactly the length of the one reserved.
std::string npy_header(int64_t rows, int64_t dim, size_t total_len = 0,
                       const std::string& descr = "<f4") {
    std::string dict = "{'descr': '" + descr + "', 'fortran_order': False, 'shape': (" +
                       std::to_string(rows) + ", " + std::to_string(dim) + "), }";
    size_t len = kNpyMagicLen + 2 + 2 + dict.size() + 1;
    if (total_len == 0) {
        // Reserve room for the largest row count, then round up to 64.
        len += kReservedRowDigits - std::to_string(rows).size();
        total_len = (len + 63) / 64 * 64;
    }
    EMBQ_ASSERT(len <= total_len);
    const size_t header_len = total_len - (kNpyMagicLen + 2 + 2);
    EMBQ_ASSERT(header_len <= std::numeric_limits<uint16_t>::max());
    std::string out(kNpyMagic, kNpyMagicLen);
    out += '\x01';
    out += '\x00';
    out += static_cast<char>(header_len & 0xFF);
    out += static_cast<char>((header_len >> 8) & 0xFF);
    out += dict;
    out.append(total_len - out.size() - 1, ' ');
    out += '\n';
    return out;
}

// ---- .npy header parsing: the subset of Python literals NumPy writes -------------

struct NpyHeader {
    std::string descr;
    bool have_descr = false;
    bool fortran_order = false;
    bool have_fortran = false;
    std::vector<int64_t> shape;
    bool have_shape = false;
};

class DictParser {
public:
    DictParser(std::string_view text, const std::string& where) : s_(text), where_(where) {}

    NpyHeader parse() {
        NpyHeader h;
        expect('{');
        while (true) {
            skip_ws();
            if (peek() == '}') {
                ++i_;
                break;
            }
            const std::string key = parse_string();
            expect(':');
            skip_ws();
            if (key == "descr") {
                if (peek() != '\'' && peek() != '"') {
                    fail(
                        "'descr' is not a simple dtype string (structured dtypes are not "
                        "supported; expected '<f4')");
                }
                h.descr = parse_string();
                h.have_descr = true;
            } else if (key == "fortran_order") {
                h.fortran_order = parse_bool();
                h.have_fortran = true;
            } else if (key == "shape") {
                h.shape = parse_tuple();
                h.have_shape = true;
            } else {
                fail("unexpected key '" + format_excerpt(key) + "' in the header");
            }
            skip_ws();
            if (peek() == ',') {
                ++i_;
                continue;
            }
            expect('}');
            break;
        }
        if (!h.have_descr || !h.have_fortran || !h.have_shape) {
            fail("header lacks 'descr', 'fortran_order' or 'shape'");
        }
        return h;
    }

private:
    [[noreturn]] void fail(const std::string& what) const {
        throw input_error(where_ + ": not a valid .npy header: " + what);
    }
    char peek() const { return i_ < s_.size() ? s_[i_] : '\0'; }
    void skip_ws() {
        while (i_ < s_.size() && (s_[i_] == ' ' || s_[i_] == '\t' || s_[i_] == '\n')) ++i_;
    }
    void expect(char c) {
        skip_ws();
        if (peek() != c)
            fail(std::string("expected '") + c + "' at header byte " + std::to_string(i_ + 1));
        ++i_;
    }
    std::string parse_string() {
        skip_ws();
        const char q = peek();
        if (q != '\'' && q != '"')
            fail("expected a quoted string at header byte " + std::to_string(i_ + 1));
        const size_t end = s_.find(q, i_ + 1);
        if (end == std::string_view::npos) fail("unterminated string");
        std::string out(s_.substr(i_ + 1, end - i_ - 1));
        i_ = end + 1;
        return out;
    }
    bool parse_bool() {
        if (s_.substr(i_, 4) == "True") {
            i_ += 4;
            return true;
        }
        if (s_.substr(i_, 5) == "False") {
            i_ += 5;
            return false;
        }
        fail("'fortran_order' is not True or False");
    }
    std::vector<int64_t> parse_tuple() {
        std::vector<int64_t> out;
        expect('(');
        while (true) {
            skip_ws();
            if (peek() == ')') {
                ++i_;
                return out;
            }
            if (!std::isdigit(static_cast<unsigned char>(peek()))) {
                fail("'shape' is not a tuple of non-negative integers");
            }
            int64_t v = 0;
            while (std::isdigit(static_cast<unsigned char>(peek()))) {
                const int d = peek() - '0';
                if (v > (std::numeric_limits<int64_t>::max() - d) / 10) fail("'shape' overflows");
                v = v * 10 + d;
                ++i_;
            }
            if (peek() == 'L') ++i_;  // Python 2 long suffix
            out.push_back(v);
            skip_ws();
            if (peek() == ',') {
                ++i_;
                continue;
            }
            expect(')');
            return out;
        }
    }

    std::string_view s_;
    const std::string& where_;
    size_t i_ = 0;
};

std::string shape_text(const std::vector<int64_t>& shape) {
    std::string s = "(";
    for (size_t i = 0; i < shape.size(); ++i) {
        if (i) s += ", ";
        s += std::to_string(shape[i]);
    }
    if (shape.size() == 1) s += ",";
    return s + ")";
}

// Reads exactly n bytes or throws "truncated".
void read_exact(std::ifstream& in, char* dst, size_t n, const std::string& where,
                const char* what) {
    in.read(dst, static_cast<std::streamsize>(n));
    if (static_cast<size_t>(in.gcount()) != n) {
        throw input_error(where + ": truncated " + what + " (file ends early)");
    }
}

uint32_t le32(const unsigned char* p) {
    return uint32_t(p[0]) | uint32_t(p[1]) << 8 | uint32_t(p[2]) << 16 | uint32_t(p[3]) << 24;
}

// Where a file's rows are: `rows` x `dim` values from byte `offset`, `stride` values
// apart (dim, or dim + 1 in .fvecs); `codes` when they are int8/uint8 codes, not floats.
struct RowLayout {
    int64_t rows = 0, dim = 0, stride = 0;
    uint64_t offset = 0;
    bool codes = false;
    std::string descr;  // .npy dtype
};

RowLayout npy_layout(std::ifstream& in, uint64_t file_size, const std::string& where) {
    unsigned char pre[kNpyMagicLen + 2];
    read_exact(in, reinterpret_cast<char*>(pre), sizeof pre, where, ".npy header");
    if (std::memcmp(pre, kNpyMagic, kNpyMagicLen) != 0) {
        throw input_error(where + ": not a .npy file (the magic string \\x93NUMPY is missing)");
    }
    const int major = pre[kNpyMagicLen];
    uint64_t header_len = 0;
    size_t prefix_len = 0;
    if (major == 1) {
        unsigned char b[2];
        read_exact(in, reinterpret_cast<char*>(b), 2, where, ".npy header");
        header_len = uint32_t(b[0]) | uint32_t(b[1]) << 8;
        prefix_len = kNpyMagicLen + 2 + 2;
    } else if (major == 2 || major == 3) {
        unsigned char b[4];
        read_exact(in, reinterpret_cast<char*>(b), 4, where, ".npy header");
        header_len = le32(b);
        prefix_len = kNpyMagicLen + 2 + 4;
    } else {
        throw input_error(where + ": unsupported .npy format version " + std::to_string(major) +
                          "." + std::to_string(pre[kNpyMagicLen + 1]) +
                          " (expected 1.0, 2.0 or 3.0)");
    }
    if (prefix_len + header_len > file_size) {
        throw input_error(where + ": truncated .npy header (file ends early)");
    }
    std::string text(header_len, '\0');
    read_exact(in, text.data(), header_len, where, ".npy header");
    const NpyHeader h = DictParser(text, where).parse();

    // int8 and uint8: vector codes (vector_codes.hpp), read back through their codes file.
    const bool codes = h.descr == "|i1" || h.descr == "|u1";
    if (h.descr != "<f4" && !codes) {
        throw input_error(where + ": dtype '" + format_excerpt(h.descr) +
                          "' is not supported; expected little-endian float32 '<f4' "
                          "(save with arr.astype('<f4')), or the int8/uint8 codes of "
                          "'embq embed --vectors'");
    }
    const uint64_t element = codes ? 1 : 4;
    if (h.fortran_order) {
        throw input_error(where +
                          ": the array is in Fortran order; expected C order "
                          "(save np.ascontiguousarray(arr))");
    }
    if (h.shape.size() != 2) {
        throw input_error(where + ": shape " + shape_text(h.shape) + " is " +
                          std::to_string(h.shape.size()) + "-D; expected a 2-D array (rows, dim)");
    }
    const int64_t rows = h.shape[0], dim = h.shape[1];
    if (dim == 0) throw input_error(where + ": shape " + shape_text(h.shape) + " has dim 0");
    const uint64_t data_bytes = file_size - prefix_len - header_len;
    const uint64_t urows = static_cast<uint64_t>(rows), udim = static_cast<uint64_t>(dim);
    if (urows > std::numeric_limits<uint64_t>::max() / element / udim) {
        throw input_error(where + ": shape " + shape_text(h.shape) + " is too large");
    }
    const uint64_t needed = urows * udim * element;
    const std::string type = codes ? "code" : "float32";
    if (data_bytes < needed) {
        throw input_error(where + ": truncated: shape " + shape_text(h.shape) + " needs " +
                          std::to_string(needed) + " bytes of " + type +
                          " data after the header, the file has " + std::to_string(data_bytes));
    }
    if (data_bytes > needed) {
        throw input_error(where + ": " + std::to_string(data_bytes - needed) +
                          " bytes of trailing data after the " + shape_text(h.shape) + " " + type +
                          " array");
    }
    return {rows, dim, dim, prefix_len + header_len, codes, h.descr};
}

// Reads the rows after npy_layout(): floats as they are, codes decoded.
Vectors read_npy_rows(std::ifstream& in, const RowLayout& layout, const std::string& where) {
    const auto count = static_cast<size_t>(layout.rows) * static_cast<size_t>(layout.dim);
    if (layout.codes) {
        const CodesInfo info = read_codes_info(where);
        if ((info.codes == VectorCodes::Int8) != (layout.descr == "|i1"))
            throw input_error(where + ": dtype '" + layout.descr + "' but its codes file says " +
                              to_string(info.codes));
        std::vector<uint8_t> bytes(count);
        read_exact(in, reinterpret_cast<char*>(bytes.data()), count, where, ".npy data");
        return decode_vectors(info, bytes, layout.rows, layout.dim, where);
    }
    Vectors v;
    v.rows = layout.rows;
    v.dim = layout.dim;
    v.data.resize(count);
    read_exact(in, reinterpret_cast<char*>(v.data.data()), count * sizeof(float), where,
               ".npy data");
    return v;
}

[[noreturn]] void ragged_fvecs_row(const std::string& where, uint64_t row, int32_t dim,
                                   int32_t first) {
    throw input_error(where + ": truncated or ragged .fvecs: row " + std::to_string(row) +
                      " has dimension " + std::to_string(dim) + ", row 0 has " +
                      std::to_string(first));
}

// Row 0's dimension and a size that is a whole number of rows; each later row's own
// dimension is checked where the rows are read or mapped.
RowLayout fvecs_layout(std::ifstream& in, uint64_t file_size, const std::string& where) {
    if (file_size == 0) return {};
    if (file_size < 4) {
        throw input_error(where + ": truncated or ragged .fvecs: " + std::to_string(file_size) +
                          " bytes is less than one row header");
    }
    int32_t dim = 0;
    read_exact(in, reinterpret_cast<char*>(&dim), 4, where, ".fvecs row");
    if (dim <= 0) {
        throw input_error(where + ": row 0 has dimension " + std::to_string(dim) +
                          "; expected a positive int32 (is this a .fvecs file?)");
    }
    const uint64_t row_bytes = 4 + 4 * uint64_t(dim);
    if (file_size % row_bytes != 0) {
        throw input_error(where + ": truncated or ragged .fvecs: " + std::to_string(file_size) +
                          " bytes is not a whole number of rows of dim " + std::to_string(dim) +
                          " (" + std::to_string(row_bytes) + " bytes each)");
    }
    return {static_cast<int64_t>(file_size / row_bytes), dim, dim + 1, 4, false, ""};
}

// Reads the rows after fvecs_layout(), which has read row 0's dimension.
Vectors read_fvecs_rows(std::ifstream& in, const RowLayout& layout, const std::string& where) {
    Vectors v;
    v.rows = layout.rows;
    v.dim = layout.dim;
    v.data.resize(static_cast<size_t>(layout.rows) * static_cast<size_t>(layout.dim));
    const auto dim = static_cast<int32_t>(layout.dim);
    for (int64_t r = 0; r < layout.rows; ++r) {
        if (r > 0) {
            int32_t d = 0;
            read_exact(in, reinterpret_cast<char*>(&d), 4, where, ".fvecs row");
            if (d != dim) ragged_fvecs_row(where, static_cast<uint64_t>(r), d, dim);
        }
        read_exact(in, reinterpret_cast<char*>(v.data.data() + r * layout.dim),
                   4 * static_cast<uint64_t>(dim), where, ".fvecs row");
    }
    return v;
}

// An opened vector file and where its rows are.
struct OpenedVectorFile {
    std::ifstream in;
    uint64_t size = 0;
    VectorFormat format = VectorFormat::Npy;
    RowLayout layout;
};

OpenedVectorFile open_vector_file(const fs::path& path) {
    const std::string where = path.string();
    OpenedVectorFile f;
    f.format = vector_format_for(path);
    std::error_code ec;
    const auto status = fs::status(path, ec);
    if (!fs::exists(status)) throw input_error(where + ": no such file");
    if (fs::is_directory(status)) {
        throw input_error(where + ": is a directory; expected a vector file");
    }
    f.size = fs::file_size(path, ec);
    if (ec) throw input_error(where + ": cannot get the file size: " + ec.message());
    errno = 0;
    f.in.open(path, std::ios::binary);
    if (!f.in.is_open()) throw input_error(where + ": cannot open for reading" + errno_text(errno));
    f.layout = f.format == VectorFormat::Npy ? npy_layout(f.in, f.size, where)
                                             : fvecs_layout(f.in, f.size, where);
    return f;
}

}  // namespace

VectorFormat vector_format_for(const fs::path& path) {
    const std::string ext = lower(path.extension().string());
    if (ext == ".npy") return VectorFormat::Npy;
    if (ext == ".fvecs") return VectorFormat::Fvecs;
    const std::string what =
        ext.empty() ? "has no extension" : "has an unknown vector file extension '" + ext + "'";
    throw usage_error(path.string() + ": " + what + " (accepted: .npy, .fvecs)");
}

VectorWriter::VectorWriter(const fs::path& path, int64_t dim, VectorCodes codes)
    : format_(vector_format_for(path)),
      codes_(codes),
      dim_(codes == VectorCodes::Float32 ? dim : code_bytes_per_vector(codes, dim)),
      file_(path),
      out_(file_.stream()) {
    EMBQ_ASSERT(dim > 0);
    EMBQ_ASSERT(dim <= std::numeric_limits<int32_t>::max());
    if (codes_ != VectorCodes::Float32 && format_ != VectorFormat::Npy)
        throw usage_error(path.string() + ": " + to_string(codes_) +
                          " vectors are written as .npy (int8/uint8 arrays); .fvecs holds float32");
    if (format_ == VectorFormat::Npy) {
        const std::string header = npy_header(0, dim_, 0, descr());
        out_.write(header.data(), static_cast<std::streamsize>(header.size()));
        check_written();
    }
}

std::string VectorWriter::descr() const {
    switch (codes_) {
        case VectorCodes::Float32: return "<f4";
        case VectorCodes::Int8: return "|i1";
        case VectorCodes::Binary: return "|u1";
    }
    return "<f4";
}

void VectorWriter::check_written() const {
    if (out_) return;
    const int err = errno;
    throw runtime_failure(file_.target().string() + ": writing " + file_.temp_path().string() +
                          " failed" + errno_text(err) + " (is the disk full?)");
}

void VectorWriter::write_codes(const uint8_t* codes, int64_t rows) {
    EMBQ_ASSERT(!file_.committed() && codes_ != VectorCodes::Float32);
    errno = 0;
    out_.write(reinterpret_cast<const char*>(codes), static_cast<std::streamsize>(rows * dim_));
    check_written();
    rows_ += rows;
}

void VectorWriter::write_rows(const float* data, int64_t rows) {
    EMBQ_ASSERT(!file_.committed() && codes_ == VectorCodes::Float32);
    EMBQ_ASSERT(rows >= 0);
    if (rows == 0) return;
    EMBQ_ASSERT(data != nullptr);
    errno = 0;
    if (format_ == VectorFormat::Npy) {
        out_.write(reinterpret_cast<const char*>(data),
                   static_cast<std::streamsize>(rows * dim_ * sizeof(float)));
    } else {
        const int32_t d = static_cast<int32_t>(dim_);
        for (int64_t r = 0; r < rows && out_; ++r) {
            out_.write(reinterpret_cast<const char*>(&d), sizeof d);
            out_.write(reinterpret_cast<const char*>(data + r * dim_),
                       static_cast<std::streamsize>(dim_ * sizeof(float)));
        }
    }
    check_written();
    rows_ += rows;
}

void VectorWriter::commit() {
    EMBQ_ASSERT(!file_.committed());
    errno = 0;
    if (format_ == VectorFormat::Npy) {
        // Rewrite the header in place with the real row count; same length as reserved.
        const std::string reserved = npy_header(0, dim_, 0, descr());
        const std::string header = npy_header(rows_, dim_, reserved.size(), descr());
        out_.seekp(0);
        out_.write(header.data(), static_cast<std::streamsize>(header.size()));
        check_written();
    }
    file_.commit();
}

namespace {

// The rows of a file open_vector_file() has opened, read into memory.
Vectors read_rows(OpenedVectorFile& f, const std::string& where) {
    return f.format == VectorFormat::Npy ? read_npy_rows(f.in, f.layout, where)
                                         : read_fvecs_rows(f.in, f.layout, where);
}

}  // namespace

Vectors read_vectors(const fs::path& path) {
    OpenedVectorFile f = open_vector_file(path);
    return read_rows(f, path.string());
}

// ---- VectorTable ------------------------------------------------------------------

VectorTable::VectorTable(Vectors owned) : owned_(std::move(owned)), view_(owned_) {}

VectorTable VectorTable::map(const fs::path& path) {
    OpenedVectorFile f = open_vector_file(path);
    const RowLayout& layout = f.layout;
    const std::string where = path.string();
    if (layout.codes || layout.rows == 0 || layout.offset % alignof(float) != 0)
        return VectorTable(read_rows(f, where));
    f.in.close();
    errno = 0;
    const int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
    if (fd < 0) throw input_error(where + ": cannot open for reading" + errno_text(errno));
    // Private and writable: zero_rows() may change a row in memory, never in the file.
    void* mapping = ::mmap(nullptr, f.size, PROT_READ | PROT_WRITE, MAP_PRIVATE, fd, 0);
    const int err = errno;
    ::close(fd);
    if (mapping == MAP_FAILED)
        throw runtime_failure(where + ": cannot map the file into memory" + errno_text(err));
    VectorTable table;
    table.mapping_ = mapping;
    table.mapping_bytes_ = f.size;
    const auto* bytes = static_cast<const unsigned char*>(mapping);
    table.view_ = {reinterpret_cast<const float*>(bytes + layout.offset), layout.rows, layout.dim,
                   layout.stride};
    if (f.format == VectorFormat::Fvecs) {
        const auto dim = static_cast<int32_t>(layout.dim);
        for (int64_t r = 1; r < layout.rows; ++r) {
            int32_t d = 0;
            std::memcpy(&d, table.view_.row(r) - 1, sizeof d);
            if (d != dim) ragged_fvecs_row(where, static_cast<uint64_t>(r), d, dim);
        }
    }
    return table;
}

void VectorTable::release() {
    if (mapping_) ::munmap(mapping_, mapping_bytes_);
    mapping_ = nullptr;
    mapping_bytes_ = 0;
}

VectorTable::~VectorTable() { release(); }

VectorTable::VectorTable(VectorTable&& other) noexcept { *this = std::move(other); }

VectorTable& VectorTable::operator=(VectorTable&& other) noexcept {
    if (this == &other) return *this;
    release();
    // Moving a std::vector keeps its buffer, so an owned view stays valid.
    owned_ = std::move(other.owned_);
    mapping_ = std::exchange(other.mapping_, nullptr);
    mapping_bytes_ = std::exchange(other.mapping_bytes_, 0);
    view_ = std::exchange(other.view_, {});
    return *this;
}

void VectorTable::zero_rows(const std::vector<int64_t>& rows) {
    for (const int64_t r : rows) {
        EMBQ_ASSERT(r >= 0 && r < view_.rows);
        std::fill_n(const_cast<float*>(view_.row(r)), view_.dim, 0.0f);
    }
}

}  // namespace embq
