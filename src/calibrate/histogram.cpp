// The growing histogram behind the percentile, mse and entropy observers
// (include/embq/observers.hpp).
#include "embq/observers.hpp"

#include <algorithm>
#include <cfloat>
#include <cmath>
#include <iterator>

#include <nlohmann/json.hpp>

#include "embq/error.hpp"

namespace embq {

namespace {

// The first batch of a histogram may be constant (or nearly): its range then gets at least
// this width, relative to the values (2^-20, a millionth) and never below FLT_MIN, so the
// bin width is positive and later growth works from there.
double minimum_span(ClipRange batch) {
    const double magnitude = std::max(std::abs(batch.lo), std::abs(batch.hi));
    return std::max(magnitude * 0x1p-20, static_cast<double>(FLT_MIN));
}

// Tolerance, in bins, for a value that floating-point rounding puts a hair outside the
// range (e.g. the old maximum against lo + bins * width): such a value is in the edge bin.
constexpr double kEdgeSlackBins = 1e-6;

}  // namespace

// ---------------------------------------------------------------------------------------
// Histogram

Histogram::Histogram(Origin origin, size_t bins) : origin_(origin), counts_(bins, 0) {
    EMBQ_ASSERT(bins >= 2 && bins % 2 == 0);
}

void Histogram::clear() {
    std::fill(counts_.begin(), counts_.end(), 0);
    lo_ = width_ = 0.0;
    total_ = 0;
}

void Histogram::start(ClipRange batch) {
    const double bins = static_cast<double>(counts_.size());
    const double span = std::max(batch.hi - batch.lo, minimum_span(batch));
    if (origin_ == Origin::Zero) {
        lo_ = 0.0;
        width_ = span / bins;
        return;
    }
    lo_ = batch.hi - batch.lo >= span ? batch.lo : 0.5 * (batch.lo + batch.hi) - 0.5 * span;
    width_ = span / bins;
}

// Moves the range to hold `batch` and the occupied bins (empty ones may fall off), merging
// 2^k neighbouring bins into one, k >= 0 as small as possible: a drifting distribution that
// still fits is only shifted. The new grid is the old one shifted by a whole number m of
// old bins, so every old bin lies inside exactly one new bin: old bin i goes to new bin
// floor((i + m) / 2^k), found from the old bin's centre so no rounding puts it on an edge.
void Histogram::cover(ClipRange batch) {
    const size_t bins = counts_.size();
    const double n = static_cast<double>(bins);
    const double slack = kEdgeSlackBins * width_;
    if (batch.lo >= lo_ - slack && batch.hi <= hi() + slack) return;

    const double need_lo = origin_ == Origin::Zero ? 0.0 : std::min(edge(used_begin()), batch.lo);
    const double need_hi = std::max(edge(used_end()), batch.hi);
    const double need = need_hi - need_lo;
    // Two old bins of room, so a whole-bin shift can centre the data.
    const double room = origin_ == Origin::Zero ? 0.0 : 2.0 * width_;
    double factor = 1.0;
    while (n * width_ * factor < need + room) factor *= 2.0;

    const double new_width = width_ * factor;
    double shift = 0.0;  // m, in old bins; negative moves the range up
    if (origin_ == Origin::Free) {
        const double ideal_lo = need_lo - 0.5 * (n * new_width - need);
        shift = std::ceil((lo_ - ideal_lo) / width_);
    }
    std::vector<uint64_t> moved(bins, 0);
    for (size_t i = 0; i < bins; ++i) {
        if (counts_[i] == 0) continue;
        const double j = std::floor((static_cast<double>(i) + shift + 0.5) / factor);
        moved[static_cast<size_t>(std::clamp(j, 0.0, n - 1.0))] += counts_[i];
    }
    counts_.swap(moved);
    lo_ -= shift * width_;
    width_ = new_width;
}

template <class ToValue>
void Histogram::insert(const float* values, size_t count, ToValue to_value) {
    const double inverse_width = 1.0 / width_;
    const double last = static_cast<double>(counts_.size() - 1);
    for (size_t i = 0; i < count; ++i) {
        const double position = (to_value(values[i]) - lo_) * inverse_width;
        ++counts_[static_cast<size_t>(std::clamp(position, 0.0, last))];
    }
    total_ += count;
}

void Histogram::add(const float* values, size_t count, ClipRange batch) {
    if (count == 0) return;
    EMBQ_ASSERT(origin_ == Origin::Free);
    if (total_ == 0)
        start(batch);
    else
        cover(batch);
    insert(values, count, [](float v) { return static_cast<double>(v); });
}

void Histogram::add_abs(const float* values, size_t count, double max_abs) {
    if (count == 0) return;
    EMBQ_ASSERT(origin_ == Origin::Zero);
    const ClipRange batch{0.0, max_abs};
    if (total_ == 0)
        start(batch);
    else
        cover(batch);
    insert(values, count, [](float v) { return static_cast<double>(std::abs(v)); });
}

size_t Histogram::used_begin() const {
    size_t i = 0;
    while (i < counts_.size() && counts_[i] == 0) ++i;
    return i;
}

size_t Histogram::used_end() const {
    size_t end = counts_.size();
    while (end > 0 && counts_[end - 1] == 0) --end;
    return end;
}

double Histogram::quantile(double q) const {
    EMBQ_ASSERT(total_ > 0 && q >= 0.0 && q <= 1.0);
    const double target = q * static_cast<double>(total_);
    double below = 0.0;
    for (size_t i = 0; i < counts_.size(); ++i) {
        if (counts_[i] == 0) continue;
        const double count = static_cast<double>(counts_[i]);
        if (below + count >= target) return edge(i) + (target - below) / count * width_;
        below += count;
    }
    return edge(used_end());  // rounding left target a hair above the total
}

nlohmann::json Histogram::to_json() const {
    const size_t begin = used_begin(), end = std::max(used_end(), begin);
    return {{"lo", lo_},
            {"bin_width", width_},
            {"bins", counts_.size()},
            {"first_bin", begin},
            {"counts", std::vector<uint64_t>(counts_.begin() + static_cast<std::ptrdiff_t>(begin),
                                             counts_.begin() + static_cast<std::ptrdiff_t>(end))}};
}

}  // namespace embq
