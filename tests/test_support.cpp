#include "test_support.hpp"

#include <gtest/gtest.h>

#include <fcntl.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cstdlib>
#include <fstream>
#include <iostream>
#include <random>
#include <sstream>
#include <stdexcept>

#include <nlohmann/json.hpp>

#include "embq/config.hpp"
#include "embq/embed.hpp"
#include "embq/model.hpp"
#include "embq/plan.hpp"

namespace embq::test {

namespace fs = std::filesystem;

fs::path fixture(const std::string& name) { return fs::path(EMBQ_FIXTURE_DIR) / name; }

TempDir::TempDir() {
    std::random_device rd;
    path_ = fs::temp_directory_path() /
            ("embq-test-" + std::to_string(rd()) + "-" + std::to_string(::getpid()));
    fs::create_directories(path_);
}

TempDir::~TempDir() {
    std::error_code ec;
    fs::remove_all(path_, ec);
}

void expect_contains(const std::string& message, const std::vector<std::string>& parts) {
    for (const auto& part : parts)
        EXPECT_NE(message.find(part), std::string::npos) << "'" << part << "' in: " << message;
}

std::string read_file(const fs::path& path) {
    std::ifstream in(path, std::ios::binary);
    std::ostringstream ss;
    ss << in.rdbuf();
    return ss.str();
}

void write_file(const fs::path& path, const std::string& content) {
    std::ofstream out(path, std::ios::binary);
    out << content;
}

EmbqProcess::EmbqProcess(const std::vector<std::string>& args, const std::vector<std::string>& env,
                         void (*in_child)()) {
    const fs::path out_path = dir_ / "stdout";
    const fs::path err_path = dir_ / "stderr";
    // Everything the child needs is built before fork: only system calls after it.
    std::string binary = EMBQ_BINARY;
    std::vector<std::string> copies(args);
    std::vector<char*> argv;
    argv.push_back(binary.data());
    for (auto& a : copies) argv.push_back(a.data());
    argv.push_back(nullptr);
    std::vector<std::string> env_copies(env);
    std::vector<char*> envp;
    for (auto& e : env_copies) envp.push_back(e.data());  // first, so getenv finds them
    for (char** e = environ; *e; ++e) envp.push_back(*e);
    envp.push_back(nullptr);
    pid_ = ::fork();
    if (pid_ < 0) throw std::runtime_error("fork failed");
    if (pid_ == 0) {
        const int out_fd = ::open(out_path.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0644);
        const int err_fd = ::open(err_path.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0644);
        const int null_fd = ::open("/dev/null", O_RDONLY);
        ::dup2(out_fd, 1);
        ::dup2(err_fd, 2);
        ::dup2(null_fd, 0);
        if (in_child) in_child();
        ::execve(binary.c_str(), argv.data(), envp.data());
        ::_exit(127);
    }
}

EmbqProcess::~EmbqProcess() {
    if (pid_ <= 0) return;
    ::kill(pid_, SIGKILL);
    ::waitpid(pid_, nullptr, 0);
}

RunResult EmbqProcess::wait() {
    int status = 0;
    ::waitpid(pid_, &status, 0);
    pid_ = -1;
    RunResult r;
    r.exit_code = WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
    r.out = read_file(dir_ / "stdout");
    r.err = read_file(dir_ / "stderr");
    return r;
}

RunResult run_embq(const std::vector<std::string>& args) { return EmbqProcess(args).wait(); }

namespace {

// Runs `command` through the shell, stdout into `out` and stderr into `err`; the exit status.
int shell(const std::string& command, const fs::path& out, const fs::path& err) {
    const std::string line = command + " > '" + out.string() + "' 2> '" + err.string() + "'";
    const int status = std::system(line.c_str());
    return WIFEXITED(status) ? WEXITSTATUS(status) : -1;
}

// The browser as a reader's would run it, minus what a test machine lacks: no sandbox (root
// in CI), no GPU, a profile of its own, and no network at all.
std::string chromium_command(const fs::path& profile) {
    return "timeout 120 chromium --headless --no-sandbox --disable-gpu --no-first-run "
           "--user-data-dir='" +
           profile.string() +
           "' "
           "--host-resolver-rules='MAP * ~NOTFOUND' --enable-logging=stderr --v=0 ";
}

}  // namespace

void expect_html_report_renders(const fs::path& html, const std::string& name, size_t min_charts) {
    ASSERT_EQ(std::system("command -v chromium > /dev/null"), 0)
        << "chromium is not installed; tools/setup.sh installs it";
    TempDir dir;
    const fs::path shots = fs::current_path() / "html-screenshots";
    fs::create_directories(shots);
    const fs::path png = shots / (name + ".png");
    const std::string url = "'file://" + fs::absolute(html).string() + "'";

    ASSERT_EQ(shell(chromium_command(dir / "profile") + "--dump-dom " + url, dir / "dom.html",
                    dir / "dom.log"),
              0)
        << read_file(dir / "dom.log");
    ASSERT_EQ(shell(chromium_command(dir / "profile") + "--window-size=1100,2600 --screenshot='" +
                        png.string() + "' " + url,
                    dir / "shot.out", dir / "shot.log"),
              0)
        << read_file(dir / "shot.log");
    std::cout << "screenshot of " << html.filename().string() << ": " << png.string() << "\n";

    // Chromium logs each console message of the page as "...:CONSOLE...] \"text\"".
    for (const fs::path& log : {dir / "dom.log", dir / "shot.log"}) {
        std::istringstream lines(read_file(log));
        for (std::string line; std::getline(lines, line);)
            EXPECT_EQ(line.find(":CONSOLE"), std::string::npos) << "console message: " << line;
    }

    // Each <svg class="chart" ... data-marks="N"> holds N elements of class "mark".
    const std::string dom = read_file(dir / "dom.html");
    size_t charts = 0;
    for (size_t at = dom.find("<svg class=\"chart\""); at != std::string::npos;
         at = dom.find("<svg class=\"chart\"", at + 1)) {
        ++charts;
        const size_t end = dom.find("</svg>", at);
        ASSERT_NE(end, std::string::npos) << "unterminated chart";
        const std::string svg = dom.substr(at, end - at);
        const size_t m = svg.find("data-marks=\"");
        ASSERT_NE(m, std::string::npos) << svg.substr(0, 200);
        const long declared = std::stol(svg.substr(m + 12));
        size_t marks = 0;
        for (size_t k = svg.find("class=\"mark\""); k != std::string::npos;
             k = svg.find("class=\"mark\"", k + 1))
            ++marks;
        const size_t title = svg.find("<title>");
        const std::string chart_title =
            title == std::string::npos ? "?"
                                       : svg.substr(title + 7, svg.find("</title>") - title - 7);
        EXPECT_GT(declared, 0) << "empty plot: " << chart_title;
        EXPECT_EQ(marks, static_cast<size_t>(declared)) << chart_title;
    }
    EXPECT_GE(charts, min_charts) << dom.substr(0, 2000);

    // The charts' first colour (#0072B2) is painted somewhere on the screenshot.
    const std::string count = std::string(EMBQ_TORCH_PYTHON) + " " + EMBQ_SOURCE_DIR +
                              "/tests/png_colour_count.py '" + png.string() + "' 0072b2";
    ASSERT_EQ(shell(count, dir / "pixels.txt", dir / "pixels.log"), 0)
        << read_file(dir / "pixels.log");
    EXPECT_GT(std::stol(read_file(dir / "pixels.txt")), 200) << "the plots did not paint";
}

std::string fixture_sentences(size_t count, uint64_t seed) {
    std::vector<std::string> words;
    std::istringstream vocab(read_file(fixture("vocab.txt")));
    for (std::string w; std::getline(vocab, w);)
        if (w.size() > 2 && w[0] != '[' && w[0] != '#') words.push_back(w);
    std::mt19937_64 rng(seed);
    std::string out;
    for (size_t i = 0; i < count; ++i) {
        const size_t length = 4 + rng() % 9;
        for (size_t j = 0; j < length; ++j) out += (j ? " " : "") + words[rng() % words.size()];
        out += "\n";
    }
    return out;
}

QuantizeResult quantize_file(const std::filesystem::path& model, const nlohmann::json& doc,
                             const std::filesystem::path& output, const Calibration* calibration) {
    const Config config = parse_config(doc, "<test>");
    LoadedModel loaded = load_model(model);
    PlanOptions options;
    options.allow_unmatched_rules = true;
    options.have_calibration = calibration != nullptr;
    Plan plan = make_plan(config, take_inventory(loaded.module), options);
    resolve_engine(plan);
    return quantize_model(std::move(loaded), plan, doc, output, calibration);
}

EmbeddingModelOptions fixture_text() {
    EmbeddingModelOptions text;
    text.tokenizer = fixture("vocab.txt").string();
    return text;
}

at::Tensor embed_file(const fs::path& model, const fs::path& texts) {
    EmbeddingModel m = open_embedding_model(model, fixture_text());
    std::vector<std::string> lines;
    std::istringstream in(read_file(texts));
    for (std::string line; std::getline(in, line);) lines.push_back(line);
    const Vectors v = embed_texts(m, lines, {});
    return at::from_blob(const_cast<float*>(v.data.data()), {static_cast<int64_t>(v.rows), v.dim},
                         at::kFloat)
        .clone();
}

}  // namespace embq::test
