// What a machine offers a quantized model (`embq doctor`, `--target`): the CPU and the
// instruction sets the kernels use, the deployment targets' profiles, and per scheme whether
// it runs there and whether it is expected to be fast. Expectations come from the features;
// `embq bench` and `embq plan --check-speed` measure. The CPU and the targets are
// src/core/hardware.cpp, the schemes' outlook src/schemes/outlook.cpp, the doctor's report
// src/bench/doctor.cpp.
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
    bool is_arm() const;  // aarch64 or 32-bit Arm: the features are Arm's
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

class Scheme;
// One scheme on `cpu` with quantized engine `engine` ("" or "none": no engine).
SchemeOutlook scheme_outlook(const Scheme& scheme, const CpuInfo& cpu, const std::string& engine);
// Every scheme of the table on this CPU with the engine a plan's "auto" picks.
std::vector<SchemeOutlook> scheme_outlooks(const CpuInfo& cpu, const std::string& engine);

// Where a quantized model is deployed (`--target`, a config's "target"): a small declarative
// profile of the engine its int8 kernels run on there, the CPU features it may assume and the
// runtime that loads it. `native` is this machine as detected; the others are documented
// floors of a class of machines, so a plan for them is judged by what every such machine has.
enum class Runtime {
    TorchScript,  // torch::jit::load / torch.jit.load: servers, desktops
    Lite,         // PyTorch Mobile's lite interpreter (_load_for_mobile): a .ptl file
};
const char* to_string(Runtime runtime) noexcept;  // "torchscript", "lite interpreter"

struct Target {
    std::string name;                  // "native", "x86-64", "x86-64-v4", "arm64", "mobile"
    std::string summary;               // which machines it stands for
    std::vector<std::string> engines;  // the quantized engines used there, preferred first
    CpuInfo cpu;                       // the features assumed (native: this machine's)
    Runtime runtime = Runtime::TorchScript;
    bool is_this_machine() const { return name == "native"; }
    // The first of `engines` this libtorch has, so the preflight runs the target's own
    // kernels; "" when it has none of them.
    std::string engine() const;
};

inline constexpr const char* kNativeTarget = "native";
// The profiles' names, native first (no /proc/cpuinfo read: config validation uses it).
const std::vector<std::string>& target_names();
// The profile, native read from this machine. An unknown name is a Usage error with the
// closest name and the list.
Target find_target(const std::string& name);

// The doctor's report: machine, features that matter, engines, threads, schemes. For a
// target other than native it is the profile's features and engine instead of this CPU's.
std::string format_doctor(const Target& target);
nlohmann::json doctor_json(const Target& target);

}  // namespace embq
