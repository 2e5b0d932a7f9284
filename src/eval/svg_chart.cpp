#include "eval/svg_chart.hpp"

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <limits>

#include "embq/format.hpp"

namespace embq {

namespace {

constexpr double kWidth = 640, kHeight = 320;
constexpr double kLeft = 64, kRight = 24, kTop = 50, kBottom = 48;
// Colour-blind-safe (Okabe-Ito), in legend order.
constexpr const char* kPalette[] = {"#0072B2", "#E69F00", "#009E73", "#CC79A7",
                                    "#56B4E9", "#D55E00", "#F0E442", "#000000"};

const char* colour(size_t i) { return kPalette[i % (sizeof kPalette / sizeof *kPalette)]; }

std::string num(double v) {
    char buf[32];
    std::snprintf(buf, sizeof buf, "%.2f", v);
    return buf;
}

// A tick label: as few digits as the step needs.
std::string tick_text(double v, double step) {
    const int digits = step >= 1 ? 0 : std::min(6, static_cast<int>(std::ceil(-std::log10(step))));
    char buf[32];
    std::snprintf(buf, sizeof buf, "%.*f", digits, v);
    return buf;
}

struct Range {
    double lo = 0, hi = 1;
};

// Finite values only; a single value gets a unit-wide range around it.
Range range_of(const std::vector<double>& values) {
    Range r{std::numeric_limits<double>::infinity(), -std::numeric_limits<double>::infinity()};
    for (double v : values)
        if (std::isfinite(v)) r.lo = std::min(r.lo, v), r.hi = std::max(r.hi, v);
    if (!(r.lo <= r.hi)) return {0, 1};
    if (r.hi - r.lo < 1e-12) {
        const double pad = std::max(std::abs(r.lo) * 0.05, 1e-3);
        return {r.lo - pad, r.hi + pad};
    }
    return r;
}

// A step of 1, 2 or 5 times a power of ten giving about `count` ticks over the range.
double nice_step(const Range& r, int count) {
    const double raw = (r.hi - r.lo) / count;
    const double power = std::pow(10.0, std::floor(std::log10(raw)));
    for (double m : {1.0, 2.0, 5.0})
        if (raw <= m * power) return m * power;
    return 10 * power;
}

Range padded_to_ticks(const Range& r, double step) {
    return {std::floor(r.lo / step) * step, std::ceil(r.hi / step) * step};
}

// The frame every chart draws in: scales, axes with ticks and grid lines, labels.
class Frame {
public:
    // `left`: the margin left of the plot, wider for bars with long labels.
    Frame(const ChartAxes& axes, Range x, Range y, double height = kHeight, double left = kLeft)
        : axes_(axes), height_(height), left_(left) {
        x_step_ = nice_step(x, 6);
        y_step_ = nice_step(y, 5);
        x_ = padded_to_ticks(x, x_step_);
        y_ = padded_to_ticks(y, y_step_);
    }

    double px(double x) const {
        return left_ + (x - x_.lo) / (x_.hi - x_.lo) * (kWidth - left_ - kRight);
    }
    double left() const { return left_; }
    double py(double y) const {
        return height_ - kBottom - (y - y_.lo) / (y_.hi - y_.lo) * (height_ - kTop - kBottom);
    }

    std::string open(size_t marks) const {
        std::string s = "<svg class=\"chart\" viewBox=\"0 0 " + num(kWidth) + " " + num(height_) +
                        "\" width=\"" + num(kWidth) + "\" height=\"" + num(height_) +
                        "\" role=\"img\" data-marks=\"" + std::to_string(marks) +
                        "\" aria-label=\"" + xml_escape(axes_.title) + "\">\n<title>" +
                        xml_escape(axes_.title) + "</title>\n";
        s += "<text class=\"chart-title\" x=\"" + num(kLeft) + "\" y=\"20\">" +
             xml_escape(axes_.title) + "</text>\n";
        return s;
    }

