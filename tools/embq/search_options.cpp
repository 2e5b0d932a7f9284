#include "search_options.hpp"

#include <spdlog/spdlog.h>

#include "embq/sensitivity.hpp"
#include "path_options.hpp"

namespace embq::cli {

void SearchArguments::add_to(CLI::App& app, bool with_gates) {
    reads_model(app.add_option("model", model, "FP32 TorchScript model (.pt)"))->required();
    eval.add_to(app, with_gates);
    std::string defaults;
    for (const auto& s : default_candidate_schemes()) defaults += (defaults.empty() ? "" : ",") + s;
    app.add_option("--schemes", schemes,
                   "Candidates, comma-separated: a scheme, with options as a config rule sets "
                   "them after '/' (nf4/rounding=gptq, int8_static/smoothing=0.5, "
                   "int4_rowwise/granularity=group:32); each is tried on the layers of the kinds "
                   "it supports (default: " + defaults + ")")
        ->delimiter(',');
    reads_file(
        app.add_option("--calibration", calibration,
                       "Calibration file from 'embq calibrate' (int8_static, bias_correction, "
                       "smoothing; rounding=gptq needs it written with --input-gram)"));
    app.add_option("--observer", observer, "Which of the calibration file's observers to use");
}

SearchInputs SearchArguments::resolved() const {
    SearchInputs in;
    in.model = model;
    in.eval = eval.resolved_inputs();
    in.schemes = schemes;
    in.calibration_file = calibration;
    in.observer = observer;
    return in;
}

SearchProgress SearchProgressBar::callbacks() {
    SearchProgress p;
    p.start = [this](const std::string& stage, size_t total) {
        finish();
        spdlog::info("{}", stage);
        if (total > 0) bar_ = std::make_unique<ProgressBar>(total, "texts");
    };
    p.update = [this](size_t done) {
        if (bar_) bar_->update(done);
    };
    return p;
}

void SearchProgressBar::finish() {
    if (bar_) bar_->finish();
    bar_.reset();
}

}  // namespace embq::cli
