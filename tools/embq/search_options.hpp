// What `embq sensitivity` and `embq tune` share on the command line: the model, the data
// and metric options of eval, the candidate schemes, the calibration file, and a progress
// line per trial.
#pragma once

#include <memory>
#include <string>
#include <vector>

#include <CLI/CLI.hpp>

#include "embq/sensitivity.hpp"
#include "eval_options.hpp"
#include "progress.hpp"

namespace embq::cli {

struct SearchArguments {
    std::string model;
    EvalArguments eval;
    std::vector<std::string> schemes;
    std::string calibration, observer;

    void add_to(CLI::App& app, bool with_gates);
    SearchInputs resolved() const;
};

// Logs each stage ("3/30 int4_weight on layer encoder.x") and draws a bar for its texts.
class SearchProgressBar {
public:
    SearchProgress callbacks();
    void finish();

private:
    std::unique_ptr<ProgressBar> bar_;
};

}  // namespace embq::cli
