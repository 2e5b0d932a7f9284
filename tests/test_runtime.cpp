// Threads: embq owns the cores through libtorch's pool, OpenBLAS stays single-threaded
// unless the user says otherwise, and --threads cannot ask for more threads than CPUs.
#include <gtest/gtest.h>

#include <cstdlib>

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

}  // namespace
}  // namespace embq
