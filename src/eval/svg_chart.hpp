// Small SVG charts for the HTML reports, inline in the page (no xmlns, no script, nothing
// fetched): text that a browser renders as is. Every chart is an <svg class="chart"> whose data-marks counts
// the marks it drew (bars, points, line vertices), so a test can tell an empty plot from a
// drawn one; each mark carries a <title> the browser shows on hover. Internal to libembq.
#pragma once

#include <string>
#include <vector>

namespace embq {

struct ChartPoint {
    double x = 0, y = 0;
    std::string label;  // hover text, and for a scatter the label drawn beside the point
};

struct ChartSeries {
    std::string name;
    std::vector<ChartPoint> points;
};

struct ChartAxes {
    std::string title, x_label, y_label;
};

// Bars counting `values` in `bins` equal bins between their minimum and maximum.
std::string histogram_svg(const ChartAxes& axes, const std::vector<double>& values, int bins);

// Each series as a line through its points (in the order given), with a legend.
std::string line_chart_svg(const ChartAxes& axes, const std::vector<ChartSeries>& series);

// Labelled points; with `frontier`, the points no other point beats on both axes (lower
// x, higher y) are joined by a line.
std::string scatter_svg(const ChartAxes& axes, const std::vector<ChartPoint>& points,
                        bool frontier);

// One horizontal bar per row, split into segments: segment i of every row has the colour
// and legend entry `segment_names[i]`.
struct StackedBar {
    std::string label;
    std::vector<double> segments;  // one per segment name; 0 draws nothing
};
std::string stacked_bars_svg(const ChartAxes& axes, const std::vector<std::string>& segment_names,
                             const std::vector<StackedBar>& bars);

}  // namespace embq
