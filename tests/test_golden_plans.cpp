// Golden plans: every shipped config resolved against every fixture model, compared with
// the snapshot in tests/golden/plans/ (the plan as JSON, or the one-line error when the
// config does not plan on that model). A change to planning shows up here as a diff to
// review. After an intended change, regenerate the snapshots and commit them:
//   EMBQ_UPDATE_GOLDEN=1 ./build/tests/embq_tests --gtest_filter='GoldenPlans.*'
#include <gtest/gtest.h>

#include <algorithm>
#include <cstdlib>
#include <fstream>

#include <nlohmann/json.hpp>

#include "embq/config.hpp"
#include "embq/error.hpp"
#include "embq/model.hpp"
#include "embq/plan.hpp"
#include "test_support.hpp"

namespace embq {
namespace {

namespace fs = std::filesystem;

const fs::path kSource = EMBQ_SOURCE_DIR;
const fs::path kGoldenDir = kSource / "tests" / "golden" / "plans";

std::vector<fs::path> shipped_configs() {
    std::vector<fs::path> configs;
    for (const auto& entry : fs::directory_iterator(kSource / "configs")) {
        const fs::path& p = entry.path();
        if (p.extension() == ".json" && p.filename().string().find(".schema.") == std::string::npos)
            configs.push_back(p);
    }
    std::sort(configs.begin(), configs.end());
    return configs;
}

// The plan `embq plan MODEL CONFIG --json` would print before engine resolution (which
// depends on the build), with the config named relative to the repository.
std::string plan_snapshot(const fs::path& model, const fs::path& config_path) {
    std::ifstream in(config_path);
    const std::string origin = "configs/" + config_path.filename().string();
    try {
        const Config config = parse_config(nlohmann::json::parse(in), origin);
        const Plan plan = make_plan(config, take_inventory(load_model(model).module), {});
        return plan_to_json(plan).dump(2) + "\n";
    } catch (const Error& e) {
        return nlohmann::json({{"error", e.what()}}).dump(2) + "\n";
    }
}

TEST(GoldenPlans, ShippedConfigsOnTheFixturesMatchTheirSnapshots) {
    const bool update = std::getenv("EMBQ_UPDATE_GOLDEN") != nullptr;
    if (update) fs::create_directories(kGoldenDir);
    size_t compared = 0;
    for (const char* model : {"bert_traced", "bert_scripted", "embedding_bag", "shared_linear"}) {
        for (const fs::path& config : shipped_configs()) {
            const std::string actual =
                plan_snapshot(test::fixture(std::string(model) + ".pt"), config);
            const fs::path golden =
                kGoldenDir / (std::string(model) + "__" + config.stem().string() + ".json");
            if (update) {
                test::write_file(golden, actual);
                continue;
            }
            ASSERT_TRUE(fs::exists(golden))
                << golden
                << " is missing: a new config or fixture? Regenerate with EMBQ_UPDATE_GOLDEN=1";
            EXPECT_EQ(actual, test::read_file(golden))
                << golden
                << " differs; if the change is intended, regenerate with EMBQ_UPDATE_GOLDEN=1";
            ++compared;
        }
    }
    if (!update) {
        EXPECT_EQ(compared, 4 * shipped_configs().size());
    }
}

}  // namespace
}  // namespace embq
