// What this machine offers a quantized model (`embq doctor`): the CPU and the instruction
// sets the kernels use, the quantized engines of this libtorch build, and per scheme
// whether it runs here and whether it is expected to be fast. Expectations come from the
// features; `embq bench` and `embq plan --check-speed` measure.
#pragma once

#include <filesystem>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

namespace embq {

struct CpuInfo {
    std::string model;               // "AMD EPYC 9B14"; empty where /proc/cpuinfo names none
    std::string architecture;        // "x86_64", "aarch64" (uname)
    std::vector<std::string> flags;  // the kernel's flags (x86) or features (Arm)
    bool has(const std::string& flag) const;
};
// From /proc/cpuinfo (another path for tests); a file that cannot be read gives no flags.
CpuInfo read_cpu_info(const std::filesystem::path& cpuinfo = "/proc/cpuinfo");

// "AMD EPYC 9B14, 2 CPUs" (or "2 CPUs" where the CPU has no name): the machine line of
// every report.
std::string describe_machine();

enum class Outlook {
    Fast,       // the hardware has the instructions the scheme's arithmetic wants
    Runs,       // it runs at about FP32's speed or stores smaller without computing faster
    Slow,       // it runs, emulated: expect it slower than FP32
    CannotRun,  // this build cannot run it (no quantized engine)
};
const char* to_string(Outlook outlook) noexcept;  // "fast", "runs", "slow", "cannot run"

struct SchemeOutlook {
    std::string scheme;
    Outlook outlook = Outlook::Runs;
    std::string why;  // the features (or their absence) behind it, and what to do
};

// Every scheme of the table on this CPU with the engine a plan's "auto" picks.
std::vector<SchemeOutlook> scheme_outlooks(const CpuInfo& cpu, const std::string& engine);

// The doctor's report: machine, features that matter, engines, threads, schemes.
std::string format_doctor(const CpuInfo& cpu);
nlohmann::json doctor_json(const CpuInfo& cpu);

}  // namespace embq
