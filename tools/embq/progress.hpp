// Progress on stderr. On a terminal: a bar with rate and ETA, redrawn in place. Elsewhere
// (CI logs, pipes): a plain log line every 30 s (EMBQ_PROGRESS_SECONDS), and at each 10%
// step once a third of that has passed, so a long job is never silent long enough for a
// CI system to kill it, and a short one prints none.
#pragma once

#include <chrono>
#include <cstddef>
#include <memory>
#include <string>

#include <spdlog/sinks/sink.h>

namespace embq::cli {

class ProgressBar {
public:
    // total 0: unknown, the bar shows the count and the rate only.
    ProgressBar(size_t total, std::string unit);
    ~ProgressBar();
    ProgressBar(const ProgressBar&) = delete;
    ProgressBar& operator=(const ProgressBar&) = delete;
    void update(size_t done);
    void finish();  // clears the bar

    // Clears the bar being drawn, if any, so that a log line starts a line of its own; the
    // bar is drawn again at its next update.
    static void clear_drawn();

    // The plain lines' interval, from EMBQ_PROGRESS_SECONDS (0 to 86400) when it is set: a
    // Usage error for any other value.
    static void configure_from_environment();

private:
    void draw_bar(size_t done, double elapsed);
    void log_line(size_t done, double elapsed);
    std::string counts(size_t done, double elapsed) const;

    size_t total_;
    std::string unit_;
    bool terminal_;
    std::chrono::steady_clock::time_point start_, last_draw_;
    bool drawn_ = false;
    size_t last_step_ = 0;  // plain lines: the last 10% step reported
};

// The sink embq logs through: stderr (coloured on a terminal), after flushing stdout (so a
// piped log shows a report above the verdict logged after it) and clearing the bar.
std::shared_ptr<spdlog::sinks::sink> make_log_sink();

// The progress total for a text file: its line count, counted in a cheap first pass only
// when a bar will be drawn (stderr is a terminal) and the file is a regular file. Else 0,
// "unknown": a pipe or /dev/stdin is read once, and batch jobs never read a file twice.
size_t progress_total(const std::string& path);

}  // namespace embq::cli
