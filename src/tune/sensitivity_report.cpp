// The sensitivity tables: one for single layers, one for groups, each most sensitive
// first; then the layers to quantize first. Text, Markdown, HTML and JSON from the same
// cells.
#include <algorithm>
#include <cmath>

#include <nlohmann/json.hpp>

#include "core/text_table.hpp"
#include "embq/format.hpp"
#include "embq/report.hpp"
#include "embq/runtime.hpp"
#include "embq/sensitivity.hpp"
#include "eval/html_page.hpp"
#include "eval/svg_chart.hpp"

namespace embq {

namespace {

bool is_layer(const SensitivityEntry& e) { return e.target.kind == SensitivityTarget::Kind::Layer; }

// The metric columns: the rank metric, recall@10 and eps_recall@10 when they differ from
// it, cosine.p5 and cosine.mean, and hit@1_delta when the run had labelled pairs.
std::vector<std::string> metric_columns(const SensitivityResult& r) {
    std::vector<std::string> cols = {r.options.rank_by};
    for (const std::string m : {"recall@10", "eps_recall@10", "cosine.p5", "cosine.mean"})
        if (std::find(cols.begin(), cols.end(), m) == cols.end()) cols.push_back(m);
    for (const auto& e : r.entries)
        if (e.metrics.get("hit@1_delta")) {
            if (std::find(cols.begin(), cols.end(), "hit@1_delta") == cols.end())
                cols.push_back("hit@1_delta");
            break;
        }
    return cols;
}

std::string value_cell(const SensitivityEntry& e, const std::string& metric) {
    const auto v = e.metrics.get(metric);
    if (!v) return "n/a";
    std::string out = format_metric(*v);
    if (const auto iv = e.interval(metric))
        out += " [" + format_metric(iv->low) + ", " + format_metric(iv->high) + "]";
    return out;
}

std::vector<std::vector<std::string>> table_cells(const SensitivityResult& r, bool layers) {
    const auto cols = metric_columns(r);
    std::vector<std::string> header = {"#", layers ? "layer" : "group", "scheme"};
    if (!layers) header.insert(header.begin() + 1, "by");
    for (const auto& c : cols) header.push_back(c);
    header.push_back("saves");
    const auto& batches = r.options.speed ? r.options.speed->batch_sizes : std::vector<int64_t>{};
    for (const int64_t b : batches) header.push_back("x FP32 b" + std::to_string(b));
    std::vector<std::vector<std::string>> cells = {header};
    int rank = 0;
    for (const auto& e : r.entries) {
        if (is_layer(e) != layers) continue;
        std::vector<std::string> row = {std::to_string(++rank), e.target.name, e.scheme};
        if (!layers)
            row.insert(row.begin() + 1, std::string(to_string(e.target.kind)) + " (" +
                                            std::to_string(e.layers.size()) + ")");
        for (const auto& c : cols) row.push_back(e.error.empty() ? value_cell(e, c) : "-");
        row.push_back(e.error.empty() ? format_bytes(e.bytes_saved()) : "failed");
        for (size_t i = 0; i < batches.size(); ++i)
            row.push_back(i < e.speedup.size() ? format_fixed(e.speedup[i], 2) + "x" : "-");
        cells.push_back(std::move(row));
    }
    return cells;
}

// Layers ordered by loss per byte saved, smallest first: where size comes cheapest.
std::vector<const SensitivityEntry*> quantize_first(const SensitivityResult& r, size_t count) {
    std::vector<const SensitivityEntry*> out;
    for (const auto& e : r.entries)
        if (is_layer(e) && e.error.empty() && e.bytes_saved() > 0) out.push_back(&e);
    auto cost = [&](const SensitivityEntry* e) {
        return std::max(0.0, r.loss(*e)) / static_cast<double>(e->bytes_saved());
    };
    std::stable_sort(out.begin(), out.end(),
                     [&](auto* a, auto* b) { return cost(a) < cost(b); });
    if (out.size() > count) out.resize(count);
    return out;
}

std::string summary_line(const SensitivityResult& r) {
    size_t layers = 0, groups = 0;
    for (const auto& e : r.entries) (is_layer(e) ? layers : groups)++;
    return std::to_string(layers) + " layer and " + std::to_string(groups) +
           " group entries on " + std::to_string(r.texts) + " texts per trial, ranked by " +
           r.options.rank_by + " (most sensitive first; [95% bootstrap interval]); " +
           format_fixed(r.seconds, 1) + " s";
}

std::string first_line(const SensitivityResult& r, const SensitivityEntry& e) {
    const auto v = e.metrics.get(r.options.rank_by);
    return e.target.name + " " + e.scheme + ": saves " + format_bytes(e.bytes_saved()) + ", " +
           r.options.rank_by + " " + (v ? format_metric(*v) : "n/a");
}

// How much each entry of one kind loses, most sensitive first (the first `count`): one
// bar per entry, coloured by scheme; nothing when no entry loses anything.
std::string loss_chart(const SensitivityResult& r, bool layers, size_t count) {
    std::vector<std::string> schemes;
    std::vector<StackedBar> bars;
    size_t shown = 0, of = 0;
    for (const auto& e : r.entries) {
        if (is_layer(e) != layers || !e.error.empty()) continue;
        ++of;
        if (shown == count) continue;
        ++shown;
        const auto scheme = std::find(schemes.begin(), schemes.end(), e.scheme);
        const size_t i = static_cast<size_t>(scheme - schemes.begin());
        if (scheme == schemes.end()) schemes.push_back(e.scheme);
        StackedBar bar{e.target.name, std::vector<double>(i + 1, 0)};
        bar.segments[i] = std::max(0.0, r.loss(e));
        bars.push_back(std::move(bar));
    }
    const bool any_loss = std::any_of(bars.begin(), bars.end(),
                                      [](const StackedBar& b) { return b.segments.back() > 0; });
    if (!any_loss) return "";
    const std::string which = layers ? "layer" : "group";
    return stacked_bars_svg(
        {"Loss in " + r.options.rank_by + " with each " + which +
             " quantized alone, most sensitive first" +
             (shown < of ? " (" + std::to_string(shown) + " of " + std::to_string(of) + ")" : ""),
         "loss (0: as FP32)", ""},
        schemes, bars);
}

}  // namespace

std::string sensitivity_report_text(const SensitivityResult& r) {
    std::string out;
    for (const bool layers : {true, false}) {
        const auto cells = table_cells(r, layers);
        if (cells.size() == 1) continue;
        TextTable table(cells.front());
        for (size_t i = 1; i < cells.size(); ++i) table.add_row(cells[i]);
        out += (out.empty() ? "" : "\n") + table.render();
    }
    for (const auto& e : r.entries)
        if (!e.error.empty()) out += e.scheme + " on " + e.target.name + " failed: " + e.error + "\n";
    out += "\nquantize first (least " + r.options.rank_by + " lost per byte saved):\n";
    for (const auto* e : quantize_first(r, 5)) out += "  " + first_line(r, *e) + "\n";
    out += summary_line(r) + "\n";
    return out;
}

std::string sensitivity_report_markdown(const SensitivityResult& r) {
    std::string out = "## embq sensitivity\n\n" + summary_line(r) + "\n";
    const char* titles[] = {"Layers", "Groups"};
    for (const bool layers : {true, false}) {
        const auto cells = table_cells(r, layers);
        if (cells.size() == 1) continue;
        out += std::string("\n### ") + titles[layers ? 0 : 1] + "\n\n";
        const size_t text = layers ? 3 : 4;
        // Long tables fold, so the page stays readable in a CI job summary.
        if (cells.size() > 21) out += "<details><summary>" + std::to_string(cells.size() - 1) +
                                      " entries</summary>\n\n";
        out += markdown_table(cells, text);
        if (cells.size() > 21) out += "\n</details>\n";
    }
    out += "\n### Quantize first\n\n";
    for (const auto* e : quantize_first(r, 5)) out += "- `" + first_line(r, *e) + "`\n";
    out += "\n<sub>" + build_description() + "</sub>\n";
    return out;
}

std::string sensitivity_report_html(const SensitivityResult& r) {
    std::string body = "<h1>embq sensitivity</h1>\n<p>" + xml_escape(summary_line(r)) +
                       "</p>\n<h2>Quantize first</h2>\n<ol>\n";
    for (const auto* e : quantize_first(r, 5))
        body += "<li>" + xml_escape(first_line(r, *e)) + "</li>\n";
    body += "</ol>\n";
    const char* titles[] = {"Layers", "Groups"};
    for (const bool layers : {true, false}) {
        const auto cells = table_cells(r, layers);
        if (cells.size() == 1) continue;
        body += std::string("<h2>") + titles[layers ? 0 : 1] + "</h2>\n";
        const std::string chart = loss_chart(r, layers, 30);
        body += chart.empty()
                    ? "<p>No entry loses anything on " + xml_escape(r.options.rank_by) + ".</p>\n"
                    : "<div class=\"charts\">\n" + chart + "</div>\n";
        body += cells.size() > 21
                    ? html_details(std::to_string(cells.size() - 1) + " entries", html_table(cells))
                    : html_table(cells);
    }
    for (const auto& e : r.entries)
        if (!e.error.empty())
            body += "<p class=\"error\"><b>" + xml_escape(e.scheme + " on " + e.target.name) +
                    "</b> failed: " + xml_escape(e.error) + "</p>\n";
    return html_page("embq sensitivity", body);
}

nlohmann::json sensitivity_report_json(const SearchInputs& inputs, const SensitivityResult& r) {
    nlohmann::json entries = nlohmann::json::array();
    for (const auto& e : r.entries) {
        nlohmann::json j = {{"target", e.target.name},
                            {"by", to_string(e.target.kind)},
                            {"scheme", e.scheme},
                            {"layers", e.layers}};
        if (!e.error.empty()) {
            j["error"] = e.error;
        } else {
            j["bytes_before"] = e.bytes_before;
            j["bytes_after"] = e.bytes_after;
            j["loss"] = r.loss(e);
            j["metrics"] = metrics_to_json(e.metrics);
            nlohmann::json iv = nlohmann::json::object();
            for (const auto& [name, interval] : e.intervals)
                iv[name] = {interval.low, interval.high};
            j["intervals_95"] = iv;
            if (!e.speedup.empty()) j["speedup"] = e.speedup;
            j["seconds"] = e.seconds;
        }
        entries.push_back(j);
    }
    nlohmann::json first = nlohmann::json::array();
    for (const auto* e : quantize_first(r, 5))
        first.push_back({{"layer", e->target.name}, {"scheme", e->scheme}});
    return {{"report", "embq sensitivity"},
            {"format_version", 1},
            {"tool", tool_to_json(thread_count())},
            {"model", {{"path", inputs.model.string()}, {"bytes", r.fp32_bytes}}},
            {"data", inputs.eval.corpus.string()},
            {"texts_per_trial", r.texts},
            {"rank_by", r.options.rank_by},
            {"bootstrap_resamples", r.options.bootstrap_resamples},
            {"speed_batch_sizes",
             r.options.speed ? nlohmann::json(r.options.speed->batch_sizes) : nlohmann::json()},
            {"seconds", r.seconds},
            {"baseline_seconds", r.baseline_seconds},
            {"entries", entries},
            {"quantize_first", first}};
}

}  // namespace embq
