// Quality gates: a threshold on a metric of the catalogue (metric_catalogue.hpp), written
// "NAME OP NUMBER", e.g. "recall@10>=0.98" or "hit@1_delta>=-0.01". A gate fails the run
// with exit code 1.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "embq/metric_catalogue.hpp"

namespace embq {

struct Gate {
    enum class Op { GreaterEqual, Greater, LessEqual, Less };
    std::string text;    // as written, for reports
    std::string metric;  // "recall@10"
    Op op = Op::GreaterEqual;
    double threshold = 0;
    ResolvedMetric resolved;
};

// "recall@10>=0.98" (spaces allowed). Unknown metric, missing operator or bad number:
// a Usage error that says what a gate looks like.
Gate parse_gate(const std::string& text);
const char* to_string(Gate::Op op) noexcept;

struct GateVerdict {
    Gate gate;  // a copy: a verdict outlives the list it was checked against
    std::optional<double> value;  // absent: the run did not produce this metric
    bool passed = false;
    std::string reason;  // why it failed beyond its number ("3 candidate vectors are not finite")
    std::string explain() const;  // "recall@10 = 0.9731 (needs >= 0.98): FAIL"
};

// A gate whose metric is missing or NaN fails: a gate must never pass by accident. For
// the same reason every gate fails when the candidate produced vectors that are not finite
// ("nonfinite_rows" > 0): the other metrics score those rows as zero vectors, which a loose
// threshold could still let pass.
std::vector<GateVerdict> check_gates(const std::vector<Gate>& gates, const MetricValues& values);

}  // namespace embq
