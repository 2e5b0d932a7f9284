#include "path_options.hpp"

#include <filesystem>
#include <map>
#include <string>
#include <vector>

#include "embq/atomic_file.hpp"
#include "embq/error.hpp"

namespace embq::cli {

namespace fs = std::filesystem;

namespace {

enum class PathRole { File, Stream, Output };

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

}  // namespace

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
            if (role->second == PathRole::File) check_regular_input(named.path, named.option);
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
