// A plain-text table with aligned columns, for the tables embq prints (inspect,
// plan, quantize summaries). Internal to libembq.
#pragma once

#include <string>
#include <vector>

namespace embq {

class TextTable {
public:
    explicit TextTable(std::vector<std::string> header) : header_(std::move(header)) {}

    void add_row(std::vector<std::string> row) { rows_.push_back(std::move(row)); }

    // Columns whose every cell looks numeric are right-aligned; the rest left-aligned.
    std::string render() const;

private:
    std::vector<std::string> header_;
    std::vector<std::vector<std::string>> rows_;
};

// The same cells as a Markdown table: header first, the first `text_columns` columns
// left-aligned, the rest right-aligned.
std::string markdown_table(const std::vector<std::vector<std::string>>& cells,
                           size_t text_columns);

}  // namespace embq
