// Activation observers for calibration: they watch a layer's input activations stream by,
// keep bounded statistics, and choose the clipping range that becomes its scale and
// zero point. No libtorch here; the calibrate command feeds them plain float batches.
//
// As in PyTorch's observer.py, the kinds differ only in the statistics they keep
// (ObserverStatistics); the common bookkeeping (NaN/Inf, counts, exact extent,
// convergence checkpoints) lives once in Observer, and the range -> scale/zero-point math
// lives once in qparams_for(). One table in observers.cpp maps names to kinds and drives
// parsing (make_observer), `--help` (observer_kinds) and validation. The histogram, the
// range searches over it and the outlier channels have files of their own beside it
// (src/calibrate/).
//
// Kinds (spec syntax `name` or `name:parameter`):
//   minmax                     exact min and max of everything seen.
//   moving_average_minmax[:c]  per-batch min/max, averaged: m += c * (batch - m); the first
//                              batch initialises; c = 0.01 as in PyTorch.
//   percentile[:p]             the (100-p)th and pth percentiles (both tails clipped),
//                              p = 99.99 by default, from the histogram.
//   mse                        the [lo, hi] that minimises the expected squared 8-bit
//                              quantization error (rounding + clipping) over the histogram.
//   entropy                    TensorRT's KL-divergence threshold T over a histogram of |x|;
//                              range [-T, T].
//
// Memory: every histogram has kHistogramBins = 2048 uint64 counts (16 KiB) whatever the
// number or spread of the values; it grows by merging bins, never by re-reading data. An
// Observer holds its statistics plus at most kMaxCheckpoints = 4 snapshots of them for
// convergence(), so a histogram observer's state stays under 5 x 16 KiB + 1 KiB = 81 KiB
// (kMaxObserverStateBytes; state_bytes() reports the actual figure). range() on a
// histogram kind needs transient scratch: mse 5 x 2049 doubles (80 KiB), entropy 4 x 2049
// (64 KiB).
#pragma once

#include <cstddef>
#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include <nlohmann/json_fwd.hpp>

namespace embq {

// A clipping range: the closed interval of real values quantization represents; lo <= hi.
struct ClipRange {
    double lo = 0.0;
    double hi = 0.0;
};

// The quantized activation types a range is turned into.
//   Quint8Affine:    codes 0..255, x ~= (q - zero_point) * scale. The range is widened to
//                    include 0 first, so 0 (padding, ReLU output) is exact, as in PyTorch.
//   Qint8Symmetric:  codes -127..127, zero_point 0, scale = max(|lo|, |hi|) / 127. The
//                    restricted range (no -128) keeps +T and -T both representable, so
//                    clipping is symmetric; it matches embq's int8 weights (quant_math.hpp)
//                    and TensorRT, and costs 0.4% of resolution.
enum class QuantTarget { Quint8Affine, Qint8Symmetric };

const char* to_string(QuantTarget target) noexcept;

struct QParams {
    double scale = 1.0;
    int32_t zero_point = 0;
};

// The smallest scale qparams_for() returns: float32 epsilon, PyTorch's default `eps`.
// An all-zero input gets this scale; a constant c != 0 gets |c| / 255 or |c| / 127.
constexpr double kMinScale = 1.1920928955078125e-07;

// The range -> scale/zero-point math, written once for every observer kind. The zero
// point is rounded half to even (as torch.round) and clamped to 0..255.
QParams qparams_for(ClipRange range, QuantTarget target);

// ---------------------------------------------------------------------------------------
// Histogram: fixed bin count over a range that grows on demand.

constexpr size_t kHistogramBins = 2048;

// Bin i counts values in [lo + i*w, lo + (i+1)*w) (the last bin also holds its upper
// edge). The first batch sets the range to its own extent. A later value outside the range
// moves it: the new range covers the occupied bins and the new values with the slack split
// evenly on both sides (with a zero origin: upwards only), the bin width multiplied by 2^k
// for the smallest k >= 0 that fits (k = 0: a drifting distribution is only shifted), each
// new bin the union of 2^k old ones. Re-binning is therefore exact: no count moves to a bin
// that does not contain it; what is lost is resolution only. After any growth the range is
// less than twice the data's span plus four bins, so the histogram resolves the data into
// at least ~1024 bins, and every statistic read from it is accurate to about one bin width.
class Histogram {
public:
    enum class Origin {
        Free,  // the range may grow in both directions
        Zero,  // lo stays 0 (for |x|); only hi grows
    };
    explicit Histogram(Origin origin = Origin::Free, size_t bins = kHistogramBins);

    // Adds finite values whose exact extent is `batch` (the caller has computed it).
    void add(const float* values, size_t count, ClipRange batch);
    // Adds |values|; `max_abs` is the largest of them.
    void add_abs(const float* values, size_t count, double max_abs);

