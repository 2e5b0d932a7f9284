// Outlier channels: per-channel max |x| against the median channel's.
#include "embq/observers.hpp"

#include <algorithm>
#include <cmath>
#include <limits>

#include <nlohmann/json.hpp>

#include "embq/error.hpp"

namespace embq {

// ---------------------------------------------------------------------------------------
// Outlier channels

ChannelRange::ChannelRange(size_t channels)
    : min_(channels, 0.0f), max_(channels, 0.0f), seen_(channels, false) {}

void ChannelRange::observe(const float* rows_by_channels, size_t rows) {
    const size_t channels = min_.size();
    for (size_t r = 0; r < rows; ++r) {
        const float* row = rows_by_channels + r * channels;
        for (size_t c = 0; c < channels; ++c) {
            const float v = row[c];
            if (!std::isfinite(v)) continue;
            if (!seen_[c]) {
                min_[c] = max_[c] = v;
                seen_[c] = true;
            } else {
                min_[c] = std::min(min_[c], v);
                max_[c] = std::max(max_[c], v);
            }
        }
    }
}

std::vector<float> ChannelRange::max_abs() const {
    std::vector<float> out(min_.size());
    for (size_t c = 0; c < out.size(); ++c) out[c] = std::max(std::abs(min_[c]), std::abs(max_[c]));
    return out;
}

namespace {

constexpr double kInfinity = std::numeric_limits<double>::infinity();

double median(std::vector<float> values) {
    const size_t mid = values.size() / 2;
    std::nth_element(values.begin(), values.begin() + static_cast<std::ptrdiff_t>(mid),
                     values.end());
    const double upper = values[mid];
    if (values.size() % 2 == 1) return upper;
    const double lower =
        *std::max_element(values.begin(), values.begin() + static_cast<std::ptrdiff_t>(mid));
    return 0.5 * (lower + upper);
}

}  // namespace

std::vector<OutlierChannel> find_outlier_channels(const std::vector<float>& channel_max_abs,
                                                  double factor) {
    if (!(factor > 1.0))
        throw usage_error("outlier factor must be greater than 1 (got " +
                          nlohmann::json(factor).dump() + ")");
    for (size_t c = 0; c < channel_max_abs.size(); ++c)
        if (!std::isfinite(channel_max_abs[c]) || channel_max_abs[c] < 0.0f)
            throw input_error("channel " + std::to_string(c) + ": max |x| is " +
                              std::to_string(channel_max_abs[c]) +
                              ", expected a finite non-negative number");
    std::vector<OutlierChannel> outliers;
    if (channel_max_abs.empty()) return outliers;

    const double typical = median(channel_max_abs);
    for (size_t c = 0; c < channel_max_abs.size(); ++c) {
        const double value = channel_max_abs[c];
        const double ratio = typical > 0.0 ? value / typical : (value > 0.0 ? kInfinity : 0.0);
        if (ratio > factor) outliers.push_back({c, value, ratio});
    }
    return outliers;
}

}  // namespace embq
