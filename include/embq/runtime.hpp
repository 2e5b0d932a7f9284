// Process-wide runtime settings and facts about this build. No libtorch in this header.
#pragma once

#include <string>
#include <vector>

namespace embq {

// embq's version ("0.1.0"), set by CMake from the project version.
const char* version() noexcept;

// libtorch starts with one intra-op thread on some builds although more CPUs are
// available, so embq always sets the count: n <= 0 means every CPU this process may use.
// Returns the count in effect.
int set_threads(int n);
int thread_count();  // intra-op threads in effect

// Quantized engines this libtorch build supports ("onednn", "qnnpack", "fbgemm", ...).
std::vector<std::string> supported_engines();

// One line for --version and reports: embq, libtorch and FAISS versions.
std::string build_description();

}  // namespace embq
