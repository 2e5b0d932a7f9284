// embq embed MODEL --data FILE --out VECTORS: text (or token ids) in, float32 vectors
// out (.npy or .fvecs), rows in input order.
#include <cstdio>
#include <memory>

#include <spdlog/spdlog.h>

#include "command.hpp"
#include "embq/embed.hpp"
#include "embq/error.hpp"
#include "embq/format.hpp"
#include "embq/shards.hpp"
#include "path_options.hpp"
#include "progress.hpp"
#include "text_options.hpp"

namespace embq::cli {

namespace {

struct EmbedCommandOptions {
    std::string model, data, out, format, shard;
    EmbeddingModelOptions text;
    int64_t batch_size = 32;
};

int run_embed(const EmbedCommandOptions& opt) {
    vector_format_for(opt.out);  // a bad --out extension is a usage error before any work
    const DatasetFormat format =
        opt.format.empty() ? dataset_format_for(opt.data) : *parse_dataset_format(opt.format);
    EmbedOptions options;
    options.batch_size = opt.batch_size;
    if (!opt.shard.empty()) {
        options.shard = parse_shard(opt.shard);
        if (opt.data == "-" || opt.data == "/dev/stdin")
            throw usage_error("--shard needs --data to be a file every shard can read");
        spdlog::info("shard {} of {} ({}): blocks {}, {}, ... of {} records", options.shard.index,
                     options.shard.count, options.shard.source, options.shard.index,
                     options.shard.index + options.shard.count, options.window);
    }
    EmbeddingModel model = open_embedding_model(opt.model, opt.text);
    const ModelCard& card = model.embedder.card();

    DatasetReader reader(opt.data, format);
    ProgressBar progress(progress_total(opt.data) / static_cast<size_t>(options.shard.count),
                         "texts");
    options.on_progress = [&](size_t done) { progress.update(done); };
    std::unique_ptr<VectorWriter> writer;
    auto write = [&](const float* rows, int64_t count, int64_t dim) {
        if (!writer) writer = std::make_unique<VectorWriter>(opt.out, dim);
        writer->write_rows(rows, count);
    };
    const EmbedStats stats =
        embed_dataset(model.embedder, model.tokenizer.get(), reader, write, options);
    if (writer) writer->commit();
    progress.finish();

    const double total = stats.tokenize_seconds + stats.forward_seconds;
    spdlog::info(
        "embedded {} texts ({} empty lines skipped, {} truncated to {} tokens) in {:.2f} s: "
        "{:.0f} texts/s; tokenization {} of the time, padding {} of positions",
        stats.texts, stats.empty_skipped, stats.truncated, card.max_length, total,
        total > 0 ? stats.texts / total : 0.0, format_percent(stats.tokenize_seconds, total),
        format_percent(static_cast<double>(stats.padded),
                       static_cast<double>(stats.tokens + stats.padded)));
    if (writer) spdlog::info("wrote {} ({} x {} float32)", opt.out, writer->rows(), stats.dim);
    if (!opt.shard.empty()) {
        ShardRecord record{options.shard,
                           static_cast<int64_t>(options.window),
                           opt.data,
                           opt.model,
                           opt.out,
                           model_card_to_json(card),
                           writer ? writer->rows() : 0,
                           writer ? stats.dim : 0,
                           static_cast<int64_t>(stats.records_seen)};
        write_shard_manifest(record);
        spdlog::info("wrote {} ({} of {} records{})", manifest_path_for(opt.out).string(),
                     record.rows, record.records_seen,
                     writer ? "" : "; this shard owned no block, so it wrote no vectors");
    }
    return 0;
}

}  // namespace

Command add_embed_command(CLI::App& parent) {
    auto opt = std::make_shared<EmbedCommandOptions>();
    CLI::App* app = parent.add_subcommand(
        "embed",
        "Embed a dataset (text, JSONL) with a model and write float32 vectors "
        "(.npy or .fvecs), rows in input order.");
    reads_model(app->add_option("model", opt->model, "TorchScript model file (.pt)"))->required();
    reads_stream(app->add_option("--data", opt->data,
                                 "Input: .txt (one text per line) or .jsonl "
                                 "({\"text\": ...} or {\"input_ids\": [...]})"))
        ->required();
    writes_file(app->add_option("--out", opt->out, "Output vectors: .npy or .fvecs"))->required();
    add_model_text_options(*app, opt->text);
    app->add_option("--format", opt->format, "Input format when the extension does not say it")
        ->check(CLI::IsMember({"text", "jsonl", "tsv"}));
    add_batch_size_option(*app, opt->batch_size);
    app->add_option("--shard", opt->shard,
                    "Embed shard I of N (0-based, I/N) of the input, or 'auto' from a Slurm "
                    "array task or a Kubernetes Indexed Job; writes a manifest beside --out, and "
                    "eval reads the directory of shards as one file (README, At scale)");
    return {app, [opt] { return run_embed(*opt); }};
}

}  // namespace embq::cli
