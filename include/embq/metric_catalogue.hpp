// Metric names: one table lists every metric `embq eval` can report (names with @K take
// any K), what it means and what it needs. The same table drives `--list-metrics`, gate
// validation and the reports.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <utility>
#include <vector>

namespace embq {

// What a metric needs besides two sets of corpus vectors.
enum class MetricNeeds {
    Nothing,
    Models,          // two model files: sizes and throughput
    RetrievalPairs,  // --pairs with query<TAB>positive lines
    GradedPairs,     // --pairs with a<TAB>b<TAB>score lines
    ApproxIndex,     // --index ivf|hnsw
};

struct MetricInfo {
    std::string pattern;      // "recall@K", "cosine.p5"
    std::string description;  // one line
    MetricNeeds needs = MetricNeeds::Nothing;
    bool higher_is_better = true;
};

const std::vector<MetricInfo>& metric_catalogue();
std::string describe(MetricNeeds needs);  // "--pairs with query<TAB>positive lines", ...
// The table as `embq eval --list-metrics` prints it, with how K and gates work.
std::string format_metric_catalogue();

// The catalogue entry for a concrete name ("recall@10" -> "recall@K", k = 10), or a
// Usage error naming the closest known metric.
struct ResolvedMetric {
    const MetricInfo* info = nullptr;
    int64_t k = 0;  // 0 when the pattern has no K
};
ResolvedMetric resolve_metric(const std::string& name);

// Metric values of one evaluation, in report order.
class MetricValues {
public:
    void set(const std::string& name, double value);
    std::optional<double> get(const std::string& name) const;
    const std::vector<std::pair<std::string, double>>& all() const { return values_; }

private:
    std::vector<std::pair<std::string, double>> values_;
};

}  // namespace embq
