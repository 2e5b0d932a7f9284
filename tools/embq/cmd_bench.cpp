// embq bench MODEL.pt [MORE.pt...] --data FILE [--batch 1,8,32]: the models' speed side by
// side on the same fresh texts, each batch size with a verdict against the first model.
#include <iostream>
#include <memory>

#include <nlohmann/json.hpp>

#include "command.hpp"
#include "embq/atomic_file.hpp"
#include "embq/bench.hpp"
#include "embq/error.hpp"
#include "eval_options.hpp"
#include "path_options.hpp"
#include "progress.hpp"
#include "text_options.hpp"

namespace embq::cli {

namespace {

struct BenchCommandOptions {
    std::vector<std::string> models;
    std::string data, report_json, report_md;
    EmbeddingModelOptions text;
    BenchOptions bench;
    bool fail_if_slower = false;
};

int run_bench_command(BenchCommandOptions& opt) {
    std::vector<std::filesystem::path> models(opt.models.begin(), opt.models.end());

    ProgressBar bar(opt.bench.batch_sizes.size() * static_cast<size_t>(opt.bench.rounds),
                    "rounds");
    opt.bench.on_progress = [&](size_t done, size_t) { bar.update(done); };
    const BenchResult result = run_bench(models, opt.data, opt.text, opt.bench);
    bar.finish();

    std::cout << bench_report_text(result) << std::flush;
    if (!opt.report_json.empty())
        write_file_atomically(opt.report_json, bench_report_json(result).dump(2) + "\n");
    if (!opt.report_md.empty()) write_file_atomically(opt.report_md, bench_report_markdown(result));
    if (opt.fail_if_slower && !no_model_slower(result)) {
        std::cerr << "embq: a model is slower than " << models.front().filename().string()
                  << " at some batch size (every round agreed); see the verdict column\n";
        return kExitGateFailed;
    }
    return kExitOk;
}

}  // namespace

Command add_bench_command(CLI::App& parent) {
    auto opt = std::make_shared<BenchCommandOptions>();
    CLI::App* app = parent.add_subcommand(
        "bench",
        "Time models side by side on the same fresh texts at several batch sizes: texts/s "
        "with its spread over rounds, p50/p95 latency, memory, and a verdict against the "
        "first model.");
    reads_model(app->add_option("models", opt->models,
                                "TorchScript models; the first is the reference (usually FP32)"))
        ->required();
    reads_file(app->add_option("--data", opt->data,
                               "Texts to embed: .txt (one per line) or .jsonl (text or input_ids)"))
        ->required();
    add_model_text_options(*app, opt->text, " (every model)");
    app->add_option("--batch", opt->bench.batch_sizes, "Batch sizes, comma-separated")
        ->delimiter(',')
        ->check(CLI::Range(int64_t{1}, int64_t{4096}))
        ->capture_default_str();
    app->add_option("--rounds", opt->bench.rounds,
                    "Turns per model and batch size; each gives one paired ratio")
        ->check(CLI::Range(1, 1000))
        ->capture_default_str();
    app->add_option("--texts-per-turn", opt->bench.texts_per_turn,
                    "Texts one model embeds per turn (rounded up to whole batches)")
        ->check(CLI::Range(int64_t{1}, int64_t{1} << 24))
        ->capture_default_str();
    app->add_option("--warmup", opt->bench.warmup_batches,
                    "Untimed batches per model and batch size before the rounds")
        ->check(CLI::Range(0, 10000))
        ->capture_default_str();
    writes_file(app->add_option("--report-json", opt->report_json, "Write every figure as JSON"));
    writes_file(app->add_option("--report-md", opt->report_md, "Write the table as Markdown"));
    app->add_flag("--fail-if-slower", opt->fail_if_slower,
                  "Exit 1 when a model is slower than the first at any batch size in every "
                  "round");
    return {app, [opt] { return run_bench_command(*opt); }};
}

}  // namespace embq::cli
