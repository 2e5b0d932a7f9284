// Observers: exact statistics where the answer is known by hand, the histogram searches
// against slow independent implementations, streaming, bounded memory, bad data,
// convergence, outlier channels and the factory.
#include "embq/observers.hpp"
#include "test_support.hpp"

#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <limits>
#include <numeric>
#include <random>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "embq/error.hpp"

namespace embq {
namespace {

constexpr float kNaN = std::numeric_limits<float>::quiet_NaN();
constexpr float kInf = std::numeric_limits<float>::infinity();

void observe_all(Observer& observer, const std::vector<float>& values, size_t samples = 1) {
    observer.observe(values.data(), values.size(), samples);
}

// Feeds `values` in consecutive batches of `batch` values, one sample per batch.
void observe_in_batches(Observer& observer, const std::vector<float>& values, size_t batch) {
    for (size_t start = 0; start < values.size(); start += batch)
        observer.observe(values.data() + start, std::min(batch, values.size() - start), 1);
}

std::vector<float> gaussian(size_t n, double mean, double sigma, unsigned seed) {
    std::mt19937 rng(seed);
    std::normal_distribution<float> dist(static_cast<float>(mean), static_cast<float>(sigma));
    std::vector<float> out(n);
    for (auto& v : out) v = dist(rng);
    return out;
}

std::vector<float> uniform(size_t n, double lo, double hi, unsigned seed) {
    std::mt19937 rng(seed);
    std::uniform_real_distribution<float> dist(static_cast<float>(lo), static_cast<float>(hi));
    std::vector<float> out(n);
    for (auto& v : out) v = dist(rng);
    return out;
}

using test::error_from;

void expect_contains(const std::string& text, const std::string& part) {
    EXPECT_NE(text.find(part), std::string::npos) << "'" << part << "' not in: " << text;
}

// ---- qparams ---------------------------------------------------------------------------

TEST(ObserverQParams, Quint8AffineExactOnAKnownRange) {
    const QParams q = qparams_for({-1.0, 3.0}, QuantTarget::Quint8Affine);
    EXPECT_DOUBLE_EQ(q.scale, 4.0 / 255.0);
    EXPECT_EQ(q.zero_point, 64);  // 255 / 4 = 63.75
}

TEST(ObserverQParams, Quint8WidensToIncludeZero) {
    const QParams positive = qparams_for({0.5, 2.0}, QuantTarget::Quint8Affine);
    EXPECT_DOUBLE_EQ(positive.scale, 2.0 / 255.0);
    EXPECT_EQ(positive.zero_point, 0);
    const QParams negative = qparams_for({-3.0, -1.0}, QuantTarget::Quint8Affine);
    EXPECT_DOUBLE_EQ(negative.scale, 3.0 / 255.0);
    EXPECT_EQ(negative.zero_point, 255);
}

TEST(ObserverQParams, Quint8ZeroPointRoundsHalfToEven) {
    // -lo / scale = 1 / (510 / 255) = 0.5 exactly: rounds to 0, as torch.round.
    EXPECT_EQ(qparams_for({-1.0, 509.0}, QuantTarget::Quint8Affine).zero_point, 0);
}

TEST(ObserverQParams, Qint8SymmetricExactOnAKnownRange) {
    const QParams q = qparams_for({-1.0, 3.0}, QuantTarget::Qint8Symmetric);
    EXPECT_DOUBLE_EQ(q.scale, 3.0 / 127.0);
    EXPECT_EQ(q.zero_point, 0);
    EXPECT_DOUBLE_EQ(qparams_for({-5.0, 2.0}, QuantTarget::Qint8Symmetric).scale, 5.0 / 127.0);
}

TEST(ObserverQParams, ZeroRangeGetsTheMinimumScale) {
    for (QuantTarget target : {QuantTarget::Quint8Affine, QuantTarget::Qint8Symmetric}) {
        const QParams q = qparams_for({0.0, 0.0}, target);
        EXPECT_EQ(q.scale, kMinScale);
        EXPECT_EQ(q.zero_point, 0);
    }
}

// ---- minmax, moving average, percentile -------------------------------------------------

TEST(MinMaxObserver, IsExact) {
    Observer observer = make_observer("minmax");
    observe_all(observer, {3.0f, -2.0f, 7.5f, 0.0f});
    observe_all(observer, {-4.25f, 1.0f});
    const ClipRange r = observer.range();
    EXPECT_EQ(r.lo, -4.25);
    EXPECT_EQ(r.hi, 7.5);
    EXPECT_EQ(observer.values(), 6u);
    EXPECT_EQ(observer.samples(), 2u);
}

TEST(MovingAverageObserver, MatchesAHandComputation) {
    Observer observer = make_observer("moving_average_minmax");
    observe_all(observer, {1.0f, 5.0f, 2.0f});  // first batch initialises: [1, 5]
    observe_all(observer, {-3.0f, 7.0f});       // [1 + 0.01 * (-3 - 1), 5 + 0.01 * (7 - 5)]
    observe_all(observer, {0.0f, 4.0f});
    const double lo2 = 1.0 + 0.01 * (-3.0 - 1.0), hi2 = 5.0 + 0.01 * (7.0 - 5.0);
    const double lo3 = lo2 + 0.01 * (0.0 - lo2), hi3 = hi2 + 0.01 * (4.0 - hi2);
    const ClipRange r = observer.range();
    EXPECT_DOUBLE_EQ(r.lo, lo3);  // 0.9504
    EXPECT_DOUBLE_EQ(r.hi, hi3);  // 4.9898
}

TEST(MovingAverageObserver, AveragingConstantIsAParameter) {
    Observer observer = make_observer("moving_average_minmax:0.5");
    observe_all(observer, {0.0f, 2.0f});
    observe_all(observer, {-2.0f, 4.0f});
    EXPECT_DOUBLE_EQ(observer.range().lo, -1.0);
    EXPECT_DOUBLE_EQ(observer.range().hi, 3.0);
}

TEST(PercentileObserver, ClipsBothTailsWithinABinWidth) {
    // 0.5, 1.5, ..., 9999.5: 1% of the values lie below 100 and 1% above 9900.
    std::vector<float> values(10000);
    for (size_t i = 0; i < values.size(); ++i) values[i] = static_cast<float>(i) + 0.5f;
    std::shuffle(values.begin(), values.end(), std::mt19937(7));
    Observer observer = make_observer("percentile:99");
    observe_all(observer, values);
    const double bin_width = 9999.0 / kHistogramBins;
    const ClipRange r = observer.range();
    EXPECT_NEAR(r.lo, 100.0, bin_width);
    EXPECT_NEAR(r.hi, 9900.0, bin_width);
}

TEST(PercentileObserver, HundredIsMinMax) {
    const std::vector<float> values = gaussian(5000, 1.0, 3.0, 11);
    Observer percentile = make_observer("percentile:100"), minmax = make_observer("minmax");
    observe_all(percentile, values);
    observe_all(minmax, values);
    EXPECT_EQ(percentile.range().lo, minmax.range().lo);
    EXPECT_EQ(percentile.range().hi, minmax.range().hi);
}

// ---- mse -------------------------------------------------------------------------------

// Expected squared error of quantizing `sorted` to 256 levels on [a, b], computed on the
// raw values (no histogram): clipped values cost their distance to the edge squared, the
// others step^2 / 12. Prefix sums make it O(log n) per candidate.
class ExactQuantizationError {
public:
    explicit ExactQuantizationError(std::vector<float> values) : x_(std::move(values)) {
        std::sort(x_.begin(), x_.end());
        sum_.assign(x_.size() + 1, 0.0);
        sum_sq_.assign(x_.size() + 1, 0.0);
        for (size_t i = 0; i < x_.size(); ++i) {
            sum_[i + 1] = sum_[i] + x_[i];
            sum_sq_[i + 1] = sum_sq_[i] + static_cast<double>(x_[i]) * x_[i];
        }
    }
    double operator()(double a, double b) const {
        const size_t below = std::lower_bound(x_.begin(), x_.end(), a) - x_.begin();
        const size_t above = std::upper_bound(x_.begin(), x_.end(), b) - x_.begin();
        const size_t n = x_.size();
        const double clip_lo = a * a * below - 2 * a * sum_[below] + sum_sq_[below];
        const double count_hi = static_cast<double>(n - above);
        const double clip_hi =
            (sum_sq_[n] - sum_sq_[above]) - 2 * b * (sum_[n] - sum_[above]) + b * b * count_hi;
        const double step = (b - a) / 255.0;
        return clip_lo + clip_hi + static_cast<double>(above - below) * step * step / 12.0;
    }

private:
    std::vector<float> x_;
    std::vector<double> sum_, sum_sq_;
};

struct BruteForceMinimum {
    ClipRange range;
    double error = std::numeric_limits<double>::infinity();
};

BruteForceMinimum brute_force_minimum(const ExactQuantizationError& error, ClipRange lo_span,
                                      ClipRange hi_span, double step) {
    BruteForceMinimum best;
    for (double a = lo_span.lo; a <= lo_span.hi; a += step)
        for (double b = hi_span.lo; b <= hi_span.hi; b += step) {
            const double e = error(a, b);
            if (e < best.error) best = {{a, b}, e};
        }
    return best;
}

TEST(MseObserver, UniformDataKeepsAlmostTheFullRange) {
    const std::vector<float> values = uniform(200000, -1.0, 3.0, 3);
    Observer observer = make_observer("mse");
    observe_all(observer, values);
    const ClipRange r = observer.range();
    // Trimming a few bins saves more rounding than it costs in clipping, so the optimum
    // sits just inside the full range: about 0.2% of the span on each side.
    EXPECT_GT(r.lo, -1.0);
    EXPECT_LT(r.lo, -1.0 + 0.01 * 4.0);
    EXPECT_LT(r.hi, 3.0);
    EXPECT_GT(r.hi, 3.0 - 0.01 * 4.0);
}

TEST(MseObserver, GaussianWithOutliersIsWithinTwoBinsOfTheBruteForceMinimum) {
    // 10^6 N(0, 1) values and one outlier at each of +-100. For a range [-t, t] that clips
    // no Gaussian value, the expected error is 2 (100 - t)^2 + 10^6 (2t / 255)^2 / 12,
    // least at t = 100 / (1 + 2 * 10^6 / (12 * 255^2)) = 28.07: the outliers are clipped
    // by 72, and the range is 28% of minmax's.
    std::vector<float> values = gaussian(1000000, 0.0, 1.0, 5);
    values.insert(values.end(), {100.0f, -100.0f});
    Observer mse = make_observer("mse"), minmax = make_observer("minmax");
    observe_all(mse, values);
    observe_all(minmax, values);
    const ClipRange r = mse.range();
    const double bin_width = 200.0 / kHistogramBins;
    const double t = 100.0 / (1.0 + 2.0e6 / (12.0 * 255.0 * 255.0));
    EXPECT_NEAR(r.lo, -t, 2 * bin_width);
    EXPECT_NEAR(r.hi, t, 2 * bin_width);
    EXPECT_LT(r.hi - r.lo, 0.3 * (minmax.range().hi - minmax.range().lo));

    // Independently: the least expected error on the raw values over a fine grid.
    const ExactQuantizationError error(values);
    const BruteForceMinimum best =
        brute_force_minimum(error, {-35.0, -20.0}, {20.0, 35.0}, bin_width / 4);
    EXPECT_NEAR(r.lo, best.range.lo, 2 * bin_width);
    EXPECT_NEAR(r.hi, best.range.hi, 2 * bin_width);
    EXPECT_LE(error(r.lo, r.hi), 1.001 * best.error);
}

TEST(MseObserver, GaussianAloneClipsOnlyTheFarTails) {
    // Without outliers 8-bit MSE clips a Gaussian at a few sigma (about 4 for 10^6 values).
    const std::vector<float> values = gaussian(1000000, 0.0, 1.0, 6);
    Observer mse = make_observer("mse"), minmax = make_observer("minmax");
    observe_all(mse, values);
    observe_all(minmax, values);
    const ClipRange r = mse.range();
    EXPECT_GT(r.hi, 3.0);
    EXPECT_LT(r.hi, minmax.range().hi);
    EXPECT_LT(r.lo, -3.0);
    EXPECT_GT(r.lo, minmax.range().lo);

    const double bin_width = (minmax.range().hi - minmax.range().lo) / kHistogramBins;
    const ExactQuantizationError error(values);
    const BruteForceMinimum best =
        brute_force_minimum(error, {-5.5, -2.5}, {2.5, 5.5}, bin_width / 4);
    EXPECT_NEAR(r.lo, best.range.lo, 2 * bin_width);
    EXPECT_NEAR(r.hi, best.range.hi, 2 * bin_width);
    EXPECT_LE(error(r.lo, r.hi), 1.001 * best.error);
}

TEST(MseRange, ConstantDataIsOneBin) {
    Histogram hist;
    const std::vector<float> values(100, 4.0f);
    hist.add(values.data(), values.size(), {4.0, 4.0});
    const ClipRange r = mse_range(hist);
    EXPECT_LE(r.lo, 4.0);
    EXPECT_GE(r.hi, 4.0);
    EXPECT_NEAR(r.hi - r.lo, hist.bin_width(), 1e-12);
}

// ---- entropy ---------------------------------------------------------------------------

// The algorithm of entropy_threshold() as documented, written the slow, obvious way:
// every candidate builds P and Q bin by bin, finding each bin's group by search.
double slow_entropy_threshold(const Histogram& hist, int levels) {
    const std::vector<uint64_t>& counts = hist.counts();
    size_t n = counts.size();
    while (n > 0 && counts[n - 1] == 0) --n;
    if (n <= static_cast<size_t>(levels)) return n * hist.bin_width();

    double best = std::numeric_limits<double>::infinity();
    size_t best_i = n;
    for (size_t i = levels; i <= n; ++i) {
        std::vector<double> p(i);
        for (size_t j = 0; j < i; ++j) p[j] = static_cast<double>(counts[j]);
        for (size_t j = i; j < n; ++j) p[i - 1] += static_cast<double>(counts[j]);

        std::vector<double> q(i, 0.0);
        for (size_t j = 0; j < i; ++j) {
            if (p[j] == 0) continue;
            int group = 0;
            while (!((group * i) / levels <= j && j < ((group + 1) * i) / levels)) ++group;
            const size_t begin = group * i / levels, end = (group + 1) * i / levels;
            double group_count = 0;
            int nonzero = 0;
            for (size_t k = begin; k < end; ++k) {
                group_count += static_cast<double>(counts[k]);  // without the clipped values
                if (p[k] > 0) ++nonzero;
            }
            q[j] = group_count / nonzero;
        }
        const double p_sum = std::accumulate(p.begin(), p.end(), 0.0);
        const double q_sum = std::accumulate(q.begin(), q.end(), 0.0);
        if (q_sum == 0) continue;  // divergence infinite
        int starved = 0;
        for (size_t j = 0; j < i; ++j) starved += (p[j] > 0 && q[j] == 0);
        double kl = 0;
        for (size_t j = 0; j < i; ++j) {
            if (p[j] == 0) continue;
            const double pj = p[j] / p_sum;
            const double qj = (q[j] > 0 ? q[j] / q_sum : 1e-4) / (1 + 1e-4 * starved);
            kl += pj * std::log(pj / qj);
        }
        if (kl < best) {
            best = kl;
            best_i = i;
        }
    }
    return best_i * hist.bin_width();
}

// Laplace-like activations (heavy tails) plus a handful of large outliers.
std::vector<float> heavy_tailed(size_t n, unsigned seed) {
    std::mt19937 rng(seed);
    std::exponential_distribution<float> magnitude(1.0f);
    std::bernoulli_distribution sign(0.5);
    std::vector<float> out(n);
    for (auto& v : out) v = (sign(rng) ? 1.0f : -1.0f) * magnitude(rng);
    for (size_t i = 0; i < 20; ++i) out[i * (n / 20)] = (i % 2 ? 60.0f : -45.0f);
    return out;
}

TEST(EntropyThreshold, MatchesASlowReferenceImplementation) {
    for (unsigned seed : {1u, 2u, 3u}) {
        const std::vector<float> values = heavy_tailed(200000, seed);
        Histogram hist(Histogram::Origin::Zero);
        float max_abs = 0;
        for (float v : values) max_abs = std::max(max_abs, std::abs(v));
        hist.add_abs(values.data(), values.size(), max_abs);
        const double fast = entropy_threshold(hist, 128);
        EXPECT_DOUBLE_EQ(fast, slow_entropy_threshold(hist, 128)) << "seed " << seed;
        EXPECT_LT(fast, 0.5 * max_abs) << "the outliers should be clipped";
    }
}

TEST(EntropyThreshold, MatchesTheReferenceWithAFewLevels) {
    // Few levels make uneven groups (i not a multiple of levels) and empty groups common.
    const std::vector<float> values = heavy_tailed(3000, 9);
    Histogram hist(Histogram::Origin::Zero, 256);
    float max_abs = 0;
    for (float v : values) max_abs = std::max(max_abs, std::abs(v));
    hist.add_abs(values.data(), values.size(), max_abs);
    for (int levels : {3, 16, 100})
        EXPECT_DOUBLE_EQ(entropy_threshold(hist, levels), slow_entropy_threshold(hist, levels))
            << levels << " levels";
}

TEST(EntropyObserver, RangeIsTheSymmetricThresholdClampedToTheData) {
    std::vector<float> values = heavy_tailed(100000, 4);
    for (auto& v : values) v = std::abs(v);  // all >= 0, like a ReLU output
    Observer observer = make_observer("entropy");
    observe_all(observer, values);
    Histogram hist(Histogram::Origin::Zero);
    hist.add_abs(values.data(), values.size(), 60.0);
    const ClipRange r = observer.range();
    EXPECT_EQ(r.lo, *std::min_element(values.begin(), values.end()));
    EXPECT_DOUBLE_EQ(r.hi, entropy_threshold(hist, 128));
}

// ---- histogram: streaming, growth, bounded memory ----------------------------------------

TEST(Histogram, RebinningOnGrowthIsExact) {
    // Streams batches whose spread grows 1000-fold, then bins every value again directly on
    // the final grid: growth must have put each count in the bin that contains its value.
    std::vector<float> all;
    Histogram hist;
    for (int b = 0; b < 60; ++b) {
        const double scale = std::pow(1.125, b), shift = 0.3 * b;
        std::vector<float> batch = uniform(500, shift - scale, shift + 0.5 * scale, 100 + b);
        const auto [lo, hi] = std::minmax_element(batch.begin(), batch.end());
        hist.add(batch.data(), batch.size(), {*lo, *hi});
        all.insert(all.end(), batch.begin(), batch.end());
    }
    std::vector<uint64_t> direct(kHistogramBins, 0);
    for (float v : all) {
        const double position = (v - hist.lo()) / hist.bin_width();
        ASSERT_GE(position, 0.0);
        ASSERT_LE(position, static_cast<double>(kHistogramBins));
        ++direct[std::min<size_t>(static_cast<size_t>(position), kHistogramBins - 1)];
    }
    EXPECT_EQ(hist.counts(), direct);
    EXPECT_EQ(hist.total(), all.size());
    const auto [lo, hi] = std::minmax_element(all.begin(), all.end());
    EXPECT_LT(hist.hi() - hist.lo(), 2.0 * (*hi - *lo) + 4 * hist.bin_width());
}

TEST(Histogram, ShiftsWithoutCoarseningWhenTheDataStillFits) {
    Histogram hist;
    const std::vector<float> first = {0.0f, 1.0f}, far = {1.5f, 1.6f}, drift = {1.9f, 1.95f};
    hist.add(first.data(), first.size(), {0.0, 1.0});
    hist.add(far.data(), far.size(), {1.5, 1.6});  // [0, 1.6] needs twice the width
    const double width = hist.bin_width();
    EXPECT_DOUBLE_EQ(width, 2.0 / kHistogramBins);
    hist.add(drift.data(), drift.size(), {1.9, 1.95});  // [0, 1.95] fits: shift only
    EXPECT_EQ(hist.bin_width(), width);
    EXPECT_LE(hist.lo(), 0.0);
    EXPECT_GE(hist.hi(), 1.95);
    EXPECT_EQ(hist.total(), 6u);
    EXPECT_EQ(hist.counts()[hist.used_begin()], 1u);  // 0.0 still alone in its bin
}

TEST(Histogram, ConstantFirstBatchThenGrowth) {
    Histogram hist;
    const std::vector<float> zeros(10, 0.0f), wide = {-3.0f, 5.0f};
    hist.add(zeros.data(), zeros.size(), {0.0, 0.0});
    EXPECT_GT(hist.bin_width(), 0.0);
    hist.add(wide.data(), wide.size(), {-3.0, 5.0});
    EXPECT_LE(hist.lo(), -3.0);
    EXPECT_GE(hist.hi(), 5.0);
    EXPECT_LT(hist.hi() - hist.lo(), 16.0 + 4 * hist.bin_width());
    EXPECT_EQ(hist.total(), 12u);
    const size_t zero_bin = static_cast<size_t>((0.0 - hist.lo()) / hist.bin_width());
    EXPECT_EQ(hist.counts()[zero_bin], 10u);
}

TEST(Histogram, SizeIsBoundedOverAMillionValuesOnAGrowingRange) {
    Histogram hist, abs_hist(Histogram::Origin::Zero);
    for (int b = 0; b < 1000; ++b) {
        const double scale = std::pow(1.02, b);
        const std::vector<float> batch = uniform(1000, -scale, 2 * scale, b);
        const auto [lo, hi] = std::minmax_element(batch.begin(), batch.end());
        hist.add(batch.data(), batch.size(), {*lo, *hi});
        abs_hist.add_abs(batch.data(), batch.size(), std::max(-*lo, *hi));
    }
    EXPECT_EQ(hist.total(), 1000000u);
    EXPECT_EQ(hist.counts().size(), kHistogramBins);
    EXPECT_EQ(abs_hist.counts().size(), kHistogramBins);
    EXPECT_EQ(abs_hist.lo(), 0.0);
}

TEST(Observer, StateIsBoundedOverAMillionValuesOnAGrowingRange) {
    for (const std::string& name : observer_names()) {
        Observer observer = make_observer(name);
        size_t after_first = 0;
        for (int b = 0; b < 1000; ++b) {
            const double scale = std::pow(1.02, b);
            observe_all(observer, uniform(1000, -scale, 2 * scale, b));
            if (b == 0) after_first = observer.state_bytes();
            ASSERT_LE(observer.state_bytes(), kMaxObserverStateBytes) << name << " batch " << b;
        }
        EXPECT_EQ(observer.values(), 1000000u);
        EXPECT_GT(after_first, 0u);
    }
}

TEST(Observer, StreamingMatchesOneBatchWithinABinWidth) {
    // Small values first, then ever wider ones: the streamed histograms grow many times.
    std::vector<float> values;
    for (int b = 0; b < 400; ++b) {
        const std::vector<float> batch = gaussian(250, 0.0, 0.01 * std::pow(1.02, b), 50 + b);
        values.insert(values.end(), batch.begin(), batch.end());
    }
    const auto [lo, hi] = std::minmax_element(values.begin(), values.end());
    const double span = *hi - *lo;
    // The streamed histogram spans under twice the data plus four bins.
    const double stream_bin = 2.0 * span / (kHistogramBins - 4);

    // Entropy is the exception: KL divergence is measured bin by bin, so its minimum depends
    // on the grid as well as on the data (the streamed grid is up to twice as coarse and
    // aligned differently). It agrees to 2.5% of max |x| here.
    const double max_abs = std::max(-*lo, *hi);
    const struct {
        const char* spec;
        double tolerance;
    } cases[] = {{"minmax", 0.0},
                 {"percentile", stream_bin},
                 {"percentile:99", stream_bin},
                 {"mse", 2 * stream_bin},
                 {"entropy", 0.025 * max_abs}};
    for (const auto& c : cases) {
        Observer streamed = make_observer(c.spec), whole = make_observer(c.spec);
        observe_in_batches(streamed, values, 250);
        observe_all(whole, values);
        EXPECT_NEAR(streamed.range().lo, whole.range().lo, c.tolerance) << c.spec;
        EXPECT_NEAR(streamed.range().hi, whole.range().hi, c.tolerance) << c.spec;
        EXPECT_EQ(streamed.values(), whole.values());
    }
}

// ---- bad data ----------------------------------------------------------------------------

TEST(Observer, NonFiniteValuesAreCountedAndExcluded) {
    for (const std::string& name : observer_names()) {
        Observer observer = make_observer(name);
        observe_all(observer, {1.0f, kNaN, 2.0f, kInf, -kInf, 3.0f});
        EXPECT_EQ(observer.nonfinite(), 3u) << name;
        EXPECT_EQ(observer.values(), 3u) << name;
        const ClipRange r = observer.range();
        EXPECT_GE(r.lo, 1.0) << name;
        EXPECT_LE(r.hi, 3.0) << name;
        EXPECT_EQ(observer.to_json()["nonfinite"], 3) << name;
    }
}

TEST(Observer, NoFiniteValuesIsAnInputError) {
    for (const std::string& name : observer_names()) {
        Observer observer = make_observer(name);
        observe_all(observer, {kNaN, kInf});
        const Error e = error_from([&] { observer.range(); });
        EXPECT_EQ(e.category(), ErrorCategory::Input);
        expect_contains(e.what(), "no finite values");
        expect_contains(e.what(), "2 NaN/Inf");
        EXPECT_EQ(std::string(e.what()).find('\n'), std::string::npos);
        EXPECT_EQ(error_from([&] { observer.qparams(QuantTarget::Qint8Symmetric); }).category(),
                  ErrorCategory::Input);
        const nlohmann::json report = observer.to_json();  // reports, never throws
        EXPECT_TRUE(report["range"].is_null());
        EXPECT_EQ(report["nonfinite"], 2);
    }
    Observer never_fed = make_observer("minmax");
    EXPECT_EQ(error_from([&] { never_fed.range(); }).category(), ErrorCategory::Input);
}

TEST(Observer, ConstantInputGivesANonZeroScale) {
    for (const std::string& name : observer_names()) {
        Observer observer = make_observer(name);
        observe_all(observer, std::vector<float>(1000, 2.5f));
        const ClipRange r = observer.range();
        EXPECT_EQ(r.lo, 2.5) << name;
        EXPECT_EQ(r.hi, 2.5) << name;
        EXPECT_DOUBLE_EQ(observer.qparams(QuantTarget::Quint8Affine).scale, 2.5 / 255.0) << name;
        EXPECT_DOUBLE_EQ(observer.qparams(QuantTarget::Qint8Symmetric).scale, 2.5 / 127.0) << name;

        Observer zeros = make_observer(name);
        observe_all(zeros, std::vector<float>(1000, 0.0f));
        EXPECT_EQ(zeros.qparams(QuantTarget::Quint8Affine).scale, kMinScale) << name;
        EXPECT_EQ(zeros.qparams(QuantTarget::Qint8Symmetric).scale, kMinScale) << name;
    }
}

TEST(Observer, ResetForgetsEverything) {
    Observer observer = make_observer("percentile");
    observe_all(observer, {1.0f, kNaN, 2.0f});
    observer.reset();
    EXPECT_EQ(observer.values() + observer.nonfinite() + observer.samples(), 0u);
    EXPECT_EQ(error_from([&] { observer.range(); }).category(), ErrorCategory::Input);
    observe_all(observer, {-7.0f, 7.0f});
    EXPECT_NEAR(observer.range().lo, -7.0, 14.0 / kHistogramBins);
}

// ---- json --------------------------------------------------------------------------------

TEST(Observer, JsonIsDeterministic) {
    const std::vector<float> values = heavy_tailed(50000, 12);
    for (const std::string& name : observer_names()) {
        Observer first = make_observer(name), second = make_observer(name);
        observe_in_batches(first, values, 1000);
        observe_in_batches(second, values, 1000);
        const std::string dump = first.to_json().dump();
        EXPECT_EQ(dump, second.to_json().dump()) << name;
        const nlohmann::json report = nlohmann::json::parse(dump);
        EXPECT_EQ(report["observer"], first.spec());
        EXPECT_EQ(report["samples"], 50);
        EXPECT_EQ(report["range"][0].get<double>(), first.range().lo);
        EXPECT_EQ(report["qparams"]["qint8"]["scale"].get<double>(),
                  first.qparams(QuantTarget::Qint8Symmetric).scale);
        EXPECT_TRUE(report["qparams"]["quint8"].contains("zero_point"));
    }
}

// ---- convergence -------------------------------------------------------------------------

TEST(Observer, StationaryStreamConverges) {
    for (const std::string& name : observer_names()) {
        Observer observer = make_observer(name);
        for (int b = 0; b < 1000; ++b) observe_all(observer, uniform(256, -1.0, 1.0, b));
        const Convergence c = observer.convergence();
        EXPECT_TRUE(observer.converged(0.01)) << name << " moved " << c.movement;
        // One-sample batches: the reference lies between 85.7% and 90% of the samples.
        EXPECT_GE(c.reference_samples, 857u) << name;
        EXPECT_LE(c.reference_samples, 900u) << name;
        EXPECT_EQ(c.samples, 1000u);
    }
}

TEST(Observer, DriftingStreamDoesNotConverge) {
    for (const std::string& name : observer_names()) {
        Observer observer = make_observer(name);
        for (int b = 0; b < 1000; ++b)
            observe_all(observer, uniform(256, -1.0 + 0.01 * b, 1.0 + 0.01 * b, b));
        EXPECT_FALSE(observer.converged(0.01))
            << name << " moved " << observer.convergence().movement;
    }
}

TEST(Observer, ConvergenceIsUnknownWithoutAnEarlierCheckpoint) {
    Observer observer = make_observer("minmax");
    observe_all(observer, {1.0f, 2.0f}, 100);  // one batch covering 100 samples
    EXPECT_TRUE(std::isinf(observer.convergence().movement));
    EXPECT_FALSE(observer.converged());
    EXPECT_TRUE(observer.to_json()["convergence"]["movement"].is_null());
}

// ---- outlier channels ----------------------------------------------------------------------

TEST(OutlierChannels, FlagsChannelsFarAboveTheMedian) {
    std::vector<float> max_abs(64);
    for (size_t c = 0; c < max_abs.size(); ++c)
        max_abs[c] = 0.5f + static_cast<float>(c % 11) / 10.0f;
    max_abs[7] = 20.0f;
    max_abs[30] = 9.5f;
    max_abs[40] = 7.0f;  // large, but under 8x the median (1.0)
    const std::vector<OutlierChannel> outliers = find_outlier_channels(max_abs);
    ASSERT_EQ(outliers.size(), 2u);
    EXPECT_EQ(outliers[0].channel, 7u);
    EXPECT_EQ(outliers[1].channel, 30u);
    EXPECT_DOUBLE_EQ(outliers[0].ratio, 20.0 / 1.0);
    ASSERT_EQ(find_outlier_channels(max_abs, 15.0).size(), 1u);
}

TEST(OutlierChannels, ChannelRangeSkipsNonFiniteValues) {
    ChannelRange tracker(3);
    const std::vector<float> rows = {1.0f,  -2.0f, 0.5f,   //
                                     -4.0f, kNaN,  0.25f,  //
                                     0.0f,  1.0f,  -kInf};
    tracker.observe(rows.data(), 3);
    EXPECT_EQ(tracker.max_abs(), (std::vector<float>{4.0f, 2.0f, 0.5f}));
    EXPECT_EQ(tracker.min(), (std::vector<float>{-4.0f, -2.0f, 0.25f}));
    EXPECT_EQ(tracker.max(), (std::vector<float>{1.0f, 1.0f, 0.5f}));
}

TEST(OutlierChannels, ZeroMedianAndBadInput) {
    const std::vector<OutlierChannel> zero_median = find_outlier_channels({0, 0, 0, 3});
    ASSERT_EQ(zero_median.size(), 1u);
    EXPECT_TRUE(std::isinf(zero_median[0].ratio));
    EXPECT_EQ(error_from([] {
                  find_outlier_channels({1, 2}, 1.0);
              }).category(),
              ErrorCategory::Usage);
    const Error bad = error_from([] { find_outlier_channels({1, kNaN, 2}); });
    EXPECT_EQ(bad.category(), ErrorCategory::Input);
    expect_contains(bad.what(), "channel 1");
    EXPECT_TRUE(find_outlier_channels({}).empty());
}

// ---- factory -----------------------------------------------------------------------------

TEST(ObserverFactory, ParsesEveryKindAndItsParameter) {
    EXPECT_EQ(observer_names(), (std::vector<std::string>{"minmax", "moving_average_minmax",
                                                          "percentile", "mse", "entropy"}));
    for (const ObserverKind& kind : observer_kinds()) {
        EXPECT_EQ(make_observer(kind.name).name(), kind.name);
        EXPECT_GT(std::string(kind.summary).size(), 10u);
    }
    EXPECT_EQ(make_observer("percentile").spec(), "percentile:99.99");
    EXPECT_EQ(make_observer("percentile:99.9").spec(), "percentile:99.9");
    EXPECT_EQ(make_observer("moving_average_minmax").spec(), "moving_average_minmax:0.01");
    EXPECT_EQ(make_observer("mse").spec(), "mse");
}

TEST(ObserverFactory, RejectsBadSpecsWithUsageErrors) {
    const Error typo = error_from([] { make_observer("minmaxx"); });
    EXPECT_EQ(typo.category(), ErrorCategory::Usage);
    expect_contains(typo.what(), "did you mean 'minmax'?");
    expect_contains(typo.what(),
                    "valid observers: minmax, moving_average_minmax, percentile, mse, entropy");

    const Error unknown = error_from([] { make_observer("histogram"); });
    expect_contains(unknown.what(), "unknown observer 'histogram'");
    EXPECT_EQ(std::string(unknown.what()).find("did you mean"), std::string::npos);

    expect_contains(error_from([] { make_observer("minmax:3"); }).what(), "takes no parameter");
    expect_contains(error_from([] { make_observer("percentile:abc"); }).what(), "not a number");
    expect_contains(error_from([] { make_observer("percentile:"); }).what(), "not a number");
    expect_contains(error_from([] { make_observer("percentile:40"); }).what(), "(50, 100]");
    expect_contains(error_from([] { make_observer("percentile:100.5"); }).what(), "(50, 100]");
    expect_contains(error_from([] { make_observer("moving_average_minmax:0"); }).what(), "(0, 1]");
    EXPECT_EQ(error_from([] { make_observer(""); }).category(), ErrorCategory::Usage);
}

}  // namespace
}  // namespace embq
