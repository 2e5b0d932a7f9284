#include "embq/presets.hpp"

#include <algorithm>
#include <cstdlib>
#include <fstream>

#include <nlohmann/json.hpp>

#include "core/suggest.hpp"
#include "core/text_table.hpp"
#include "embq/error.hpp"
#include "embq/format.hpp"

namespace embq {

namespace fs = std::filesystem;

fs::path presets_directory() {
    if (const char* dir = std::getenv("EMBQ_CONFIGS_DIR"); dir && *dir) return dir;
    std::error_code ec;
    // An installed binary's own presets, wherever the prefix was moved: BIN/../share/...
    const fs::path exe = fs::read_symlink("/proc/self/exe", ec);
    if (!ec) {
        const fs::path installed = exe.parent_path().parent_path() / "share" / "embq" / "configs";
        if (fs::is_directory(installed, ec)) return installed;
    }
    if (fs::is_directory(EMBQ_SOURCE_CONFIGS_DIR, ec)) return EMBQ_SOURCE_CONFIGS_DIR;
    return {};
}

std::vector<Preset> list_presets() {
    std::vector<Preset> presets;
    const fs::path dir = presets_directory();
    std::error_code ec;
    if (dir.empty() || !fs::is_directory(dir, ec)) return presets;
    for (const auto& entry : fs::directory_iterator(dir, ec)) {
        const fs::path& p = entry.path();
        // The JSON schema lives beside the configs; it is not one.
        if (p.extension() != ".json" || p.filename() == "embq-config.schema.json") continue;
        Preset preset{p.stem().string(), p, ""};
        try {
            std::ifstream in(p);
            const nlohmann::json doc = nlohmann::json::parse(in);
            preset.description = doc.value("description", "");
        } catch (const nlohmann::json::exception&) {
            preset.description = "(not valid JSON)";
        }
        presets.push_back(std::move(preset));
    }
    std::sort(presets.begin(), presets.end(),
              [](const Preset& a, const Preset& b) { return a.name < b.name; });
    return presets;
}

std::string format_presets(const std::vector<Preset>& presets) {
    TextTable table({"preset", "what it does"});
    for (const auto& p : presets) {
        // The first sentence: the table is for choosing, the file says the rest.
        const auto end = p.description.find(". ");
        table.add_row(
            {p.name, end == std::string::npos ? p.description : p.description.substr(0, end + 1)});
    }
    return table.render();
}

fs::path config_path(const std::string& argument) {
    std::error_code ec;
    if (argument.empty() || fs::exists(argument, ec)) return argument;
    const bool bare =
        argument.find('/') == std::string::npos && fs::path(argument).extension() != ".json";
    if (!bare) return argument;  // a path that does not exist: the file check names it
    const std::vector<Preset> presets = list_presets();
    std::vector<std::string> names;
    for (const auto& p : presets) {
        if (p.name == argument) return p.path;
        names.push_back(p.name);
    }
    std::string message = "'" + argument + "' is neither a config file nor a preset";
    if (const auto near = closest_match(argument, names))
        message += " (did you mean '" + *near + "'?)";
    if (names.empty()) {
        message += "; no presets found (set EMBQ_CONFIGS_DIR to the configs directory)";
    } else {
        message +=
            "; presets: " + format_list(names, names.size()) + " ('embq configs' describes them)";
    }
    throw usage_error(message);
}

}  // namespace embq
