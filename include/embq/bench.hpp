// Speed, measured honestly: several models taking turns on the same fresh batches of real
// inputs, at several batch sizes, with latency percentiles, spread over rounds, memory, and
// a verdict per batch size against the first model (usually FP32).
//
// Why this shape: a quantized model's speed-up is a ratio of two noisy numbers on a
// shared machine. Measured one model after the other, a load change between them moves
// the ratio by tens of percent (benchmarks/README). Here every round runs every model on
// the same batches back to back, rotating who goes first, so each round gives one paired
// ratio and the spread of those ratios says how far to trust it. Each round takes new
// texts: repeating one batch flatters per-shape kernel caches (oneDNN builds a kernel per
// activation scale for dynamic int8) in a way real traffic does not.
#pragma once

#include <cstdint>
#include <filesystem>
#include <functional>
#include <string>
#include <vector>

#include <nlohmann/json_fwd.hpp>

#include "embq/model_options.hpp"

namespace embq {

struct BenchOptions {
    std::vector<int64_t> batch_sizes{1, 8, 32};
    int rounds = 5;             // turns per model and batch size; each gives a paired ratio
    int64_t texts_per_turn = 128;  // texts one model embeds in one turn (whole batches)
    int warmup_batches = 3;     // untimed batches per model and batch size before round 1
    // Called before each (batch size, round) step and once at the end: steps done, of total.
    std::function<void(size_t done, size_t total)> on_progress;
};

// Median, minimum and maximum over rounds.
struct Spread {
    double median = 0, min = 0, max = 0;
};

enum class SpeedVerdict { Baseline, Faster, Slower, Even };
// "baseline", "faster", "slower", "even (within noise)".
const char* verdict_name(SpeedVerdict verdict);
// From one model's per-round ratios to the reference: faster when every ratio is above 1,
// slower when every one is below 1, else even.
SpeedVerdict verdict_from_ratios(const std::vector<double>& ratios);

struct BenchCell {  // one model at one batch size
    int64_t batch_size = 0;
    Spread texts_per_second;          // per round: the turn's texts / its summed latencies
    double p50_ms = 0, p95_ms = 0;    // per-batch latency over every timed batch
    Spread ratio;                     // per round: this model's texts/s / the first's
    // Faster when every round's ratio is above 1, slower when every one is below 1, else
    // even: the rounds disagree, so the difference is within the machine's noise.
    SpeedVerdict verdict = SpeedVerdict::Baseline;
};

struct BenchModel {
    std::filesystem::path path;
    std::string runs_as;  // EmbeddingModel::runs_as: "lite interpreter, int8 on qnnpack"
    uintmax_t file_bytes = 0;
    // Resident memory the process gained while loading this model and warming it up. The
    // models share one process, so this is the model's own footprint, not a process peak.
    int64_t loaded_rss_bytes = 0;
    std::vector<BenchCell> cells;  // one per batch size, in BenchOptions order
};

struct BenchResult {
    std::vector<BenchModel> models;  // models[0] is the reference
    int64_t peak_rss_bytes = 0;      // the whole process's peak (getrusage)
    int64_t texts_available = 0;     // distinct texts read from --data
    bool inputs_repeat = false;      // the rounds needed more texts than --data has
    int threads = 0, blas_threads = 0;
    std::string machine;             // CPU model name and count
    BenchOptions options;
};

// Loads every model (all read the same data with `text`'s card/tokenizer options) and
// measures them. At least one model; a model that cannot embed the data is an error
// before any timing.
BenchResult run_bench(const std::vector<std::filesystem::path>& models,
                      const std::filesystem::path& data, const EmbeddingModelOptions& text,
                      const BenchOptions& options);

// What `embq bench` prints and writes: a table per batch size (texts/s with its spread
// over rounds, p50/p95 latency, ratio to the first model, verdict), the models' memory,
// and the settings that make the numbers reproducible (machine, threads, rounds).
std::string bench_report_text(const BenchResult& result);
nlohmann::json bench_report_json(const BenchResult& result);
std::string bench_report_markdown(const BenchResult& result);
// True when no model is slower than the first at any batch size (`--fail-if-slower`).
bool no_model_slower(const BenchResult& result);

// Resident memory of this process now, and its peak so far, in bytes.
int64_t current_rss_bytes();
int64_t peak_rss_bytes();

}  // namespace embq
