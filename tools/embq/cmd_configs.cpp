// embq configs: the presets (the shipped configs, include/embq/presets.hpp) a command takes
// by name in place of a config file, with what each does.
#include <iostream>
#include <memory>

#include <nlohmann/json.hpp>

#include "command.hpp"
#include "embq/presets.hpp"

namespace embq::cli {

namespace {

int run_configs_command(bool json) {
    const std::vector<Preset> presets = list_presets();
    if (json) {
        nlohmann::json out = nlohmann::json::array();
        for (const auto& p : presets)
            out.push_back(
                {{"name", p.name}, {"path", p.path.string()}, {"description", p.description}});
        std::cout << out.dump(2) << "\n";
        return 0;
    }
    if (presets.empty()) {
        std::cout << "no presets found; set EMBQ_CONFIGS_DIR to a directory of configs\n";
        return 0;
    }
    std::cout << format_presets(presets) << "from " << presets_directory().string()
              << "; use a name in place of CONFIG.json, e.g. 'embq quantize model.pt "
              << presets.front().name << " -o out.pt'\n";
    return 0;
}

}  // namespace

Command add_configs_command(CLI::App& parent) {
    auto json = std::make_shared<bool>(false);
    CLI::App* app = parent.add_subcommand(
        "configs",
        "List the presets: the shipped configs, which plan, quantize, compare and finetune take "
        "by name in place of a config file.");
    app->add_flag("--json", *json, "Print name, path and description as JSON");
    return {app, [json] { return run_configs_command(*json); }};
}

}  // namespace embq::cli
