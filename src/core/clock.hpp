// Wall-clock timing for the seconds embq reports (embedding, searching, trials). Internal
// to libembq.
#pragma once

#include <chrono>

namespace embq {

using Clock = std::chrono::steady_clock;

inline double seconds_since(Clock::time_point start) {
    return std::chrono::duration<double>(Clock::now() - start).count();
}

}  // namespace embq
