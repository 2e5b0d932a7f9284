#include "path_options.hpp"

#include <algorithm>
#include <filesystem>
#include <map>
#include <string>
#include <vector>

#include "embq/atomic_file.hpp"
#include "embq/error.hpp"
#include "embq/format.hpp"
#include "embq/shards.hpp"

namespace embq::cli {

namespace fs = std::filesystem;

namespace {

enum class PathRole {
    File,
    Stream,
    Output,
    FileOrShards,  // a file, or a directory of embed shards (eval's vector inputs)
};

std::map<const CLI::Option*, PathRole>& roles() {
    static std::map<const CLI::Option*, PathRole> tagged;
    return tagged;
}

CLI::Option* tag(CLI::Option* option, PathRole role) {
    roles()[option] = role;
    return option;
}

struct NamedPath {
    std::string option;  // "--data", "-o", "model"
    fs::path path;
};

std::string option_name(const CLI::Option& option) {
    if (!option.get_lnames().empty()) return "--" + option.get_lnames().front();
    if (!option.get_snames().empty()) return "-" + option.get_snames().front();
    return option.get_name();  // a positional
}

bool same_path(const fs::path& a, const fs::path& b) {
    std::error_code ec;
    return fs::weakly_canonical(a, ec) == fs::weakly_canonical(b, ec) || is_same_file(a, b);
}

// The model file a directory argument stands for: model.pt, else its one .pt file; a
// value that is not a directory stays as it is.
std::string model_in_directory(const std::string& value) {
    std::error_code ec;
    if (!fs::is_directory(value, ec) || is_shard_set(value)) return value;
    if (fs::is_regular_file(fs::path(value) / "model.pt", ec))
        return (fs::path(value) / "model.pt").string();
    std::vector<std::string> found;
    for (const auto& entry : fs::directory_iterator(value, ec))
        if (entry.path().extension() == ".pt" && entry.is_regular_file(ec))
            found.push_back(entry.path().filename().string());
    std::sort(found.begin(), found.end());
    if (found.size() == 1) return (fs::path(value) / found.front()).string();
    if (found.empty())
        throw usage_error(value +
                          " is a directory with no .pt file; give the model file, or "
                          "a directory holding model.pt (its card.json and tokenizer beside it)");
    throw usage_error(value + " is a directory with " + std::to_string(found.size()) +
                      " .pt files (" + format_list(found) +
                      "); name the model file, or call "
                      "it model.pt");
}

}  // namespace

CLI::Option* reads_model(CLI::Option* option) {
    static const CLI::Validator model_argument(
        [](std::string& value) -> std::string {
            try {
                value = model_in_directory(value);
                return "";
            } catch (const Error& e) {
                return e.what();
            }
        },
        "MODEL");
    option->transform(model_argument);
    return reads_file(option);
}

CLI::Option* reads_model_or_shards(CLI::Option* option) {
    return tag(reads_model(option), PathRole::FileOrShards);
}

CLI::Option* reads_file(CLI::Option* option) { return tag(option, PathRole::File); }
CLI::Option* reads_stream(CLI::Option* option) { return tag(option, PathRole::Stream); }
CLI::Option* writes_file(CLI::Option* option) { return tag(option, PathRole::Output); }

void check_paths(const CLI::App& command) {
    std::vector<NamedPath> inputs, outputs;
    for (const CLI::Option* option : command.get_options()) {
        const auto role = roles().find(option);
        if (role == roles().end()) continue;
        for (const std::string& value : option->results()) {
            if (value.empty()) continue;
            NamedPath named{option_name(*option), value};
            if (role->second == PathRole::File ||
                (role->second == PathRole::FileOrShards && !is_shard_set(named.path)))
                check_regular_input(named.path, named.option);
            (role->second == PathRole::Output ? outputs : inputs).push_back(std::move(named));
        }
    }
    for (size_t i = 0; i < outputs.size(); ++i) {
        const NamedPath& out = outputs[i];
        check_output_path(out.path, out.option);
        for (const NamedPath& in : inputs)
            if (is_same_file(out.path, in.path))
                throw usage_error(out.option + " " + out.path.string() + " is the input " +
                                  in.option + " " + in.path.string() +
                                  " (writing would replace it); choose another output path");
        for (size_t j = 0; j < i; ++j)
            if (same_path(out.path, outputs[j].path))
                throw usage_error(out.option + " and " + outputs[j].option + " both name " +
                                  out.path.string() + "; give each output its own path");
    }
}

}  // namespace embq::cli
