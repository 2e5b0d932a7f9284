// What a machine offers: /proc/cpuinfo read once, and the deployment targets, declarative
// profiles of the engine, features and runtime a class of machines has. The schemes' outlook
// on them is src/schemes/outlook.cpp; the doctor's report src/bench/doctor.cpp.
#include "embq/hardware.hpp"

#include <sys/utsname.h>

#include <algorithm>
#include <fstream>
#include <sstream>

#include "core/suggest.hpp"
#include "embq/error.hpp"
#include "embq/format.hpp"
#include "embq/runtime.hpp"

namespace embq {

namespace {

CpuInfo assumed_cpu(const std::string& architecture, std::vector<std::string> flags) {
    CpuInfo cpu;
    cpu.architecture = architecture;
    cpu.flags = std::move(flags);
    return cpu;
}

// The documented floors. Each profile's features are what every machine of its class has,
// so "fast" there means fast on all of them.
std::vector<Target> profiles() {
    return {
        {"x86-64",
         "any x86-64 server or desktop with AVX2 and FMA (x86-64-v3: Intel Haswell, AMD Zen 1 "
         "and later); no VNNI, AVX-512 or BF16 assumed",
         {"fbgemm", "onednn"},
         assumed_cpu("x86_64", {"avx2", "fma", "f16c"}),
         Runtime::TorchScript},
        {"x86-64-v4",
         "x86-64 with AVX-512, VNNI and BF16 (Intel Cooper Lake, Sapphire Rapids and later; "
         "AMD Zen 4 and later)",
         {"onednn", "fbgemm"},
         assumed_cpu("x86_64",
                     {"avx2", "fma", "f16c", "avx512f", "avx512bw", "avx512_vnni", "avx512_bf16"}),
         Runtime::TorchScript},
        {"arm64",
         "64-bit Arm servers with NEON and the dot-product extension (Armv8.2: AWS Graviton 2 "
         "and later, Ampere Altra); no bf16 or i8mm assumed",
         {"qnnpack"},
         assumed_cpu("aarch64", {"asimd", "asimddp"}),
         Runtime::TorchScript},
        {"mobile",
         "Android and iOS apps through PyTorch Mobile's lite interpreter (a .ptl file) on arm64 "
         "phones with the dot-product extension",
         {"qnnpack"},
         assumed_cpu("aarch64", {"asimd", "asimddp"}),
         Runtime::Lite},
    };
}

}  // namespace

bool CpuInfo::is_arm() const {
    return architecture == "aarch64" || architecture.rfind("arm", 0) == 0;
}

bool CpuInfo::has(const std::string& flag) const {
    return std::find(flags.begin(), flags.end(), flag) != flags.end();
}

CpuInfo read_cpu_info(const std::filesystem::path& cpuinfo) {
    CpuInfo cpu;
    utsname names{};
    if (uname(&names) == 0) cpu.architecture = names.machine;
    std::ifstream in(cpuinfo);
    bool have_flags = false;
    for (std::string line; std::getline(in, line);) {
        const auto colon = line.find(':');
        if (colon == std::string::npos) continue;
        std::string key = line.substr(0, colon);
        key.erase(key.find_last_not_of(" \t") + 1);
        std::string value = line.substr(colon + 1);
        value.erase(0, value.find_first_not_of(" \t"));
        // Every CPU repeats its block; the first one says it for all of them.
        if ((key == "model name" || key == "Model") && cpu.model.empty()) cpu.model = value;
        if ((key == "flags" || key == "Features") && !have_flags) {
            std::istringstream words(value);
            for (std::string w; words >> w;) cpu.flags.push_back(w);
            have_flags = true;
        }
    }
    return cpu;
}

std::string describe_machine() {
    const std::string model = read_cpu_info().model;
    const std::string cpus = std::to_string(usable_cpus()) + " CPUs";
    return model.empty() ? cpus : model + ", " + cpus;
}

const char* to_string(Runtime runtime) noexcept {
    return runtime == Runtime::Lite ? "lite interpreter" : "torchscript";
}

std::string Target::engine() const {
    const auto have = supported_engines();
    for (const auto& e : engines)
        if (std::find(have.begin(), have.end(), e) != have.end()) return e;
    return "";
}

const std::vector<std::string>& target_names() {
    static const std::vector<std::string> names = [] {
        std::vector<std::string> out{kNativeTarget};
        for (const auto& t : profiles()) out.push_back(t.name);
        return out;
    }();
    return names;
}

Target find_target(const std::string& name) {
    if (name == kNativeTarget) {
        Target native{
            kNativeTarget, "this machine, as detected", {}, read_cpu_info(), Runtime::TorchScript};
        if (!auto_engine().empty()) native.engines.push_back(auto_engine());
        return native;
    }
    for (Target& t : profiles())
        if (t.name == name) return std::move(t);
    const auto near = closest_match(name, target_names());
    throw usage_error("unknown target '" + name + "'" +
                      (near ? "; did you mean '" + *near + "'?" : "") +
                      " (targets: " + format_list(target_names(), 99) + ")");
}

}  // namespace embq
