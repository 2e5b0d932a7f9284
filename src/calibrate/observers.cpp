#include "embq/observers.hpp"

#include <algorithm>
#include <cfloat>
#include <cmath>
#include <cstdlib>
#include <iterator>
#include <limits>
#include <string_view>

#include <nlohmann/json.hpp>

#include "embq/error.hpp"
#include "core/suggest.hpp"

namespace embq {

namespace {

constexpr double kInfinity = std::numeric_limits<double>::infinity();

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

const char* to_string(QuantTarget target) noexcept {
    switch (target) {
        case QuantTarget::Quint8Affine: return "quint8";
        case QuantTarget::Qint8Symmetric: return "qint8";
    }
    return "unknown";
}

QParams qparams_for(ClipRange range, QuantTarget target) {
    EMBQ_ASSERT(range.lo <= range.hi);
    QParams q;
    if (target == QuantTarget::Qint8Symmetric) {
        const double bound = std::max(std::abs(range.lo), std::abs(range.hi));
        q.scale = std::max(bound / 127.0, kMinScale);
        q.zero_point = 0;
        return q;
    }
    // Widen to include 0 so that 0 has an exact code (padding, ReLU output).
    const double lo = std::min(range.lo, 0.0), hi = std::max(range.hi, 0.0);
    q.scale = std::max((hi - lo) / 255.0, kMinScale);
    const double zero = std::nearbyint(-lo / q.scale);  // half to even, as torch.round
    q.zero_point = static_cast<int32_t>(std::clamp(zero, 0.0, 255.0));
    return q;
}

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
    if (total_ == 0) start(batch); else cover(batch);
    insert(values, count, [](float v) { return static_cast<double>(v); });
}

void Histogram::add_abs(const float* values, size_t count, double max_abs) {
    if (count == 0) return;
    EMBQ_ASSERT(origin_ == Origin::Zero);
    const ClipRange batch{0.0, max_abs};
    if (total_ == 0) start(batch); else cover(batch);
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

// ---------------------------------------------------------------------------------------
// ClipRange choices over a histogram

ClipRange percentile_range(const Histogram& hist, double percentile) {
    EMBQ_ASSERT(!hist.empty() && percentile > 50.0 && percentile <= 100.0);
    const double tail = (100.0 - percentile) / 100.0;
    return {hist.quantile(tail), hist.quantile(1.0 - tail)};
}

namespace {

// E[x^2] for x uniform on [j, j + 1].
double bin_second_moment(double j) { return (j * j + j * (j + 1.0) + (j + 1.0) * (j + 1.0)) / 3.0; }

// Clipping error of every lower edge a (in bins from `first`): sum over bins below a of
// count * E[(a - x)^2] = a^2 C - 2 a M + S, with C, M, S the count, first and second moment
// of those bins (accumulated from the left, so a few clipped bins are summed precisely).
std::vector<double> clipping_error_below(const std::vector<double>& counts) {
    const size_t n = counts.size();
    std::vector<double> error(n + 1, 0.0);
    double c = 0.0, m = 0.0, s = 0.0;
    for (size_t a = 0; a <= n; ++a) {
        const double x = static_cast<double>(a);
        error[a] = x * x * c - 2.0 * x * m + s;
        if (a < n) {
            c += counts[a];
            m += counts[a] * (x + 0.5);
            s += counts[a] * bin_second_moment(x);
        }
    }
    return error;
}

// The same for every upper edge b: bins at or above b clipped down to b (from the right).
std::vector<double> clipping_error_above(const std::vector<double>& counts) {
    const size_t n = counts.size();
    std::vector<double> error(n + 1, 0.0);
    double c = 0.0, m = 0.0, s = 0.0;
    for (size_t b = n + 1; b-- > 0;) {
        const double x = static_cast<double>(b);
        error[b] = s - 2.0 * x * m + x * x * c;
        if (b > 0) {
            const double j = x - 1.0;
            c += counts[b - 1];
            m += counts[b - 1] * (j + 0.5);
            s += counts[b - 1] * bin_second_moment(j);
        }
    }
    return error;
}

std::vector<double> occupied_counts(const Histogram& hist, size_t begin, size_t end) {
    return std::vector<double>(hist.counts().begin() + static_cast<std::ptrdiff_t>(begin),
                               hist.counts().begin() + static_cast<std::ptrdiff_t>(end));
}

}  // namespace

ClipRange mse_range(const Histogram& hist, int levels) {
    EMBQ_ASSERT(!hist.empty() && levels >= 2);
    const size_t first = hist.used_begin(), end = hist.used_end();
    const std::vector<double> counts = occupied_counts(hist, first, end);
    const size_t n = counts.size();

    const std::vector<double> below = clipping_error_below(counts);
    const std::vector<double> above = clipping_error_above(counts);
    std::vector<double> count_below(n + 1, 0.0), count_above(n + 1, 0.0);
    for (size_t i = 0; i < n; ++i) count_below[i + 1] = count_below[i] + counts[i];
    for (size_t i = n; i-- > 0;) count_above[i] = count_above[i + 1] + counts[i];
    const double total = count_below[n];
    const double rounding = 1.0 / (12.0 * (levels - 1.0) * (levels - 1.0));  // step^2/12 per span^2

    double best = kInfinity;
    size_t best_a = 0, best_b = n;
    for (size_t a = 0; a < n; ++a) {
        for (size_t b = a + 1; b <= n; ++b) {
            const double span = static_cast<double>(b - a);
            const double inside = total - count_below[a] - count_above[b];
            const double error = below[a] + above[b] + inside * span * span * rounding;
            if (error < best) {
                best = error;
                best_a = a;
                best_b = b;
            }
        }
    }
    return {hist.edge(first + best_a), hist.edge(first + best_b)};
}

namespace {

// P and Q of one candidate of entropy_threshold() (unnormalised): P is the first `kept`
// bins with the `clipped` count added to the last; Q merges those bins (without the
// clipped count) into `levels` groups and spreads each group over its bins where P > 0.
// Returns the mass of Q.
double candidate_distributions(const std::vector<double>& counts, size_t kept, double clipped,
                               int levels, std::vector<double>& p, std::vector<double>& q) {
    p.assign(counts.begin(), counts.begin() + static_cast<std::ptrdiff_t>(kept));
    p[kept - 1] += clipped;
    q.assign(kept, 0.0);
    double q_mass = 0.0;
    for (size_t g = 0; g < static_cast<size_t>(levels); ++g) {
        const size_t begin = g * kept / static_cast<size_t>(levels);
        const size_t end = (g + 1) * kept / static_cast<size_t>(levels);
        double group = 0.0;
        size_t nonzero = 0;
        for (size_t j = begin; j < end; ++j) {
            group += counts[j];
            nonzero += p[j] > 0.0;
        }
        if (nonzero == 0) continue;  // then the group's count is 0 too
        for (size_t j = begin; j < end; ++j)
            q[j] = p[j] > 0.0 ? group / static_cast<double>(nonzero) : 0.0;
        q_mass += group;
    }
    return q_mass;
}

// KL(P || Q) after normalising both, with the 1e-4 smoothing of Q where Q = 0 < P.
double smoothed_divergence(const std::vector<double>& p, const std::vector<double>& q,
                           double q_mass) {
    constexpr double kSmoothing = 1e-4;
    double p_mass = 0.0;
    size_t starved = 0;  // bins where Q = 0 < P
    for (size_t j = 0; j < p.size(); ++j) {
        p_mass += p[j];
        starved += p[j] > 0.0 && q[j] == 0.0;
    }
    const double q_norm = 1.0 + kSmoothing * static_cast<double>(starved);
    double divergence = 0.0;
    for (size_t j = 0; j < p.size(); ++j) {
        if (p[j] == 0.0) continue;
        const double pj = p[j] / p_mass;
        const double qj = (q[j] > 0.0 ? q[j] / q_mass : kSmoothing) / q_norm;
        divergence += pj * std::log(pj / qj);
    }
    return divergence;
}

}  // namespace

double entropy_threshold(const Histogram& abs_hist, int levels) {
    EMBQ_ASSERT(!abs_hist.empty() && levels >= 2);
    const size_t n = abs_hist.used_end();
    const size_t first_candidate = static_cast<size_t>(levels);
    if (n <= first_candidate) return abs_hist.edge(n);

    const std::vector<double> counts = occupied_counts(abs_hist, 0, n);
    std::vector<double> clipped_from(n + 1, 0.0);  // count in bins >= i
    for (size_t i = n; i-- > 0;) clipped_from[i] = clipped_from[i + 1] + counts[i];

    std::vector<double> p, q;  // scratch, reused across candidates
    double best = kInfinity;
    size_t best_kept = n;
    for (size_t kept = first_candidate; kept <= n; ++kept) {
        const double q_mass =
            candidate_distributions(counts, kept, clipped_from[kept], levels, p, q);
        // No mass left in Q (every kept bin empty): infinitely far, as MXNet treats it.
        const double divergence = q_mass > 0.0 ? smoothed_divergence(p, q, q_mass) : kInfinity;
        if (divergence < best) {
            best = divergence;
            best_kept = kept;
        }
    }
    return abs_hist.edge(best_kept);
}

// ---------------------------------------------------------------------------------------
// Observer kinds: only the statistics differ.

namespace {

class MinMaxStatistics final : public ObserverStatistics {
public:
    void add(const float*, size_t, ClipRange batch) override {
        min_ = std::min(min_, batch.lo);
        max_ = std::max(max_, batch.hi);
    }
    ClipRange choose_range() const override { return {min_, max_}; }
    nlohmann::json to_json() const override { return nlohmann::json::object(); }
    size_t state_bytes() const override { return sizeof(*this); }
    std::unique_ptr<ObserverStatistics> clone() const override {
        return std::make_unique<MinMaxStatistics>(*this);
    }
    void clear() override { *this = MinMaxStatistics(); }

private:
    double min_ = kInfinity, max_ = -kInfinity;
};

// PyTorch's MovingAverageMinMaxObserver: m += c * (batch - m), the first batch initialises.
class MovingAverageStatistics final : public ObserverStatistics {
public:
    explicit MovingAverageStatistics(double averaging_constant) : c_(averaging_constant) {}
    void add(const float*, size_t, ClipRange batch) override {
        if (batches_++ == 0) {
            min_ = batch.lo;
            max_ = batch.hi;
            return;
        }
        min_ += c_ * (batch.lo - min_);
        max_ += c_ * (batch.hi - max_);
    }
    ClipRange choose_range() const override { return {min_, max_}; }
    nlohmann::json to_json() const override {
        return {{"averaging_constant", c_}, {"batches", batches_}, {"average_min", min_},
                {"average_max", max_}};
    }
    size_t state_bytes() const override { return sizeof(*this); }
    std::unique_ptr<ObserverStatistics> clone() const override {
        return std::make_unique<MovingAverageStatistics>(*this);
    }
    void clear() override { *this = MovingAverageStatistics(c_); }

private:
    double c_;
    uint64_t batches_ = 0;
    double min_ = 0.0, max_ = 0.0;
};

// The histogram kinds share storage and differ in how they read the histogram.
class HistogramStatistics : public ObserverStatistics {
public:
    explicit HistogramStatistics(Histogram::Origin origin) : hist_(origin) {}
    size_t state_bytes() const override {
        return sizeof(*this) - sizeof(hist_) + hist_.state_bytes();
    }
    void clear() override { hist_.clear(); }

protected:
    Histogram hist_;
};

class PercentileStatistics final : public HistogramStatistics {
public:
    explicit PercentileStatistics(double percentile)
        : HistogramStatistics(Histogram::Origin::Free), percentile_(percentile) {}
    void add(const float* values, size_t count, ClipRange batch) override {
        hist_.add(values, count, batch);
    }
    ClipRange choose_range() const override { return percentile_range(hist_, percentile_); }
    nlohmann::json to_json() const override {
        return {{"percentile", percentile_}, {"histogram", hist_.to_json()}};
    }
    std::unique_ptr<ObserverStatistics> clone() const override {
        return std::make_unique<PercentileStatistics>(*this);
    }

private:
    double percentile_;
};

constexpr int kAffineLevels = 256;   // mse optimises for 8-bit codes
constexpr int kEntropyLevels = 128;  // |x| onto 0..127, as TensorRT for int8

class MseStatistics final : public HistogramStatistics {
public:
    MseStatistics() : HistogramStatistics(Histogram::Origin::Free) {}
    void add(const float* values, size_t count, ClipRange batch) override {
        hist_.add(values, count, batch);
    }
    ClipRange choose_range() const override { return mse_range(hist_, kAffineLevels); }
    nlohmann::json to_json() const override {
        return {{"levels", kAffineLevels}, {"histogram", hist_.to_json()}};
    }
    std::unique_ptr<ObserverStatistics> clone() const override {
        return std::make_unique<MseStatistics>(*this);
    }
};

class EntropyStatistics final : public HistogramStatistics {
public:
    EntropyStatistics() : HistogramStatistics(Histogram::Origin::Zero) {}
    void add(const float* values, size_t count, ClipRange batch) override {
        hist_.add_abs(values, count, std::max(std::abs(batch.lo), std::abs(batch.hi)));
    }
    ClipRange choose_range() const override {
        const double threshold = entropy_threshold(hist_, kEntropyLevels);
        return {-threshold, threshold};
    }
    nlohmann::json to_json() const override {
        return {{"levels", kEntropyLevels}, {"abs_histogram", hist_.to_json()}};
    }
    std::unique_ptr<ObserverStatistics> clone() const override {
        return std::make_unique<EntropyStatistics>(*this);
    }
};

// ---------------------------------------------------------------------------------------
// The table: one row per kind drives make_observer, --help and validation.

constexpr double kNoParameter = std::numeric_limits<double>::quiet_NaN();

struct KindRow {
    ObserverKind info;
    double default_parameter;  // kNoParameter when the kind takes none
    double parameter_above;    // valid parameters are in (parameter_above, parameter_upto]
    double parameter_upto;
    std::unique_ptr<ObserverStatistics> (*make)(double parameter);
};

const std::vector<KindRow>& kind_table() {
    static const std::vector<KindRow> table = {
        {{"minmax", "exact min and max of all values (sensitive to any outlier)", ""},
         kNoParameter, 0, 0,
         [](double) -> std::unique_ptr<ObserverStatistics> {
             return std::make_unique<MinMaxStatistics>();
         }},
        {{"moving_average_minmax",
          "per-batch min and max averaged as m += c * (batch - m), as PyTorch",
          "averaging constant c in (0, 1], default 0.01"},
         0.01, 0.0, 1.0,
         [](double c) -> std::unique_ptr<ObserverStatistics> {
             return std::make_unique<MovingAverageStatistics>(c);
         }},
        {{"percentile", "clips both tails at the (100-p)th and pth percentiles (histogram)",
          "percentile p in (50, 100], default 99.99"},
         99.99, 50.0, 100.0,
         [](double p) -> std::unique_ptr<ObserverStatistics> {
             return std::make_unique<PercentileStatistics>(p);
         }},
        {{"mse", "the range of least expected 8-bit error, rounding + clipping (histogram)", ""},
         kNoParameter, 0, 0,
         [](double) -> std::unique_ptr<ObserverStatistics> {
             return std::make_unique<MseStatistics>();
         }},
        {{"entropy", "TensorRT's KL-divergence threshold on |x|, range [-T, T] (histogram)",
          ""},
         kNoParameter, 0, 0,
         [](double) -> std::unique_ptr<ObserverStatistics> {
             return std::make_unique<EntropyStatistics>();
         }},
    };
    return table;
}

std::string joined_names() {
    std::string out;
    for (const auto& name : observer_names()) out += (out.empty() ? "" : ", ") + name;
    return out;
}

[[noreturn]] void unknown_kind(const std::string& name) {
    const auto suggestion = closest_match(name, observer_names());
    throw usage_error("unknown observer '" + name + "'" +
                      (suggestion ? "; did you mean '" + *suggestion + "'?" : "") +
                      " (valid observers: " + joined_names() + ")");
}

double parse_parameter(const std::string& spec, const std::string& text) {
    char* end = nullptr;
    const double value = std::strtod(text.c_str(), &end);
    if (text.empty() || end != text.c_str() + text.size() || !std::isfinite(value))
        throw usage_error("observer '" + spec + "': '" + text + "' is not a number");
    return value;
}

// Shortest text that reads back as the same double ("99.99", "0.01").
std::string format_parameter(double value) { return nlohmann::json(value).dump(); }

}  // namespace

const std::vector<ObserverKind>& observer_kinds() {
    static const std::vector<ObserverKind> kinds = [] {
        std::vector<ObserverKind> out;
        for (const auto& row : kind_table()) out.push_back(row.info);
        return out;
    }();
    return kinds;
}

std::vector<std::string> observer_names() {
    std::vector<std::string> names;
    for (const auto& row : kind_table()) names.emplace_back(row.info.name);
    return names;
}

Observer make_observer(const std::string& spec) {
    const size_t colon = spec.find(':');
    const std::string name = spec.substr(0, colon);
    const auto& table = kind_table();
    const auto row = std::find_if(table.begin(), table.end(),
                                  [&](const KindRow& r) { return name == r.info.name; });
    if (row == table.end()) unknown_kind(name);

    const bool takes_parameter = !std::isnan(row->default_parameter);
    if (colon != std::string::npos && !takes_parameter)
        throw usage_error("observer '" + name + "' takes no parameter (got '" + spec + "')");
    double parameter = row->default_parameter;
    if (colon != std::string::npos) {
        parameter = parse_parameter(spec, spec.substr(colon + 1));
        if (!(parameter > row->parameter_above && parameter <= row->parameter_upto))
            throw usage_error("observer '" + spec + "': expected " + row->info.parameter);
    }
    const std::string canonical =
        takes_parameter ? name + ":" + format_parameter(parameter) : name;
    return Observer(name, canonical, row->make(parameter));
}

// ---------------------------------------------------------------------------------------
// Observer: what every kind shares.

struct Observer::Checkpoint {
    uint64_t samples = 0;
    uint64_t values = 0;
    ClipRange extent{};
    std::unique_ptr<ObserverStatistics> statistics;
};

Observer::Observer(std::string name, std::string spec,
                   std::unique_ptr<ObserverStatistics> statistics)
    : name_(std::move(name)), spec_(std::move(spec)), statistics_(std::move(statistics)) {
    EMBQ_ASSERT(statistics_ != nullptr);
}
Observer::Observer(Observer&&) noexcept = default;
Observer& Observer::operator=(Observer&&) noexcept = default;
Observer::~Observer() = default;

namespace {

struct BatchScan {
    ClipRange extent{kInfinity, -kInfinity};
    size_t nonfinite = 0;
};

BatchScan scan(const float* values, size_t count) {
    BatchScan s;
    for (size_t i = 0; i < count; ++i) {
        const float v = values[i];
        if (!std::isfinite(v)) {
            ++s.nonfinite;
            continue;
        }
        s.extent.lo = std::min(s.extent.lo, static_cast<double>(v));
        s.extent.hi = std::max(s.extent.hi, static_cast<double>(v));
    }
    return s;
}

}  // namespace

void Observer::observe(const float* values, size_t count, size_t samples) {
    const BatchScan batch = scan(values, count);
    const size_t finite = count - batch.nonfinite;
    if (finite > 0) {
        if (batch.nonfinite == 0) {
            statistics_->add(values, count, batch.extent);
        } else {  // rare: compact the finite values (transient, the size of this batch)
            std::vector<float> kept;
            kept.reserve(finite);
            std::copy_if(values, values + count, std::back_inserter(kept),
                         [](float v) { return std::isfinite(v); });
            statistics_->add(kept.data(), kept.size(), batch.extent);
        }
        extent_ = values_ == 0 ? batch.extent
                               : ClipRange{std::min(extent_.lo, batch.extent.lo),
                                       std::max(extent_.hi, batch.extent.hi)};
        values_ += finite;
    }
    nonfinite_ += batch.nonfinite;
    samples_ += samples;
    if (samples_ >= next_checkpoint_) take_checkpoint();
}

ClipRange Observer::clamped_range(const ObserverStatistics& statistics, ClipRange extent) const {
    const ClipRange chosen = statistics.choose_range();
    const double lo = std::clamp(chosen.lo, extent.lo, extent.hi);
    const double hi = std::clamp(chosen.hi, extent.lo, extent.hi);
    EMBQ_ASSERT(lo <= hi);
    return {lo, hi};
}

ClipRange Observer::range() const {
    if (values_ == 0)
        throw input_error("observer '" + spec_ + "': no finite values observed (" +
                          std::to_string(nonfinite_) + " NaN/Inf, " + std::to_string(samples_) +
                          " samples); check that the calibration data reaches this layer");
    return clamped_range(*statistics_, extent_);
}

// Snapshots whose samples are at most 90% of now: only the newest of them can ever be the
// reference again (samples only grow), so the older ones are dropped. With checkpoints 5%
// apart, at most 3 lie above 90% of now; hence kMaxCheckpoints = 4.
void Observer::take_checkpoint() {
    checkpoints_.push_back({samples_, values_, extent_, statistics_->clone()});
    next_checkpoint_ =
        std::max(samples_ + 1, static_cast<uint64_t>(std::ceil(1.05 * static_cast<double>(samples_))));
    size_t newest_reference = 0;
    for (size_t i = 0; i < checkpoints_.size(); ++i)
        if (checkpoints_[i].samples * 10 <= samples_ * 9) newest_reference = i;
    checkpoints_.erase(checkpoints_.begin(),
                       checkpoints_.begin() + static_cast<std::ptrdiff_t>(newest_reference));
    EMBQ_ASSERT(checkpoints_.size() <= kMaxCheckpoints);
}

Convergence Observer::convergence() const {
    const ClipRange now = range();
    Convergence c;
    c.samples = samples_;
    c.movement = kInfinity;
    const Checkpoint* reference = nullptr;
    for (const auto& checkpoint : checkpoints_)
        if (checkpoint.samples * 10 <= samples_ * 9) reference = &checkpoint;
    if (reference == nullptr) return c;
    c.reference_samples = reference->samples;
    if (reference->values == 0) return c;

    const ClipRange then = clamped_range(*reference->statistics, reference->extent);
    const double width = std::max(now.hi - now.lo, kMinScale);
    c.movement = std::max(std::abs(now.lo - then.lo), std::abs(now.hi - then.hi)) / width;
    return c;
}

size_t Observer::state_bytes() const {
    size_t bytes = sizeof(*this) + name_.capacity() + spec_.capacity() + statistics_->state_bytes();
    for (const auto& checkpoint : checkpoints_)
        bytes += sizeof(checkpoint) + checkpoint.statistics->state_bytes();
    return bytes + (checkpoints_.capacity() - checkpoints_.size()) * sizeof(Checkpoint);
}

namespace {

nlohmann::json qparams_json(QParams q) {
    return {{"scale", q.scale}, {"zero_point", q.zero_point}};
}

}  // namespace

nlohmann::json Observer::to_json() const {
    nlohmann::json out = {
        {"observer", spec_},
        {"kind", name_},
        {"samples", samples_},
        {"values", values_},
        {"nonfinite", nonfinite_},
        {"statistics", statistics_->to_json()},
        {"min", nullptr},
        {"max", nullptr},
        {"range", nullptr},
        {"qparams", nullptr},
        {"convergence", nullptr},
    };
    if (values_ == 0) return out;
    const ClipRange chosen = range();
    out["min"] = extent_.lo;
    out["max"] = extent_.hi;
    out["range"] = {chosen.lo, chosen.hi};
    out["qparams"] = {
        {to_string(QuantTarget::Quint8Affine), qparams_json(qparams_for(chosen, QuantTarget::Quint8Affine))},
        {to_string(QuantTarget::Qint8Symmetric), qparams_json(qparams_for(chosen, QuantTarget::Qint8Symmetric))}};
    const Convergence c = convergence();
    out["convergence"] = {
        {"movement", std::isfinite(c.movement) ? nlohmann::json(c.movement) : nlohmann::json()},
        {"reference_samples", c.reference_samples}};
    return out;
}

void Observer::reset() {
    statistics_->clear();
    samples_ = values_ = nonfinite_ = 0;
    extent_ = {};
    next_checkpoint_ = 1;
    checkpoints_.clear();
}

// ---------------------------------------------------------------------------------------
// Outlier channels

ChannelAbsMax::ChannelAbsMax(size_t channels) : max_abs_(channels, 0.0f) {}

void ChannelAbsMax::observe(const float* rows_by_channels, size_t rows) {
    const size_t channels = max_abs_.size();
    for (size_t r = 0; r < rows; ++r) {
        const float* row = rows_by_channels + r * channels;
        for (size_t c = 0; c < channels; ++c) {
            const float magnitude = std::abs(row[c]);
            if (std::isfinite(magnitude) && magnitude > max_abs_[c]) max_abs_[c] = magnitude;
        }
    }
}

namespace {

double median(std::vector<float> values) {
    const size_t mid = values.size() / 2;
    std::nth_element(values.begin(), values.begin() + static_cast<std::ptrdiff_t>(mid), values.end());
    const double upper = values[mid];
    if (values.size() % 2 == 1) return upper;
    const double lower = *std::max_element(values.begin(), values.begin() + static_cast<std::ptrdiff_t>(mid));
    return 0.5 * (lower + upper);
}

}  // namespace

std::vector<OutlierChannel> find_outlier_channels(const std::vector<float>& channel_max_abs,
                                                  double factor) {
    if (!(factor > 1.0))
        throw usage_error("outlier factor must be greater than 1 (got " + format_parameter(factor) + ")");
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
