// embq doctor [--target T] [--json]: this machine's CPU features, quantized engines and
// threads, and per scheme whether it runs here (or on a deployment target's profile) and is
// expected to be fast.
#include <iostream>
#include <memory>

#include "command.hpp"
#include "embq/format.hpp"
#include "embq/hardware.hpp"

namespace embq::cli {

Command add_doctor_command(CLI::App& parent) {
    auto json = std::make_shared<bool>(false);
    auto target = std::make_shared<std::string>(kNativeTarget);
    CLI::App* app = parent.add_subcommand(
        "doctor",
        "Show what this machine offers quantized models: the CPU's features that the int8 "
        "and bf16 kernels use (VNNI, AVX512-BF16, AMX; dot product on Arm), the quantized "
        "engines of this build, the threads, and per scheme whether it runs here and is "
        "expected to be fast.");
    app->add_option("--target", *target,
                    "A deployment target's profile instead of this machine: " +
                        format_list(target_names(), 99))
        ->capture_default_str();
    app->add_flag("--json", *json, "Print the facts as JSON");
    return {app, [json, target] {
                const Target t = find_target(*target);
                if (*json)
                    std::cout << doctor_json(t).dump(2) << "\n";
                else
                    std::cout << format_doctor(t);
                return 0;
            }};
}

}  // namespace embq::cli
