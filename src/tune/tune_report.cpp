// The tune report: the search log (every config verified, what it tried, what it did
// next), the frontier, the chosen config's layers and its held-out result; as text,
// Markdown, HTML (with the frontier plotted) and JSON.
#include <algorithm>
#include <cmath>
#include <map>

#include <nlohmann/json.hpp>

#include "core/text_table.hpp"
#include "embq/format.hpp"
#include "embq/report.hpp"
#include "embq/runtime.hpp"
#include "embq/tune.hpp"
#include "eval/html_page.hpp"
#include "eval/report_parts.hpp"
#include "eval/svg_chart.hpp"

namespace embq {

namespace {

std::vector<std::string> gate_metrics(const TuneResult& r) {
    std::vector<std::string> out;
    for (const auto& g : r.options.gates)
        if (std::find(out.begin(), out.end(), g.metric) == out.end()) out.push_back(g.metric);
    if (std::find(out.begin(), out.end(), "cosine.p5") == out.end()) out.push_back("cosine.p5");
    return out;
}

std::string value(const MetricValues& m, const std::string& name) {
    const auto v = m.get(name);
    return v ? format_metric(*v) : "n/a";
}

std::vector<std::vector<std::string>> log_cells(const TuneResult& r) {
    std::vector<std::string> header = {"step", "move", "size"};
    for (const auto& m : gate_metrics(r)) header.push_back(m);
    for (const std::string h : {"pred. loss", "result", "frontier", "then"}) header.push_back(h);
    std::vector<std::vector<std::string>> cells = {header};
    for (const auto& c : r.candidates) {
        std::vector<std::string> row = {std::to_string(c.step), c.move,
                                        format_fixed(100 * c.size_ratio, 1) + "%"};
        for (const auto& m : gate_metrics(r)) row.push_back(value(c.metrics, m));
        row.push_back(format_fixed(c.predicted_loss, 2));
        row.push_back(c.passed ? "pass" : "fail");
        row.push_back(c.frontier ? "yes" : "");
        row.push_back(c.why);
        cells.push_back(std::move(row));
    }
    return cells;
}

// "int4_weight 6, int8_dynamic 7, fp32 2"
std::string scheme_counts(const TuneCandidate& c) {
    std::map<std::string, int> n;
    for (const auto& l : c.layers) ++n[l.scheme];
    std::string out;
    for (const auto& [s, k] : n) out += (out.empty() ? "" : ", ") + s + " " + std::to_string(k);
    return out;
}

std::string verdict_lines(const std::vector<GateVerdict>& verdicts, const std::string& indent) {
    std::string out;
    for (const auto& v : verdicts) out += indent + v.explain() + "\n";
    return out;
}

std::string outcome(const TuneResult& r) {
    if (!r.best)
        return "no config passed every gate" +
               std::string(r.options.max_size ? " within --max-size" : "") + " on the search texts";
    const TuneCandidate& b = r.candidates[*r.best];
    const std::string what = "step " + std::to_string(b.step) + ", " +
                             format_fixed(100 * b.size_ratio, 1) + "% of FP32 (" +
                             format_bytes(b.bytes) + "): " + scheme_counts(b);
    return (r.holdout_passed ? "chosen: " : "best on the search texts, but it fails on the held-out texts: ") + what;
}

}  // namespace

std::string tune_report_text(const TuneResult& r) {
    std::string out = "search: " + std::to_string(r.candidates.size()) + " configs verified on " +
                      std::to_string(r.search_texts) + " search texts per trial (sensitivity on " +
                      std::to_string(r.sensitivity.texts) + "), objective " +
                      to_string(r.options.objective) + "\n";
    const auto cells = log_cells(r);
    TextTable table(cells.front());
    for (size_t i = 1; i < cells.size(); ++i) table.add_row(cells[i]);
    out += table.render();
    out += "stopped: " + r.stopped + "\n";
    out += outcome(r) + "\n";
    if (r.holdout) {
        out += "held-out texts (" + std::to_string(r.holdout_texts) +
               " per model, never seen by the search):";
        for (const auto& m : gate_metrics(r)) out += " " + m + " " + value(r.holdout->metrics, m);
        out += "\n" + verdict_lines(r.holdout_verdicts, "  gate ");
        if (r.holdout_checked.size() > 1) {
            out += "  checked on the held-out texts, in order:";
            for (const auto& [step, passed] : r.holdout_checked)
                out += " step " + std::to_string(step) + (passed ? " passes" : " fails") + ";";
            out.back() = '\n';
        }
    }
    out += "tune took " + format_fixed(r.seconds, 1) + " s\n";
    return out;
}

std::string tune_report_markdown(const TuneResult& r) {
    std::string out = std::string("## embq tune: ") + (r.found() ? "✅ " : "❌ ") + outcome(r) +
                      "\n\n";
    if (r.holdout) {
        out += "Held-out texts (" + std::to_string(r.holdout_texts) + ", never seen by the search):\n\n";
        for (const auto& v : r.holdout_verdicts) out += "- " + v.explain() + "\n";
        out += "\n";
    }
    out += "### Search (" + std::to_string(r.search_texts) + " texts per trial)\n\n";
    out += markdown_table(log_cells(r), 2);
    out += "\nStopped: " + r.stopped + "\n";
    if (r.best) {
        const TuneCandidate& b = r.candidates[*r.best];
        out += "\n<details><summary>Layers of the chosen config</summary>\n\n"
               "| layer | scheme | evidence |\n| --- | --- | --- |\n";
        for (const auto& l : b.layers)
            out += "| `" + l.layer + "` | " + l.scheme + " | " + l.evidence + " |\n";
        out += "\n</details>\n";
    }
    out += "\n<sub>" + build_description() + "</sub>\n";
    return out;
}

std::string tune_report_html(const TuneResult& r) {
    std::string body = "<h1>embq tune " +
                       std::string(r.found() ? "<span class=\"verdict pass\">found</span>"
                                             : "<span class=\"verdict fail\">not found</span>") +
                       "</h1>\n<p>" + xml_escape(outcome(r)) + "</p>\n";
    if (r.holdout) {
        body += "<h2>Held-out texts (" + std::to_string(r.holdout_texts) +
                ", never seen by the search) " +
                html_verdict_badge(r.holdout_verdicts.size(), failed_gates(r.holdout_verdicts)) +
                "</h2>\n" + html_gates_table(r.holdout_verdicts);
    }

    // The frontier: every verified config, size against the first gate's metric.
    const std::string metric = gate_metrics(r).front();
    std::vector<ChartPoint> points;
    for (const auto& c : r.candidates)
        points.push_back({100 * c.size_ratio, c.metrics.get(metric).value_or(NAN),
                          std::to_string(c.step) + (c.passed ? "" : " (fails)")});
    body += "<h2>Search (" + std::to_string(r.search_texts) + " texts per trial)</h2>\n" +
            "<div class=\"charts\">\n" +
            scatter_svg({"Size against " + metric + " of each config (search texts)",
                         "size, % of FP32", metric},
                        points, true) +
            "</div>\n";
    const auto log = log_cells(r);
    std::map<size_t, std::vector<std::string>> classes;
    const size_t result_column = log.front().size() - 3;
    for (size_t i = 1; i < log.size(); ++i) {
        classes[i].resize(log.front().size());
        classes[i][result_column] = log[i][result_column];
    }
    body += html_details(std::to_string(r.candidates.size()) + " configs, in search order",
                         html_table(log, classes), log.size() <= 21);
    body += "<p>Stopped: " + xml_escape(r.stopped) + "</p>\n";
    if (r.best) {
        std::vector<std::vector<std::string>> layers = {{"layer", "scheme", "evidence"}};
        for (const auto& l : r.candidates[*r.best].layers)
            layers.push_back({l.layer, l.scheme, l.evidence});
        body += "<h2>The chosen config</h2>\n" +
                html_details(scheme_counts(r.candidates[*r.best]), html_table(layers));
    }
    return html_page("embq tune", body);
}

nlohmann::json tune_report_json(const TuneInputs& inputs, const TuneResult& r) {
    nlohmann::json candidates = nlohmann::json::array();
    for (const auto& c : r.candidates)
        candidates.push_back({{"step", c.step},
                              {"move", c.move},
                              {"bytes", c.bytes},
                              {"size_ratio", c.size_ratio},
                              {"predicted_cost", c.predicted_cost},
                              {"predicted_loss", c.predicted_loss},
                              {"metrics", metrics_to_json(c.metrics)},
                              {"gates", gates_to_json(c.verdicts)},
                              {"passed", c.passed},
                              {"frontier", c.frontier},
                              {"then", c.why},
                              {"config", c.config}});
    nlohmann::json gates = nlohmann::json::array();
    for (const auto& g : r.options.gates) gates.push_back(g.text);
    nlohmann::json out = {
        {"report", "embq tune"},
        {"format_version", 1},
        {"found", r.found()},
        {"tool", tool_to_json(thread_count())},
        {"model", {{"path", inputs.search.model.string()}, {"bytes", r.fp32_bytes}}},
        {"gates", gates},
        {"objective", to_string(r.options.objective)},
        {"max_size", r.options.max_size ? nlohmann::json(*r.options.max_size) : nlohmann::json()},
        {"search", {{"data", inputs.search.eval.corpus.string()}, {"texts_per_trial", r.search_texts}}},
        {"holdout", {{"data", inputs.holdout.corpus.string()}, {"texts_per_trial", r.holdout_texts}}},
        {"stopped", r.stopped},
        {"seconds", r.seconds},
        {"candidates", candidates},
        {"sensitivity", sensitivity_report_json(inputs.search, r.sensitivity)["entries"]}};
    if (r.best) out["best_step"] = r.candidates[*r.best].step;
    if (r.holdout) {
        out["holdout"]["metrics"] = metrics_to_json(r.holdout->metrics);
        out["holdout"]["gates"] = gates_to_json(r.holdout_verdicts);
        out["holdout"]["passed"] = r.holdout_passed;
        nlohmann::json checked = nlohmann::json::array();
        for (const auto& [step, passed] : r.holdout_checked)
            checked.push_back({{"step", step}, {"passed", passed}});
        out["holdout"]["checked"] = checked;
    }
    return out;
}

}  // namespace embq
