#include "embq/stored_layers.hpp"

#include <algorithm>
#include <cctype>
#include <functional>
#include <map>
#include <numeric>
#include <set>
#include <sstream>

#include "core/text_table.hpp"
#include "embq/error.hpp"
#include "embq/format.hpp"
#include "model/graph_util.hpp"

namespace embq {

namespace {

// Counts each tensor storage once, so a layer called twice (one stored tensor) or two
// attributes that share a storage are not counted twice.
class StorageCounter {
public:
    int64_t bytes(const c10::IValue& value) {
        if (value.isTensor()) return tensor_bytes(value.toTensor());
        int64_t sum = 0;
        if (value.isTuple()) {
            for (const auto& e : value.toTupleRef().elements()) sum += bytes(e);
        } else if (value.isList()) {
            for (const auto& e : value.toListRef()) sum += bytes(e);
        } else if (value.isObject()) {
            // Prepacked weights (quantized::linear_prepack) are custom-class objects; what
            // they serialise is their __getstate__: the int8 weight and the bias.
            const auto object = value.toObject();
            if (auto* getstate = object->type()->findMethod("__getstate__")) {
                torch::jit::Stack stack{value};
                getstate->run(stack);
                sum += bytes(stack.back());
            } else {
                for (size_t i = 0; i < object->slots().size(); ++i)
                    sum += bytes(object->getSlot(i));
            }
        }
        return sum;
    }

private:
    int64_t tensor_bytes(const at::Tensor& t) {
        if (!t.defined() || !t.has_storage()) return 0;
        if (!seen_.insert(t.storage().data()).second) return 0;
        int64_t n = static_cast<int64_t>(t.storage().nbytes());
        if (t.is_quantized() && (t.qscheme() == at::kPerChannelAffine ||
                                 t.qscheme() == at::kPerChannelAffineFloatQParams)) {
            const at::Tensor scales = t.q_per_channel_scales();
            const at::Tensor zero_points = t.q_per_channel_zero_points();
            n += scales.numel() * scales.element_size() +
                 zero_points.numel() * zero_points.element_size();
        }
        return n;
    }

