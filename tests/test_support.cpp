#include "test_support.hpp"

#include <gtest/gtest.h>

#include <fcntl.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <fstream>
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
