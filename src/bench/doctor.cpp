// embq doctor's report: this machine (or a target's profile), the features that matter,
// the engines, the threads, and every scheme's outlook there.
#include "embq/hardware.hpp"

#include "core/text_table.hpp"
#include "embq/format.hpp"
#include "embq/runtime.hpp"

namespace embq {

namespace {

// The flags the kernels embq runs care about, in the order a reader compares them.
std::vector<std::string> relevant_flags(const CpuInfo& cpu) {
    if (cpu.is_arm()) return {"asimd", "asimddp", "i8mm", "bf16"};
    return {"avx2",        "fma",      "f16c",        "avx512f",  "avx512bw",
            "avx512_vnni", "avx_vnni", "avx512_bf16", "amx_bf16", "amx_int8"};
}

}  // namespace

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
