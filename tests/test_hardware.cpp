// embq doctor: CPU features read from /proc/cpuinfo blocks like the kernel writes them,
// and the scheme table judged against them: int8 is fast only with hardware int8 dot
// products, bf16 only with AVX512-BF16/AMX, and nothing runs int8 without an engine.
#include <gtest/gtest.h>

#include <algorithm>

#include <nlohmann/json.hpp>

#include "embq/hardware.hpp"
#include "embq/scheme.hpp"
#include "test_support.hpp"

namespace embq {
namespace {

// Two CPUs of an AVX512-VNNI x86 server without BF16, as /proc/cpuinfo lists them.
constexpr const char* kVnniServer = R"(processor	: 0
vendor_id	: GenuineIntel
model name	: Intel(R) Xeon(R) Gold 6248 CPU @ 2.50GHz
flags		: fpu sse2 avx f16c fma avx2 avx512f avx512bw avx512_vnni

processor	: 1
model name	: Intel(R) Xeon(R) Gold 6248 CPU @ 2.50GHz
flags		: fpu sse2 avx f16c fma avx2 avx512f avx512bw avx512_vnni
)";
constexpr const char* kOldX86 = "model name\t: Old CPU\nflags\t\t: fpu sse2 avx avx2 fma\n";
constexpr const char* kArmDot = "processor\t: 0\nFeatures\t: fp asimd asimddp crc32\n";

CpuInfo cpu_from(const std::string& text, const std::string& architecture) {
    test::TempDir dir;
    test::write_file(dir / "cpuinfo", text);
    CpuInfo cpu = read_cpu_info(dir / "cpuinfo");
    cpu.architecture = architecture;
    return cpu;
}

const SchemeOutlook& find(const std::vector<SchemeOutlook>& all, const std::string& scheme) {
    for (const auto& o : all)
        if (o.scheme == scheme) return o;
    ADD_FAILURE() << "no outlook for " << scheme;
    return all.front();
}

TEST(Hardware, ReadsTheFirstCpusNameAndFlags) {
    const CpuInfo cpu = cpu_from(kVnniServer, "x86_64");
    EXPECT_EQ(cpu.model, "Intel(R) Xeon(R) Gold 6248 CPU @ 2.50GHz");
    EXPECT_TRUE(cpu.has("avx512_vnni"));
    EXPECT_FALSE(cpu.has("avx512_bf16"));
    EXPECT_EQ(std::count(cpu.flags.begin(), cpu.flags.end(), "avx2"), 1);  // once, not per CPU
    EXPECT_TRUE(cpu_from(kArmDot, "aarch64").has("asimddp"));
    EXPECT_TRUE(read_cpu_info("/nonexistent/cpuinfo").flags.empty());
}

TEST(Hardware, SchemesAreJudgedByTheInstructionsTheirArithmeticWants) {
    const auto vnni = scheme_outlooks(cpu_from(kVnniServer, "x86_64"), "onednn");
    EXPECT_EQ(vnni.size(), all_schemes().size());
    EXPECT_EQ(find(vnni, "int8_dynamic").outlook, Outlook::Fast);
    EXPECT_NE(find(vnni, "int8_dynamic").why.find("avx512_vnni"), std::string::npos);
    EXPECT_EQ(find(vnni, "int8_static").outlook, Outlook::Fast);
    EXPECT_EQ(find(vnni, "bf16").outlook, Outlook::Slow);               // VNNI, but no BF16
    EXPECT_NE(find(vnni, "bf16").why.find("fp16"), std::string::npos);  // says what to use
    EXPECT_EQ(find(vnni, "int4_weight").outlook, Outlook::Runs);
    EXPECT_NE(find(vnni, "int4_weight").why.find("size, not speed"), std::string::npos);

    const auto old = scheme_outlooks(cpu_from(kOldX86, "x86_64"), "onednn");
    EXPECT_EQ(find(old, "int8_dynamic").outlook, Outlook::Runs);
    EXPECT_NE(find(old, "int8_dynamic").why.find("no VNNI"), std::string::npos);

    const auto arm = scheme_outlooks(cpu_from(kArmDot, "aarch64"), "qnnpack");
    EXPECT_EQ(find(arm, "int8_dynamic").outlook, Outlook::Fast);
    EXPECT_EQ(find(arm, "bf16").outlook, Outlook::Slow);

    // A build without a quantized engine cannot run int8 at all, whatever the CPU has.
    const auto none = scheme_outlooks(cpu_from(kVnniServer, "x86_64"), "");
    EXPECT_EQ(find(none, "int8_dynamic").outlook, Outlook::CannotRun);
    EXPECT_EQ(find(none, "fp16").outlook, Outlook::Runs);
}

TEST(DoctorCli, PrintsTheMachineEnginesAndEveryScheme) {
    const auto text = test::run_embq({"doctor"});
    ASSERT_EQ(text.exit_code, 0) << text.err;
    test::expect_contains(text.out, {"machine: ", "features: ", "quantized engines: ", "threads: ",
                                     "int8_dynamic", "bf16", "embq bench"});
    const auto json = test::run_embq({"doctor", "--json"});
    ASSERT_EQ(json.exit_code, 0) << json.err;
    const auto report = nlohmann::json::parse(json.out);
    EXPECT_EQ(report["report"], "embq doctor");
    EXPECT_EQ(report["schemes"].size(), all_schemes().size());
    EXPECT_TRUE(report["features"].is_object());
    EXPECT_GE(report["threads"]["intra_op"].get<int>(), 1);
}

}  // namespace
}  // namespace embq