    bool empty() const { return total_ == 0; }
    uint64_t total() const { return total_; }
    double lo() const { return lo_; }
    double bin_width() const { return width_; }
    double hi() const { return lo_ + width_ * static_cast<double>(counts_.size()); }
    double edge(size_t i) const { return lo_ + width_ * static_cast<double>(i); }
    const std::vector<uint64_t>& counts() const { return counts_; }
    size_t state_bytes() const { return sizeof(*this) + counts_.capacity() * sizeof(uint64_t); }

    // The value below which a fraction q (0..1) of the counts lie, interpolating linearly
    // inside the bin (values assumed uniform within a bin). Requires !empty().
    double quantile(double q) const;
    // Index one past the last non-empty bin, and of the first non-empty bin.
    size_t used_end() const;
    size_t used_begin() const;

    void clear();
    nlohmann::json to_json() const;  // lo, bin_width, first_bin and the counts from there

private:
    template <class ToValue>
    void insert(const float* values, size_t count, ToValue to_value);
    void start(ClipRange batch);
    void cover(ClipRange batch);

    Origin origin_;
    double lo_ = 0.0;
    double width_ = 0.0;
    uint64_t total_ = 0;
    std::vector<uint64_t> counts_;
};

// ClipRange choices over a histogram, as pure functions (the observer kinds call them; tests
// check them against slow reference implementations).

// [quantile(1 - p/100), quantile(p/100)]; 50 < p <= 100.
ClipRange percentile_range(const Histogram& hist, double percentile);

// Exhaustive search over every pair of bin edges (a, b), a < b, within the occupied bins,
// for the minimum of the expected squared error of quantizing to `levels` evenly spaced
// levels on [a, b], with values uniform within each bin:
//   sum over bins below a of count * E[(a - x)^2]   (clipping, exact for a uniform bin)
// + sum over bins above b of count * E[(x - b)^2]
// + (count inside) * step^2 / 12,  step = (b - a) / (levels - 1)   (rounding)
// Prefix sums make each candidate O(1): O(used bins^2) in all, a few ms for 2048 bins.
// Ties keep the first (smallest a, then smallest b). Unlike PyTorch's HistogramObserver
// (a greedy shrink from both ends), this finds the global minimum on the bin-edge grid.
ClipRange mse_range(const Histogram& hist, int levels = 256);

// TensorRT's entropy calibration (Migacz, "8-bit Inference with TensorRT", GTC 2017) on a
// histogram of |x| (Origin::Zero). Bins 0..n-1 are the occupied ones (n = used_end()); for
// every candidate i in [levels, n]:
//   P = bins[0..i-1], with the count of all bins >= i added to P[i-1] (clipped values);
//   Q = bins[0..i-1] (without the clipped values) merged into `levels` groups, group g
//       being bins [floor(g*i/levels), floor((g+1)*i/levels)), each group's count spread
//       evenly over its bins where P is non-zero (zero elsewhere);
//   P and Q normalised; bins where Q = 0 < P get Q = 1e-4 and Q is renormalised (after
//       the smoothing MXNet/TVM apply; it makes clipping cost finite where the clipped
//       values land in an empty group); a Q with no mass at all rejects the candidate;
//   KL(P || Q) = sum over P > 0 of P ln(P / Q).
// Returns the upper edge i * bin_width of the minimising i (first on ties). TensorRT's
// slides return (i + 0.5) * bin_width; the edge is what MXNet returns and keeps exactly the
// bins P was built from. When n < levels nothing is clipped: returns the top edge of bin
// n-1. `levels` = 128 for int8 (|x| maps onto 0..127). O(n^2): ~20 ms for 2048 bins.
double entropy_threshold(const Histogram& abs_hist, int levels = 128);

// ---------------------------------------------------------------------------------------
// Observers.

// What one observer kind keeps. Observer does everything common and hands each batch's
// finite values here; adding a kind is one class implementing this and one table row.
class ObserverStatistics {
public:
    virtual ~ObserverStatistics() = default;
    // `values` are all finite, count > 0, and `batch` is their exact extent.
    virtual void add(const float* values, size_t count, ClipRange batch) = 0;
    // The chosen range; only called after add(). Observer clamps it to the data's extent.
    virtual ClipRange choose_range() const = 0;
    virtual nlohmann::json to_json() const = 0;  // the kind's own statistics and options
    virtual size_t state_bytes() const = 0;
    virtual std::unique_ptr<ObserverStatistics> clone() const = 0;
    virtual void clear() = 0;
};

// How far the chosen range moved over the last ~10% of the samples.
struct Convergence {
    // max(|lo_now - lo_ref|, |hi_now - hi_ref|) / (hi_now - lo_now), the denominator at least
    // kMinScale. +infinity when there is no reference (too few batches yet, or none of the
    // reference's values were finite).
    double movement = 0.0;
    uint64_t reference_samples = 0;  // samples() at the reference checkpoint
    uint64_t samples = 0;            // samples() now
};

constexpr size_t kMaxCheckpoints = 4;
constexpr size_t kMaxObserverStateBytes = 81 * 1024;

class Observer {
public:
    // `name` is the kind ("percentile"), `spec` the canonical spec ("percentile:99.99").
    Observer(std::string name, std::string spec, std::unique_ptr<ObserverStatistics> statistics);
    Observer(Observer&&) noexcept;
    Observer& operator=(Observer&&) noexcept;
    ~Observer();

