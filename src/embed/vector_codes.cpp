#include "embq/vector_codes.hpp"

#include <algorithm>
#include <cmath>
#include <fstream>

#include <nlohmann/json.hpp>

#include "embq/atomic_file.hpp"
#include "embq/error.hpp"

namespace embq {

namespace {

namespace fs = std::filesystem;
constexpr const char* kCodesKind = "embq vector codes";

}  // namespace

const char* to_string(VectorCodes codes) noexcept {
    switch (codes) {
        case VectorCodes::Float32: return "float32";
        case VectorCodes::Int8: return "int8";
        case VectorCodes::Binary: return "binary";
    }
    return "?";
}

VectorCodes parse_vector_codes(const std::string& name) {
    for (const VectorCodes c : {VectorCodes::Float32, VectorCodes::Int8, VectorCodes::Binary})
        if (name == to_string(c)) return c;
    throw usage_error("--vectors " + name + ": expected float32, int8 or binary");
}

int64_t code_bytes_per_vector(VectorCodes codes, int64_t dim) {
    switch (codes) {
        case VectorCodes::Float32: return 4 * dim;
        case VectorCodes::Int8: return dim;
        case VectorCodes::Binary: return (dim + 7) / 8;
    }
    return 0;
}

Int8Ranges int8_ranges_from(const Vectors& sample) {
    if (sample.rows < 2)
        throw usage_error("--calibration-vectors: " + std::to_string(sample.rows) +
                          " vector(s) cannot give a range per dimension; give a few hundred");
    Int8Ranges r;
    r.start.assign(static_cast<size_t>(sample.dim), std::numeric_limits<float>::max());
    std::vector<float> hi(static_cast<size_t>(sample.dim), std::numeric_limits<float>::lowest());
    for (int64_t i = 0; i < sample.rows; ++i)
        for (int64_t d = 0; d < sample.dim; ++d) {
            const float x = sample.data[static_cast<size_t>(i * sample.dim + d)];
            r.start[static_cast<size_t>(d)] = std::min(r.start[static_cast<size_t>(d)], x);
            hi[static_cast<size_t>(d)] = std::max(hi[static_cast<size_t>(d)], x);
        }
    r.step.resize(r.start.size());
    for (size_t d = 0; d < r.start.size(); ++d)
        // A constant dimension still needs a positive step; any value reads back as start.
        r.step[d] = std::max((hi[d] - r.start[d]) / 255.0f, 1e-12f);
    return r;
}

std::vector<uint8_t> encode_vectors(VectorCodes codes, const float* rows, int64_t count,
                                    int64_t dim, const Int8Ranges* ranges) {
    EMBQ_ASSERT(codes != VectorCodes::Float32);
    const int64_t width = code_bytes_per_vector(codes, dim);
    std::vector<uint8_t> out(static_cast<size_t>(count * width), 0);
    for (int64_t i = 0; i < count; ++i) {
        const float* x = rows + i * dim;
        uint8_t* o = out.data() + i * width;
        if (codes == VectorCodes::Int8) {
            EMBQ_ASSERT(ranges && ranges->dim() == dim);
            for (int64_t d = 0; d < dim; ++d) {
                const auto k = static_cast<size_t>(d);
                const float q = std::nearbyint((x[d] - ranges->start[k]) / ranges->step[k]);
                o[d] = static_cast<uint8_t>(static_cast<int8_t>(std::clamp(q, 0.0f, 255.0f) - 128));
            }
        } else {
            for (int64_t d = 0; d < dim; ++d)
                if (x[d] > 0) o[d / 8] |= static_cast<uint8_t>(0x80u >> (d % 8));
        }
    }
    return out;
}

fs::path codes_info_path_for(const fs::path& vectors) {
    return vectors.parent_path() / (vectors.stem().string() + ".codes.json");
}

void write_codes_info(const fs::path& vectors, const CodesInfo& info) {
    nlohmann::json doc = {{"kind", kCodesKind},
                          {"format_version", 1},
                          {"codes", to_string(info.codes)},
                          {"dim", info.dim}};
    if (info.codes == VectorCodes::Int8) {
        doc["start"] = info.ranges.start;
        doc["step"] = info.ranges.step;
        doc["calibration"] = info.calibration;
    }
    AtomicFile file(codes_info_path_for(vectors));
    file.stream() << doc.dump() << "\n";
    file.commit();
}

CodesInfo read_codes_info(const fs::path& vectors) {
    const fs::path path = codes_info_path_for(vectors);
    std::ifstream in(path);
    if (!in)
        throw input_error(vectors.string() + " holds vector codes, but " + path.string() +
                          " (their dimension and ranges, written beside them by 'embq embed "
                          "--vectors') is missing");
    const auto doc = nlohmann::json::parse(in, nullptr, /*allow_exceptions=*/false);
    if (!doc.is_object() || doc.value("kind", std::string()) != kCodesKind ||
        !doc.contains("dim") || !doc["dim"].is_number_integer())
        throw input_error(path.string() + ": not an embq vector codes file");
    CodesInfo info;
    info.codes =
        doc.value("codes", std::string()) == "binary" ? VectorCodes::Binary : VectorCodes::Int8;
    info.dim = doc["dim"];
    if (info.codes == VectorCodes::Int8) {
        if (!doc.contains("start") || !doc.contains("step") || !doc["start"].is_array() ||
            doc["start"].size() != static_cast<size_t>(info.dim) || !doc["step"].is_array() ||
            doc["step"].size() != static_cast<size_t>(info.dim))
            throw input_error(path.string() + ": int8 codes need a start and a step per dimension");
        info.ranges.start = doc["start"].get<std::vector<float>>();
        info.ranges.step = doc["step"].get<std::vector<float>>();
        info.calibration = doc.value("calibration", std::string());
    }
    return info;
}

Vectors decode_vectors(const CodesInfo& info, const std::vector<uint8_t>& codes, int64_t rows,
                       int64_t columns, const std::string& where) {
    if (columns != code_bytes_per_vector(info.codes, info.dim))
        throw input_error(where + ": " + std::to_string(columns) + " bytes a row, but " +
                          std::to_string(info.dim) + "-dimensional " + to_string(info.codes) +
                          " codes take " +
                          std::to_string(code_bytes_per_vector(info.codes, info.dim)));
    Vectors v;
    v.rows = rows;
    v.dim = info.dim;
    v.data.resize(static_cast<size_t>(rows * info.dim));
    for (int64_t i = 0; i < rows; ++i) {
        const uint8_t* c = codes.data() + i * columns;
        float* x = v.data.data() + i * info.dim;
        for (int64_t d = 0; d < info.dim; ++d) {
            const auto k = static_cast<size_t>(d);
            x[d] = info.codes == VectorCodes::Int8
                       ? info.ranges.start[k] +
                             (static_cast<float>(static_cast<int8_t>(c[d])) + 128.0f) *
                                 info.ranges.step[k]
                       : ((c[d / 8] >> (7 - d % 8)) & 1u ? 1.0f : -1.0f);
        }
    }
    return v;
}

}  // namespace embq
