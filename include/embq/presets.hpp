// The shipped configs by name ("presets"): `embq quantize model.pt int8-mixed -o q.pt`.
// They are the configs/*.json files: read from $EMBQ_CONFIGS_DIR when it is set, else from
// where `cmake --install` put them beside the running binary (BIN/../share/embq/configs),
// else from the source tree of this build. `embq configs` lists them.
#pragma once

#include <filesystem>
#include <string>
#include <vector>

namespace embq {

struct Preset {
    std::string name;  // the file name without .json
    std::filesystem::path path;
    std::string description;  // the config's "description"
};

// The directory presets are read from; empty when none exists.
std::filesystem::path presets_directory();

// Every preset, by name.
std::vector<Preset> list_presets();

// A table of names and the first sentence of each description.
std::string format_presets(const std::vector<Preset>& presets);

// A config argument as a path: an existing file as given; else a bare name (no '/', no
// ".json") is a preset's file; else a Usage error that names the closest preset and how
// to list them.
std::filesystem::path config_path(const std::string& argument);

}  // namespace embq
