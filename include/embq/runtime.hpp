// Process-wide runtime settings and facts about this build. No libtorch in this header.
#pragma once

#include <string>
#include <vector>

namespace embq {

// embq's version ("0.1.0"), set by CMake from the project version.
const char* version() noexcept;

// Who runs on the cores. libtorch runs its intra-op work on OpenMP threads and calls BLAS
// from inside them; OpenBLAS (Debian's libopenblas0-pthread) then starts a pool of its own
// and both spin on the same cores. On the 2-CPU VM here that made FP32 USE-Lite embed
// 303-407 texts/s instead of 710-724 (issue 15). So embq owns the cores through libtorch's
// pool and keeps OpenBLAS single-threaded, unless the user set OPENBLAS_NUM_THREADS.
// OpenBLAS reads its environment when it loads, so this is set through its API, before the
// first BLAS call of the process.
struct ThreadSettings {
    int intra_op = 0;                   // libtorch's intra-op threads in effect
    int blas = 0;                       // OpenBLAS's threads in effect; 0: the BLAS is not OpenBLAS
    std::string blas_source;            // why: "embq", "OPENBLAS_NUM_THREADS", "not OpenBLAS"
    std::vector<std::string> warnings;  // e.g. --threads above the CPUs, capped
};

// `requested` <= 0: every CPU this process may use (its affinity mask). More than that is
// capped to it with a warning: extra threads only take turns on the same cores (measured:
// --threads 1000 turned a 0.5 s run into 77 s).
ThreadSettings configure_threads(int requested);
int usable_cpus();        // CPUs in this process's affinity mask (at least 1)
int thread_count();       // intra-op threads in effect
int blas_thread_count();  // OpenBLAS threads in effect; 0 when the BLAS is not OpenBLAS

// How freed memory goes back to the kernel. glibc's malloc returns blocks above its mmap
// threshold (128 KiB at first, raised up to 32 MiB as such blocks are freed) to the kernel
// on every free, and trims the heap whenever its free top passes twice that, so each
// forward call of a model faults its activations' pages in again. On the 2-CPU VM here
// that made a MiniLM-sized encoder at batch 32 about 1.5x slower in FP32 and 3.7x slower
// in int8, whose glue allocates more (benchmarks/allocator.py, README "Memory
// allocator"). embq keeps freed memory for reuse, blocks up to 32 MiB
// from the heap and up to 64 MiB of free heap kept, unless the user set
// MALLOC_MMAP_THRESHOLD_, MALLOC_TRIM_THRESHOLD_, MALLOC_TOP_PAD_ or glibc.malloc tunables,
// or malloc is not glibc's (jemalloc, tcmalloc preloaded). Returns allocator_settings().
std::string configure_allocator();
// The allocator settings in effect, in words, for reports.
std::string allocator_settings();

// Quantized engines this libtorch build supports ("onednn", "qnnpack", "fbgemm", ...).
std::vector<std::string> supported_engines();
// The engine a plan's "auto" means here: fbgemm, else onednn, else qnnpack; "" for none.
std::string auto_engine();
// Makes `engine` ("onednn", "qnnpack", "fbgemm") libtorch's current quantized engine. The
// engine decides how int8 weights are packed, so it must be set before packing, and before
// loading a model whose packed weights are repacked as they load. Config error otherwise.
void use_engine(const std::string& engine);

// Removes embq's temporary files and directories on SIGINT, SIGTERM and SIGHUP, then lets
// the signal end the process (exit status 128 + signal). Signals the parent set to be
// ignored stay ignored. The CLI calls it first thing; a library user may too.
void install_interrupt_cleanup();

// One line for --version and reports: embq, libtorch and FAISS versions.
std::string build_description();

}  // namespace embq
