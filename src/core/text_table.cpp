#include "core/text_table.hpp"

#include <algorithm>
#include <cctype>

namespace embq {

namespace {

// "123", "1.5 MiB", "42.0%" count as numeric: they read best right-aligned.
bool looks_numeric(const std::string& cell) {
    return !cell.empty() && (std::isdigit(static_cast<unsigned char>(cell[0])) ||
                             (cell[0] == '-' && cell.size() > 1 &&
                              std::isdigit(static_cast<unsigned char>(cell[1]))));
}

}  // namespace

std::string TextTable::render() const {
    const size_t ncols = header_.size();
    std::vector<size_t> width(ncols, 0);
    std::vector<bool> numeric(ncols, !rows_.empty());
    for (size_t c = 0; c < ncols; ++c) width[c] = header_[c].size();
    for (const auto& row : rows_) {
        for (size_t c = 0; c < ncols && c < row.size(); ++c) {
            width[c] = std::max(width[c], row[c].size());
            if (!looks_numeric(row[c])) numeric[c] = false;
        }
    }

    auto line = [&](const std::vector<std::string>& cells, bool align_numbers) {
        std::string out;
        for (size_t c = 0; c < ncols; ++c) {
            const std::string cell = c < cells.size() ? cells[c] : "";
            const std::string pad(width[c] - cell.size(), ' ');
            out += (align_numbers && numeric[c]) ? pad + cell : cell + pad;
            if (c + 1 < ncols) out += "  ";
        }
        while (!out.empty() && out.back() == ' ') out.pop_back();
        return out + "\n";
    };

    std::string out = line(header_, false);
    std::string rule;
    for (size_t c = 0; c < ncols; ++c) {
        rule += std::string(width[c], '-');
        if (c + 1 < ncols) rule += "  ";
    }
    out += rule + "\n";
    for (const auto& row : rows_) out += line(row, true);
    return out;
}

std::string markdown_table(const std::vector<std::vector<std::string>>& cells,
                           size_t text_columns) {
    std::string out;
    for (size_t i = 0; i < cells.size(); ++i) {
        out += "|";
        for (const auto& c : cells[i]) out += " " + c + " |";
        out += "\n";
        if (i == 0) {
            out += "|";
            for (size_t j = 0; j < cells[i].size(); ++j)
                out += j < text_columns ? " --- |" : " ---: |";
            out += "\n";
        }
    }
    return out;
}

}  // namespace embq
