// What a model embq wrote really stores for each layer: the scheme its stored plan chose
// and the bytes the layer's tensors take in the file, measured on the loaded archive (the
// generic inventory reads the FP32 placeholders embq leaves in place of rewritten weights,
// which keep the shape but not the bytes).
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include <nlohmann/json_fwd.hpp>

#include "embq/layers.hpp"
#include "embq/model.hpp"

namespace embq {

// The root-module attribute under which quantize stores tensor `name` of the layer at
// `layer_path`. Attribute names must be identifiers: ("encoder.layer.0.fc", "packed") ->
// "_embq__encoder_layer_0_fc__packed". Writer (quantize) and reader (this file) share it.
std::string stored_attribute_name(const std::string& layer_path, const std::string& name);

// Metadata key of the attributes that hold several layers' tensors at once (int8_dynamic's
// query, key and value packed as one matrix): {attribute name: [layer paths]}. Each layer
// is counted its share of the bytes, by weight size.
inline constexpr const char* kStoredTogetherKey = "stored_together";

struct StoredLayer {
    std::string path;
    LayerKind kind = LayerKind::Linear;
    std::vector<int64_t> weight_shape;
    std::string scheme;         // from the stored plan
    int64_t source_bytes = 0;   // weight + bias in the model it was quantized from
    int64_t planned_bytes = 0;  // what the plan predicted
    int64_t stored_bytes = 0;   // measured: every tensor the layer's forward reads
};

struct StoredModel {
    std::vector<StoredLayer> layers;  // in module order
    int64_t kept_bytes = 0;           // parameters of modules no scheme handles
    int64_t file_bytes = 0;           // the archive on disk
    int64_t stored_bytes() const;     // layers and kept together
};

// True when `loaded` holds the metadata of an embq output.
bool is_embq_output(const LoadedModel& loaded);

// The stored layers of an embq output. An Input error naming the file when its metadata
// has no plan embq can read.
StoredModel take_stored_inventory(const LoadedModel& loaded);

// What `embq inspect` prints for an embq output: a row per layer (stored scheme, measured
// bytes, share of the source bytes), totals by scheme, and where the metadata came from.
std::string format_stored_inventory(const StoredModel& stored, const nlohmann::json& metadata);
nlohmann::json stored_inventory_to_json(const StoredModel& stored);

}  // namespace embq