    std::set<const void*> seen_;
};

int64_t file_size_or_zero(const std::filesystem::path& path) {
    std::error_code ec;
    const auto n = std::filesystem::file_size(path, ec);
    return ec ? 0 : static_cast<int64_t>(n);
}

// The stored layer whose attribute prefix is the longest one `attribute` starts with:
// sanitised names can be prefixes of each other ("a.b" and "a.b_c").
StoredLayer* owner_of(const std::string& attribute, std::vector<StoredLayer>& layers,
                      const std::vector<std::string>& prefixes) {
    StoredLayer* owner = nullptr;
    size_t longest = 0;
    for (size_t i = 0; i < layers.size(); ++i) {
        const std::string& p = prefixes[i];
        if (p.size() > longest && attribute.compare(0, p.size(), p) == 0) {
            owner = &layers[i];
            longest = p.size();
        }
    }
    return owner;
}

int64_t weight_elements(const StoredLayer& layer) {
    return std::accumulate(layer.weight_shape.begin(), layer.weight_shape.end(), int64_t{1},
                           std::multiplies<>());
}

// Counts `bytes`, stored once for the layers named in `paths`, to those layers by their
// weight sizes (the tensor stacks their rows); the rounding remainder goes to the first.
template <typename Corrupt>
void share_out(int64_t bytes, const nlohmann::json& paths, StoredModel& stored,
               const Corrupt& corrupt) {
    std::vector<StoredLayer*> members;
    int64_t elements = 0;
    for (const auto& path : paths) {
        const auto it = std::find_if(stored.layers.begin(), stored.layers.end(),
                                     [&](const StoredLayer& l) { return path == l.path; });
        if (!path.is_string() || it == stored.layers.end())
            throw corrupt(std::string("lists ") + kStoredTogetherKey + " layer " + path.dump() +
                          ", which the plan lacks");
        members.push_back(&*it);
        elements += weight_elements(*it);
    }
    if (elements == 0) throw corrupt(std::string("has an empty ") + kStoredTogetherKey + " entry");
    int64_t given = 0;
    for (StoredLayer* member : members) {
        const int64_t share = bytes * weight_elements(*member) / elements;
        member->stored_bytes += share;
        given += share;
    }
    members.front()->stored_bytes += bytes - given;
}

}  // namespace

std::string stored_attribute_name(const std::string& layer_path, const std::string& name) {
    std::string id = "_embq__";
    for (char c : layer_path) id += (std::isalnum(static_cast<unsigned char>(c)) ? c : '_');
    return id + "__" + name;
}

int64_t StoredModel::stored_bytes() const {
    int64_t n = kept_bytes;
    for (const auto& l : layers) n += l.stored_bytes;
    return n;
}

bool is_embq_output(const LoadedModel& loaded) {
    return loaded.embq_metadata && loaded.embq_metadata->is_object() &&
           loaded.embq_metadata->contains("plan");
}

StoredModel take_stored_inventory(const LoadedModel& loaded) {
    const auto corrupt = [&](const std::string& why) {
        return input_error(loaded.path.string() + ": embq metadata (extra/" + kMetadataEntry +
                           ") " + why + "; was the archive edited?");
    };
    if (!is_embq_output(loaded)) throw corrupt("has no plan");
    const nlohmann::json& planned = (*loaded.embq_metadata)["plan"];
    if (!planned.is_object() || !planned.contains("layers") || !planned["layers"].is_array())
        throw corrupt("has no list of planned layers");

    const ModelInventory inventory = take_inventory(loaded.module);
    StoredModel stored;
    stored.file_bytes = file_size_or_zero(loaded.path);
    stored.kept_bytes = inventory.kept_totals().bytes;
    for (const auto& entry : planned["layers"]) {
        StoredLayer layer;
        try {
            layer.path = entry.at("path").get<std::string>();
            layer.scheme = entry.at("scheme").get<std::string>();
            layer.source_bytes = entry.value("bytes_before", int64_t{0});
            layer.planned_bytes = entry.value("bytes_after", int64_t{0});
        } catch (const nlohmann::json::exception&) {
            throw corrupt("has a planned layer without a path or scheme");
        }
        const Layer* found = inventory.find(layer.path);
        if (!found) throw corrupt("plans layer '" + layer.path + "', which the model lacks");
        layer.kind = found->kind;
        layer.weight_shape = found->weight_shape;
        stored.layers.push_back(std::move(layer));
    }

    // A layer's bytes: its own weight and bias (a one-element placeholder once rewritten,
    // the real tensor when kept or still read, as fp16 keeps the FP32 bias) and the tensors
    // quantize stored on the root under the layer's attribute prefix.
    StorageCounter counter;
    std::vector<std::string> prefixes;
    for (auto& layer : stored.layers) {
        prefixes.push_back(stored_attribute_name(layer.path, ""));
        const torch::jit::Module module = submodule(loaded.module, layer.path);
        for (const char* name : {"weight", "bias"})
            if (module.hasattr(name)) layer.stored_bytes += counter.bytes(module.attr(name));
    }
    const nlohmann::json together =
        loaded.embq_metadata->value(kStoredTogetherKey, nlohmann::json::object());
    for (const auto& attribute : loaded.module.named_attributes(/*recurse=*/false)) {
        if (together.is_object() && together.contains(attribute.name)) {
            share_out(counter.bytes(attribute.value), together[attribute.name], stored, corrupt);
        } else if (StoredLayer* owner = owner_of(attribute.name, stored.layers, prefixes)) {
            owner->stored_bytes += counter.bytes(attribute.value);
        }
    }
    return stored;
}

std::string format_stored_inventory(const StoredModel& stored, const nlohmann::json& metadata) {
    std::ostringstream out;
    TextTable layers({"layer", "kind", "weight", "stored as", "bytes", "of source", "planned"});
    struct SchemeTotals {
        int count = 0;
        int64_t source = 0, stored = 0;
    };
    std::map<std::string, SchemeTotals> by_scheme;
    int64_t source_total = 0;
    for (const auto& l : stored.layers) {
        layers.add_row({l.path, to_string(l.kind), format_shape(l.weight_shape), l.scheme,
                        format_bytes(l.stored_bytes),
                        format_percent(static_cast<double>(l.stored_bytes),
                                       static_cast<double>(l.source_bytes)),
                        format_bytes(l.planned_bytes)});
        SchemeTotals& t = by_scheme[l.scheme];
        ++t.count;
        t.source += l.source_bytes;
        t.stored += l.stored_bytes;
        source_total += l.source_bytes;
    }
    out << layers.render();

    const double all = static_cast<double>(stored.stored_bytes());
    TextTable totals(
        {"stored as", "layers", "source bytes", "stored bytes", "of source", "share of stored"});
    auto add = [&](const std::string& name, const std::string& count, int64_t source,
                   int64_t bytes) {
        totals.add_row({name, count, format_bytes(source), format_bytes(bytes),
                        format_percent(static_cast<double>(bytes), static_cast<double>(source)),
                        format_percent(static_cast<double>(bytes), all)});
    };
    for (const auto& [scheme, t] : by_scheme)
        add(scheme, std::to_string(t.count), t.source, t.stored);
    add("kept (not quantizable)", "", stored.kept_bytes, stored.kept_bytes);
    add("total", std::to_string(stored.layers.size()), source_total + stored.kept_bytes,
        stored.stored_bytes());
    out << "\n" << totals.render();
    out << "\ntensors " << format_bytes(stored.stored_bytes()) << ", file "
        << format_bytes(stored.file_bytes)
        << " (the rest is the archive's code, metadata and carried card and tokenizer)\n";

    const auto text = [&](const char* key) {
        return metadata.contains(key) && metadata[key].is_string()
                   ? metadata[key].get<std::string>()
                   : std::string("?");
    };
    out << "written by " << text("created_by") << " from " << text("source_model") << ", engine "
        << text("engine");
    // Outputs from before targets existed have no "target": they were built for native.
    if (metadata.contains("target") && metadata["target"].is_object()) {
        const nlohmann::json& target = metadata["target"];
        out << ", target " << target.value("name", std::string("?")) << " ("
            << target.value("runtime", std::string("?")) << ", built on "
            << target.value("built_on", std::string("?")) << ")";
    }
    out << "\n";
    if (metadata.contains("config") && metadata["config"].is_object() &&
        metadata["config"].contains("description") && metadata["config"]["description"].is_string())
        out << "config: " << metadata["config"]["description"].get<std::string>() << "\n";
    return out.str();
}

nlohmann::json stored_inventory_to_json(const StoredModel& stored) {
    nlohmann::json layers = nlohmann::json::array();
    for (const auto& l : stored.layers)
        layers.push_back({{"path", l.path},
                          {"kind", to_string(l.kind)},
                          {"weight_shape", l.weight_shape},
                          {"scheme", l.scheme},
                          {"source_bytes", l.source_bytes},
                          {"planned_bytes", l.planned_bytes},
                          {"stored_bytes", l.stored_bytes}});
    return {{"layers", layers},
            {"kept_bytes", stored.kept_bytes},
            {"stored_bytes", stored.stored_bytes()},
            {"file_bytes", stored.file_bytes}};
}

}  // namespace embq
