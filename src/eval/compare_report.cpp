// The forms `embq compare` prints and writes: a table with the best value of each column
// marked, the layers each config plans differently, JSON and Markdown.
#include <cmath>
#include <cstdio>

#include <nlohmann/json.hpp>

#include "core/text_table.hpp"
#include "embq/compare.hpp"
#include "embq/format.hpp"
#include "embq/layers.hpp"
#include "embq/report.hpp"
#include "embq/runtime.hpp"
#include "eval/junit.hpp"
#include "eval/report_parts.hpp"

namespace embq {

namespace {

struct Column {
    std::string metric;  // a name from the metric catalogue
    std::string header;
};

// recall@K for every K, eps_recall@K and cross_recall@K for the largest, cosine.p5, and hit@1 when the run
// had labelled pairs: the columns that decide between configs.
std::vector<Column> columns(const CompareResult& result) {
    const EvalResult* any = nullptr;
    for (const auto& row : result.rows)
        if (row.result) any = &*row.result;
    std::vector<Column> cols = {{"size_ratio", "size vs FP32"},
                                {"throughput_ratio", "texts/s vs FP32"}};
    if (!any) return cols;
    for (const int64_t k : any->options.ks) cols.push_back({"recall@" + std::to_string(k), ""});
    const int64_t largest = any->options.ks.back();
    cols.push_back({"eps_recall@" + std::to_string(largest), ""});
    cols.push_back({"cross_recall@" + std::to_string(largest), ""});
    cols.push_back({"cosine.p5", ""});
    if (any->metrics.get("hit@1_candidate"))
        cols.push_back({"hit@1_candidate",
                        "hit@1 (FP32 " + format_metric(*any->metrics.get("hit@1_baseline")) + ")"});
    for (auto& c : cols)
        if (c.header.empty()) c.header = c.metric;
    return cols;
}

// The best value of a column among the rows that ran, by the metric's direction.
std::optional<double> best(const CompareResult& result, const Column& col) {
    const bool higher = resolve_metric(col.metric).info->higher_is_better;
    std::optional<double> out;
    for (const auto& row : result.rows) {
        if (!row.result) continue;
        const auto v = row.result->metrics.get(col.metric);
        if (!v || !std::isfinite(*v)) continue;
        if (!out || (higher ? *v > *out : *v < *out)) out = *v;
    }
    return out;
}

std::string cell(const CompareRow& row, const Column& col, const std::optional<double>& top) {
    const auto v = row.result->metrics.get(col.metric);
    if (!v) return "-";
    std::string text =
        col.metric.find("ratio") != std::string::npos ? format_metric(*v, 3) : format_metric(*v);
    if (top && *v == *top) text += " *";
    return text;
}

// "pass", or "FAIL " and each failing gate with the value it got.
std::string gates_cell(const CompareRow& row) {
    if (!row.result) return "failed";
    if (row.verdicts.empty()) return "-";
    std::string failed;
    for (const auto& v : row.verdicts)
        if (!v.passed)
            failed += (failed.empty() ? "FAIL " : ", ") + v.gate.text + " (" +
                      (v.value ? format_metric(*v.value) : "missing") + ")";
    return failed.empty() ? "pass" : failed;
}

// Longer lists of layers are folded in Markdown: the table of configs comes first.
constexpr size_t kFoldRows = 8;

}  // namespace

std::vector<std::vector<std::string>> compare_table_cells(const CompareResult& result) {
    const auto cols = columns(result);
    std::vector<std::vector<std::string>> cells;
    std::vector<std::string> header = {"config", "size"};
    for (const auto& c : cols) header.push_back(c.header);
    header.push_back("gates");
    cells.push_back(header);
    std::vector<std::optional<double>> tops;
    for (const auto& c : cols) tops.push_back(best(result, c));
    for (const auto& row : result.rows) {
        std::vector<std::string> line = {row.name};
        if (!row.result) {
            line.push_back("failed");  // the reason follows the table: it is too long for a cell
            line.resize(header.size(), "");
            line.back() = gates_cell(row);
        } else {
            line.push_back(format_bytes(static_cast<int64_t>(row.result->candidate_bytes)));
            for (size_t i = 0; i < cols.size(); ++i) line.push_back(cell(row, cols[i], tops[i]));
            line.push_back(gates_cell(row));
        }
        cells.push_back(line);
    }
    return cells;
}

std::vector<std::pair<std::string, std::vector<LayerDifference>>> compare_differences(
    const CompareResult& result) {
    std::vector<std::pair<std::string, std::vector<LayerDifference>>> out;
    const CompareRow* first = nullptr;
    for (const auto& row : result.rows) {
        if (!row.plan) continue;
        if (!first) {
            first = &row;
            continue;
        }
        out.emplace_back(first->name + " -> " + row.name,
                         plan_differences(*first->plan, *row.plan));
    }
    return out;
}

std::string compare_summary_line(const CompareResult& result) {
    size_t passed = 0;
    for (const auto& row : result.rows) passed += row.passed();
    return std::to_string(passed) + " of " + std::to_string(result.rows.size()) +
           " configs passed; FP32 (" + format_bytes(static_cast<int64_t>(result.baseline_bytes)) +
           ") embedded once; * marks the best value of a column";
}

std::string compare_report_text(const CompareResult& result) {
    const auto cells = compare_table_cells(result);
    TextTable table(cells.front());
    for (size_t i = 1; i < cells.size(); ++i) table.add_row(cells[i]);
    std::string out = table.render();
    for (const auto& row : result.rows)
        if (!row.error.empty()) out += row.name + " failed: " + row.error + "\n";
    out += compare_summary_line(result) + "\n";
    for (const auto& [title, diffs] : compare_differences(result)) {
        out += "\nlayers planned differently, " + title + (diffs.empty() ? ": none\n" : ":\n");
        if (diffs.empty()) continue;
        const auto arrow = title.find(" -> ");
        TextTable t({"layer", title.substr(0, arrow), title.substr(arrow + 4)});
        for (const auto& d : diffs) t.add_row({d.layer, d.first, d.second});
        out += t.render();
    }
    return out;
}

std::string compare_report_markdown(const CompareResult& result) {
    const auto cells = compare_table_cells(result);
    std::string out = std::string("## embq compare: ") + (result.all_passed() ? "✅" : "❌") + " " +
                      compare_summary_line(result) + "\n\n";
    out += markdown_table(cells, 2);
    for (const auto& row : result.rows)
        if (!row.error.empty()) out += "\n**" + row.name + "** failed: " + row.error + "\n";
    for (const auto& [title, diffs] : compare_differences(result)) {
        const std::string heading =
            "**" + title + "**: " +
            (diffs.empty() ? "no layer differs" : std::to_string(diffs.size()) + " layers differ");
        if (diffs.empty()) {
            out += "\n" + heading + "\n";
            continue;
        }
        std::string table = "| layer | before | after |\n| --- | --- | --- |\n";
        for (const auto& d : diffs)
            table += "| `" + d.layer + "` | " + d.first + " | " + d.second + " |\n";
        out += "\n" + fold_markdown(heading, table, kFoldRows);
    }
    out += "\n<sub>" + build_description() + "</sub>\n";
    return out;
}

nlohmann::json compare_report_json(const CompareInputs& inputs, const CompareResult& result) {
    nlohmann::json rows = nlohmann::json::array();
    for (const auto& row : result.rows) {
        nlohmann::json r = {
            {"name", row.name}, {"config", row.config.string()}, {"passed", row.passed()}};
        if (!row.error.empty()) r["error"] = row.error;
        if (row.result) {
            r["bytes"] = row.result->candidate_bytes;
            r["metrics"] = metrics_to_json(row.result->metrics);
            r["gates"] = gates_to_json(row.verdicts);
            r["texts_per_second"] = row.result->candidate_texts_per_second;
        }
        rows.push_back(r);
    }
    nlohmann::json diffs = nlohmann::json::array();
    for (const auto& [title, list] : compare_differences(result)) {
        nlohmann::json layers = nlohmann::json::array();
        for (const auto& d : list)
            layers.push_back({{"layer", d.layer}, {"first", d.first}, {"second", d.second}});
        diffs.push_back({{"configs", title}, {"layers", layers}});
    }
    return {{"report", "embq compare"},
            {"format_version", 1},
            {"passed", result.all_passed()},
            {"tool", tool_to_json(thread_count())},
            {"model", {{"path", inputs.model.string()}, {"bytes", result.baseline_bytes}}},
            {"configs", rows},
            {"layer_differences", diffs}};
}

std::string compare_report_junit(const CompareResult& result) {
    std::vector<JunitSuite> suites;
    for (const auto& row : result.rows) {
        JunitSuite suite;
        suite.name = "embq compare: " + row.name;
        suite.output = row.config.string();
        const std::string classname = "embq.compare." + row.name;
        if (row.result) {
            suite.seconds = row.result->embed_seconds + row.result->search_seconds;
            suite.cases = gate_cases(classname, row.verdicts);
        } else {
            suite.cases.push_back({classname, "quantize and evaluate", "", "", row.error});
        }
        suites.push_back(std::move(suite));
    }
    return junit_xml("embq compare", suites);
}

}  // namespace embq
