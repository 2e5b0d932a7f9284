// What the README's error policy promises, tried as a hostile user would: signals leave
// no temporary file, no output replaces an input, special paths are refused or written
// through as documented, a full disk is a clean error, non-finite numbers are never
// silent, and hostile models and ids end in one line that says what is wrong.
#include <gtest/gtest.h>

#include <fcntl.h>
#include <signal.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <unistd.h>

#include <chrono>
#include <cmath>
#include <limits>
#include <thread>

#include <torch/script.h>
#include <nlohmann/json.hpp>

#include "embq/error.hpp"
#include "embq/layers.hpp"
#include "embq/model.hpp"
#include "embq/vectors.hpp"
#include "test_support.hpp"

namespace embq {
namespace {

namespace fs = std::filesystem;
using test::fixture;
using test::run_embq;

// Every entry of `dir` whose name holds `part` (temporary files: ".tmp-", "embq-").
std::vector<std::string> entries_with(const fs::path& dir, const std::string& part) {
    std::vector<std::string> found;
    for (const auto& entry : fs::directory_iterator(dir))
        if (entry.path().filename().string().find(part) != std::string::npos)
            found.push_back(entry.path().filename().string());
    return found;
}

// Waits up to a minute for `ready` to hold while `process` runs; false when it never did.
template <class Ready>
bool wait_until(const test::EmbqProcess& process, Ready ready) {
    const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(60);
    while (std::chrono::steady_clock::now() < deadline) {
        if (ready()) return true;
        if (::kill(process.pid(), 0) != 0) return false;
        std::this_thread::sleep_for(std::chrono::milliseconds(5));
    }
    return false;
}

std::vector<std::string> embed_args(const fs::path& data, const fs::path& out) {
    return {"embed",       fixture("bert_traced.pt").string(), "--data", data.string(),
            "--tokenizer", fixture("vocab.txt").string(),      "--out",  out.string()};
}

class SignalCli : public ::testing::TestWithParam<int> {};

TEST_P(SignalCli, EmbedLeavesNoTemporaryFile) {
    const int signal = GetParam();
    test::TempDir dir;
    test::write_file(dir / "texts.txt", test::fixture_sentences(200'000, 7));
    const fs::path out = dir / "v.npy";
    test::EmbqProcess embq(embed_args(dir / "texts.txt", out));
    const fs::path temp = out.string() + ".tmp-" + std::to_string(embq.pid());
    // Signalled once rows are being written: the temporary file is half full.
    ASSERT_TRUE(wait_until(embq, [&] {
        std::error_code ec;
        return fs::file_size(temp, ec) > 4096 && !ec;
    })) << "the temporary file never grew";
    ::kill(embq.pid(), signal);
    const auto r = embq.wait();
    EXPECT_EQ(r.exit_code, 128 + signal)
        << r.err;  // ended by the signal, as without embq's handler
    EXPECT_FALSE(fs::exists(temp));
    EXPECT_FALSE(fs::exists(out));
    EXPECT_EQ(entries_with(dir.path(), ".tmp-"), std::vector<std::string>{});
}

INSTANTIATE_TEST_SUITE_P(Signals, SignalCli, ::testing::Values(SIGINT, SIGTERM),
                         [](const auto& info) {
                             return info.param == SIGINT ? "SIGINT" : "SIGTERM";
                         });

TEST(ReliabilityCli, InterruptedCompareRemovesItsScratchDirectory) {
    test::TempDir dir, scratch;
    test::write_file(dir / "texts.txt", test::fixture_sentences(100'000, 3));
    test::write_file(dir / "int8.json", R"({"defaults": {"linear": {"scheme": "int8_dynamic"}}})");
    // TMPDIR puts compare's scratch directory where this test can watch it.
    test::EmbqProcess embq(
        {"compare", fixture("bert_traced.pt").string(), (dir / "int8.json").string(), "--data",
         (dir / "texts.txt").string(), "--tokenizer", fixture("vocab.txt").string()},
        {"TMPDIR=" + scratch.path().string()});
    ASSERT_TRUE(wait_until(embq, [&] { return !entries_with(scratch.path(), "embq-").empty(); }));
    ::kill(embq.pid(), SIGINT);
    const auto r = embq.wait();
    EXPECT_EQ(r.exit_code, 128 + SIGINT) << r.err;
    EXPECT_TRUE(fs::is_empty(scratch.path()));
}

TEST(ReliabilityCli, AnOutputThatIsAnInputIsRefusedAndTheInputKept) {
    test::TempDir dir;
    const std::string model = fixture("bert_traced.pt").string();
    const std::string vocab = fixture("vocab.txt").string();
    test::write_file(dir / "texts.txt", test::fixture_sentences(20, 1));
    test::write_file(dir / "int8.json", R"({"defaults": {"linear": {"scheme": "int8_dynamic"}}})");
    fs::copy_file(model, dir / "model.pt");
    fs::create_symlink(dir / "texts.txt", dir / "link.json");
    fs::create_hard_link(dir / "model.pt", dir / "hard.pt");
    const std::string texts = (dir / "texts.txt").string();
    const std::string config = (dir / "int8.json").string();
    const std::vector<std::vector<std::string>> cases = {
        {"quantize", model, config, "-o", config},
        {"quantize", (dir / "model.pt").string(), config, "-o", (dir / "hard.pt").string()},
        {"calibrate", model, "--data", texts, "--tokenizer", vocab, "-o",
         (dir / "link.json").string()},
        {"eval", "--baseline", model, "--candidate", model, "--data", texts, "--tokenizer", vocab,
         "--report-md", texts},
        {"eval", "--baseline", model, "--candidate", model, "--data", texts, "--tokenizer", vocab,
         "--report-json", (dir / "r.txt").string(), "--report-md", (dir / "r.txt").string()},
    };
    const std::string texts_before = test::read_file(dir / "texts.txt");
    const std::string config_before = test::read_file(dir / "int8.json");
    const std::string model_before = test::read_file(dir / "model.pt");
    for (const auto& args : cases) {
        const auto r = run_embq(args);
        EXPECT_EQ(r.exit_code, kExitBadInput) << args[0] << " " << args.back() << ": " << r.err;
        test::expect_contains(r.err, {"embq: error: "});
    }
    EXPECT_EQ(test::read_file(dir / "texts.txt"), texts_before);
    EXPECT_EQ(test::read_file(dir / "int8.json"), config_before);
    EXPECT_EQ(test::read_file(dir / "model.pt"), model_before);
    EXPECT_TRUE(fs::is_symlink(dir / "link.json"));
    EXPECT_FALSE(fs::exists(dir / "r.txt"));
    EXPECT_EQ(entries_with(dir.path(), ".tmp-"), std::vector<std::string>{});
}

TEST(ReliabilityCli, ASymlinkOutputIsWrittenThroughAndStaysALink) {
    test::TempDir dir;
    test::write_file(dir / "texts.txt", test::fixture_sentences(5, 2));
    fs::create_directory(dir / "store");
    fs::create_symlink(dir / "store" / "v.npy", dir / "v.npy");  // dangling until written
    const auto r = run_embq(embed_args(dir / "texts.txt", dir / "v.npy"));
    ASSERT_EQ(r.exit_code, kExitOk) << r.err;
    EXPECT_TRUE(fs::is_symlink(dir / "v.npy"));
    EXPECT_EQ(read_vectors(dir / "store" / "v.npy").rows, 5);
    EXPECT_EQ(entries_with(dir / "store", ".tmp-"), std::vector<std::string>{});
}

TEST(ReliabilityCli, SpecialPathsAreRefusedWithoutBlocking) {
    test::TempDir dir;
    test::write_file(dir / "texts.txt", test::fixture_sentences(5, 2));
    ASSERT_EQ(::mkfifo((dir / "fifo.npy").c_str(), 0600), 0);
    ASSERT_EQ(::mkfifo((dir / "fifo.pt").c_str(), 0600), 0);
    fs::create_directory(dir / "dir.npy");
    fs::create_directory(dir / "dir.json");
    const std::string model = fixture("bert_traced.pt").string();
    const std::string texts = (dir / "texts.txt").string();
    const std::string vocab = fixture("vocab.txt").string();
    struct Case {
        std::vector<std::string> args;
        std::string needle;
    };
    const std::vector<Case> cases = {
        {embed_args(dir / "texts.txt", dir / "fifo.npy"), "a FIFO"},
        {embed_args(dir / "texts.txt", dir / "dir.npy"), "a directory"},
        {embed_args(dir / "texts.txt", dir / "no" / "such" / "v.npy"), "does not exist"},
        // Without the check, inspect would block on the FIFO until the test timed out.
        {{"inspect", (dir / "fifo.pt").string()}, "a FIFO"},
        {{"inspect", dir.path().string()}, "a directory"},
        {{"calibrate", model, "--data", texts, "--tokenizer", vocab, "-o",
          (dir / "dir.json").string()},
         "a directory"},
        {{"eval", "--baseline", model, "--candidate", model, "--data", texts, "--tokenizer", vocab,
          "--report-json", (dir / "dir.json").string()},
         "a directory"},
    };
    for (const auto& c : cases) {
        const auto r = run_embq(c.args);
        EXPECT_EQ(r.exit_code, kExitBadInput) << c.needle << ": " << r.err;
        test::expect_contains(r.err, {c.needle});
    }
    EXPECT_EQ(fs::status(dir / "fifo.npy").type(), fs::file_type::fifo);
    EXPECT_TRUE(fs::is_empty(dir / "dir.npy"));
    EXPECT_TRUE(fs::is_empty(dir / "dir.json"));
    EXPECT_EQ(entries_with(dir.path(), ".tmp-"), std::vector<std::string>{});
}

TEST(ReliabilityCli, DataFromAPipeIsReadOnceAndWhole) {
    test::TempDir dir;
    const fs::path fifo = dir / "texts.txt";
    ASSERT_EQ(::mkfifo(fifo.c_str(), 0600), 0);
    const std::string texts = test::fixture_sentences(300, 4);
    test::EmbqProcess embq(embed_args(fifo, dir / "v.npy"));
    // The writer opens without blocking, so it gives up when embq never opens the pipe.
    std::thread writer([&] {
        const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(60);
        int fd = -1;
        while (fd < 0 && std::chrono::steady_clock::now() < deadline) {
            fd = ::open(fifo.c_str(), O_WRONLY | O_NONBLOCK);
            if (fd < 0) std::this_thread::sleep_for(std::chrono::milliseconds(5));
        }
        if (fd < 0) return;
        ::fcntl(fd, F_SETFL, 0);
        for (size_t done = 0; done < texts.size();) {
            const ssize_t n = ::write(fd, texts.data() + done, texts.size() - done);
            if (n <= 0) break;
            done += static_cast<size_t>(n);
        }
        ::close(fd);
    });
    const auto r = embq.wait();
    writer.join();
    ASSERT_EQ(r.exit_code, kExitOk) << r.err;
    EXPECT_EQ(read_vectors(dir / "v.npy").rows, 300);
}

// A file-size limit with SIGXFSZ ignored: every write past it fails with EFBIG, which is
// what a full disk looks like to embq (ENOSPC takes the same path).
void limit_file_size() {
    ::signal(SIGXFSZ, SIG_IGN);
    const rlimit limit{64 * 1024, 64 * 1024};
    ::setrlimit(RLIMIT_FSIZE, &limit);
}

TEST(ReliabilityCli, AFullDiskIsARuntimeErrorThatLeavesNothing) {
    test::TempDir dir;
    test::write_file(dir / "texts.txt", test::fixture_sentences(2000, 5));  // 512 KiB of vectors
    test::write_file(dir / "fp16.json", R"({"defaults": {"linear": {"scheme": "fp16"}}})");
    const std::vector<std::vector<std::string>> cases = {
        embed_args(dir / "texts.txt", dir / "v.npy"),
        {"quantize", fixture("bert_traced.pt").string(), (dir / "fp16.json").string(), "-o",
         (dir / "q.pt").string()},
    };
    for (const auto& args : cases) {
        const auto r = test::EmbqProcess(args, {}, limit_file_size).wait();
        EXPECT_EQ(r.exit_code, kExitRuntime) << args[0] << ": " << r.err;
        EXPECT_EQ(r.err.find("terminate called"), std::string::npos) << r.err;
        test::expect_contains(r.err, {"embq: error: "});
    }
    EXPECT_FALSE(fs::exists(dir / "v.npy"));
    EXPECT_FALSE(fs::exists(dir / "q.pt"));
    EXPECT_EQ(entries_with(dir.path(), ".tmp-"), std::vector<std::string>{});
}

// Writes `rows` x 16 vectors; row `nan_row` (when >= 0) holds a NaN.
void write_test_vectors(const fs::path& path, int64_t rows, int64_t nan_row) {
    VectorWriter writer(path, 16);
    for (int64_t i = 0; i < rows; ++i) {
        std::vector<float> row(16);
        for (int64_t j = 0; j < 16; ++j)
            row[j] = std::sin(0.37f * static_cast<float>(i) + 1.1f * static_cast<float>(j));
        if (i == nan_row) row[3] = std::numeric_limits<float>::quiet_NaN();
        writer.write_rows(row.data(), 1);
    }
    writer.commit();
}

TEST(ReliabilityCli, NonFiniteCandidateVectorsFailEveryGateWithTheReason) {
    test::TempDir dir;
    write_test_vectors(dir / "base.npy", 200, -1);
    write_test_vectors(dir / "cand.npy", 200, 17);
    const std::string candidate_bytes = test::read_file(dir / "cand.npy");
    const auto r = run_embq({"eval", "--baseline", (dir / "base.npy").string(), "--candidate",
                             (dir / "cand.npy").string(), "--gate", "cosine.min>=0.5", "--gate",
                             "recall@10>=0.5", "--report-json", (dir / "r.json").string()});
    EXPECT_EQ(r.exit_code, kExitGateFailed) << r.err << r.out;
    // The row is zeroed in eval's private mapping of the file, never in the file.
    EXPECT_EQ(test::read_file(dir / "cand.npy"), candidate_bytes);
    test::expect_contains(r.err, {"NaN or Inf in 1 rows (first: row 17)"});
    test::expect_contains(r.out, {"1 candidate vectors are not finite"});
    const auto report = nlohmann::json::parse(test::read_file(dir / "r.json"));
    EXPECT_EQ(report["metrics"]["nonfinite_rows"], 1);
    for (const auto& gate : report["gates"]) {
        EXPECT_FALSE(gate["passed"].get<bool>()) << gate;
        EXPECT_EQ(gate["reason"], "1 candidate vectors are not finite");
    }
    // A broken baseline is not a quality question: it is an input error.
    const auto swapped = run_embq({"eval", "--baseline", (dir / "cand.npy").string(), "--candidate",
                                   (dir / "base.npy").string()});
    EXPECT_EQ(swapped.exit_code, kExitBadInput) << swapped.err;
    test::expect_contains(swapped.err, {"baseline"});
}

TEST(ReliabilityCli, TokenIdsBeyondTheTableNameTheLineAndTheId) {
    test::TempDir dir;
    for (const std::string id : {"100000", "9223372036854775807"}) {
        test::write_file(dir / "ids.jsonl",
                         "{\"input_ids\": [2, 7, 3]}\n{\"input_ids\": [2, " + id + ", 3]}\n");
        const auto r = run_embq({"embed", fixture("bert_traced.pt").string(), "--data",
                                 (dir / "ids.jsonl").string(), "--out", (dir / "v.npy").string()});
        EXPECT_EQ(r.exit_code, kExitBadInput) << r.err;
        test::expect_contains(r.err, {"ids.jsonl:2", id});
        EXPECT_EQ(r.err.find("TorchScript interpreter"), std::string::npos) << r.err;
        EXPECT_FALSE(fs::exists(dir / "v.npy"));
    }
}

TEST(ReliabilityCli, AnEmbqOutputIsRequantizedOnlyWithForce) {
    test::TempDir dir;
    test::write_file(dir / "int8.json", R"({"defaults": {"linear": {"scheme": "int8_dynamic"}}})");
    const std::string config = (dir / "int8.json").string();
    ASSERT_EQ(run_embq({"quantize", fixture("bert_traced.pt").string(), config, "-o",
                        (dir / "q.pt").string()})
                  .exit_code,
              kExitOk);
    for (const std::string command : {"plan", "quantize"}) {
        std::vector<std::string> args = {command, (dir / "q.pt").string(), config};
        if (command == "quantize") args.insert(args.end(), {"-o", (dir / "qq.pt").string()});
        const auto r = run_embq(args);
        EXPECT_EQ(r.exit_code, kExitBadInput) << command << ": " << r.err;
        test::expect_contains(r.err, {"--force"});
    }
    EXPECT_FALSE(fs::exists(dir / "qq.pt"));
}

TEST(ReliabilityCli, AnotherModelsCalibrationIsRefused) {
    test::TempDir dir;
    test::write_file(dir / "texts.txt", test::fixture_sentences(16, 6));
    test::write_file(dir / "static.json", R"({"defaults": {"linear": {"scheme": "int8_static"}}})");
    ASSERT_EQ(run_embq({"calibrate", fixture("bert_traced.pt").string(), "--data",
                        (dir / "texts.txt").string(), "--tokenizer", fixture("vocab.txt").string(),
                        "-o", (dir / "calib.json").string()})
                  .exit_code,
              kExitOk);
    const std::string other = fixture("fragile.pt").string();
    const auto r = run_embq({"quantize", other, (dir / "static.json").string(), "--calibration",
                             (dir / "calib.json").string(), "-o", (dir / "q.pt").string()});
    EXPECT_EQ(r.exit_code, kExitBadInput) << r.err;
    test::expect_contains(r.err, {"calib.json was calibrated on a model", other});
    EXPECT_FALSE(fs::exists(dir / "q.pt"));
}

TEST(ReliabilityCli, OutOfRangeNumbersAreUsageErrors) {
    const std::string model = fixture("bert_traced.pt").string();
    for (const auto& args :
         {std::vector<std::string>{"eval", "--baseline", model, "--candidate", model, "--data",
                                   "x.txt", "--seed", "-1"},
          {"calibrate", model, "--data", "x.txt", "-o", "c.json", "--samples", "0"}}) {
        const auto r = run_embq(args);
        EXPECT_EQ(r.exit_code, kExitBadInput) << r.err;
        EXPECT_EQ(r.err.find("1.8e+308"), std::string::npos) << r.err;
    }
}

// The fixture with one weight of its first linear layer (or table, for `kind`) set to
// `value`, saved at `path`; returns that layer's path.
std::string save_with_bad_weight(const fs::path& path, LayerKind kind, float value) {
    LoadedModel loaded = load_model(fixture("bert_traced.pt"));
    const ModelInventory inventory = take_inventory(loaded.module);
    for (const Layer& layer : inventory.layers) {
        if ((layer.kind == LayerKind::Linear) != (kind == LayerKind::Linear)) continue;
        for (const auto& p : loaded.module.named_parameters())
            if (p.name == layer.path + ".weight") {
                torch::NoGradGuard no_grad;
                p.value.view(-1)[5].fill_(value);
            }
        loaded.module.save(path.string());
        return layer.path;
    }
    ADD_FAILURE() << "no such layer in the fixture";
    return "";
}

TEST(HostileModels, NonFiniteWeightsAreRefusedNamingTheLayer) {
    test::TempDir dir;
    const nlohmann::json int8 = {{"defaults", {{"linear", {{"scheme", "int8_dynamic"}}}}}};
    const std::string linear =
        save_with_bad_weight(dir / "nan.pt", LayerKind::Linear, std::nanf(""));
    const Error nan =
        test::error_from([&] { test::quantize_file(dir / "nan.pt", int8, dir / "q.pt"); });
    EXPECT_EQ(nan.category(), ErrorCategory::Input);
    test::expect_contains(nan.what(), {"'" + linear + "'", "1 NaN or Inf values", "fp32"});
    EXPECT_FALSE(fs::exists(dir / "q.pt"));

    const nlohmann::json fp16 = {{"defaults", {{"linear", {{"scheme", "fp16"}}}}}};
    save_with_bad_weight(dir / "big.pt", LayerKind::Linear, 1e38f);
    const Error big =
        test::error_from([&] { test::quantize_file(dir / "big.pt", fp16, dir / "q.pt"); });
    test::expect_contains(big.what(), {"'" + linear + "'", "1e+38", "65504", "bf16"});
    // The same weights under int8 are finite: quantizing them is the user's call.
    EXPECT_NO_THROW(test::quantize_file(dir / "big.pt", int8, dir / "q.pt"));
}

}  // namespace
}  // namespace embq
