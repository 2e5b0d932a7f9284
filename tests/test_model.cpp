// Loading models and finding their layers, checked against expected_layers.json, which
// tools/make_fixtures.py computes in Python from the eager modules (not from embq's code).
#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include "embq/error.hpp"
#include "embq/model.hpp"
#include "test_support.hpp"

namespace embq {
namespace {

using test::fixture;

const nlohmann::json& expected_layers() {
    static const nlohmann::json j =
        nlohmann::json::parse(test::read_file(fixture("expected_layers.json")));
    return j;
}

class InventoryOfFixture : public ::testing::TestWithParam<std::string> {};

TEST_P(InventoryOfFixture, FindsExactlyTheExpectedLayers) {
    const std::string name = GetParam();
    const auto& expected = expected_layers().at(name);
    const ModelInventory inv = take_inventory(load_model(fixture(name)).module);

    ASSERT_EQ(inv.layers.size(), expected.at("layers").size());
    for (size_t i = 0; i < inv.layers.size(); ++i) {
        const Layer& got = inv.layers[i];
        const auto& want = expected["layers"][i];
        SCOPED_TRACE(want.at("path").get<std::string>());
        EXPECT_EQ(got.path, want.at("path"));
        EXPECT_EQ(to_string(got.kind), want.at("kind").get<std::string>());
        EXPECT_EQ(got.weight_shape, want.at("weight_shape").get<std::vector<int64_t>>());
        EXPECT_EQ(got.params, want.at("params").get<int64_t>());
        EXPECT_EQ(got.has_bias, want.at("has_bias").get<bool>());
        EXPECT_EQ(got.dtype, "float32");
        EXPECT_EQ(got.bytes, got.params * 4);
        EXPECT_EQ(got.type_shared, want.at("type_shared").get<bool>());
        EXPECT_EQ(got.calls, want.at("calls").get<int>());
    }

    std::vector<std::string> kept_paths;
    for (const auto& k : inv.kept) kept_paths.push_back(k.path);
    EXPECT_EQ(kept_paths, expected.at("kept").get<std::vector<std::string>>());
    EXPECT_EQ(inv.all_totals().params, expected.at("total_params").get<int64_t>());
}

INSTANTIATE_TEST_SUITE_P(Fixtures, InventoryOfFixture,
                         ::testing::Values("bert_traced.pt", "bert_scripted.pt", "embedding_bag.pt",
                                           "shared_linear.pt"),
                         [](const auto& info) {
                             std::string n = info.param;
                             return n.substr(0, n.find('.'));
                         });

TEST(Inventory, SharedTypeAndRepeatedCallAreReported) {
    const ModelInventory inv = take_inventory(load_model(fixture("shared_linear.pt")).module);
    ASSERT_NE(inv.find("block_a.fc"), nullptr);
    EXPECT_TRUE(inv.find("block_a.fc")->type_shared);
    EXPECT_TRUE(inv.find("block_b.fc")->type_shared);
    EXPECT_EQ(inv.find("block_a.fc")->type_name, inv.find("block_b.fc")->type_name);
    EXPECT_EQ(inv.find("shared")->calls, 2);
}

TEST(Inventory, PlainFixtureHasNoEmbqMetadata) {
    EXPECT_FALSE(load_model(fixture("bert_traced.pt")).embq_metadata.has_value());
}

// Every bad file is an Input error (exit code 2) whose one-line message names the file.
void expect_input_error(const std::filesystem::path& path, const std::string& needle) {
    try {
        load_model(path);
        FAIL() << "expected an error loading " << path;
    } catch (const Error& e) {
        const std::string msg = e.what();
        EXPECT_EQ(e.category(), ErrorCategory::Input);
        EXPECT_NE(msg.find(path.string()), std::string::npos) << msg;
        EXPECT_NE(msg.find(needle), std::string::npos) << msg;
        EXPECT_EQ(msg.find('\n'), std::string::npos) << "one line: " << msg;
    }
}

TEST(LoadModel, MissingFile) { expect_input_error("/nonexistent/model.pt", "no such file"); }

TEST(LoadModel, Directory) {
    test::TempDir dir;
    expect_input_error(dir.path(), "is a directory");
}

TEST(LoadModel, NotAnArchive) {
    test::TempDir dir;
    test::write_file(dir / "model.pt", "this is text, not a model\n");
    expect_input_error(dir / "model.pt", "not a TorchScript archive");
}

TEST(LoadModel, EmptyFile) {
    test::TempDir dir;
    test::write_file(dir / "empty.pt", "");
    expect_input_error(dir / "empty.pt", "not a TorchScript archive");
}

TEST(LoadModel, TruncatedArchive) {
    test::TempDir dir;
    const std::string bytes = test::read_file(fixture("bert_traced.pt"));
    test::write_file(dir / "truncated.pt", bytes.substr(0, bytes.size() / 2));
    expect_input_error(dir / "truncated.pt", "corrupt or truncated");
}

// Writes `torch.save(python_object, path)` with the Python that has torch: the files users
// hand embq by mistake instead of a TorchScript export.
void torch_save(const std::string& python_object, const std::filesystem::path& path) {
    const std::string cmd = std::string(EMBQ_TORCH_PYTHON) + " -c \"import torch; torch.save(" +
                            python_object + ", '" + path.string() + "')\"";
    ASSERT_EQ(std::system(cmd.c_str()), 0) << cmd;
}

TEST(LoadModel, ZipThatIsNotTorchScript) {
    // A valid zip holding no TorchScript code: what torch.save(state_dict) produces.
    test::TempDir dir;
    const auto path = dir / "state_dict.pt";
    ASSERT_NO_FATAL_FAILURE(torch_save("{'w': torch.zeros(2)}", path));
    try {
        load_model(path);
        FAIL() << "a state dict is not a model";
    } catch (const Error& e) {
        EXPECT_EQ(e.category(), ErrorCategory::Input);
        EXPECT_NE(std::string(e.what()).find(path.string()), std::string::npos);
        EXPECT_EQ(std::string(e.what()).find('\n'), std::string::npos) << e.what();
        // What the file is, and how to make the file embq needs.
        test::expect_contains(e.what(), {"state dict", "torch.jit.save"});
    }
}

TEST(LoadModel, PickledModuleIsNamedWithItsClass) {
    test::TempDir dir;
    const auto path = dir / "module.pt";
    ASSERT_NO_FATAL_FAILURE(torch_save("torch.nn.Linear(2, 2)", path));
    expect_input_error(path, "pickled Python object (it needs torch.nn.modules.linear.Linear)");
}

}  // namespace
}  // namespace embq
