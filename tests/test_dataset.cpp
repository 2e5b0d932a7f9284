#include "embq/dataset.hpp"

#include <gtest/gtest.h>
#include <sys/stat.h>
#include <unistd.h>

#include <fstream>
#include <string>
#include <vector>

#include "embq/error.hpp"
#include "test_support.hpp"

namespace {

namespace fs = std::filesystem;
using embq::DatasetFormat;
using embq::DatasetReader;
using embq::ErrorCategory;
using embq::Record;
using embq::test::TempDir;
using embq::test::write_file;

std::vector<Record> read_all(const fs::path& path, DatasetFormat format,
                             embq::DatasetStats* stats = nullptr) {
    DatasetReader reader(path, format);
    std::vector<Record> out;
    Record r;
    while (reader.next(r)) out.push_back(r);
    if (stats) *stats = reader.stats();
    return out;
}

// Reads the whole file and returns the error it raises (fails the test if none).
embq::Error read_error(const fs::path& path, DatasetFormat format) {
    try {
        read_all(path, format);
    } catch (const embq::Error& e) {
        return e;
    }
    ADD_FAILURE() << "no error reading " << path;
    return embq::Error(ErrorCategory::Runtime, "");
}

// One-line Input error that starts "<path>:<line>: " and contains `what`.
void expect_line_error(const embq::Error& e, const fs::path& path, size_t line,
                       const std::string& what) {
    const std::string msg = e.what();
    EXPECT_EQ(e.category(), ErrorCategory::Input) << msg;
    EXPECT_EQ(msg.find('\n'), std::string::npos) << msg;
    const std::string prefix = path.string() + ":" + std::to_string(line) + ": ";
    EXPECT_EQ(msg.rfind(prefix, 0), 0u) << msg;
    EXPECT_NE(msg.find(what), std::string::npos) << "'" << what << "' not in: " << msg;
}

// ---- formats -------------------------------------------------------------------

TEST(DatasetFormat, ByExtension) {
    EXPECT_EQ(embq::dataset_format_for("a/b.txt"), DatasetFormat::Text);
    EXPECT_EQ(embq::dataset_format_for("b.text"), DatasetFormat::Text);
    EXPECT_EQ(embq::dataset_format_for("b.jsonl"), DatasetFormat::Jsonl);
    EXPECT_EQ(embq::dataset_format_for("b.ndjson"), DatasetFormat::Jsonl);
    EXPECT_EQ(embq::dataset_format_for("b.tsv"), DatasetFormat::TsvPairs);
    EXPECT_EQ(embq::dataset_format_for("B.TSV"), DatasetFormat::TsvPairs);
    EXPECT_EQ(embq::dataset_format_for("corpus.v2.JsonL"), DatasetFormat::Jsonl);
}

TEST(DatasetFormat, UnknownExtensionIsUsageErrorNamingFormats) {
    for (const std::string name : {"data/eval.csv", "data/eval"}) {
        try {
            embq::dataset_format_for(name);
            FAIL() << "no error for " << name;
        } catch (const embq::Error& e) {
            const std::string msg = e.what();
            EXPECT_EQ(e.category(), ErrorCategory::Usage);
            EXPECT_EQ(msg.rfind(name + ": ", 0), 0u) << msg;
            for (const char* s :
                 {".txt", ".text", ".jsonl", ".ndjson", ".tsv", "--format text|jsonl|tsv"}) {
                EXPECT_NE(msg.find(s), std::string::npos) << s << " not in: " << msg;
            }
            EXPECT_EQ(msg.find('\n'), std::string::npos);
        }
    }
}

TEST(DatasetFormat, ParseNames) {
    EXPECT_EQ(embq::parse_dataset_format("text"), DatasetFormat::Text);
    EXPECT_EQ(embq::parse_dataset_format("jsonl"), DatasetFormat::Jsonl);
    EXPECT_EQ(embq::parse_dataset_format("tsv"), DatasetFormat::TsvPairs);
    EXPECT_FALSE(embq::parse_dataset_format("csv").has_value());
    EXPECT_FALSE(embq::parse_dataset_format("").has_value());
}

// ---- opening ---------------------------------------------------------------------

TEST(DatasetReader, MissingFileIsInputErrorNamingPath) {
    TempDir dir;
    const auto path = dir / "nope.txt";
    try {
        DatasetReader r(path, DatasetFormat::Text);
        FAIL();
    } catch (const embq::Error& e) {
        EXPECT_EQ(e.category(), ErrorCategory::Input);
        EXPECT_EQ(std::string(e.what()), path.string() + ": no such file");
    }
}

TEST(DatasetReader, DirectoryIsInputError) {
    TempDir dir;
    try {
        DatasetReader r(dir.path(), DatasetFormat::Text);
        FAIL();
    } catch (const embq::Error& e) {
        EXPECT_EQ(e.category(), ErrorCategory::Input);
        EXPECT_EQ(std::string(e.what()).rfind(dir.path().string() + ": is a directory", 0), 0u)
            << e.what();
    }
}

TEST(DatasetReader, UnreadableFileIsInputError) {
    TempDir dir;
    const auto path = dir / "secret.txt";
    write_file(path, "hello\n");
    ::chmod(path.c_str(), 0);
    if (std::ifstream(path).is_open()) GTEST_SKIP() << "running as a user who can read mode 000";
    try {
        DatasetReader r(path, DatasetFormat::Text);
        FAIL();
    } catch (const embq::Error& e) {
        EXPECT_EQ(e.category(), ErrorCategory::Input);
        EXPECT_EQ(std::string(e.what()).rfind(path.string() + ": cannot open for reading", 0), 0u)
            << e.what();
    }
}

// ---- text ------------------------------------------------------------------------

TEST(DatasetText, LinesEmptySkippedAndCounted) {
    TempDir dir;
    const auto path = dir / "a.txt";
    write_file(path, "first\n\n   \n\t\nsecond line\n  third  \n\n");
    embq::DatasetStats st;
    const auto recs = read_all(path, DatasetFormat::Text, &st);
    ASSERT_EQ(recs.size(), 3u);
    EXPECT_EQ(recs[0].text, "first");
    EXPECT_EQ(recs[0].line, 1u);
    EXPECT_EQ(recs[1].text, "second line");
    EXPECT_EQ(recs[1].line, 5u);
    EXPECT_EQ(recs[2].text, "  third  ");
    EXPECT_EQ(recs[2].line, 6u);
    EXPECT_FALSE(recs[0].input_ids.has_value());
    EXPECT_EQ(st.lines, 7u);
    EXPECT_EQ(st.records, 3u);
    EXPECT_EQ(st.empty_skipped, 4u);
}

TEST(DatasetText, NoTrailingNewlineAndEmptyFile) {
    TempDir dir;
    write_file(dir / "a.txt", "one\ntwo");
    auto recs = read_all(dir / "a.txt", DatasetFormat::Text);
    ASSERT_EQ(recs.size(), 2u);
    EXPECT_EQ(recs[1].text, "two");

    write_file(dir / "empty.txt", "");
    embq::DatasetStats st;
    EXPECT_TRUE(read_all(dir / "empty.txt", DatasetFormat::Text, &st).empty());
    EXPECT_EQ(st.lines, 0u);
}

TEST(DatasetText, CrlfStripped) {
    TempDir dir;
    const auto path = dir / "a.txt";
    write_file(path, "alpha\r\n\r\nbeta\r\n");
    embq::DatasetStats st;
    const auto recs = read_all(path, DatasetFormat::Text, &st);
    ASSERT_EQ(recs.size(), 2u);
    EXPECT_EQ(recs[0].text, "alpha");
    EXPECT_EQ(recs[1].text, "beta");
    EXPECT_EQ(recs[1].line, 3u);
    EXPECT_EQ(st.empty_skipped, 1u);
}

TEST(DatasetText, BomSkippedOnFirstLineOnly) {
    TempDir dir;
    const auto path = dir / "a.txt";
    write_file(path, "\xEF\xBB\xBFhello\r\n\xEF\xBB\xBFkept\n");
    const auto recs = read_all(path, DatasetFormat::Text);
    ASSERT_EQ(recs.size(), 2u);
    EXPECT_EQ(recs[0].text, "hello");
    EXPECT_EQ(recs[1].text, "\xEF\xBB\xBFkept");  // U+FEFF inside the text is text

    write_file(path, "\xEF\xBB\xBF\nx\n");  // a BOM alone on line 1 is an empty line
    embq::DatasetStats st;
    EXPECT_EQ(read_all(path, DatasetFormat::Text, &st).size(), 1u);
    EXPECT_EQ(st.empty_skipped, 1u);
}

TEST(DatasetText, ValidUtf8Accepted) {
    TempDir dir;
    const auto path = dir / "a.txt";
    // é, €, U+D7FF, U+E000, U+FFFF, 𝄞 (U+1D11E), U+10FFFF
    const std::string line =
        "caf\xC3\xA9 \xE2\x82\xAC \xED\x9F\xBF \xEE\x80\x80 \xEF\xBF\xBF \xF0\x9D\x84\x9E "
        "\xF4\x8F\xBF\xBF";
    write_file(path, line + "\n");
    const auto recs = read_all(path, DatasetFormat::Text);
    ASSERT_EQ(recs.size(), 1u);
    EXPECT_EQ(recs[0].text, line);
}

struct BadUtf8 {
    const char* name;
    std::string bytes;  // placed after "ab" on line 2
};

class DatasetInvalidUtf8 : public ::testing::TestWithParam<BadUtf8> {};

TEST_P(DatasetInvalidUtf8, ErrorNamesFileLineAndByte) {
    TempDir dir;
    for (const auto format : {DatasetFormat::Text, DatasetFormat::Jsonl, DatasetFormat::TsvPairs}) {
        const auto path = dir / "bad.txt";
        // Line 1 is blank so that every format reaches line 2; UTF-8 is checked first.
        write_file(path, " \r\nab" + GetParam().bytes + "z\r\n");
        const auto e = read_error(path, format);
        EXPECT_EQ(std::string(e.what()), path.string() + ":2: invalid UTF-8 at byte 3");
        EXPECT_EQ(e.category(), ErrorCategory::Input);
    }
}

INSTANTIATE_TEST_SUITE_P(
    Cases, DatasetInvalidUtf8,
    ::testing::Values(
        BadUtf8{"overlong2", "\xC0\x80"}, BadUtf8{"overlong2b", "\xC1\xBF"},
        BadUtf8{"overlong3", "\xE0\x80\x80"}, BadUtf8{"overlong4", "\xF0\x80\x80\x80"},
        BadUtf8{"surrogate_high", "\xED\xA0\x80"}, BadUtf8{"surrogate_low", "\xED\xBF\xBF"},
        BadUtf8{"above_10FFFF", "\xF4\x90\x80\x80"}, BadUtf8{"lead_F5", "\xF5\x80\x80\x80"},
        BadUtf8{"byte_FF", "\xFF"}, BadUtf8{"lone_continuation", "\x80"},
        BadUtf8{"truncated_2", "\xC3"}, BadUtf8{"truncated_3", "\xE2\x82"},
        BadUtf8{"truncated_4", "\xF0\x9D\x84"}, BadUtf8{"latin1", "\xE9t\xE9"}),
    [](const auto& info) { return std::string(info.param.name); });

TEST(DatasetText, InvalidUtf8AtEndOfLineIsTruncated) {
    TempDir dir;
    const auto path = dir / "a.txt";
    write_file(path, "x\n\nabc\xE2\x82\n");  // sequence cut by the end of the line
    const auto e = read_error(path, DatasetFormat::Text);
    EXPECT_EQ(std::string(e.what()), path.string() + ":3: invalid UTF-8 at byte 4");
}

// ---- JSONL -----------------------------------------------------------------------

TEST(DatasetJsonl, TextAndInputIdsOtherKeysIgnored) {
    TempDir dir;
    const auto path = dir / "a.jsonl";
    write_file(path,
               "{\"text\": \"hello \\u00e9 world\", \"id\": 7, \"label\": [1, 2]}\r\n"
               "\n"
               "{\"input_ids\": [101, 0, 9223372036854775807, 102], \"meta\": {\"x\": null}}\n"
               "  {\"text\": \"\\ud834\\udd1e\"}  \n");
    embq::DatasetStats st;
    const auto recs = read_all(path, DatasetFormat::Jsonl, &st);
    ASSERT_EQ(recs.size(), 3u);
    EXPECT_EQ(recs[0].text, "hello \xC3\xA9 world");
    EXPECT_FALSE(recs[0].input_ids.has_value());
    EXPECT_TRUE(recs[1].text.empty());
    ASSERT_TRUE(recs[1].input_ids.has_value());
    EXPECT_EQ(*recs[1].input_ids, (std::vector<int64_t>{101, 0, 9223372036854775807LL, 102}));
    EXPECT_EQ(recs[1].line, 3u);
    EXPECT_EQ(recs[2].text, "\xF0\x9D\x84\x9E");
    EXPECT_FALSE(recs[2].input_ids.has_value());  // not left over from the previous record
    EXPECT_EQ(st.empty_skipped, 1u);
}

struct BadLine {
    const char* name;
    std::string line;
    std::string expect;  // a substring of the message
};

class DatasetJsonlBad : public ::testing::TestWithParam<BadLine> {};

TEST_P(DatasetJsonlBad, InputErrorWithFileAndLine) {
    TempDir dir;
    const auto path = dir / "bad.jsonl";
    write_file(path, "{\"text\": \"fine\"}\n\n" + GetParam().line + "\n{\"text\": \"after\"}\n");
    expect_line_error(read_error(path, DatasetFormat::Jsonl), path, 3, GetParam().expect);
}

INSTANTIATE_TEST_SUITE_P(
    Cases, DatasetJsonlBad,
    ::testing::Values(
        BadLine{"not_json", "{text: 1}", "invalid JSON"},
        BadLine{"truncated_json", "{\"text\": \"abc", "invalid JSON"},
        BadLine{"trailing_garbage", "{\"text\": \"a\"} x", "invalid JSON"},
        BadLine{"plain_text", "hello world", "invalid JSON"},
        BadLine{"bad_escape", "{\"text\": \"\\ud800\"}", "invalid JSON"},
        BadLine{"array", "[1, 2]", "found an array; expected one JSON object per line"},
        BadLine{"string", "\"text\"", "found a string; expected"},
        BadLine{"number", "42", "found an integer; expected"},
        BadLine{"both", "{\"text\": \"a\", \"input_ids\": [1]}",
                "has both \"text\" and \"input_ids\""},
        BadLine{"neither", "{\"sentence\": \"a\"}", "has neither \"text\" nor \"input_ids\""},
        BadLine{"empty_object", "{}", "has neither"},
        BadLine{"text_number", "{\"text\": 5}", "\"text\" is an integer; expected a string"},
        BadLine{"text_null", "{\"text\": null}", "\"text\" is null; expected a string"},
        BadLine{"ids_string", "{\"input_ids\": \"1 2 3\"}",
                "\"input_ids\" is a string; expected an array of non-negative integers"},
        BadLine{"ids_empty", "{\"input_ids\": []}", "\"input_ids\" is empty"},
        BadLine{"ids_negative", "{\"input_ids\": [1, -2]}",
                "\"input_ids\"[1] is -2; expected a non-negative integer"},
        BadLine{"ids_float", "{\"input_ids\": [1.5]}", "\"input_ids\"[0] is 1.5"},
        BadLine{"ids_string_elem", "{\"input_ids\": [1, \"2\"]}", "\"input_ids\"[1] is \"2\""},
        BadLine{"ids_nested", "{\"input_ids\": [[1]]}", "\"input_ids\"[0] is [1]"},
        BadLine{"ids_too_big", "{\"input_ids\": [9223372036854775808]}",
                "\"input_ids\"[0] is 9223372036854775808"}),
    [](const auto& info) { return std::string(info.param.name); });

// ---- TSV -------------------------------------------------------------------------

TEST(DatasetTsv, PairsWithAndWithoutScore) {
    TempDir dir;
    const auto path = dir / "a.tsv";
    write_file(path,
               "a cat\ta feline\r\n"
               "\n"
               "one\ttwo\t0.75\n"
               "x\ty\t-1e3\n"
               "p\tq\t 4 \n"
               "r\ts\n");
    embq::DatasetStats st;
    const auto recs = read_all(path, DatasetFormat::TsvPairs, &st);
    ASSERT_EQ(recs.size(), 5u);
    EXPECT_EQ(recs[0].text, "a cat");
    EXPECT_EQ(recs[0].text_b, "a feline");
    EXPECT_FALSE(recs[0].score.has_value());
    EXPECT_EQ(recs[1].text, "one");
    EXPECT_EQ(recs[1].text_b, "two");
    ASSERT_TRUE(recs[1].score.has_value());
    EXPECT_DOUBLE_EQ(*recs[1].score, 0.75);
    EXPECT_EQ(recs[1].line, 3u);
    EXPECT_DOUBLE_EQ(*recs[2].score, -1000.0);
    EXPECT_DOUBLE_EQ(*recs[3].score, 4.0);
    EXPECT_FALSE(recs[4].score.has_value());  // not left over from the previous record
    EXPECT_EQ(st.records, 5u);
    EXPECT_EQ(st.empty_skipped, 1u);
}

class DatasetTsvBad : public ::testing::TestWithParam<BadLine> {};

TEST_P(DatasetTsvBad, InputErrorWithFileAndLine) {
    TempDir dir;
    const auto path = dir / "bad.tsv";
    write_file(path, "a\tb\n\r\n" + GetParam().line + "\r\nc\td\n");
    expect_line_error(read_error(path, DatasetFormat::TsvPairs), path, 3, GetParam().expect);
}

INSTANTIATE_TEST_SUITE_P(
    Cases, DatasetTsvBad,
    ::testing::Values(
        BadLine{"one_column", "only one", "found 1 column; expected a<TAB>b or a<TAB>b<TAB>score"},
        BadLine{"four_columns", "a\tb\t1\textra", "found 4 columns; expected a<TAB>b"},
        BadLine{"empty_a", "\tb", "column 1 (a) is empty"},
        BadLine{"blank_a", "  \tb\t0.5", "column 1 (a) is empty"},
        BadLine{"empty_b", "a\t", "column 2 (b) is empty"},
        BadLine{"empty_b_with_score", "a\t\t1", "column 2 (b) is empty"},
        BadLine{"score_word", "a\tb\thigh", "score 'high' is not a finite number"},
        BadLine{"score_empty", "a\tb\t", "score '' is not a finite number"},
        BadLine{"score_suffix", "a\tb\t0.5x", "score '0.5x' is not a finite number"},
        BadLine{"score_nan", "a\tb\tnan", "score 'nan' is not a finite number"},
        BadLine{"score_inf", "a\tb\t-inf", "score '-inf' is not a finite number"},
        BadLine{"score_overflow", "a\tb\t1e999", "score '1e999' is not a finite number"}),
    [](const auto& info) { return std::string(info.param.name); });

// ---- streaming ---------------------------------------------------------------------

TEST(DatasetReader, LargeFileStreamed) {
    TempDir dir;
    const auto path = dir / "big.jsonl";
    constexpr size_t kLines = 200000;
    {
        std::ofstream out(path, std::ios::binary);
        for (size_t i = 0; i < kLines; ++i) {
            if (i % 10 == 9) {
                out << "\r\n";
            } else if (i % 2 == 0) {
                out << "{\"text\": \"sentence number " << i << "\", \"id\": " << i << "}\r\n";
            } else {
                out << "{\"input_ids\": [101, " << i << ", 102]}\n";
            }
        }
    }
    DatasetReader reader(path, DatasetFormat::Jsonl);
    Record r;
    size_t texts = 0, ids = 0, last_line = 0;
    bool lines_ok = true;
    while (reader.next(r)) {
        lines_ok = lines_ok && r.line > last_line;
        last_line = r.line;
        if (r.input_ids) {
            ++ids;
            lines_ok = lines_ok && (*r.input_ids)[1] == static_cast<int64_t>(r.line - 1);
        } else {
            ++texts;
        }
    }
    EXPECT_TRUE(lines_ok);
    EXPECT_EQ(reader.stats().lines, kLines);
    EXPECT_EQ(reader.stats().empty_skipped, kLines / 10);
    EXPECT_EQ(reader.stats().records, kLines - kLines / 10);
    EXPECT_EQ(texts, kLines / 2);
    EXPECT_EQ(ids, kLines / 2 - kLines / 10);
    EXPECT_EQ(last_line, kLines - 1);
    EXPECT_FALSE(reader.next(r));  // stays at the end
}

TEST(DatasetReader, ErrorLineCountsEmptyLinesAfterManyRecords) {
    TempDir dir;
    const auto path = dir / "a.txt";
    std::string content;
    for (int i = 0; i < 1000; ++i) content += (i % 3 == 0) ? "\n" : "line\r\n";
    content += "bad \xC0\xAF here\n";
    write_file(path, content);
    const auto e = read_error(path, DatasetFormat::Text);
    EXPECT_EQ(std::string(e.what()), path.string() + ":1001: invalid UTF-8 at byte 5");
}

}  // namespace
