// embq calibrate MODEL --data FILE -o calib.json: runs sample texts through the model,
// observes every linear layer's input and output, and writes the ranges (and the
// statistics behind them) to a calibration file that any number of quantize runs reuse.
#include <memory>

#include <spdlog/spdlog.h>

#include "command.hpp"
#include "embq/calibrate.hpp"
#include "embq/calibration.hpp"
#include "embq/observers.hpp"
#include "path_options.hpp"
#include "progress.hpp"
#include "text_options.hpp"

namespace embq::cli {

namespace {

struct CalibrateCommandOptions {
    std::string model, data, output, format;
    EmbeddingModelOptions text;
    CalibrateOptions calibrate;
};

std::string observer_help() {
    std::string text =
        "Observer that chooses each range (repeat for several; the first is the "
        "default for quantize). Default: " +
        std::string(kDefaultObserver) + ". Kinds:";
    for (const auto& kind : observer_kinds()) {
        text += std::string("\n  ") + kind.name + ": " + kind.summary;
        if (*kind.parameter)
            text += std::string(" (") + kind.name + ":X sets " + kind.parameter + ")";
    }
    return text;
}

int run_calibrate(CalibrateCommandOptions& opt) {
    const DatasetFormat format =
        opt.format.empty() ? dataset_format_for(opt.data) : *parse_dataset_format(opt.format);
    ProgressBar progress(std::min(progress_total(opt.data), opt.calibrate.samples), "texts");
    opt.calibrate.on_progress = [&](size_t done) { progress.update(done); };
    const CalibrationRun run = calibrate(opt.model, opt.text, opt.data, format, opt.calibrate);
    progress.finish();
    for (const auto& w : run.warnings) spdlog::warn("{}", w);
    std::cout << format_calibration(run.document, run.layer_order);
    write_calibration(run, opt.output);
    spdlog::info("calibrated {} linear layers on {} texts ({} tokens) in {:.1f} s; wrote {}{}",
                 run.layers, run.samples, run.tokens, run.seconds, opt.output,
                 run.grams.empty() ? "" : " and its input Gram sidecar");
    return 0;
}

}  // namespace

Command add_calibrate_command(CLI::App& parent) {
    auto opt = std::make_shared<CalibrateCommandOptions>();
    CLI::App* app = parent.add_subcommand(
        "calibrate",
        "Measure the activation ranges of every linear layer on sample texts and "
        "write a calibration file (for int8_static, bias correction, smoothing and, with "
        "--input-gram, GPTQ rounding).");
    reads_model(app->add_option("model", opt->model, "TorchScript model file (.pt), FP32"))
        ->required();
    reads_stream(app->add_option("--data", opt->data,
                                 "Sample texts: .txt (one per line) or .jsonl; use text "
                                 "like what the model will embed"))
        ->required();
    writes_file(
        app->add_option("-o,--output", opt->output, "Where to write the calibration file (.json)"))
        ->required();
    app->add_option("--samples", opt->calibrate.samples, "Calibrate on the first N texts")
        ->check(CLI::Range(size_t{1}, size_t{10'000'000}))
        ->capture_default_str();
    app->add_option("--observer", opt->calibrate.observers, observer_help())
        ->default_str(kDefaultObserver);
    app->add_flag("--input-gram", opt->calibrate.input_gram,
                  "Also record X^T X of every linear layer's input, which \"rounding\": \"gptq\" "
                  "needs, in a sidecar beside the output (calib.json -> calib.gram.bin; "
                  "d x d floats per layer)");
    add_batch_size_option(*app, opt->calibrate.batch_size);
    add_model_text_options(*app, opt->text);
    app->add_option("--format", opt->format, "Input format when the extension does not say it")
        ->check(CLI::IsMember({"text", "jsonl"}));
    return {app, [opt] { return run_calibrate(*opt); }};
}

}  // namespace embq::cli
