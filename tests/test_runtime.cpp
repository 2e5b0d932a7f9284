// Threads: embq owns the cores through libtorch's pool, OpenBLAS stays single-threaded
// unless the user says otherwise, and --threads cannot ask for more threads than CPUs.
// Memory: freed blocks stay with the process unless the user tuned malloc.
#include <gtest/gtest.h>

#include <malloc.h>

#include <cstdlib>
#include <cstring>

#include "embq/runtime.hpp"
#include "test_support.hpp"

namespace embq {
namespace {

// Restores the process-wide settings other tests expect, whatever a test changed.
struct RestoreThreads {
    ~RestoreThreads() {
        unsetenv("OPENBLAS_NUM_THREADS");
        configure_threads(0);
    }
};

TEST(Threads, EveryCpuByDefaultAndNoMore) {
    RestoreThreads restore;
    const ThreadSettings all = configure_threads(0);
    EXPECT_EQ(all.intra_op, usable_cpus());
    EXPECT_TRUE(all.warnings.empty());

    const ThreadSettings many = configure_threads(1000);
    EXPECT_EQ(many.intra_op, usable_cpus());
    ASSERT_EQ(many.warnings.size(), 1u);
    test::expect_contains(many.warnings[0],
                          {"--threads 1000", "using " + std::to_string(usable_cpus())});

    EXPECT_EQ(configure_threads(1).intra_op, 1);
}

TEST(Threads, OpenBlasIsSingleThreadedUnlessTheUserSetsIt) {
    RestoreThreads restore;
    unsetenv("OPENBLAS_NUM_THREADS");
    const ThreadSettings ours = configure_threads(0);
    if (ours.blas_source == "not OpenBLAS") GTEST_SKIP() << "libblas.so.3 is not OpenBLAS here";
    EXPECT_EQ(ours.blas_source, "embq");
    EXPECT_EQ(ours.blas, 1);
    EXPECT_EQ(blas_thread_count(), 1);

    setenv("OPENBLAS_NUM_THREADS", "2", 1);
    const ThreadSettings theirs = configure_threads(0);
    EXPECT_EQ(theirs.blas_source, "OPENBLAS_NUM_THREADS");
    EXPECT_EQ(theirs.blas, 2);
}

TEST(ThreadsCli, TooManyThreadsIsAWarningAndTheRunStillWorks) {
    const auto r = test::run_embq({"--threads", "1000", "--log-level", "debug", "inspect",
                                   test::fixture("bert_traced.pt").string()});
    ASSERT_EQ(r.exit_code, 0) << r.err;
    test::expect_contains(r.err, {"--threads 1000 is more than the", "BLAS threads"});
}

// A freed activation-sized block stays with the process for the next call instead of going
// back to the kernel (which made every forward call fault its pages in again).
TEST(Allocator, FreedBlocksAreKeptForReuse) {
    const std::string settings = configure_allocator();
    if (settings.rfind("not glibc", 0) == 0) GTEST_SKIP() << settings;
    test::expect_contains(settings, {"keeping freed memory"});
    constexpr size_t kBlock = 16 << 20;  // a [2730, 1536] FP32 activation
    const size_t mapped_before = mallinfo2().hblkhd;
    char* block = static_cast<char*>(std::malloc(kBlock));
    ASSERT_NE(block, nullptr);
    std::memset(block, 1, kBlock);
    EXPECT_LT(mallinfo2().hblkhd, mapped_before + kBlock) << "mapped on its own, unmapped on free";
    std::free(block);
    EXPECT_GE(mallinfo2().fordblks, kBlock) << "given back to the kernel when freed";
}

TEST(Allocator, AUsersMallocSettingsAreLeftAlone) {
    setenv("MALLOC_TRIM_THRESHOLD_", "1048576", 1);
    const std::string theirs = configure_allocator();
    unsetenv("MALLOC_TRIM_THRESHOLD_");
    if (theirs.rfind("not glibc", 0) == 0) GTEST_SKIP() << theirs;
    test::expect_contains(theirs, {"MALLOC_*_"});
    EXPECT_EQ(allocator_settings(), theirs);
    test::expect_contains(configure_allocator(), {"keeping freed memory"});
}

}  // namespace
}  // namespace embq
