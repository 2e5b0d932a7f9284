// What `embq eval` writes: a console summary, a JSON report (every metric, the gates,
// versions and input hashes), a Markdown summary for a CI job page or a pull request,
// JUnit XML with one test case per gate so CI systems show each pass and fail, and an
// HTML page with plots.
#pragma once

#include <filesystem>
#include <string>
#include <vector>

#include <nlohmann/json_fwd.hpp>

#include "embq/eval.hpp"
#include "embq/gates.hpp"

namespace embq {

struct StoredModel;  // stored_layers.hpp

struct EvalReport {
    const EvalInputs& inputs;
    const EvalResult& result;
    const std::vector<GateVerdict>& verdicts;
    int threads = 0;
    bool passed() const;  // every gate passed (true without gates)
};

std::string eval_report_text(const EvalReport& report);
nlohmann::json eval_report_json(const EvalReport& report);
std::string eval_report_markdown(const EvalReport& report);
std::string eval_report_junit(const EvalReport& report);
// One self-contained HTML file (inline CSS and SVG, no script or network): the gates, the
// per-row cosine histogram, recall@K against K, every metric, and with `candidate` (the
// stored layers of a candidate embq wrote) its size by scheme and layer.
std::string eval_report_html(const EvalReport& report, const StoredModel* candidate);

// The pieces of the JSON report that `embq compare` reuses: metrics by name (NaN as
// null) and one object per gate verdict.
nlohmann::json metrics_to_json(const MetricValues& metrics);
nlohmann::json gates_to_json(const std::vector<GateVerdict>& verdicts);

// The "tool" object every JSON report carries: embq's version, the build, the intra-op
// threads the run used and the BLAS threads.
nlohmann::json tool_to_json(int threads);

// A metric value for tables: 4 decimals, "n/a" when not finite.
std::string format_metric(double value, int digits = 4);

}  // namespace embq
