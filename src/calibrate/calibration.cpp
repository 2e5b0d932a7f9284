#include "embq/calibration.hpp"

#include <algorithm>
#include <cstdio>
#include <fstream>
#include <iterator>

#include <nlohmann/json.hpp>

#include "calibrate/gram_file.hpp"
#include "core/json_text.hpp"
#include "core/text_table.hpp"
#include "embq/error.hpp"

namespace embq {

namespace {

using nlohmann::json;

// Reads one document, keeping `origin` for messages.
class Reader {
public:
    explicit Reader(std::string origin) : origin_(std::move(origin)) {}

    Error fail(const std::string& key, const std::string& what) const {
        return input_error(origin_ + ": " + key + ": " + what +
                           "; rerun 'embq calibrate' to write a valid file");
    }

    const json& member(const json& object, const std::string& key, const std::string& path) const {
        if (!object.is_object() || !object.contains(key))
            throw fail(path, "missing key '" + key + "'");
        return object.at(key);
    }

    // A [lo, hi] pair; nullopt for null (nothing finite was observed).
    std::optional<ClipRange> range(const json& value, const std::string& path) const {
        if (value.is_null()) return std::nullopt;
        if (!value.is_array() || value.size() != 2 || !value[0].is_number() ||
            !value[1].is_number() || value[0].get<double>() > value[1].get<double>())
            throw fail(path, "expected [lo, hi] with lo <= hi, got " + value.dump());
        return ClipRange{value[0].get<double>(), value[1].get<double>()};
    }

private:
    std::string origin_;
};

}  // namespace

Calibration Calibration::from_json(const json& doc, const std::string& origin,
                                   InputGrams grams) {
    const Reader reader(origin);
    if (!doc.is_object() || doc.value("format", "") != kCalibrationFormat)
        throw input_error(origin + ": not an embq calibration file (no \"format\": \"" +
                          kCalibrationFormat + "\"); write one with 'embq calibrate'");
    const json& version = reader.member(doc, "version", "version");
    if (!version.is_number_integer() || version.get<int>() != kCalibrationVersion)
        throw input_error(origin + ": calibration format version " + version.dump() +
                          " is not supported (this embq reads version " +
                          std::to_string(kCalibrationVersion) + "); recalibrate with this embq");

    Calibration cal;
    cal.origin_ = origin;
    const json& model = reader.member(doc, "model", "model");
    cal.model_sha256_ = reader.member(model, "sha256", "model").get<std::string>();
    const json& observers = reader.member(doc, "observers", "observers");
    if (!observers.is_array() || observers.empty())
        throw reader.fail("observers", "expected a non-empty array of observer specs");
    for (const auto& o : observers) cal.observers_.push_back(o.get<std::string>());
    cal.selected_ = cal.observers_.front();

    const json& layers = reader.member(doc, "layers", "layers");
    if (!layers.is_object()) throw reader.fail("layers", "expected an object keyed by layer path");
    for (const auto& [path, entry] : layers.items()) {
        const std::string where = "layers." + path;
        Layer layer;
        layer.samples = reader.member(entry, "samples", where).get<uint64_t>();
        for (const bool is_input : {true, false}) {
            const std::string side = is_input ? "input" : "output";
            const json& activation = reader.member(entry, side, where);
            const json& by_observer = reader.member(activation, "observers", where + "." + side);
            Activation& target = is_input ? layer.input : layer.output;
            for (const auto& spec : cal.observers_) {
                const std::string key = where + "." + side + ".observers." + spec;
                const json& observer = reader.member(by_observer, spec, key);
                if (auto r = reader.range(reader.member(observer, "range", key), key + ".range"))
                    target.ranges[spec] = *r;
            }
            if (is_input) {
                const json& mean = reader.member(activation, "channel_mean", where + ".input");
                if (!mean.is_array())
                    throw reader.fail(where + ".input.channel_mean", "expected an array");
                for (const auto& m : mean) layer.input_mean.push_back(m.get<double>());
                // Absent in files written before smoothing existed; smoothing says so.
                for (const auto& v : activation.value("channel_min", json::array()))
                    layer.input_min.push_back(v.get<double>());
                for (const auto& v : activation.value("channel_max", json::array()))
                    layer.input_max.push_back(v.get<double>());
            }
        }
        cal.layers_[path] = std::move(layer);
    }
    cal.grams_ = std::move(grams);
    return cal;
}

void Calibration::check_model(const std::string& model_sha256, const std::string& model_path) const {
    if (model_sha256 == model_sha256_) return;
    throw input_error(origin_ + " was calibrated on a model with SHA-256 " + model_sha256_ +
                      ", not " + model_path + " (SHA-256 " + model_sha256 +
                      "); calibrate this model with 'embq calibrate'");
}

Calibration Calibration::load(const std::filesystem::path& path) {
    const std::string origin = path.string();
    std::error_code ec;
    if (!std::filesystem::is_regular_file(path, ec))
        throw input_error(origin + ": no such calibration file; write one with 'embq calibrate'");
    std::ifstream in(path, std::ios::binary);
    const std::string text((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
    if (!in.is_open() || in.bad()) throw input_error(origin + ": cannot read the file");
    refuse_nul_bytes(text, origin);
    json doc;
    try {
        doc = json::parse(text);
    } catch (const json::exception& e) {
        throw input_error(origin + ": not valid JSON (" + json_error_reason(e) + ")");
    }
    try {
        InputGrams grams;
        if (doc.is_object() && doc.contains("input_gram")) grams = read_grams(doc["input_gram"], path);
        return from_json(doc, origin, std::move(grams));
    } catch (const json::exception& e) {
        throw input_error(origin + ": a value has the wrong type (" + e.what() +
                          "); rerun 'embq calibrate' to write a valid file");
    }
}

void Calibration::select(const std::string& observer) {
    for (const auto& spec : observers_) {
        if (spec == observer) {
            selected_ = spec;
            return;
        }
    }
    // A kind without its parameter names the file's only spec of that kind.
    std::string match;
    int matches = 0;
    for (const auto& spec : observers_) {
        if (spec.substr(0, spec.find(':')) == observer) {
            match = spec;
            ++matches;
        }
    }
    if (matches == 1) {
        selected_ = match;
        return;
    }
    std::string have;
    for (const auto& spec : observers_) have += (have.empty() ? "" : ", ") + spec;
    throw usage_error(origin_ + " has no ranges for observer '" + observer + "' (it has: " + have +
                      "); recalibrate with --observer " + observer);
}

std::optional<LayerCalibration> Calibration::layer(const std::string& path) const {
    const auto it = layers_.find(path);
    if (it == layers_.end()) return std::nullopt;
    const Layer& layer = it->second;
    const auto in = layer.input.ranges.find(selected_);
    const auto out = layer.output.ranges.find(selected_);
    if (in == layer.input.ranges.end() || out == layer.output.ranges.end()) return std::nullopt;
    const auto gram = grams_.find(path);
    return LayerCalibration{path,
                            in->second,
                            out->second,
                            layer.input_mean,
                            layer.input_min,
                            layer.input_max,
                            gram == grams_.end() ? nullptr : gram->second,
                            layer.samples};
}

namespace {

std::string range_text(const json& range) {
    if (!range.is_array()) return "-";
    char buf[64];
    std::snprintf(buf, sizeof buf, "[%.4g, %.4g]", range[0].get<double>(), range[1].get<double>());
    return buf;
}

}  // namespace

std::string format_calibration(const json& doc, const std::vector<std::string>& order) {
    const std::string spec = doc.at("observers").at(0).get<std::string>();
    TextTable table(
        {"layer", "calls", "rows", "input " + spec, "output " + spec, "input moved", "outliers"});
    const json& layers = doc.at("layers");
    std::vector<std::string> paths;
    for (const auto& path : order)
        if (layers.contains(path)) paths.push_back(path);
    for (const auto& [path, layer] : layers.items())
        if (std::find(order.begin(), order.end(), path) == order.end()) paths.push_back(path);
    for (const std::string& path : paths) {
        const json& layer = layers.at(path);
        const json& in = layer.at("input").at("observers").at(spec);
        const json& out = layer.at("output").at("observers").at(spec);
        std::string moved = "-";
        if (in.at("convergence").is_object() && in.at("convergence").at("movement").is_number()) {
            char buf[32];
            std::snprintf(buf, sizeof buf, "%.2f%%",
                          100.0 * in["convergence"]["movement"].get<double>());
            moved = buf;
        }
        const json& outliers = layer.at("input").value("outlier_channels", json::array());
        table.add_row({path, std::to_string(layer.at("calls").get<int>()),
                       std::to_string(layer.at("input").at("rows").get<uint64_t>()),
                       range_text(in.at("range")), range_text(out.at("range")), moved,
                       std::to_string(outliers.size())});
    }
    return table.render();
}

}  // namespace embq
