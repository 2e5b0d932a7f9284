// A progress bar with rate and ETA on stderr, shown only when stderr is a terminal
// (quiet in pipes, logs and CI).
#pragma once

#include <chrono>
#include <cstddef>
#include <string>

namespace embq::cli {

class ProgressBar {
public:
    ProgressBar(size_t total, std::string unit);
    ~ProgressBar();
    void update(size_t done);
    void finish();  // clears the line

private:
    size_t total_;
    std::string unit_;
    bool enabled_;
    std::chrono::steady_clock::time_point start_, last_draw_;
    bool drawn_ = false;
};

// Lines in a file (a cheap first pass for the progress total).
size_t count_lines(const std::string& path);

}  // namespace embq::cli
