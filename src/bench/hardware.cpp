// embq doctor's facts: /proc/cpuinfo read once, the features each kind of arithmetic wants,
// and the scheme table judged against them.
#include "embq/hardware.hpp"

#include <sys/utsname.h>

#include <algorithm>
#include <fstream>
#include <sstream>

#include "core/suggest.hpp"
#include "core/text_table.hpp"
#include "embq/error.hpp"
#include "embq/format.hpp"
#include "embq/runtime.hpp"
#include "embq/scheme.hpp"

namespace embq {

namespace {

bool is_arm(const CpuInfo& cpu) {
    return cpu.architecture == "aarch64" || cpu.architecture.rfind("arm", 0) == 0;
}

// The flags the kernels embq runs care about, in the order a reader compares them.
std::vector<std::string> relevant_flags(const CpuInfo& cpu) {
    if (is_arm(cpu)) return {"asimd", "asimddp", "i8mm", "bf16"};
    return {"avx2",        "fma",      "f16c",        "avx512f",  "avx512bw",
            "avx512_vnni", "avx_vnni", "avx512_bf16", "amx_bf16", "amx_int8"};
}

// The first of `flags` the CPU has, or "".
std::string first_present(const CpuInfo& cpu, const std::vector<std::string>& flags) {
    for (const auto& f : flags)
        if (cpu.has(f)) return f;
    return "";
}

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

SchemeOutlook scheme_outlook(const Scheme& scheme, const CpuInfo& cpu, const std::string& engine) {
    SchemeOutlook o{std::string(scheme.name()), Outlook::Runs, ""};
    if (const auto reason = scheme.unavailable_reason(engine.empty() ? "none" : engine)) {
        o.outlook = Outlook::CannotRun;
        o.why = *reason;
        return o;
    }
    switch (scheme.compute()) {
        case Scheme::Compute::Int8: {
            const std::string dot =
                is_arm(cpu) ? first_present(cpu, {"i8mm", "asimddp"})
                            : first_present(cpu, {"amx_int8", "avx512_vnni", "avx_vnni"});
            if (!dot.empty()) {
                o.outlook = Outlook::Fast;
                o.why = "int8 dot products in hardware (" + dot + ") on " + engine;
            } else {
                o.why = is_arm(cpu) ? "no Arm dot product (asimddp): int8 products widen to 16 "
                                      "bits, so the gain over FP32 shrinks"
                                    : "no VNNI: each int8 dot product takes three AVX2/AVX-512BW "
                                      "instructions instead of one, so the gain over FP32 shrinks";
            }
            return o;
        }
        case Scheme::Compute::Bf16: {
            const std::string bf16 =
                is_arm(cpu) ? "" : first_present(cpu, {"amx_bf16", "avx512_bf16"});
            if (!bf16.empty()) {
                o.outlook = Outlook::Fast;
                o.why = "bfloat16 dot products in hardware (" + bf16 + ")";
            } else {
                o.outlook = Outlook::Slow;
                o.why =
                    "no AVX512-BF16 or AMX: bfloat16 matmuls are emulated; fp16 stores the "
                    "same 2 bytes a weight and computes in FP32";
            }
            return o;
        }
        case Scheme::Compute::Fp32:
            o.why = scheme.rewrites() ? "stored smaller, dequantized and computed in FP32 on any "
                                        "CPU: it buys size, not speed"
                                      : "FP32 as it is";
            return o;
    }
    return o;
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

const char* to_string(Outlook outlook) noexcept {
    switch (outlook) {
        case Outlook::Fast: return "fast";
        case Outlook::Runs: return "runs";
        case Outlook::Slow: return "slow";
        case Outlook::CannotRun: return "cannot run";
    }
    return "?";
}

std::vector<SchemeOutlook> scheme_outlooks(const CpuInfo& cpu, const std::string& engine) {
    std::vector<SchemeOutlook> out;
    for (const Scheme* s : all_schemes()) out.push_back(scheme_outlook(*s, cpu, engine));
    return out;
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

std::string format_doctor(const Target& target) {
    const CpuInfo& cpu = target.cpu;
    std::vector<std::string> present, missing;
    for (const auto& f : relevant_flags(cpu)) (cpu.has(f) ? present : missing).push_back(f);
    const std::string engines = format_list(supported_engines(), 99);
    const std::string engine = target.engine();
    std::string out;
    if (target.is_this_machine()) {
        out += "machine: " + describe_machine() + " (" + cpu.architecture + ")\n";
        out += "features: ";
    } else {
        out += "target: " + target.name + ": " + target.summary + " (" + cpu.architecture + ", " +
               to_string(target.runtime) + ")\n";
        out += "features assumed: ";
    }
    out += present.empty() ? std::string("none of those below") : format_list(present, 99);
    if (!missing.empty()) out += " (not: " + format_list(missing, 99) + ")";
    out += "\nquantized engines: " + (engines.empty() ? std::string("none") : engines);
    if (target.is_this_machine())
        out += engine.empty() ? "" : "; a plan's \"auto\" picks " + engine;
    else
        out += engine.empty() ? "; none of the target's (" + format_list(target.engines, 99) +
                                    "), so its int8 schemes cannot be checked here"
                              : "; the target's int8 kernels are " + engine +
                                    "'s, which the preflight runs here";
    out += "\n";
    if (!target.is_this_machine()) {
        TextTable table({"scheme", "there", "why"});
        for (const auto& o : scheme_outlooks(cpu, engine))
            table.add_row({o.scheme, to_string(o.outlook), o.why});
        return out + "\n" + table.render() +
               "Expected from the profile's features; measure on the target itself with "
               "`embq bench`.\n";
    }
    out += "threads: " + std::to_string(thread_count()) + " intra-op (libtorch), " +
           (blas_thread_count() > 0 ? std::to_string(blas_thread_count()) + " OpenBLAS"
                                    : std::string("BLAS is not OpenBLAS")) +
           ", " + std::to_string(usable_cpus()) + " CPUs usable\n";
    out += "build: " + build_description() + "\n\n";
    TextTable table({"scheme", "here", "why"});
    for (const auto& o : scheme_outlooks(cpu, engine))
        table.add_row({o.scheme, to_string(o.outlook), o.why});
    out += table.render();
    out += "Expected from the features; `embq bench` and `embq plan --check-speed` measure.\n";
    return out;
}

nlohmann::json doctor_json(const Target& target) {
    const CpuInfo& cpu = target.cpu;
    nlohmann::json features = nlohmann::json::object();
    for (const auto& f : relevant_flags(cpu)) features[f] = cpu.has(f);
    nlohmann::json schemes = nlohmann::json::array();
    const std::string engine = target.engine();
    for (const auto& o : scheme_outlooks(cpu, engine))
        schemes.push_back(
            {{"scheme", o.scheme}, {"outlook", to_string(o.outlook)}, {"why", o.why}});
    return {
        {"report", "embq doctor"},
        {"format_version", 1},
        {"target",
         {{"name", target.name},
          {"summary", target.summary},
          {"engines", target.engines},
          {"engine", engine.empty() ? nlohmann::json() : nlohmann::json(engine)},
          {"runtime", to_string(target.runtime)}}},
        {"machine", describe_machine()},
        {"cpu", cpu.model},
        {"architecture", cpu.architecture},
        {"features", features},
        {"engines", supported_engines()},
        {"auto_engine", auto_engine().empty() ? nlohmann::json() : nlohmann::json(auto_engine())},
        {"threads",
         {{"intra_op", thread_count()},
          {"blas", blas_thread_count()},
          {"usable_cpus", usable_cpus()}}},
        {"build", build_description()},
        {"schemes", schemes}};
}

}  // namespace embq
