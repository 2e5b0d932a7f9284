// Each scheme judged against a CPU's features and a quantized engine (hardware.hpp): which
// arithmetic it runs on (Scheme::compute) and whether the instructions that make it pay
// are there.
#include <string>
#include <vector>

#include "embq/hardware.hpp"
#include "embq/scheme.hpp"

namespace embq {

namespace {

// The first of `flags` the CPU has, or "".
std::string first_present(const CpuInfo& cpu, const std::vector<std::string>& flags) {
    for (const auto& f : flags)
        if (cpu.has(f)) return f;
    return "";
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
                cpu.is_arm() ? first_present(cpu, {"i8mm", "asimddp"})
                             : first_present(cpu, {"amx_int8", "avx512_vnni", "avx_vnni"});
            if (!dot.empty()) {
                o.outlook = Outlook::Fast;
                o.why = "int8 dot products in hardware (" + dot + ") on " + engine;
            } else {
                o.why = cpu.is_arm() ? "no Arm dot product (asimddp): int8 products widen to 16 "
                                       "bits, so the gain over FP32 shrinks"
                                     : "no VNNI: each int8 dot product takes three AVX2/AVX-512BW "
                                       "instructions instead of one, so the gain over FP32 shrinks";
            }
            return o;
        }
        case Scheme::Compute::Bf16: {
            const std::string bf16 =
                cpu.is_arm() ? "" : first_present(cpu, {"amx_bf16", "avx512_bf16"});
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
            o.why = scheme.rewrites() ? "stored smaller, computed in FP32 on any CPU: it buys "
                                        "size, not speed"
                                      : "FP32 as it is";
            return o;
    }
    return o;
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

}  // namespace embq
