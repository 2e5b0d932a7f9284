#include "embq/bench.hpp"

#include <sys/resource.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <fstream>

#include "embq/dataset.hpp"
#include "embq/embed.hpp"
#include "embq/error.hpp"
#include "embq/hardware.hpp"
#include "embq/metrics.hpp"
#include "embq/runtime.hpp"

namespace embq {

namespace {

using Clock = std::chrono::steady_clock;

// A model under test: its encodings of the shared texts and what its turns measured.
struct Contender {
    EmbeddingModel model;
    std::vector<Encoding> encodings;                // one per text, same order for all
    std::vector<std::vector<double>> latencies_ms;  // [batch size] every timed batch
    std::vector<std::vector<double>> round_rates;   // [batch size][round] texts/s
};

// Texts come from the file in order; the rounds take consecutive slices, wrapping around
// when the file is shorter than the rounds need.
std::vector<Record> read_records(const std::filesystem::path& data, size_t wanted) {
    DatasetReader reader(data, dataset_format_for(data));
    std::vector<Record> records;
    Record record;
    while (records.size() < wanted && reader.next(record)) records.push_back(record);
    if (records.empty())
        throw input_error(data.string() + ": no records to benchmark with (" +
                          std::to_string(reader.stats().empty_skipped) + " empty lines)");
    return records;
}

int64_t batches_per_turn(const BenchOptions& options, int64_t batch_size) {
    return std::max<int64_t>(1, (options.texts_per_turn + batch_size - 1) / batch_size);
}

// Embeds `batches` batches of `batch_size` consecutive texts from `first` (wrapping),
// returning each batch's latency in milliseconds.
std::vector<double> run_turn(Contender& c, size_t first, int64_t batches, int64_t batch_size) {
    std::vector<double> latencies;
    latencies.reserve(static_cast<size_t>(batches));
    const size_t n = c.encodings.size();
    std::vector<const Encoding*> batch(static_cast<size_t>(batch_size));
    for (int64_t b = 0; b < batches; ++b) {
        for (int64_t i = 0; i < batch_size; ++i)
            batch[static_cast<size_t>(i)] =
                &c.encodings[(first + static_cast<size_t>(b * batch_size + i)) % n];
        const auto t0 = Clock::now();
        c.model.embedder.embed(batch);
        latencies.push_back(std::chrono::duration<double, std::milli>(Clock::now() - t0).count());
    }
    return latencies;
}

Spread spread_of(std::vector<double> values) {
    std::sort(values.begin(), values.end());
    return {percentile_of_sorted(values, 50), values.front(), values.back()};
}

}  // namespace

SpeedVerdict verdict_from_ratios(const std::vector<double>& ratios) {
    const bool all_above =
        std::all_of(ratios.begin(), ratios.end(), [](double r) { return r > 1; });
    const bool all_below =
        std::all_of(ratios.begin(), ratios.end(), [](double r) { return r < 1; });
    return all_above ? SpeedVerdict::Faster : all_below ? SpeedVerdict::Slower : SpeedVerdict::Even;
}

const char* verdict_name(SpeedVerdict verdict) {
    switch (verdict) {
        case SpeedVerdict::Baseline: return "baseline";
        case SpeedVerdict::Faster: return "faster";
        case SpeedVerdict::Slower: return "slower";
        case SpeedVerdict::Even: return "even (within noise)";
    }
    return "?";
}

int64_t current_rss_bytes() {
    std::ifstream statm("/proc/self/statm");
    int64_t size = 0, resident = 0;
    statm >> size >> resident;
    return resident * static_cast<int64_t>(sysconf(_SC_PAGESIZE));
}

int64_t peak_rss_bytes() {
    rusage usage{};
    getrusage(RUSAGE_SELF, &usage);
    return static_cast<int64_t>(usage.ru_maxrss) * 1024;  // KiB on Linux
}

BenchResult run_bench(const std::vector<std::filesystem::path>& models,
                      const std::filesystem::path& data, const EmbeddingModelOptions& text,
                      const BenchOptions& options) {
    if (models.empty()) throw usage_error("bench needs at least one model");
    if (options.batch_sizes.empty()) throw usage_error("--batch needs at least one batch size");
    if (options.rounds < 1) throw usage_error("--rounds must be at least 1");

    size_t wanted = 0;
    for (int64_t b : options.batch_sizes)
        wanted += static_cast<size_t>(batches_per_turn(options, b) * b * options.rounds);
    const std::vector<Record> records = read_records(data, wanted);

    BenchResult result;
    result.options = options;
    result.options.on_progress = nullptr;  // the caller's; the result outlives the run
    result.texts_available = static_cast<int64_t>(records.size());
    result.inputs_repeat = records.size() < wanted;
    result.machine = describe_machine();
    result.threads = thread_count();
    result.blas_threads = blas_thread_count();

    const size_t sizes = options.batch_sizes.size();
    std::vector<Contender> contenders;
    contenders.reserve(models.size());
    for (const auto& path : models) {
        const int64_t rss_before = current_rss_bytes();
        Contender c{open_embedding_model(path, text), {}, {}, {}};
        const auto max_length = static_cast<size_t>(c.model.embedder.card().max_length);
        c.encodings.reserve(records.size());
        for (const auto& record : records)
            c.encodings.push_back(encode_record(record, c.model.tokenizer.get(), max_length, data));
        // Warm-up: the first calls of a TorchScript model run its profiling executor and
        // build kernels; none of that is what a served model pays per call.
        for (int64_t b : options.batch_sizes) run_turn(c, 0, options.warmup_batches, b);
        BenchModel m;
        m.path = path;
        m.runs_as = c.model.runs_as;
        m.file_bytes = std::filesystem::file_size(path);
        m.loaded_rss_bytes = current_rss_bytes() - rss_before;
        result.models.push_back(std::move(m));
        c.latencies_ms.resize(sizes);
        c.round_rates.resize(sizes);
        contenders.push_back(std::move(c));
    }

    size_t cursor = 0;
    const size_t steps = sizes * static_cast<size_t>(options.rounds);
    size_t done = 0;
    for (size_t s = 0; s < sizes; ++s) {
        const int64_t batch_size = options.batch_sizes[s];
        const int64_t batches = batches_per_turn(options, batch_size);
        for (int round = 0; round < options.rounds; ++round) {
            if (options.on_progress) options.on_progress(done, steps);
            // Who goes first rotates, so no model always runs on a cache the previous
            // one warmed (or thrashed).
            for (size_t turn = 0; turn < contenders.size(); ++turn) {
                Contender& c = contenders[(turn + static_cast<size_t>(round)) % contenders.size()];
                const std::vector<double> latencies = run_turn(c, cursor, batches, batch_size);
                double total_ms = 0;
                for (double ms : latencies) total_ms += ms;
                c.round_rates[s].push_back(static_cast<double>(batches * batch_size) /
                                           (total_ms / 1000.0));
                c.latencies_ms[s].insert(c.latencies_ms[s].end(), latencies.begin(),
                                         latencies.end());
            }
            cursor = (cursor + static_cast<size_t>(batches * batch_size)) % records.size();
            ++done;
        }
    }
    if (options.on_progress) options.on_progress(done, steps);

    for (size_t m = 0; m < contenders.size(); ++m) {
        for (size_t s = 0; s < sizes; ++s) {
            BenchCell cell;
            cell.batch_size = options.batch_sizes[s];
            cell.texts_per_second = spread_of(contenders[m].round_rates[s]);
            std::vector<double> sorted = contenders[m].latencies_ms[s];
            std::sort(sorted.begin(), sorted.end());
            cell.p50_ms = percentile_of_sorted(sorted, 50);
            cell.p95_ms = percentile_of_sorted(sorted, 95);
            std::vector<double> ratios;
            for (int r = 0; r < options.rounds; ++r)
                ratios.push_back(contenders[m].round_rates[s][r] / contenders[0].round_rates[s][r]);
            cell.ratio = spread_of(ratios);
            cell.verdict = m == 0 ? SpeedVerdict::Baseline : verdict_from_ratios(ratios);
            result.models[m].cells.push_back(cell);
        }
    }
    result.peak_rss_bytes = peak_rss_bytes();
    return result;
}

}  // namespace embq
