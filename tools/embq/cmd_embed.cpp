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
#include "embq/vector_codes.hpp"
#include "path_options.hpp"
#include "progress.hpp"
#include "text_options.hpp"

namespace embq::cli {

namespace {

struct EmbedCommandOptions {
    std::string model, data, out, format, shard, vectors = "float32", calibration_vectors;
    EmbeddingModelOptions text;
    int64_t batch_size = 32;
};

int run_embed(const EmbedCommandOptions& opt) {
    vector_format_for(opt.out);  // a bad --out extension is a usage error before any work
    const VectorCodes codes = parse_vector_codes(opt.vectors);
    if (codes != VectorCodes::Float32 && vector_format_for(opt.out) != VectorFormat::Npy)
        throw usage_error("--vectors " + opt.vectors + " writes .npy (int8/uint8); --out " +
                          opt.out + " is .fvecs, which holds float32");
    if (codes == VectorCodes::Int8 && opt.calibration_vectors.empty())
        throw usage_error(
            "--vectors int8 maps each dimension over its range in sample vectors: pass "
            "--calibration-vectors FILE (float32 vectors of representative text, e.g. "
            "'embq embed' of your calibration set)");
    if (codes != VectorCodes::Int8 && !opt.calibration_vectors.empty())
        throw usage_error("--calibration-vectors is for --vectors int8");
    std::optional<Int8Ranges> ranges;
    if (codes == VectorCodes::Int8)
        ranges = int8_ranges_from(read_vectors(opt.calibration_vectors));
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
        if (!writer) {
            if (ranges && ranges->dim() != dim)
                throw usage_error("--calibration-vectors " + opt.calibration_vectors + " are " +
                                  std::to_string(ranges->dim()) + "-dimensional; the model's are " +
                                  std::to_string(dim));
            writer = std::make_unique<VectorWriter>(opt.out, dim, codes);
        }
        if (codes == VectorCodes::Float32)
            writer->write_rows(rows, count);
        else
            writer->write_codes(
                encode_vectors(codes, rows, count, dim, ranges ? &*ranges : nullptr).data(), count);
    };
    const EmbedStats stats =
        embed_dataset(model.embedder, model.tokenizer.get(), reader, write, options);
    // The codes file first, so no vector file is published that could not be read back; it
    // goes again if the vectors cannot be published.
    if (writer && codes != VectorCodes::Float32)
        write_codes_info(
            opt.out, {codes, stats.dim, ranges ? *ranges : Int8Ranges{}, opt.calibration_vectors});
    try {
        if (writer) writer->commit();
    } catch (...) {
        if (codes != VectorCodes::Float32) std::filesystem::remove(codes_info_path_for(opt.out));
        throw;
    }
    progress.finish();

    const double total = stats.tokenize_seconds + stats.forward_seconds;
    spdlog::info(
        "embedded {} texts ({} empty lines skipped, {} truncated to {} tokens) in {:.2f} s: "
        "{:.0f} texts/s; tokenization {} of the time, padding {} of positions",
        stats.texts, stats.empty_skipped, stats.truncated, card.max_length, total,
        total > 0 ? stats.texts / total : 0.0, format_percent(stats.tokenize_seconds, total),
        format_percent(static_cast<double>(stats.padded),
                       static_cast<double>(stats.tokens + stats.padded)));
    if (writer)
        spdlog::info("wrote {} ({} x {} {}, {} bytes a vector)", opt.out, writer->rows(), stats.dim,
                     opt.vectors, code_bytes_per_vector(codes, stats.dim));
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
    app->add_option("--vectors", opt->vectors,
                    "What a row is stored as: float32, int8 (a byte a dimension over ranges from "
                    "--calibration-vectors) or binary (sign bits); int8 and binary write .npy "
                    "with a .codes.json beside it, which eval reads")
        ->capture_default_str();
    reads_file(app->add_option("--calibration-vectors", opt->calibration_vectors,
                               "float32 vectors (.npy/.fvecs) of representative text whose "
                               "per-dimension ranges --vectors int8 maps to bytes"));
    app->add_option("--shard", opt->shard,
                    "Embed shard I of N (0-based, I/N) of the input, or 'auto' from a Slurm "
                    "array task or a Kubernetes Indexed Job; writes a manifest beside --out, and "
                    "eval reads the directory of shards as one file (README, At scale)");
    return {app, [opt] { return run_embed(*opt); }};
}

}  // namespace embq::cli
