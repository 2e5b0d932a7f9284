// What the micro benchmarks share with their main().
#pragma once

namespace embq::bench {

// Starts the error message of a benchmark that cannot run here because optional input
// (the real model from tools/setup.sh) is missing: main() does not count it as a failure.
inline constexpr const char* kSkipped = "skipped: ";

}  // namespace embq::bench
