// embq doctor's facts: /proc/cpuinfo read once, the features each kind of arithmetic wants,
// and the scheme table judged against them.
#include "embq/hardware.hpp"

#include <sys/utsname.h>

#include <algorithm>
#include <fstream>
#include <sstream>

#include "core/text_table.hpp"
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

SchemeOutlook outlook_of(const Scheme& scheme, const CpuInfo& cpu, const std::string& engine) {
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

}  // namespace

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
    for (const Scheme* s : all_schemes()) out.push_back(outlook_of(*s, cpu, engine));
    return out;
}

std::string format_doctor(const CpuInfo& cpu) {
    std::vector<std::string> present, missing;
    for (const auto& f : relevant_flags(cpu)) (cpu.has(f) ? present : missing).push_back(f);
    const std::string engines = format_list(supported_engines(), 99);
    const std::string engine = auto_engine();
    std::string out = "machine: " + describe_machine() + " (" + cpu.architecture + ")\n";
    out += "features: " +
           (present.empty() ? std::string("none of those below") : format_list(present, 99));
    if (!missing.empty()) out += " (not: " + format_list(missing, 99) + ")";
    out += "\nquantized engines: " + (engines.empty() ? std::string("none") : engines) +
           (engine.empty() ? "" : "; a plan's \"auto\" picks " + engine) + "\n";
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

nlohmann::json doctor_json(const CpuInfo& cpu) {
    nlohmann::json features = nlohmann::json::object();
    for (const auto& f : relevant_flags(cpu)) features[f] = cpu.has(f);
    nlohmann::json schemes = nlohmann::json::array();
    const std::string engine = auto_engine();
    for (const auto& o : scheme_outlooks(cpu, engine))
        schemes.push_back(
            {{"scheme", o.scheme}, {"outlook", to_string(o.outlook)}, {"why", o.why}});
    return {{"report", "embq doctor"},
            {"format_version", 1},
            {"machine", describe_machine()},
            {"cpu", cpu.model},
            {"architecture", cpu.architecture},
            {"features", features},
            {"engines", supported_engines()},
            {"auto_engine", engine.empty() ? nlohmann::json() : nlohmann::json(engine)},
            {"threads",
             {{"intra_op", thread_count()},
              {"blas", blas_thread_count()},
              {"usable_cpus", usable_cpus()}}},
            {"build", build_description()},
            {"schemes", schemes}};
}

}  // namespace embq
