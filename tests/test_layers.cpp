// The inventory's data model: kind names, totals by kind, and the JSON users script against.
#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include "embq/format.hpp"
#include "embq/layers.hpp"

namespace embq {
namespace {

ModelInventory small_inventory() {
    ModelInventory inv;
    Layer a;
    a.path = "encoder.fc";
    a.kind = LayerKind::Linear;
    a.weight_shape = {4, 8};
    a.dtype = "float32";
    a.has_bias = true;
    a.params = 36;
    a.bytes = 144;
    a.calls = 2;
    Layer b = a;
    b.path = "embed";
    b.kind = LayerKind::Embedding;
    b.weight_shape = {100, 8};
    b.has_bias = false;
    b.params = 800;
    b.bytes = 3200;
    b.calls = 1;
    inv.layers = {b, a};
    inv.kept = {{"norm", "LayerNorm", 16, 64}};
    return inv;
}

TEST(LayerKind, NamesRoundTrip) {
    for (LayerKind kind : all_layer_kinds()) {
        const auto parsed = parse_layer_kind(to_string(kind));
        ASSERT_TRUE(parsed.has_value()) << to_string(kind);
        EXPECT_EQ(*parsed, kind);
    }
    EXPECT_FALSE(parse_layer_kind("conv2d").has_value());
    EXPECT_FALSE(parse_layer_kind("Linear").has_value()) << "names are case-sensitive";
}

TEST(ModelInventory, TotalsByKindAddUp) {
    const auto inv = small_inventory();
    EXPECT_EQ(inv.totals(LayerKind::Linear).count, 1);
    EXPECT_EQ(inv.totals(LayerKind::Linear).bytes, 144);
    EXPECT_EQ(inv.totals(LayerKind::Embedding).params, 800);
    EXPECT_EQ(inv.totals(LayerKind::EmbeddingBag).count, 0);
    EXPECT_EQ(inv.kept_totals().params, 16);
    const auto all = inv.all_totals();
    EXPECT_EQ(all.count, 3);
    EXPECT_EQ(all.params, 36 + 800 + 16);
    EXPECT_EQ(all.bytes, 144 + 3200 + 64);
    ASSERT_NE(inv.find("encoder.fc"), nullptr);
    EXPECT_EQ(inv.find("encoder.fc")->calls, 2);
    EXPECT_EQ(inv.find("encoder"), nullptr) << "find matches whole paths only";
}

TEST(ModelInventory, JsonCarriesEveryLayerAndTotals) {
    const auto j = inventory_to_json(small_inventory());
    ASSERT_EQ(j.at("layers").size(), 2u);
    EXPECT_EQ(j["layers"][0]["path"], "embed");
    EXPECT_EQ(j["layers"][0]["kind"], "embedding");
    EXPECT_EQ(j["layers"][1]["weight_shape"], nlohmann::json::array({4, 8}));
    EXPECT_EQ(j["layers"][1]["calls"], 2);
    EXPECT_EQ(j["kept"][0]["path"], "norm");
    EXPECT_EQ(j["totals"]["by_kind"]["linear"]["bytes"], 144);
    EXPECT_EQ(j["totals"]["by_kind"]["kept"]["params"], 16);
    EXPECT_EQ(j["totals"]["all"]["params"], 852);
}

TEST(ModelInventory, TableListsLayersAndTotals) {
    const std::string table = format_inventory(small_inventory());
    EXPECT_NE(table.find("encoder.fc"), std::string::npos);
    EXPECT_NE(table.find("[100, 8]"), std::string::npos);
    EXPECT_NE(table.find("kept (not quantizable)"), std::string::npos);
    EXPECT_NE(table.find("total"), std::string::npos);
}

TEST(FormatBytes, UsesBinaryUnits) {
    EXPECT_EQ(format_bytes(0), "0 B");
    EXPECT_EQ(format_bytes(1023), "1023 B");
    EXPECT_EQ(format_bytes(1536), "1.5 KiB");
    EXPECT_EQ(format_bytes(3 * 1024 * 1024), "3.0 MiB");
}

}  // namespace
}  // namespace embq
