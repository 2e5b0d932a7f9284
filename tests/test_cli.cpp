// The embq binary as scripts and CI jobs use it: exit codes, one-line errors, JSON output,
// progress in a log that is not a terminal, the report above the verdict in one log.
#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include <unistd.h>

#include <algorithm>
#include <filesystem>

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

TEST(PresetsCli, ShippedConfigsAreListedAndTakenByName) {
    const auto list = run_embq({"configs", "--json"});
    ASSERT_EQ(list.exit_code, kExitOk) << list.err;
    const auto presets = nlohmann::json::parse(list.out);
    std::vector<std::string> names;
    for (const auto& p : presets) {
        names.push_back(p["name"].get<std::string>());
        EXPECT_TRUE(std::filesystem::is_regular_file(p["path"].get<std::string>())) << p;
        EXPECT_FALSE(p["description"].get<std::string>().empty()) << p;
    }
    for (const std::string shipped : {"int8", "int8-mixed", "int4-weights"})
        EXPECT_NE(std::find(names.begin(), names.end(), shipped), names.end()) << shipped;
    EXPECT_EQ(std::find(names.begin(), names.end(), "embq-config.schema"), names.end());
    const auto table = run_embq({"configs"});
    test::expect_contains(table.out, {"int8-mixed", "Mixed precision for BERT-like encoders"});

    // A name plans exactly as the file does.
    const std::string model = fixture("bert_traced.pt").string();
    const auto by_name = run_embq({"plan", model, "int8", "--json"});
    const auto by_file = run_embq(
        {"plan", model, (std::filesystem::path(EMBQ_SOURCE_DIR) / "configs" / "int8.json").string(),
         "--json"});
    ASSERT_EQ(by_name.exit_code, kExitOk) << by_name.err;
    ASSERT_EQ(by_file.exit_code, kExitOk) << by_file.err;
    EXPECT_EQ(nlohmann::json::parse(by_name.out)["layers"],
              nlohmann::json::parse(by_file.out)["layers"]);

    // A typo names the closest preset and lists them; no work is done.
    for (const std::string command : {"plan", "quantize", "compare"}) {
        std::vector<std::string> args = {command, model, "int8-mixd"};
        if (command == "quantize") args.insert(args.end(), {"-o", "/tmp/embq-never-written.pt"});
        if (command == "compare") args.insert(args.end(), {"--data", "/dev/null"});
        const auto typo = run_embq(args);
        EXPECT_EQ(typo.exit_code, kExitBadInput) << command;
        test::expect_contains(typo.err, {"'int8-mixd' is neither a config file nor a preset",
                                         "did you mean 'int8-mixed'", "presets: "});
        EXPECT_EQ(count_lines(typo.err), 1) << typo.err;
    }
    EXPECT_FALSE(std::filesystem::exists("/tmp/embq-never-written.pt"));
}

TEST(PresetsCli, EmbqConfigsDirReplacesTheShippedOnes) {
    test::TempDir dir;
    test::write_file(dir / "house.json", R"({"description": "Our house config. More words.",
        "defaults": {"linear": {"scheme": "fp16"}}})");
    const auto list =
        test::EmbqProcess({"configs"}, {"EMBQ_CONFIGS_DIR=" + dir.path().string()}).wait();
    ASSERT_EQ(list.exit_code, kExitOk) << list.err;
    test::expect_contains(list.out, {"house", "Our house config.", dir.path().string()});
    EXPECT_EQ(list.out.find("int8-mixed"), std::string::npos) << list.out;
    const auto plan = test::EmbqProcess({"plan", fixture("bert_traced.pt").string(), "house"},
                                        {"EMBQ_CONFIGS_DIR=" + dir.path().string()})
                          .wait();
    EXPECT_EQ(plan.exit_code, kExitOk) << plan.err;
    test::expect_contains(plan.out, {"fp16"});
}

