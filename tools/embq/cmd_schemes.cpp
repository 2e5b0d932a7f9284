// embq schemes: the scheme table (include/embq/scheme.hpp) as users read it: which
// layers each scheme applies to, its options, what it needs and what it does.
#include <iostream>
#include <memory>

#include "command.hpp"
#include "embq/scheme.hpp"

namespace embq::cli {

Command add_schemes_command(CLI::App& parent) {
    CLI::App* app = parent.add_subcommand(
        "schemes",
        "List the quantization schemes a config can name: the layers each applies to, "
        "its options, what it needs (calibration, a quantized engine) and what it does.");
    return {app, [] {
                std::cout << format_scheme_table();
                return 0;
            }};
}

}  // namespace embq::cli
