#include <nlohmann/json.hpp>

#include "core/text_table.hpp"
#include "embq/bench.hpp"
#include "embq/format.hpp"
#include "embq/runtime.hpp"

namespace embq {

namespace {

std::string rate(const Spread& s) {
    return format_fixed(s.median, 1) + " (" + format_fixed(s.min, 1) + "-" +
           format_fixed(s.max, 1) + ")";
}

std::string ratio(const Spread& s, bool reference) {
    if (reference) return "1.00x";
    return format_fixed(s.median, 2) + "x (" + format_fixed(s.min, 2) + "-" +
           format_fixed(s.max, 2) + ")";
}

std::string settings_line(const BenchResult& r) {
    const BenchOptions& o = r.options;
    std::string line = r.machine + "; " + std::to_string(r.threads) + " intra-op threads, " +
                       (r.blas_threads > 0 ? std::to_string(r.blas_threads) : "n/a") +
                       " BLAS threads, " + allocator_settings() + "; " + std::to_string(o.rounds) +
                       " rounds of about " + std::to_string(o.texts_per_turn) +
                       " texts per model and batch size, models taking turns on the same "
                       "fresh texts (" +
                       std::to_string(r.texts_available) + " read" +
                       (r.inputs_repeat ? ", fewer than the rounds need: texts repeat" : "") +
                       "), " + std::to_string(o.warmup_batches) + " warm-up batches";
    return line;
}

std::string memory_line(const BenchResult& r) {
    std::string joined;
    for (const auto& m : r.models)
        joined += (joined.empty() ? "" : ", ") + m.path.filename().string() + " (" + m.runs_as +
                  ") " + format_bytes(m.loaded_rss_bytes);
    return "memory added by loading and warming up each model: " + joined + "; process peak " +
           format_bytes(r.peak_rss_bytes);
}

std::vector<std::vector<std::string>> rows(const BenchResult& r) {
    std::vector<std::vector<std::string>> out;
    for (size_t s = 0; s < r.options.batch_sizes.size(); ++s) {
        for (size_t m = 0; m < r.models.size(); ++m) {
            const BenchModel& model = r.models[m];
            const BenchCell& c = model.cells[s];
            out.push_back({std::to_string(c.batch_size), model.path.filename().string(),
                           format_bytes(static_cast<int64_t>(model.file_bytes)),
                           rate(c.texts_per_second), format_fixed(c.p50_ms, 2),
                           format_fixed(c.p95_ms, 2), ratio(c.ratio, m == 0),
                           verdict_name(c.verdict)});
        }
    }
    return out;
}

const std::vector<std::string> kHeader = {
    "batch",  "model", "size", "texts/s (min-max)", "p50 ms", "p95 ms", "vs first (min-max)",
    "verdict"};

nlohmann::json spread_json(const Spread& s) {
    return {{"median", s.median}, {"min", s.min}, {"max", s.max}};
}

}  // namespace

bool no_model_slower(const BenchResult& result) {
    for (const auto& m : result.models)
        for (const auto& c : m.cells)
            if (c.verdict == SpeedVerdict::Slower) return false;
    return true;
}

std::string bench_report_text(const BenchResult& result) {
    TextTable table(kHeader);
    for (auto& row : rows(result)) table.add_row(std::move(row));
    return settings_line(result) + "\n" + table.render() + memory_line(result) + "\n";
}

std::string bench_report_markdown(const BenchResult& result) {
    std::string md = "# embq bench\n\n" + settings_line(result) + ".\n\n|";
    for (const auto& h : kHeader) md += " " + h + " |";
    md += "\n|";
    for (size_t i = 0; i < kHeader.size(); ++i) md += i < 2 || i == 7 ? " --- |" : " ---: |";
    md += "\n";
    for (const auto& row : rows(result)) {
        md += "|";
        for (const auto& cell : row) md += " " + cell + " |";
        md += "\n";
    }
    md += "\n" + memory_line(result) +
          ".\n\nA verdict is *faster* or *slower* only when every "
          "round agrees; otherwise the difference is within this machine's noise.\n";
    return md;
}

nlohmann::json bench_report_json(const BenchResult& result) {
    nlohmann::json models = nlohmann::json::array();
    for (const auto& m : result.models) {
        nlohmann::json cells = nlohmann::json::array();
        for (const auto& c : m.cells)
            cells.push_back({{"batch_size", c.batch_size},
                             {"texts_per_second", spread_json(c.texts_per_second)},
                             {"latency_ms", {{"p50", c.p50_ms}, {"p95", c.p95_ms}}},
                             {"ratio_to_first", spread_json(c.ratio)},
                             {"verdict", verdict_name(c.verdict)}});
        models.push_back({{"path", m.path.string()},
                          {"runs_as", m.runs_as},
                          {"file_bytes", m.file_bytes},
                          {"loaded_rss_bytes", m.loaded_rss_bytes},
                          {"batches", cells}});
    }
    const BenchOptions& o = result.options;
    return {{"embq", build_description()},
            {"machine", result.machine},
            {"threads", result.threads},
            {"blas_threads", result.blas_threads},
            {"allocator", allocator_settings()},
            {"batch_sizes", o.batch_sizes},
            {"rounds", o.rounds},
            {"texts_per_turn", o.texts_per_turn},
            {"warmup_batches", o.warmup_batches},
            {"texts_available", result.texts_available},
            {"inputs_repeat", result.inputs_repeat},
            {"peak_rss_bytes", result.peak_rss_bytes},
            {"no_model_slower", no_model_slower(result)},
            {"models", models}};
}

}  // namespace embq
