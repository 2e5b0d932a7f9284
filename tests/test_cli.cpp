// The embq binary as scripts and CI jobs use it: exit codes, one-line errors, JSON output,
// progress in a log that is not a terminal, the report above the verdict in one log.
#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include <unistd.h>

#include "embq/error.hpp"
#include "test_support.hpp"

namespace embq {
namespace {

using test::fixture;
using test::run_embq;

int count_lines(const std::string& s) {
    int n = 0;
    for (char c : s) n += c == '\n';
    return n;
}

TEST(Cli, VersionNamesEmbqAndLibtorch) {
    const auto r = run_embq({"--version"});
    EXPECT_EQ(r.exit_code, kExitOk);
    EXPECT_NE(r.out.find("embq "), std::string::npos) << r.out;
    EXPECT_NE(r.out.find("libtorch"), std::string::npos) << r.out;
}

TEST(Cli, HelpListsSubcommands) {
    for (const auto& args : {std::vector<std::string>{"--help"}, {"help"}}) {
        const auto r = run_embq(args);
        EXPECT_EQ(r.exit_code, kExitOk) << args[0];
        EXPECT_NE(r.out.find("inspect"), std::string::npos) << r.out;
    }
}

TEST(Cli, HelpOnASubcommand) {
    for (const auto& args : {std::vector<std::string>{"inspect", "--help"}, {"help", "inspect"}}) {
        const auto r = run_embq(args);
        EXPECT_EQ(r.exit_code, kExitOk);
        EXPECT_NE(r.out.find("--json"), std::string::npos) << r.out;
    }
}

TEST(Cli, UsageErrorsExitTwoWithOneLine) {
    for (const auto& args : {std::vector<std::string>{},
                             {"frobnicate"},
                             {"inspect"},
                             {"inspect", fixture("bert_traced.pt").string(), "--no-such-flag"},
                             {"--threads", "-3", "inspect", fixture("bert_traced.pt").string()},
                             {"help", "frobnicate"}}) {
        const auto r = run_embq(args);
        std::string joined;
        for (const auto& a : args) joined += a + " ";
        EXPECT_EQ(r.exit_code, kExitBadInput) << joined << "\n" << r.err;
        EXPECT_EQ(count_lines(r.err), 1) << joined << "\n" << r.err;
        EXPECT_EQ(r.err.rfind("embq: error: ", 0), 0u) << r.err;
    }
}

TEST(Cli, InspectBadFilesExitTwoNamingTheFile) {
    test::TempDir dir;
    test::write_file(dir / "text.pt", "hello");
    const std::string bytes = test::read_file(fixture("bert_traced.pt"));
    test::write_file(dir / "cut.pt", bytes.substr(0, bytes.size() - 100));
    for (const auto& path :
         {(dir / "missing.pt").string(), (dir / "text.pt").string(), (dir / "cut.pt").string()}) {
        const auto r = run_embq({"inspect", path});
        EXPECT_EQ(r.exit_code, kExitBadInput) << path << ": " << r.err;
        EXPECT_EQ(count_lines(r.err), 1) << r.err;
        EXPECT_NE(r.err.find(path), std::string::npos) << r.err;
        EXPECT_TRUE(r.out.empty()) << r.out;
    }
}

TEST(Cli, InspectJsonParsesAndMatchesTheModel) {
    const auto r = run_embq({"inspect", fixture("bert_traced.pt").string(), "--json"});
    ASSERT_EQ(r.exit_code, kExitOk) << r.err;
    const auto j = nlohmann::json::parse(r.out);
    EXPECT_EQ(j.at("layers").size(), 15u);  // 3 embedding tables + 2 x 6 linears
    EXPECT_EQ(j["totals"]["by_kind"]["linear"]["count"], 12);
    EXPECT_EQ(j["totals"]["by_kind"]["embedding"]["count"], 3);
    EXPECT_EQ(j["totals"]["by_kind"]["kept"]["count"], 5);  // the LayerNorms
    EXPECT_TRUE(j.at("embq").is_null());
}

TEST(Cli, InspectTableShowsLayersAndTotals) {
    const auto r = run_embq({"--threads", "1", "inspect", fixture("shared_linear.pt").string()});
    ASSERT_EQ(r.exit_code, kExitOk) << r.err;
    EXPECT_NE(r.out.find("block_a.fc"), std::string::npos);
    EXPECT_NE(r.out.find("kept (not quantizable)"), std::string::npos);
    EXPECT_NE(r.out.find("total"), std::string::npos);
}

TEST(Cli, ProgressInALogIsPlainLinesAndAShortRunPrintsNone) {
    test::TempDir dir;
    test::write_file(dir / "texts.txt", test::fixture_sentences(200, 7));
    const std::vector<std::string> args = {"embed",        fixture("bert_traced.pt").string(),
                                           "--data",       (dir / "texts.txt").string(),
                                           "--tokenizer",  fixture("vocab.txt").string(),
                                           "--out",        (dir / "v.npy").string(),
                                           "--batch-size", "16"};
    // A short run (under 10 s) is quiet by default.
    const auto quiet = run_embq(args);
    ASSERT_EQ(quiet.exit_code, kExitOk) << quiet.err;
    EXPECT_EQ(quiet.err.find("progress:"), std::string::npos) << quiet.err;
    // With an interval of 0 every update is a line of its own: no carriage returns.
    const std::vector<std::string> again = args;
    const auto r = test::EmbqProcess(again, {"EMBQ_PROGRESS_SECONDS=0"}).wait();
    ASSERT_EQ(r.exit_code, kExitOk) << r.err;
    test::expect_contains(r.err, {"info: progress: 16 texts", "info: progress: 200 texts"});
    EXPECT_EQ(r.err.find('\r'), std::string::npos);

    const auto bad = test::EmbqProcess(again, {"EMBQ_PROGRESS_SECONDS=soon"}).wait();
    EXPECT_EQ(bad.exit_code, kExitBadInput);
    test::expect_contains(bad.err, {"EMBQ_PROGRESS_SECONDS", "'soon'"});
}

TEST(Cli, ALogWithBothStreamsShowsTheReportAboveTheVerdict) {
    test::TempDir dir;
    test::write_file(dir / "texts.txt", test::fixture_sentences(120, 8));
    // stdout into stderr's file, as `embq ... 2>&1 | tee log` in a CI job.
    const auto r = test::EmbqProcess({"eval", "--baseline", fixture("bert_traced.pt").string(),
                                      "--candidate", fixture("bert_scripted.pt").string(), "--data",
                                      (dir / "texts.txt").string(), "--tokenizer",
                                      fixture("vocab.txt").string(), "--gate", "size_ratio<=0.5"},
                                     {}, [] { ::dup2(2, 1); })
                       .wait();
    ASSERT_EQ(r.exit_code, kExitGateFailed) << r.err;
    const auto table = r.err.find("gate size_ratio"), verdict = r.err.find("1 of 1 gates failed");
    ASSERT_NE(table, std::string::npos) << r.err;
    ASSERT_NE(verdict, std::string::npos) << r.err;
    EXPECT_LT(table, verdict) << r.err;
}

}  // namespace
}  // namespace embq
