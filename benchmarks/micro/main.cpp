// embq_bench_micro's main: Google Benchmark's, after pinning libtorch (and the OpenMP
// pool FAISS shares with it) to one intra-op thread, so each number is one core's
// throughput and runs on a busy or small machine stay comparable; OpenBLAS, which FAISS
// calls for its matrix products, is single-threaded too (configure_threads).
// The benchmarks live in bench_<area>.cpp beside this file; README.md says how to run them.
//
// Exit code: 1 when a benchmark reported an error, so the CTest smoke run fails on a
// broken benchmark. A benchmark whose optional input is missing reports an error that
// starts with kSkipped (benchmark 1.7 has no skip without error) and does not count.
#include <benchmark/benchmark.h>

#include <string>
#include <vector>

#include "bench_support.hpp"
#include "embq/runtime.hpp"

namespace {

// The console output as usual, and a count of the runs that errored for another reason.
class CountingReporter : public benchmark::ConsoleReporter {
public:
    void ReportRuns(const std::vector<Run>& runs) override {
        for (const Run& run : runs)
            if (run.error_occurred && run.error_message.rfind(embq::bench::kSkipped, 0) != 0)
                ++failures;
        ConsoleReporter::ReportRuns(runs);
    }
    int failures = 0;
};

}  // namespace

int main(int argc, char** argv) {
    embq::configure_threads(1);
    benchmark::Initialize(&argc, argv);
    if (benchmark::ReportUnrecognizedArguments(argc, argv)) return 1;
    benchmark::AddCustomContext("embq_intra_op_threads", std::to_string(embq::thread_count()));
    CountingReporter reporter;
    benchmark::RunSpecifiedBenchmarks(&reporter);
    benchmark::Shutdown();
    return reporter.failures == 0 ? 0 : 1;
}