    // Streams one batch: `count` values covering `samples` calibration samples (sentences).
    // NaN and +-Inf are counted in nonfinite() and otherwise ignored. `samples` may be 0
    // (a batch continuing the previous sample), but convergence() needs samples counted.
    void observe(const float* values, size_t count, size_t samples);

    // The clipping range, clamped to [min, max] of the finite values seen. Throws
    // input_error when no finite value has been observed (never a silent zero range).
    ClipRange range() const;
    QParams qparams(QuantTarget target) const { return qparams_for(range(), target); }

    // The reference is the snapshot of the statistics taken at the last checkpoint at or
    // before 90% of samples(). Checkpoints are taken at the end of a batch each time
    // samples() has grown by 5% (at least one sample) since the last one, and the ones that
    // can no longer be a reference are dropped, so at most kMaxCheckpoints are kept. With
    // batches small next to the total, the reference lies between 85.7% and 90% of the
    // samples; with large batches it is the last batch end before 90%.
    Convergence convergence() const;
    bool converged(double tolerance = 0.01) const { return convergence().movement <= tolerance; }

    uint64_t samples() const { return samples_; }
    uint64_t values() const { return values_; }        // finite values only
    uint64_t nonfinite() const { return nonfinite_; }  // NaN, +Inf and -Inf
    const std::string& name() const { return name_; }
    const std::string& spec() const { return spec_; }
    const ObserverStatistics& statistics() const { return *statistics_; }
    size_t state_bytes() const;

    // Counts, exact extent, the kind's statistics, and (when a finite value was seen) the
    // chosen range, qparams for both targets and convergence. Keys are sorted and numbers
    // printed to round-trip, so the same data gives byte-identical dump().
    nlohmann::json to_json() const;
    void reset();

private:
    struct Checkpoint;
    ClipRange clamped_range(const ObserverStatistics& statistics, ClipRange extent) const;
    void take_checkpoint();

    std::string name_, spec_;
    std::unique_ptr<ObserverStatistics> statistics_;
    uint64_t samples_ = 0, values_ = 0, nonfinite_ = 0;
    ClipRange extent_{};  // exact min and max of the finite values; valid when values_ > 0
    uint64_t next_checkpoint_ = 1;
    std::vector<Checkpoint> checkpoints_;  // oldest first
};

// "minmax", "moving_average_minmax:0.01", "percentile", "percentile:99.9", "mse",
// "entropy". Unknown names, parameters out of range and parameters given to a kind that
// takes none are usage errors naming the valid kinds (and the closest one).
Observer make_observer(const std::string& spec);

struct ObserverKind {
    const char* name;
    const char* summary;    // one line for --help
    const char* parameter;  // what `name:X` sets, with its default; "" when it takes none
};
const std::vector<ObserverKind>& observer_kinds();  // in table order
std::vector<std::string> observer_names();

// ---------------------------------------------------------------------------------------
// Outlier channels: a few input features with activations far larger than the rest ruin
// a per-tensor activation scale (the LLM.int8() observation); flag them.

// Running min and max per channel over row-major [rows, channels] batches; NaN/Inf
// skipped. Outlier detection reads max |x|; SmoothQuant reads the ranges.
class ChannelRange {
public:
    explicit ChannelRange(size_t channels);
    void observe(const float* rows_by_channels, size_t rows);
    // 0 for a channel that saw no finite value.
    const std::vector<float>& min() const { return min_; }
    const std::vector<float>& max() const { return max_; }
    std::vector<float> max_abs() const;

private:
    std::vector<float> min_, max_;
    std::vector<bool> seen_;
};

struct OutlierChannel {
    size_t channel = 0;
    double max_abs = 0.0;
    double ratio = 0.0;  // max_abs / median over channels; +infinity when the median is 0
};

// Channels whose max |x| exceeds `factor` (> 1) times the median channel's, by channel
// index. A non-finite or negative entry is an input error naming the channel.
std::vector<OutlierChannel> find_outlier_channels(const std::vector<float>& channel_max_abs,
                                                  double factor = 8.0);

}  // namespace embq
