#include "progress.hpp"

#include <unistd.h>

#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <iostream>

#include <spdlog/sinks/stdout_color_sinks.h>
#include <spdlog/spdlog.h>

#include "embq/error.hpp"

namespace embq::cli {

namespace {

using Clock = std::chrono::steady_clock;

constexpr auto kRedraw = std::chrono::milliseconds(100);
double g_plain_every = 30;  // seconds between plain lines; a 10% step after a third of it

ProgressBar* g_drawn = nullptr;  // the bar on the terminal's last line, if any

class ClearingSink final : public spdlog::sinks::sink {
public:
    ClearingSink() : inner_(std::make_shared<spdlog::sinks::stderr_color_sink_mt>()) {}
    void log(const spdlog::details::log_msg& msg) override {
        std::cout.flush();
        std::fflush(stdout);
        ProgressBar::clear_drawn();
        inner_->log(msg);
    }
    void flush() override { inner_->flush(); }
    void set_pattern(const std::string& pattern) override { inner_->set_pattern(pattern); }
    void set_formatter(std::unique_ptr<spdlog::formatter> formatter) override {
        inner_->set_formatter(std::move(formatter));
    }

private:
    std::shared_ptr<spdlog::sinks::sink> inner_;
};

}  // namespace

ProgressBar::ProgressBar(size_t total, std::string unit)
    : total_(total),
      unit_(std::move(unit)),
      terminal_(::isatty(STDERR_FILENO) == 1),
      start_(Clock::now()),
      last_draw_(start_) {}

ProgressBar::~ProgressBar() { finish(); }

void ProgressBar::update(size_t done) {
    const auto now = Clock::now();
    const double elapsed = std::chrono::duration<double>(now - start_).count();
    if (terminal_) {
        if (drawn_ && now - last_draw_ < kRedraw && done < total_) return;
        last_draw_ = now;
        draw_bar(done, elapsed);
        return;
    }
    const double quiet = std::chrono::duration<double>(now - last_draw_).count();
    const size_t step = total_ ? std::min<size_t>(10, done * 10 / total_) : 0;
    if (quiet >= g_plain_every || (step > last_step_ && quiet >= g_plain_every / 3)) {
        last_draw_ = now;
        last_step_ = step;
        log_line(done, elapsed);
    }
}

std::string ProgressBar::counts(size_t done, double elapsed) const {
    const double rate = elapsed > 0 ? static_cast<double>(done) / elapsed : 0;
    char buf[160];
    if (total_ == 0) {
        std::snprintf(buf, sizeof buf, "%zu %s  %.0f %s/s", done, unit_.c_str(), rate,
                      unit_.c_str());
    } else {
        const double eta =
            rate > 0 && total_ > done ? static_cast<double>(total_ - done) / rate : 0;
        std::snprintf(buf, sizeof buf, "%zu/%zu %s  %.0f %s/s  ETA %.0fs", done, total_,
                      unit_.c_str(), rate, unit_.c_str(), eta);
    }
    return buf;
}

void ProgressBar::draw_bar(size_t done, double elapsed) {
    std::string bar;
    if (total_ != 0) {
        const double fraction = std::min(1.0, static_cast<double>(done) / total_);
        const int width = 30, filled = static_cast<int>(fraction * width);
        bar = "[" + std::string(filled, '=') + std::string(width - filled, ' ') + "] ";
    }
    std::fprintf(stderr, "\r%s%s   ", bar.c_str(), counts(done, elapsed).c_str());
    std::fflush(stderr);
    drawn_ = true;
    g_drawn = this;
}

void ProgressBar::log_line(size_t done, double elapsed) {
    const std::string percent =
        total_ ? " (" + std::to_string(std::min<size_t>(100, done * 100 / total_)) + "%)" : "";
    spdlog::info("progress: {}{}", counts(done, elapsed), percent);
}

void ProgressBar::clear_drawn() {
    if (!g_drawn) return;
    std::fprintf(stderr, "\r%80s\r", "");
    std::fflush(stderr);
    g_drawn->drawn_ = false;
    g_drawn = nullptr;
}

void ProgressBar::configure_from_environment() {
    const char* value = std::getenv("EMBQ_PROGRESS_SECONDS");
    if (!value) return;
    char* end = nullptr;
    const double seconds = std::strtod(value, &end);
    if (end == value || *end != '\0' || !(seconds >= 0 && seconds <= 86400))
        throw usage_error(std::string("EMBQ_PROGRESS_SECONDS is seconds from 0 to 86400, not '") +
                          value + "'");
    g_plain_every = seconds;
}

void ProgressBar::finish() {
    if (g_drawn == this) clear_drawn();
}

std::shared_ptr<spdlog::sinks::sink> make_log_sink() { return std::make_shared<ClearingSink>(); }

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
