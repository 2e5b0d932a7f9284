// Reading text datasets as a stream (memory does not grow with the file): plain text
// (one item per line), JSONL ({"text": ...} or {"input_ids": [...]} already tokenized)
// and TSV pairs (a<TAB>b[<TAB>score]). Bad records are Input errors naming the file and
// line; empty lines are skipped and counted; invalid UTF-8 is an error with the line.
#pragma once

#include <cstdint>
#include <filesystem>
#include <fstream>
#include <optional>
#include <string>
#include <vector>

namespace embq {

enum class DatasetFormat { Text, Jsonl, TsvPairs };

// By extension: .txt/.text -> Text, .jsonl/.ndjson -> Jsonl, .tsv -> TsvPairs;
// anything else is a Usage error that names the accepted extensions and --format.
DatasetFormat dataset_format_for(const std::filesystem::path& path);
std::optional<DatasetFormat> parse_dataset_format(
    const std::string& name);  // "text", "jsonl", "tsv"

struct Record {
    size_t line = 0;                                // 1-based line in the file
    std::string text;                               // Text, Jsonl "text", or TSV column a
    std::optional<std::vector<int64_t>> input_ids;  // Jsonl {"input_ids": [...]}
    std::string text_b;                             // TSV column b
    std::optional<double> score;                    // TSV column 3 when present
};

struct DatasetStats {
    size_t lines = 0;          // lines read
    size_t records = 0;        // records returned
    size_t empty_skipped = 0;  // blank lines skipped
};

class DatasetReader {
public:
    DatasetReader(const std::filesystem::path& path, DatasetFormat format);

    // The next record, or false at the end of the file.
    bool next(Record& record);
    const DatasetStats& stats() const { return stats_; }
    const std::filesystem::path& path() const { return path_; }

private:
    std::filesystem::path path_;
    DatasetFormat format_;
    std::ifstream in_;
    DatasetStats stats_;
};

}  // namespace embq
