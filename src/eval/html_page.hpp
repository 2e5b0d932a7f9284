// The page every HTML report is built on (eval, compare, sensitivity, tune): one
// self-contained file, inline CSS, no script, nothing fetched; the same look, table and
// verdict badge everywhere. Internal to libembq.
#pragma once

#include <map>
#include <string>
#include <vector>

#include "embq/gates.hpp"

namespace embq {

// A whole HTML document: `title` in <title>, `body` as its content, the build in the footer.
std::string html_page(const std::string& title, const std::string& body);

// A table from cells, header row first, every cell escaped; row_classes[r][c] names the
// CSS class of cell c in row r ("pass", "fail"), empty for none. Columns of numbers are
// right-aligned, columns of words left.
std::string html_table(const std::vector<std::vector<std::string>>& cells,
                       const std::map<size_t, std::vector<std::string>>& row_classes = {});

// "passed: 3 of 3 gates" in green, "failed: 1 of 3 gates" in red, "no gates" in grey.
std::string html_verdict_badge(size_t gates, size_t failed);

// The gates with their values and pass/FAIL cells, coloured.
std::string html_gates_table(const std::vector<GateVerdict>& verdicts);

// `body` folded under `summary` in <details>, open when `open`.
std::string html_details(const std::string& summary, const std::string& body, bool open = false);

}  // namespace embq