    std::string axes() const {
        std::string s;
        for (double v = y_.lo; v <= y_.hi + y_step_ / 2; v += y_step_) {
            s += "<line class=\"grid\" x1=\"" + num(left_) + "\" x2=\"" + num(kWidth - kRight) +
                 "\" y1=\"" + num(py(v)) + "\" y2=\"" + num(py(v)) + "\"/>";
            s += "<text class=\"tick\" text-anchor=\"end\" x=\"" + num(left_ - 6) + "\" y=\"" +
                 num(py(v) + 4) + "\">" + tick_text(v, y_step_) + "</text>\n";
        }
        for (double v = x_.lo; v <= x_.hi + x_step_ / 2; v += x_step_)
            s += "<text class=\"tick\" text-anchor=\"middle\" x=\"" + num(px(v)) + "\" y=\"" +
                 num(height_ - kBottom + 16) + "\">" + tick_text(v, x_step_) + "</text>\n";
        s += "<line class=\"axis\" x1=\"" + num(left_) + "\" x2=\"" + num(kWidth - kRight) +
             "\" y1=\"" + num(height_ - kBottom) + "\" y2=\"" + num(height_ - kBottom) + "\"/>\n";
        s += "<text class=\"label\" text-anchor=\"middle\" x=\"" +
             num((left_ + kWidth - kRight) / 2) + "\" y=\"" + num(height_ - 10) + "\">" +
             xml_escape(axes_.x_label) + "</text>\n";
        s += "<text class=\"label\" text-anchor=\"middle\" transform=\"translate(14 " +
             num((kTop + height_ - kBottom) / 2) + ") rotate(-90)\">" + xml_escape(axes_.y_label) +
             "</text>\n";
        return s;
    }

private:
    const ChartAxes& axes_;
    double height_, left_;
    Range x_, y_;
    double x_step_ = 1, y_step_ = 1;
};

std::string legend(const std::vector<std::string>& names) {
    std::string s;
    // One row under the title.
    double x = kLeft;
    for (size_t i = 0; i < names.size(); ++i) {
        s += "<rect x=\"" + num(x) + "\" y=\"28\" width=\"10\" height=\"10\" fill=\"" + colour(i) +
             "\"/><text class=\"tick\" x=\"" + num(x + 14) + "\" y=\"37\">" + xml_escape(names[i]) +
             "</text>";
        x += 22 + 7.0 * static_cast<double>(names[i].size());
    }
    return s + "\n";
}

std::string empty_chart(const ChartAxes& axes, const std::string& why) {
    Frame frame(axes, {0, 1}, {0, 1});
    return frame.open(0) + "<text class=\"label\" x=\"" + num(kLeft) + "\" y=\"" +
           num(kHeight / 2) + "\">" + xml_escape(why) + "</text>\n</svg>\n";
}

}  // namespace

std::string histogram_svg(const ChartAxes& axes, const std::vector<double>& values, int bins) {
    std::vector<double> finite;
    for (double v : values)
        if (std::isfinite(v)) finite.push_back(v);
    if (finite.empty() || bins < 1) return empty_chart(axes, "no finite values");
    const Range r = range_of(finite);
    const double width = (r.hi - r.lo) / bins;
    std::vector<size_t> counts(static_cast<size_t>(bins), 0);
    for (double v : finite)
        ++counts[std::min(static_cast<size_t>((v - r.lo) / width), counts.size() - 1)];
    const double top = static_cast<double>(*std::max_element(counts.begin(), counts.end()));
    Frame frame(axes, r, {0, top});
    const auto bars = static_cast<size_t>(
        std::count_if(counts.begin(), counts.end(), [](size_t c) { return c > 0; }));
    std::string s = frame.open(bars) + frame.axes();
    for (size_t i = 0; i < counts.size(); ++i) {
        if (!counts[i]) continue;
        const double x0 = r.lo + width * static_cast<double>(i), x1 = x0 + width;
        const double y = frame.py(static_cast<double>(counts[i]));
        s += "<rect class=\"mark\" fill=\"" + std::string(colour(0)) + "\" x=\"" +
             num(frame.px(x0)) + "\" y=\"" + num(y) + "\" width=\"" +
             num(std::max(frame.px(x1) - frame.px(x0) - 1, 1.0)) + "\" height=\"" +
             num(frame.py(0) - y) + "\"><title>" + tick_text(x0, width / 10) + " to " +
             tick_text(x1, width / 10) + ": " + std::to_string(counts[i]) + "</title></rect>\n";
    }
    return s + "</svg>\n";
}

std::string line_chart_svg(const ChartAxes& axes, const std::vector<ChartSeries>& series) {
    std::vector<double> xs, ys;
    size_t marks = 0;
    for (const auto& line : series)
        for (const auto& p : line.points)
            if (std::isfinite(p.x) && std::isfinite(p.y))
                xs.push_back(p.x), ys.push_back(p.y), ++marks;
    if (!marks) return empty_chart(axes, "no values");
    Frame frame(axes, range_of(xs), range_of(ys));
    std::string s = frame.open(marks) + frame.axes();
    std::vector<std::string> names;
    for (size_t i = 0; i < series.size(); ++i) {
        names.push_back(series[i].name);
        std::string path;
        for (const auto& p : series[i].points) {
            if (!std::isfinite(p.x) || !std::isfinite(p.y)) continue;
            path += (path.empty() ? "" : " ") + num(frame.px(p.x)) + "," + num(frame.py(p.y));
            s += "<circle class=\"mark\" r=\"3.5\" fill=\"" + std::string(colour(i)) + "\" cx=\"" +
                 num(frame.px(p.x)) + "\" cy=\"" + num(frame.py(p.y)) + "\"><title>" +
                 xml_escape(p.label) + "</title></circle>\n";
        }
        s += "<polyline fill=\"none\" stroke-width=\"2\" stroke=\"" + std::string(colour(i)) +
             "\" points=\"" + path + "\"/>\n";
    }
    return s + legend(names) + "</svg>\n";
}

std::string scatter_svg(const ChartAxes& axes, const std::vector<ChartPoint>& points,
                        bool frontier) {
    std::vector<const ChartPoint*> drawn;
    std::vector<double> xs, ys;
    for (const auto& p : points)
        if (std::isfinite(p.x) && std::isfinite(p.y))
            drawn.push_back(&p), xs.push_back(p.x), ys.push_back(p.y);
    if (drawn.empty()) return empty_chart(axes, "no values");
    Frame frame(axes, range_of(xs), range_of(ys));
    std::string s = frame.open(drawn.size()) + frame.axes();
    if (frontier) {
        std::vector<const ChartPoint*> sorted = drawn;
        std::sort(sorted.begin(), sorted.end(),
                  [](auto* a, auto* b) { return a->x < b->x || (a->x == b->x && a->y > b->y); });
        std::string path;
        double best = -std::numeric_limits<double>::infinity();
        for (const ChartPoint* p : sorted) {
            if (p->y <= best) continue;  // a smaller point does at least as well
            best = p->y;
            path += (path.empty() ? "" : " ") + num(frame.px(p->x)) + "," + num(frame.py(p->y));
        }
        s += "<polyline class=\"frontier\" fill=\"none\" stroke=\"#999\" stroke-dasharray=\"4 3\" "
             "points=\"" +
             path + "\"/>\n";
    }
    for (const ChartPoint* p : drawn) {
        s += "<circle class=\"mark\" r=\"5\" fill=\"" + std::string(colour(0)) + "\" cx=\"" +
             num(frame.px(p->x)) + "\" cy=\"" + num(frame.py(p->y)) + "\"><title>" +
             xml_escape(p->label) + "</title></circle>";
        s += "<text class=\"tick\" x=\"" + num(frame.px(p->x) + 7) + "\" y=\"" +
             num(frame.py(p->y) - 6) + "\">" + xml_escape(p->label) + "</text>\n";
    }
    return s + "</svg>\n";
}

std::string stacked_bars_svg(const ChartAxes& axes, const std::vector<std::string>& segment_names,
                             const std::vector<StackedBar>& bars) {
    double widest = 0;
    size_t marks = 0;
    for (const auto& bar : bars) {
        double total = 0;
        for (double v : bar.segments)
            if (std::isfinite(v) && v > 0) total += v, ++marks;
        widest = std::max(widest, total);
    }
    if (!marks) return empty_chart(axes, "no values");
    constexpr double kBar = 22, kGap = 10;
    const double height = kTop + kBottom + static_cast<double>(bars.size()) * (kBar + kGap) + 10;
    // Bars grow right from x = 0; the label column sits left of the axis, as wide as the
    // longest label needs (about 6.5 px a character at the tick font), within reason.
    size_t longest = 0;
    for (const auto& bar : bars) longest = std::max(longest, bar.label.size());
    const double left = std::clamp(16 + 6.5 * static_cast<double>(longest), kLeft, 280.0);
    Frame frame(axes, {0, widest}, {0, 1}, height, left);
    std::string s = frame.open(marks);
    s += legend(segment_names);
    double y = kTop + 10;
    for (const auto& bar : bars) {
        s += "<text class=\"tick\" text-anchor=\"end\" x=\"" + num(frame.left() - 6) + "\" y=\"" +
             num(y + kBar / 2 + 4) + "\">" + xml_escape(bar.label) + "</text>";
        double at = 0;
        for (size_t i = 0; i < bar.segments.size(); ++i) {
            const double v = bar.segments[i];
            if (!std::isfinite(v) || v <= 0) continue;
            s += "<rect class=\"mark\" fill=\"" + std::string(colour(i)) + "\" x=\"" +
                 num(frame.px(at)) + "\" y=\"" + num(y) + "\" width=\"" +
                 num(std::max(frame.px(at + v) - frame.px(at), 0.5)) + "\" height=\"" + num(kBar) +
                 "\"><title>" + xml_escape(bar.label + ", " + segment_names[i]) + ": " +
                 tick_text(v, 0.1) + "</title></rect>";
            at += v;
        }
        s += "\n";
        y += kBar + kGap;
    }
    // The x axis only: no horizontal grid for bars.
    s += "<line class=\"axis\" x1=\"" + num(frame.left()) + "\" x2=\"" + num(kWidth - kRight) +
         "\" y1=\"" + num(height - kBottom) + "\" y2=\"" + num(height - kBottom) + "\"/>\n";
    s += "<text class=\"label\" text-anchor=\"middle\" x=\"" +
         num((frame.left() + kWidth - kRight) / 2) + "\" y=\"" + num(height - 10) + "\">" +
         xml_escape(axes.x_label) + "</text>\n";
    const double step = nice_step({0, widest}, 6);
    for (double v = 0; v <= widest + step / 2; v += step)
        s += "<text class=\"tick\" text-anchor=\"middle\" x=\"" + num(frame.px(v)) + "\" y=\"" +
             num(height - kBottom + 16) + "\">" + tick_text(v, step) + "</text>";
    return s + "\n</svg>\n";
}

}  // namespace embq
