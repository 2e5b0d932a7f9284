// Pieces the text, Markdown and HTML forms of a report share, so that the forms say the
// same thing in the same words. Internal to libembq.
#pragma once

#include <string>
#include <utility>
#include <vector>

#include "embq/compare.hpp"
#include "embq/report.hpp"

namespace embq {

// What `embq eval` compared with what, on which data and search, in one line; file names
// between `quote`s.
std::string eval_headline(const EvalReport& report, const std::string& quote);

// Failed gates among `verdicts`.
size_t failed_gates(const std::vector<GateVerdict>& verdicts);

// The compare table as cells: the header first, then one row per config (the best value
// of each column marked with " *"); "config" and "size" are the text columns.
std::vector<std::vector<std::string>> compare_table_cells(const CompareResult& result);

// "2 of 3 configs passed; FP32 (584.9 KiB) embedded once; * marks ..."
std::string compare_summary_line(const CompareResult& result);

// Each config after the first that planned, against that first one: ("a -> b", layers).
std::vector<std::pair<std::string, std::vector<LayerDifference>>> compare_differences(
    const CompareResult& result);

// Markdown: `body` folded under `summary` in <details> when it has more than `rows`
// table rows, so a CI page shows the verdict first; as is otherwise.
std::string fold_markdown(const std::string& summary, const std::string& body, size_t rows);

}  // namespace embq
