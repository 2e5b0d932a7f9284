#include "embq/observers.hpp"

#include <algorithm>
#include <cmath>
#include <cstdlib>
#include <limits>
#include <string_view>

#include <nlohmann/json.hpp>

#include "core/suggest.hpp"
#include "embq/error.hpp"

namespace embq {

namespace {

constexpr double kInfinity = std::numeric_limits<double>::infinity();

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
        return {{"averaging_constant", c_},
                {"batches", batches_},
                {"average_min", min_},
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
         kNoParameter,
         0,
         0,
         [](double) -> std::unique_ptr<ObserverStatistics> {
             return std::make_unique<MinMaxStatistics>();
         }},
        {{"moving_average_minmax",
          "per-batch min and max averaged as m += c * (batch - m), as PyTorch",
          "averaging constant c in (0, 1], default 0.01"},
         0.01,
         0.0,
         1.0,
         [](double c) -> std::unique_ptr<ObserverStatistics> {
             return std::make_unique<MovingAverageStatistics>(c);
         }},
        {{"percentile", "clips both tails at the (100-p)th and pth percentiles (histogram)",
          "percentile p in (50, 100], default 99.99"},
         99.99,
         50.0,
         100.0,
         [](double p) -> std::unique_ptr<ObserverStatistics> {
             return std::make_unique<PercentileStatistics>(p);
         }},
        {{"mse", "the range of least expected 8-bit error, rounding + clipping (histogram)", ""},
         kNoParameter,
         0,
         0,
         [](double) -> std::unique_ptr<ObserverStatistics> {
             return std::make_unique<MseStatistics>();
         }},
        {{"entropy", "TensorRT's KL-divergence threshold on |x|, range [-T, T] (histogram)", ""},
         kNoParameter,
         0,
         0,
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
    const std::string canonical = takes_parameter ? name + ":" + format_parameter(parameter) : name;
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
    next_checkpoint_ = std::max(
        samples_ + 1, static_cast<uint64_t>(std::ceil(1.05 * static_cast<double>(samples_))));
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
        {"observer", spec_},  {"kind", name_},           {"samples", samples_},
        {"values", values_},  {"nonfinite", nonfinite_}, {"statistics", statistics_->to_json()},
        {"min", nullptr},     {"max", nullptr},          {"range", nullptr},
        {"qparams", nullptr}, {"convergence", nullptr},
    };
    if (values_ == 0) return out;
    const ClipRange chosen = range();
    out["min"] = extent_.lo;
    out["max"] = extent_.hi;
    out["range"] = {chosen.lo, chosen.hi};
    out["qparams"] = {{to_string(QuantTarget::Quint8Affine),
                       qparams_json(qparams_for(chosen, QuantTarget::Quint8Affine))},
                      {to_string(QuantTarget::Qint8Symmetric),
                       qparams_json(qparams_for(chosen, QuantTarget::Qint8Symmetric))}};
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

}  // namespace embq
