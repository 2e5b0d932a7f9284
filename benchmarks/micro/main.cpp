// embq_bench_micro's main: Google Benchmark's, after pinning libtorch (and the OpenMP
// pool FAISS shares with it) to one intra-op thread, so each number is one core's
// throughput and runs on a busy or small machine stay comparable. OpenBLAS, which FAISS
// calls for its matrix products, keeps its own pool: OPENBLAS_NUM_THREADS=1 pins it.
// The benchmarks live in bench_<area>.cpp beside this file; README.md says how to run them.
#include <benchmark/benchmark.h>

#include "embq/runtime.hpp"

int main(int argc, char** argv) {
    embq::set_threads(1);
    benchmark::Initialize(&argc, argv);
    if (benchmark::ReportUnrecognizedArguments(argc, argv)) return 1;
    benchmark::AddCustomContext("embq_intra_op_threads", std::to_string(embq::thread_count()));
    benchmark::RunSpecifiedBenchmarks();
    benchmark::Shutdown();
    return 0;
}
