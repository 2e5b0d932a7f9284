// The shared page of the HTML reports: style, table, badge and gates, so that every report
// looks and reads the same.
#include "eval/html_page.hpp"

#include <cctype>

#include "embq/format.hpp"
#include "embq/report.hpp"
#include "embq/runtime.hpp"

namespace embq {

namespace {

constexpr const char* kStyle = R"(
body { font: 14px/1.45 system-ui, sans-serif; margin: 24px auto; max-width: 1000px; color: #222; padding: 0 16px; }
h1 { font-size: 22px; margin-bottom: 4px; } h2 { font-size: 17px; margin-top: 28px; }
.verdict { display: inline-block; padding: 2px 10px; border-radius: 4px; color: #fff; }
.pass { background: #1a7f37; } .fail { background: #cf222e; } .none { background: #6e7781; }
td.pass, td.fail { color: #fff; }
table { border-collapse: collapse; margin: 8px 0; }
th, td { border: 1px solid #d0d7de; padding: 3px 8px; text-align: left; }
th.num, td.num { text-align: right; }
.charts { display: flex; flex-wrap: wrap; gap: 12px; }
svg.chart { border: 1px solid #d0d7de; background: #fff; }
svg .grid { stroke: #eee; } svg .axis { stroke: #444; }
svg .tick { font-size: 11px; fill: #444; } svg .label { font-size: 12px; fill: #222; }
svg .chart-title { font-size: 13px; font-weight: 600; fill: #222; }
.error { color: #cf222e; } footer { margin-top: 32px; color: #6e7781; font-size: 12px; }
)";

// "0.9875 [0.9830, 0.9920]", "25.8%", "-0.003", "11.0 KiB": a cell read as a number.
bool numeric_cell(const std::string& cell) {
    size_t i = cell[0] == '-' || cell[0] == '+' ? 1 : 0;
    if (i < cell.size() && cell[i] == '.') ++i;
    return i < cell.size() && std::isdigit(static_cast<unsigned char>(cell[i]));
}

// Columns whose every filled data cell is a number are right-aligned, header included,
// the way a spreadsheet sets them; words stay left.
std::vector<bool> numeric_columns(const std::vector<std::vector<std::string>>& cells) {
    std::vector<bool> numeric(cells.empty() ? 0 : cells.front().size(), cells.size() > 1);
    for (size_t r = 1; r < cells.size(); ++r)
        for (size_t c = 0; c < cells[r].size() && c < numeric.size(); ++c) {
            const std::string& cell = cells[r][c];
            if (cell.empty() || cell == "n/a" || cell == "-") continue;
            if (!numeric_cell(cell)) numeric[c] = false;
        }
    return numeric;
}

}  // namespace

std::string html_page(const std::string& title, const std::string& body) {
    return "<!DOCTYPE html>\n<html lang=\"en\">\n<head>\n<meta charset=\"utf-8\">\n<title>" +
           xml_escape(title) + "</title>\n<style>" + kStyle + "</style>\n</head>\n<body>\n" + body +
           "<footer>" + xml_escape(build_description()) + "</footer>\n</body>\n</html>\n";
}

std::string html_verdict_badge(size_t gates, size_t failed) {
    if (gates == 0) return "<span class=\"verdict none\">no gates</span>";
    if (failed == 0)
        return "<span class=\"verdict pass\">passed: " + std::to_string(gates) + " of " +
               std::to_string(gates) + " gates</span>";
    return "<span class=\"verdict fail\">failed: " + std::to_string(failed) + " of " +
           std::to_string(gates) + " gates</span>";
}

std::string html_table(const std::vector<std::vector<std::string>>& cells,
                       const std::map<size_t, std::vector<std::string>>& row_classes) {
    const std::vector<bool> numeric = numeric_columns(cells);
    std::string s = "<table>\n";
    for (size_t r = 0; r < cells.size(); ++r) {
        s += "<tr>";
        const auto classes = row_classes.find(r);
        for (size_t c = 0; c < cells[r].size(); ++c) {
            const char* tag = r == 0 ? "th" : "td";
            std::string cls;
            if (classes != row_classes.end() && c < classes->second.size())
                cls = classes->second[c];
            if (c < numeric.size() && numeric[c]) cls += cls.empty() ? "num" : " num";
            if (!cls.empty()) cls = " class=\"" + cls + "\"";
            s += std::string("<") + tag + cls + ">" + xml_escape(cells[r][c]) + "</" + tag + ">";
        }
        s += "</tr>\n";
    }
    return s + "</table>\n";
}

std::string html_gates_table(const std::vector<GateVerdict>& verdicts) {
    std::vector<std::vector<std::string>> cells = {{"gate", "value", "result"}};
    std::map<size_t, std::vector<std::string>> classes;
    for (const auto& v : verdicts) {
        cells.push_back({v.gate.text, v.value ? format_metric(*v.value) : "missing",
                         v.passed ? "pass" : "FAIL" + (v.reason.empty() ? "" : ": " + v.reason)});
        classes[cells.size() - 1] = {"", "", v.passed ? "pass" : "fail"};
    }
    return html_table(cells, classes);
}

std::string html_details(const std::string& summary, const std::string& body, bool open) {
    return std::string("<details") + (open ? " open" : "") + "><summary>" + xml_escape(summary) +
           "</summary>\n" + body + "</details>\n";
}

}  // namespace embq
