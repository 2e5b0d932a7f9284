#include <dlfcn.h>
#include <sched.h>

#include <algorithm>
#include <cstdlib>
#include <thread>

#include <ATen/Parallel.h>

#include "embq/runtime.hpp"

namespace embq {

namespace {

// OpenBLAS's thread control, looked up at run time: the BLAS behind libblas.so.3 may be
// OpenBLAS, the reference BLAS or another, and only OpenBLAS has these.
using SetThreads = void (*)(int);
using GetThreads = int (*)();

SetThreads openblas_setter() {
    return reinterpret_cast<SetThreads>(dlsym(RTLD_DEFAULT, "openblas_set_num_threads"));
}
GetThreads openblas_getter() {
    return reinterpret_cast<GetThreads>(dlsym(RTLD_DEFAULT, "openblas_get_num_threads"));
}

// A positive thread count from the environment, or 0.
int env_threads(const char* name) {
    const char* value = std::getenv(name);
    if (!value || !*value) return 0;
    char* end = nullptr;
    const long n = std::strtol(value, &end, 10);
    return (*end == '\0' && n > 0 && n <= 4096) ? static_cast<int>(n) : 0;
}

}  // namespace

int usable_cpus() {
    cpu_set_t set;
    if (sched_getaffinity(0, sizeof set, &set) == 0) return std::max(1, CPU_COUNT(&set));
    return static_cast<int>(std::max(1u, std::thread::hardware_concurrency()));
}

int blas_thread_count() {
    const GetThreads get = openblas_getter();
    return get ? get() : 0;
}

ThreadSettings configure_threads(int requested) {
    ThreadSettings s;
    const int cpus = usable_cpus();
    int n = requested <= 0 ? cpus : requested;
    if (n > cpus) {
        s.warnings.push_back("--threads " + std::to_string(requested) + " is more than the " +
                             std::to_string(cpus) + " CPUs this process may use; using " +
                             std::to_string(cpus) +
                             " (more threads only take turns on the same cores)");
        n = cpus;
    }
    at::set_num_threads(n);
    s.intra_op = at::get_num_threads();

    const SetThreads set = openblas_setter();
    if (!set || !openblas_getter()) {
        s.blas_source = "not OpenBLAS";
        return s;
    }
    if (const int user = env_threads("OPENBLAS_NUM_THREADS")) {
        set(user);
        s.blas_source = "OPENBLAS_NUM_THREADS";
    } else {
        set(1);
        s.blas_source = "embq";
    }
    s.blas = blas_thread_count();
    return s;
}

}  // namespace embq
