// Helpers shared by the test files: fixture paths, temporary directories, running the
// embq binary and capturing what it prints.
#pragma once

#include <sys/types.h>

#include <filesystem>
#include <string>
#include <vector>

#include <gtest/gtest.h>
#include <nlohmann/json_fwd.hpp>

#include "embq/calibration.hpp"
#include "embq/error.hpp"
#include "embq/model_options.hpp"
#include "embq/quantize.hpp"

namespace embq::test {

std::filesystem::path fixture(const std::string& name);

// A fresh directory under the system temp dir, removed when the object goes away.
class TempDir {
public:
    TempDir();
    ~TempDir();
    TempDir(const TempDir&) = delete;
    TempDir& operator=(const TempDir&) = delete;
    const std::filesystem::path& path() const { return path_; }
    std::filesystem::path operator/(const std::string& name) const { return path_ / name; }

private:
    std::filesystem::path path_;
};

struct RunResult {
    int exit_code = -1;
    std::string out;  // stdout
    std::string err;  // stderr
};

// The built embq binary running with `args` (no shell quoting needed: each argument is
// passed as it is), stdin /dev/null, stdout and stderr captured. For tests that act on
// a running process (signals) or change how it starts (limits).
class EmbqProcess {
public:
    // `env`: NAME=VALUE entries added to this process's environment. `in_child` runs in
    // the child between fork and exec (set a limit, a signal disposition): only
    // async-signal-safe calls belong there.
    explicit EmbqProcess(const std::vector<std::string>& args,
                         const std::vector<std::string>& env = {}, void (*in_child)() = nullptr);
    EmbqProcess(const EmbqProcess&) = delete;
    EmbqProcess& operator=(const EmbqProcess&) = delete;
    ~EmbqProcess();  // kills a process nobody waited for

    pid_t pid() const { return pid_; }
    RunResult wait();  // exit code (128 + signal when a signal ended it) and output

private:
    TempDir dir_;
    pid_t pid_ = -1;
};

// Runs the built embq binary with `args` to the end: EmbqProcess(args).wait().
RunResult run_embq(const std::vector<std::string>& args);

// Each of `parts` occurs in `message` (a gtest expectation per part).
void expect_contains(const std::string& message, const std::vector<std::string>& parts);

std::string read_file(const std::filesystem::path& path);

// `count` sentences of 4-12 fixture-vocabulary words (so the fixture WordPiece tokenizer
// keeps them whole), deterministic for a seed; one per line.
std::string fixture_sentences(size_t count, uint64_t seed);
void write_file(const std::filesystem::path& path, const std::string& content);

// Plans the config `doc` on the model file `model` (rules matching nothing allowed),
// resolves the engine and quantizes to `output`, as `embq quantize` does.
QuantizeResult quantize_file(const std::filesystem::path& model, const nlohmann::json& doc,
                             const std::filesystem::path& output,
                             const Calibration* calibration = nullptr);

// How the fixture models read text: the fixture WordPiece vocabulary.
EmbeddingModelOptions fixture_text();

// The vectors of every line of `texts` through `model` (fixture_text()), [lines, dim].
at::Tensor embed_file(const std::filesystem::path& model, const std::filesystem::path& texts);

// Opens the HTML report `html` in headless Chromium (Debian's chromium, which
// tools/setup.sh installs) with every network request refused, the way a reader would,
// and checks what a reader needs: the page loads with no console message (a script error
// or a blocked fetch would log one), each plot in the DOM Chromium built has the marks it
// says it drew (at least `min_charts` plots, none empty), and the plots paint (the
// screenshot has pixels of the charts' first colour). The screenshot is kept as
// html-screenshots/`name`.png under the test's working directory and named in the output.
void expect_html_report_renders(const std::filesystem::path& html, const std::string& name,
                                size_t min_charts);

// The embq::Error `f` throws (fails the test when it throws nothing or something else).
template <class F>
Error error_from(F&& f) {
    try {
        f();
    } catch (const Error& e) {
        return e;
    } catch (const std::exception& e) {
        ADD_FAILURE() << "not an embq::Error: " << e.what();
        return runtime_failure("wrong exception");
    }
    ADD_FAILURE() << "nothing thrown";
    return runtime_failure("nothing thrown");
}

}  // namespace embq::test
