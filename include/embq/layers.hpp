// What a model is made of, as embq sees it: the layers a scheme could quantize and
// the modules it keeps as they are. Plain data: no libtorch here, so code that only
// reads or prints an inventory compiles fast.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include <nlohmann/json_fwd.hpp>

namespace embq {

// The kinds of layer a quantization scheme can rewrite. Detected from the op a
// module's forward applies to its own `weight` (aten::linear, aten::embedding, ...).
enum class LayerKind { Linear, Embedding, EmbeddingBag };

const char* to_string(LayerKind kind) noexcept;
std::optional<LayerKind> parse_layer_kind(std::string_view name) noexcept;
const std::vector<LayerKind>& all_layer_kinds() noexcept;

// One quantizable layer, named by its dotted path from the model root.
struct Layer {
    std::string path;  // "encoder.layer.0.attention.self.query"
    LayerKind kind = LayerKind::Linear;
    std::vector<int64_t> weight_shape;  // [out, in] for linear, [rows, dim] for tables
    std::string dtype;                  // of the weight: "float32", "float16", ...
    bool has_bias = false;
    int64_t params = 0;        // weight + bias elements
    int64_t bytes = 0;         // storage of weight + bias as they are now
    std::string type_name;     // TorchScript class type (qualified name)
    bool type_shared = false;  // another submodule has the same class type
    int calls = 0;             // call sites of this module's methods in the model
};

// Rows of an embedding table, 0 for a linear layer: token ids at or beyond the largest
// table's rows index past every table.
int64_t table_rows(const Layer& layer);

// A module that owns parameters no scheme handles (LayerNorm, a bare nn.Parameter, ...).
struct KeptModule {
    std::string path;  // "" for the root module
    std::string type_name;
    int64_t params = 0;
    int64_t bytes = 0;
};

struct KindTotals {
    int count = 0;
    int64_t params = 0;
    int64_t bytes = 0;
};

struct ModelInventory {
    std::vector<Layer> layers;     // in module order
    std::vector<KeptModule> kept;  // in module order

    KindTotals totals(LayerKind kind) const;
    KindTotals kept_totals() const;
    KindTotals all_totals() const;  // layers and kept together
    const Layer* find(std::string_view path) const;
    // The largest table_rows(); 0 when the model has no embedding layer embq detects.
    int64_t token_table_rows() const;
};

// Human-readable table with totals by kind, as `embq inspect` prints it.
std::string format_inventory(const ModelInventory& inventory);
nlohmann::json inventory_to_json(const ModelInventory& inventory);

}  // namespace embq
