// A progress bar with rate and ETA on stderr, shown only when stderr is a terminal
// (quiet in pipes, logs and CI).
#pragma once

#include <chrono>
#include <cstddef>
#include <string>

namespace embq::cli {

class ProgressBar {
public:
    // total 0: unknown, the bar shows the count and the rate only.
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

// The progress total for a text file: its line count, counted in a cheap first pass only
// when a bar will be drawn (stderr is a terminal) and the file is a regular file. Else 0,
// "unknown": a pipe or /dev/stdin is read once, and batch jobs never read a file twice.
size_t progress_total(const std::string& path);

}  // namespace embq::cli
