// embq finetune MODEL CONFIG --data TEXT -o tuned.pt: quantization-aware fine-tuning
// against the FP32 model as teacher, then the normal quantize path (include/embq/finetune.hpp).
#include <iostream>
#include <memory>

#include <spdlog/spdlog.h>

#include "command.hpp"
#include "embq/finetune.hpp"
#include "embq/format.hpp"
#include "path_options.hpp"
#include "plan_options.hpp"
#include "progress.hpp"
#include "text_options.hpp"

namespace embq::cli {

namespace {

struct FinetuneCommandOptions {
    QuantizeRequest request;
    FinetuneOptions finetune;
    std::string format, output;
};

std::string format_score(const HeldOutScore& s) {
    return fmt::format("recall@10 {:.4f}, cosine mean {:.4f}, p5 {:.4f}", s.recall_at_10,
                       s.cosine_mean, s.cosine_p5);
}

int run_finetune(FinetuneCommandOptions& opt) {
    opt.finetune.format = opt.format.empty() ? dataset_format_for(opt.finetune.data)
                                             : *parse_dataset_format(opt.format);
    ProgressBar bar(static_cast<size_t>(opt.finetune.steps), "steps");
    const auto on_progress = [&](const FinetuneProgress& p) {
        bar.update(static_cast<size_t>(p.step));
        if (!p.scored) return;
        const double left = p.seconds / static_cast<double>(p.step) *
                            static_cast<double>(p.steps - p.step);
        spdlog::info("step {}/{}: loss {:.5f}, held-out {}; {:.0f} s left at most", p.step,
                     p.steps, p.scored->loss, format_score(*p.scored), left);
    };
    spdlog::info(
        "fine-tuning {} as {} on {} ({} texts held out)", opt.request.model.string(),
        opt.request.config.empty() ? "--scheme " + opt.request.scheme : opt.request.config.string(),
        opt.finetune.data.string(), opt.finetune.holdout);
    const FinetuneResult r = finetune(opt.request, opt.finetune, opt.output, on_progress);
    bar.finish();
    for (const auto& w : r.quantized.warnings) spdlog::warn("{}", w);

    std::cout << "held-out texts (" << opt.finetune.holdout << ", not trained on), simulated "
              << "quantization against FP32:\n"
              << "  before (post-training quantization): " << format_score(r.before) << "\n"
              << "  after  (step " << r.best.step << " of " << r.steps_run
              << (r.stopped_early ? ", stopped early" : "") << "):        " << format_score(r.best)
              << "\n"
              << r.simulated_layers << " layers simulated, " << r.changed_tensors.size() << " of "
              << r.trained_tensors << " tensors changed; model file: "
              << format_bytes(r.quantized.input_file_bytes) << " -> "
              << format_bytes(r.quantized.output_file_bytes) << "\n";
    std::cout.flush();
    spdlog::info("wrote {} in {:.0f} s", opt.output, r.seconds);
    return 0;
}

}  // namespace

Command add_finetune_command(CLI::App& parent) {
    auto opt = std::make_shared<FinetuneCommandOptions>();
    CLI::App* app = parent.add_subcommand(
        "finetune",
        "Quantization-aware fine-tuning: train a copy of the model that computes with the "
        "config's quantized weights to reproduce the FP32 model's vectors on unlabeled text, "
        "then quantize it as 'embq quantize' would.");
    add_model_config_arguments(*app, opt->request);
    add_target_option(*app, opt->request);
    app->add_flag("--allow-unmatched-rules", opt->request.allow_unmatched_rules,
                  "A config rule that matches no layer is a warning, not an error");
    reads_file(
        app->add_option("--data", opt->finetune.data,
                        "Unlabeled training text: .txt (one per line) or .jsonl, read as a stream; "
                        "use text like what the model will embed"))
        ->required();
    writes_file(app->add_option(
                    "-o,--output", opt->output,
                    "Where to write the quantized model (.pt, or .ptl for the lite interpreter)"))
        ->required();
    FinetuneOptions& f = opt->finetune;
    app->add_option("--holdout", f.holdout,
                    "The first N texts of --data score the student and are never trained on")
        ->capture_default_str();
    app->add_option("--steps", f.steps, "Training steps (batches)")->capture_default_str();
    app->add_option("--lr", f.learning_rate, "Peak learning rate (AdamW, no weight decay)")
        ->capture_default_str();
    app->add_option("--warmup", f.warmup_steps,
                    "Steps of linear warm-up before the cosine decay (default: 10% of --steps)");
    app->add_option("--similarity-weight", f.similarity_weight,
                    "Weight of the in-batch similarity term against the cosine term")
        ->capture_default_str();
    app->add_option("--layer-weight", f.layer_weight,
                    "Weight of the layer-wise term: each linear layer's output against the "
                    "FP32 model's (0: vectors only)")
        ->capture_default_str();
    app->add_option("--eval-every", f.eval_every, "Score the held-out texts every N steps")
        ->capture_default_str();
    app->add_option("--patience", f.patience,
                    "Stop after this many scorings without a better held-out recall@10")
        ->capture_default_str();
    add_batch_size_option(*app, f.batch_size);
    add_model_text_options(*app, opt->request.calibration_model);
    app->add_option("--format", opt->format, "Input format when the extension does not say it")
        ->check(CLI::IsMember({"text", "jsonl"}));
    return {app, [opt] { return run_finetune(*opt); }};
}

}  // namespace embq::cli
