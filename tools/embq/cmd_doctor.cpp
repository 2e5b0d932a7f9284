// embq doctor [--json]: this machine's CPU features, quantized engines and threads, and per
// scheme whether it runs here and is expected to be fast.
#include <iostream>
#include <memory>

#include "command.hpp"
#include "embq/hardware.hpp"

namespace embq::cli {

Command add_doctor_command(CLI::App& parent) {
    auto json = std::make_shared<bool>(false);
    CLI::App* app = parent.add_subcommand(
        "doctor",
        "Show what this machine offers quantized models: the CPU's features that the int8 "
        "and bf16 kernels use (VNNI, AVX512-BF16, AMX; dot product on Arm), the quantized "
        "engines of this build, the threads, and per scheme whether it runs here and is "
        "expected to be fast.");
    app->add_flag("--json", *json, "Print the facts as JSON");
    return {app, [json] {
                const CpuInfo cpu = read_cpu_info();
                if (*json)
                    std::cout << doctor_json(cpu).dump(2) << "\n";
                else
                    std::cout << format_doctor(cpu);
                return 0;
            }};
}

}  // namespace embq::cli
