#include "embq/layers.hpp"

#include <algorithm>
#include <cstdio>
#include <sstream>

#include <nlohmann/json.hpp>

#include "core/text_table.hpp"
#include "embq/format.hpp"

namespace embq {

namespace {

struct KindName {
    LayerKind kind;
    const char* name;
};
// One table drives printing, parsing and the list of kinds.
constexpr KindName kKindNames[] = {
    {LayerKind::Linear, "linear"},
    {LayerKind::Embedding, "embedding"},
    {LayerKind::EmbeddingBag, "embedding_bag"},
};

void add_totals(KindTotals& t, int64_t params, int64_t bytes) {
    ++t.count;
    t.params += params;
    t.bytes += bytes;
}

}  // namespace

const char* to_string(LayerKind kind) noexcept {
    for (const auto& k : kKindNames)
        if (k.kind == kind) return k.name;
    return "unknown";
}

std::optional<LayerKind> parse_layer_kind(std::string_view name) noexcept {
    for (const auto& k : kKindNames)
        if (name == k.name) return k.kind;
    return std::nullopt;
}

const std::vector<LayerKind>& all_layer_kinds() noexcept {
    static const std::vector<LayerKind> kinds = [] {
        std::vector<LayerKind> v;
        for (const auto& k : kKindNames) v.push_back(k.kind);
        return v;
    }();
    return kinds;
}

KindTotals ModelInventory::totals(LayerKind kind) const {
    KindTotals t;
    for (const auto& l : layers)
        if (l.kind == kind) add_totals(t, l.params, l.bytes);
    return t;
}

KindTotals ModelInventory::kept_totals() const {
    KindTotals t;
    for (const auto& k : kept) add_totals(t, k.params, k.bytes);
    return t;
}

KindTotals ModelInventory::all_totals() const {
    KindTotals t = kept_totals();
    for (const auto& l : layers) add_totals(t, l.params, l.bytes);
    return t;
}

const Layer* ModelInventory::find(std::string_view path) const {
    for (const auto& l : layers)
        if (l.path == path) return &l;
    return nullptr;
}

int64_t table_rows(const Layer& layer) {
    return layer.kind == LayerKind::Linear || layer.weight_shape.empty()
               ? 0
               : layer.weight_shape.front();
}

int64_t ModelInventory::token_table_rows() const {
    int64_t rows = 0;
    for (const Layer& layer : layers) rows = std::max(rows, table_rows(layer));
    return rows;
}

std::string format_inventory(const ModelInventory& inv) {
    std::ostringstream out;
    TextTable layers(
        {"layer", "kind", "weight", "dtype", "params", "bytes", "shared type", "calls"});
    for (const auto& l : inv.layers) {
        layers.add_row({l.path, to_string(l.kind), format_shape(l.weight_shape), l.dtype,
                        std::to_string(l.params), format_bytes(l.bytes),
                        l.type_shared ? "yes" : "no", std::to_string(l.calls)});
    }
    out << layers.render();

    TextTable totals({"kind", "count", "params", "bytes", "share of bytes"});
    const auto all = inv.all_totals();
    auto share = [&](int64_t bytes) {
        char buf[16];
        std::snprintf(buf, sizeof buf, "%.1f%%", all.bytes ? 100.0 * bytes / all.bytes : 0.0);
        return std::string(buf);
    };
    auto add = [&](const std::string& name, const KindTotals& t) {
        totals.add_row({name, std::to_string(t.count), std::to_string(t.params),
                        format_bytes(t.bytes), share(t.bytes)});
    };
    for (LayerKind kind : all_layer_kinds()) {
        const auto t = inv.totals(kind);
        if (t.count) add(to_string(kind), t);
    }
    add("kept (not quantizable)", inv.kept_totals());
    add("total", all);
    out << "\n" << totals.render();
    return out.str();
}

nlohmann::json inventory_to_json(const ModelInventory& inv) {
    nlohmann::json layers = nlohmann::json::array();
    for (const auto& l : inv.layers) {
        layers.push_back({{"path", l.path},
                          {"kind", to_string(l.kind)},
                          {"weight_shape", l.weight_shape},
                          {"dtype", l.dtype},
                          {"has_bias", l.has_bias},
                          {"params", l.params},
                          {"bytes", l.bytes},
                          {"type_name", l.type_name},
                          {"type_shared", l.type_shared},
                          {"calls", l.calls}});
    }
    nlohmann::json kept = nlohmann::json::array();
    for (const auto& k : inv.kept) {
        kept.push_back({{"path", k.path},
                        {"type_name", k.type_name},
                        {"params", k.params},
                        {"bytes", k.bytes}});
    }
    auto totals_json = [](const KindTotals& t) {
        return nlohmann::json{{"count", t.count}, {"params", t.params}, {"bytes", t.bytes}};
    };
    nlohmann::json by_kind = nlohmann::json::object();
    for (LayerKind kind : all_layer_kinds())
        by_kind[to_string(kind)] = totals_json(inv.totals(kind));
    by_kind["kept"] = totals_json(inv.kept_totals());
    return {{"layers", layers},
            {"kept", kept},
            {"totals", {{"by_kind", by_kind}, {"all", totals_json(inv.all_totals())}}}};
}

}  // namespace embq
