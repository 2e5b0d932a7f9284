#include "progress.hpp"

#include <unistd.h>

#include <cstdio>
#include <filesystem>
#include <fstream>

namespace embq::cli {

ProgressBar::ProgressBar(size_t total, std::string unit)
    : total_(total),
      unit_(std::move(unit)),
      enabled_(::isatty(STDERR_FILENO) == 1),
      start_(std::chrono::steady_clock::now()),
      last_draw_(start_) {}

ProgressBar::~ProgressBar() { finish(); }

void ProgressBar::update(size_t done) {
    if (!enabled_) return;
    const auto now = std::chrono::steady_clock::now();
    if (drawn_ && now - last_draw_ < std::chrono::milliseconds(100) && done < total_) return;
    last_draw_ = now;
    drawn_ = true;
    const double elapsed = std::chrono::duration<double>(now - start_).count();
    const double rate = elapsed > 0 ? done / elapsed : 0;
    if (total_ == 0) {
        std::fprintf(stderr, "\r%zu %s  %.0f %s/s   ", done, unit_.c_str(), rate, unit_.c_str());
        std::fflush(stderr);
        return;
    }
    const double fraction = total_ ? std::min(1.0, static_cast<double>(done) / total_) : 0;
    const int width = 30, filled = static_cast<int>(fraction * width);
    const double eta = rate > 0 && total_ > done ? (total_ - done) / rate : 0;
    std::fprintf(stderr, "\r[%s%s] %zu/%zu %s  %.0f %s/s  ETA %.0fs   ",
                 std::string(filled, '=').c_str(), std::string(width - filled, ' ').c_str(), done,
                 total_, unit_.c_str(), rate, unit_.c_str(), eta);
    std::fflush(stderr);
}

void ProgressBar::finish() {
    if (enabled_ && drawn_) {
        std::fprintf(stderr, "\r%80s\r", "");
        std::fflush(stderr);
        drawn_ = false;
    }
}

size_t progress_total(const std::string& path) {
    if (::isatty(STDERR_FILENO) != 1) return 0;
    std::error_code ec;
    if (!std::filesystem::is_regular_file(path, ec)) return 0;
    std::ifstream in(path, std::ios::binary);
    char buf[1 << 16];
    size_t lines = 0;
    while (in.read(buf, sizeof buf) || in.gcount() > 0) {
        for (std::streamsize i = 0; i < in.gcount(); ++i) lines += buf[i] == '\n';
        if (!in) break;
    }
    return lines;
}

}  // namespace embq::cli
