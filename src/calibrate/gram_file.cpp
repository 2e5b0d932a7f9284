#include "calibrate/gram_file.hpp"

#include <cstring>
#include <fstream>
#include <iterator>

#include "core/sha256.hpp"
#include "embq/atomic_file.hpp"
#include "embq/calibrate.hpp"
#include "embq/error.hpp"

namespace embq {

namespace {

using nlohmann::json;

// The sidecar is written and read in the host's byte order, little-endian on every
// platform libtorch's CPU builds run on (x86-64, arm64); the JSON says so.
constexpr const char* kGramDtype = "float32-le";

}  // namespace

std::filesystem::path gram_sidecar_path(const std::filesystem::path& calibration_path) {
    std::filesystem::path p = calibration_path;
    return p.replace_extension(".gram.bin");
}

EncodedGrams encode_grams(const InputGrams& grams, const std::string& file_name) {
    EncodedGrams out;
    json layers = json::object();
    for (const auto& [path, gram] : grams) {
        layers[path] = {{"offset", out.bytes.size()}, {"dim", gram->dim}, {"rows", gram->rows}};
        const size_t n = gram->values.size() * sizeof(float);
        const size_t at = out.bytes.size();
        out.bytes.resize(at + n);
        std::memcpy(out.bytes.data() + at, gram->values.data(), n);
    }
    out.section = {{"file", file_name},
                   {"bytes", out.bytes.size()},
                   {"sha256", sha256_hex(out.bytes)},
                   {"dtype", kGramDtype},
                   {"layers", layers}};
    return out;
}

InputGrams read_grams(const json& section, const std::filesystem::path& calibration_path) {
    const std::string name = section.at("file").get<std::string>();
    const std::filesystem::path file = calibration_path.parent_path() / name;
    const std::string origin = file.string();
    const std::string redo = "; rerun 'embq calibrate --input-gram' to write both files again";
    if (section.value("dtype", "") != kGramDtype)
        throw input_error(calibration_path.string() + ": input_gram.dtype is not " + kGramDtype +
                          redo);
    std::ifstream in(file, std::ios::binary);
    if (!in) throw input_error(origin + ": cannot read the Gram sidecar this calibration names" + redo);
    const std::string bytes((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
    const auto expected = section.at("bytes").get<uint64_t>();
    if (bytes.size() != expected)
        throw input_error(origin + ": " + std::to_string(bytes.size()) + " bytes, but " +
                          calibration_path.string() + " says " + std::to_string(expected) + redo);
    const std::string digest = sha256_hex(bytes);
    if (digest != section.at("sha256").get<std::string>())
        throw input_error(origin + ": SHA-256 " + digest + " differs from the one " +
                          calibration_path.string() + " records (the files belong to different "
                          "runs or the sidecar was modified)" + redo);
    InputGrams grams;
    for (const auto& [path, entry] : section.at("layers").items()) {
        auto gram = std::make_shared<InputGram>();
        gram->dim = entry.at("dim").get<int64_t>();
        gram->rows = entry.at("rows").get<uint64_t>();
        const auto offset = entry.at("offset").get<uint64_t>();
        const uint64_t n = static_cast<uint64_t>(gram->dim) * static_cast<uint64_t>(gram->dim);
        if (gram->dim <= 0 || offset > bytes.size() || n * sizeof(float) > bytes.size() - offset)
            throw input_error(calibration_path.string() + ": input_gram.layers." + path +
                              " lies outside the sidecar" + redo);
        gram->values.resize(n);
        std::memcpy(gram->values.data(), bytes.data() + offset, n * sizeof(float));
        grams[path] = std::move(gram);
    }
    return grams;
}

void write_calibration(const CalibrationRun& run, const std::filesystem::path& path) {
    json document = run.document;
    if (run.grams.empty()) {
        write_file_atomically(path, document.dump(2) + "\n");
        return;
    }
    const std::filesystem::path sidecar_path = gram_sidecar_path(path);
    EncodedGrams encoded = encode_grams(run.grams, sidecar_path.filename().string());
    document["input_gram"] = encoded.section;
    // Both files are written under temporary names first; the sidecar is renamed into
    // place before the JSON that names it, and removed again if that second rename fails.
    AtomicFile sidecar(sidecar_path), main(path);
    sidecar.stream().write(encoded.bytes.data(), static_cast<std::streamsize>(encoded.bytes.size()));
    main.stream() << document.dump(2) << "\n";
    sidecar.commit();
    try {
        main.commit();
    } catch (...) {
        std::error_code ec;
        std::filesystem::remove(sidecar_path, ec);
        throw;
    }
}

}  // namespace embq