// Runs `command` through bash with stdout and stderr into `log`; true when it exits 0.
bool shell(const std::string& command, const std::filesystem::path& log) {
    const std::string line =
        "bash -c '" + command + "' > '" + log.string() + "' 2>&1";  // command has no ' of its own
    return std::system(line.c_str()) == 0;
}

const std::string kBuildDir = std::filesystem::path(EMBQ_BINARY).parent_path().string();

// `cmake --install` of this build into `prefix`.
void install_into(const std::filesystem::path& prefix) {
    ASSERT_TRUE(shell("cmake --install " + kBuildDir + " --prefix " + prefix.string(),
                      prefix / "install.log"))
        << test::read_file(prefix / "install.log");
}

TEST(PresetsCli, AnInstalledEmbqRunsAndReadsItsOwnPresets) {
    test::TempDir prefix;
    install_into(prefix.path());
    const std::string installed = (prefix / "bin" / "embq").string();
    const std::filesystem::path presets = prefix / "share" / "embq" / "configs";
    ASSERT_TRUE(std::filesystem::is_regular_file(presets / "int8-mixed.json"));
    // Its presets are the installed ones, not this source tree's.
    const std::string out = (prefix / "out.txt").string();
    const std::string configs = "'" + installed + "' configs > '" + out + "' 2>&1";
    ASSERT_EQ(std::system(configs.c_str()), 0) << test::read_file(out);
    test::expect_contains(test::read_file(out), {"int8-mixed", "from " + presets.string()});
    const std::string plan = "'" + installed + "' plan '" + fixture("bert_traced.pt").string() +
                             "' int8 > '" + out + "' 2>&1";
    EXPECT_EQ(std::system(plan.c_str()), 0) << test::read_file(out);
    test::expect_contains(test::read_file(out), {"int8_dynamic", "preflight passed"});
}

// The man page is the binary's own help, and renders without a roff warning.
TEST(InstallCli, TheManPageCoversEveryCommand) {
    test::TempDir prefix;
    install_into(prefix.path());
    const auto page = prefix / "share" / "man" / "man1" / "embq.1";
    ASSERT_TRUE(std::filesystem::is_regular_file(page));
    ASSERT_TRUE(shell("groff -man -ww -z " + page.string(), prefix / "warnings.txt"));
    EXPECT_EQ(test::read_file(prefix / "warnings.txt"), "");
    ASSERT_TRUE(shell("groff -man -Tutf8 -P-cbou " + page.string(), prefix / "page.txt"));
    const std::string text = test::read_file(prefix / "page.txt");
    for (const std::string command :
         {"inspect", "embed", "eval", "compare", "calibrate", "plan", "quantize", "bench",
          "sensitivity", "tune", "finetune", "schemes", "configs"})
        EXPECT_NE(text.find("embq " + command + "\n"), std::string::npos) << command;
    test::expect_contains(text, {"EXIT STATUS", "--keep-fp32", "EMBQ_CONFIGS_DIR"});
}

// bash (and zsh, through bashcompinit) complete commands, options and preset names from
// the installed embq.
TEST(InstallCli, CompletionComesFromTheInstalledBinary) {
    test::TempDir prefix;
    install_into(prefix.path());
    const auto bash = prefix / "share" / "bash-completion" / "completions" / "embq";
    const auto zsh = prefix / "share" / "zsh" / "vendor-completions" / "_embq";
    ASSERT_TRUE(std::filesystem::is_regular_file(bash));
    ASSERT_TRUE(std::filesystem::is_regular_file(zsh));
    // zsh's file sources the bash one by this relative path.
    EXPECT_TRUE(std::filesystem::is_regular_file(zsh.parent_path() / ".." / ".." /
                                                 "bash-completion" / "completions" / "embq"));
    const std::string complete =
        "PATH=" + (prefix / "bin").string() + ":$PATH; source " + bash.string() +
        "; for w in \"embq qu\" \"embq quantize --sch\" \"embq plan m.pt int8-m\" "
        "\"embq --threads 2 ev\"; do read -ra COMP_WORDS <<< \"$w\"; "
        "COMP_CWORD=$((${#COMP_WORDS[@]} - 1)); _embq; echo \"$w: ${COMPREPLY[*]}\"; done";
    ASSERT_TRUE(shell(complete, prefix / "out.txt")) << test::read_file(prefix / "out.txt");
    const std::string out = test::read_file(prefix / "out.txt");
    test::expect_contains(out,
                          {"embq qu: quantize\n", "embq quantize --sch: --scheme\n",
                           "embq plan m.pt int8-m: int8-mixed\n", "embq --threads 2 ev: eval\n"});
}

// Code outside this tree links the installed libembq through find_package(embq).
TEST(InstallCli, AProgramLinksTheInstalledLibraryThroughItsCMakePackage) {
    test::TempDir prefix;
    install_into(prefix.path());
    const std::string consumer = std::string(EMBQ_SOURCE_DIR) + "/tests/data/consumer";
    const auto build = prefix / "consumer-build";
    ASSERT_TRUE(shell("cmake -S " + consumer + " -B " + build.string() +
                          " -DCMAKE_BUILD_TYPE=Release -DCMAKE_PREFIX_PATH=" +
                          prefix.path().string() + " && cmake --build " + build.string(),
                      prefix / "build.log"))
        << test::read_file(prefix / "build.log");
    ASSERT_TRUE(shell((build / "consumer").string() + " " + fixture("bert_traced.pt").string() +
                          " " + EMBQ_SOURCE_DIR + "/configs/int8.json",
                      prefix / "run.txt"))
        << test::read_file(prefix / "run.txt");
    test::expect_contains(test::read_file(prefix / "run.txt"), {"15 layers, planned 0.3"});
}

// cpack builds a .deb whose dependencies are Debian 12 packages; its tree runs as installed.
TEST(InstallCli, TheDebDependsOnDebianPackagesAndRunsFromItsTree) {
    test::TempDir dir;
    ASSERT_TRUE(
        shell("cd " + kBuildDir + " && cpack -G DEB -B " + dir.path().string(), dir / "cpack.log"))
        << test::read_file(dir / "cpack.log");
    const auto deb = dir / "embq_0.1.0_amd64.deb";
    ASSERT_TRUE(std::filesystem::is_regular_file(deb)) << test::read_file(dir / "cpack.log");
    ASSERT_TRUE(shell("dpkg-deb -f " + deb.string() + " Depends", dir / "depends.txt"));
    const std::string depends = test::read_file(dir / "depends.txt");
    // FAISS is linked statically (Debian ships libfaiss.a), so only its BLAS and OpenMP show.
    test::expect_contains(depends, {"libtorch", "libopenblas0-pthread", "libgomp1"});
    // Every package named (the first of each "a | b" choice) is one apt knows on Debian 12.
    ASSERT_TRUE(shell("tr , \"\\n\" < " + (dir / "depends.txt").string() +
                          " | sed -e \"s/|.*//\" -e \"s/(.*//\" -e \"s/ //g\" | grep . | "
                          "xargs apt-cache show > /dev/null",
                      dir / "apt.log"))
        << depends << test::read_file(dir / "apt.log");

    const auto tree = dir / "tree";
    ASSERT_TRUE(shell("dpkg-deb -x " + deb.string() + " " + tree.string() + " && " +
                          (tree / "usr" / "bin" / "embq").string() + " configs",
                      dir / "configs.txt"))
        << test::read_file(dir / "configs.txt");
    test::expect_contains(test::read_file(dir / "configs.txt"),
                          {"int8-mixed", (tree / "usr" / "share" / "embq" / "configs").string()});
    for (const char* file : {"usr/share/man/man1/embq.1", "usr/include/embq/model.hpp",
                             "usr/lib/cmake/embq/embqConfig.cmake"})
        EXPECT_TRUE(std::filesystem::exists(tree / file)) << file;
}

}  // namespace
}  // namespace embq
