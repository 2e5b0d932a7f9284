#include "embq/report.hpp"

#include <algorithm>
#include <cmath>
#include <cstdio>

#include <nlohmann/json.hpp>

#include "core/sha256.hpp"
#include "core/text_table.hpp"
#include "embq/error.hpp"
#include "embq/format.hpp"
#include "embq/hardware.hpp"
#include "embq/layers.hpp"
#include "embq/runtime.hpp"
#include "embq/shards.hpp"
#include "eval/junit.hpp"
#include "eval/report_parts.hpp"

namespace embq {

namespace {

namespace fs = std::filesystem;

// Longer metric tables are folded in Markdown, so a CI page shows the verdict first.
constexpr size_t kFoldRows = 12;

nlohmann::json number_or_null(double value) {
    return std::isfinite(value) ? nlohmann::json(value) : nlohmann::json(nullptr);
}

// A file, or a directory of embed shards (whose manifests hash their input and model).
nlohmann::json file_entry(const fs::path& path) {
    if (is_shard_set(path)) return {{"path", path.string()}, {"kind", "embed shards"}};
    return {{"path", path.string()}, {"bytes", fs::file_size(path)}, {"sha256", sha256_file(path)}};
}

const char* pairs_kind_name(PairsKind kind) {
    switch (kind) {
        case PairsKind::None: return "none";
        case PairsKind::Retrieval: return "retrieval";
        case PairsKind::Graded: return "graded";
    }
    return "?";
}

}  // namespace

size_t failed_gates(const std::vector<GateVerdict>& verdicts) {
    size_t n = 0;
    for (const auto& v : verdicts) n += !v.passed;
    return n;
}

std::string eval_headline(const EvalReport& r, const std::string& quote) {
    const EvalResult& res = r.result;
    std::string line = "baseline " + quote + r.inputs.baseline.filename().string() + quote;
    if (!res.from_vectors)
        line += " (" + format_bytes(static_cast<int64_t>(res.baseline_bytes)) + ")";
    line += " vs candidate " + quote + r.inputs.candidate.filename().string() + quote;
    if (!res.from_vectors)
        line += " (" + format_bytes(static_cast<int64_t>(res.candidate_bytes)) + ", " +
                format_metric(100.0 * static_cast<double>(res.candidate_bytes) /
                                  static_cast<double>(res.baseline_bytes),
                              1) +
                "% of the baseline)";
    line += "; " + std::to_string(res.corpus_rows) + " corpus rows, " +
            std::to_string(res.query_rows) +
            (res.queries_from_corpus ? " sampled queries" : " queries");
    if (res.pairs_kind != PairsKind::None)
        line += ", " + std::to_string(res.pair_rows) + " labelled pairs" +
                (res.pairs_kind == PairsKind::Retrieval
                     ? " (pool " + std::to_string(res.pool_rows) + ")"
                     : "");
    line += "; " + std::string(to_string(res.options.metric)) + ", " +
            res.options.index.describe() + " search";
    return line;
}

std::string fold_markdown(const std::string& summary, const std::string& body, size_t rows) {
    const size_t lines = static_cast<size_t>(std::count(body.begin(), body.end(), '\n'));
    // A Markdown table's header and separator lines are not rows.
    if (lines <= rows + 2) return summary + "\n\n" + body;
    // The blank lines let GitHub and GitLab render the Markdown inside the HTML element.
    return "<details><summary>" + summary + "</summary>\n\n" + body + "\n</details>\n";
}

nlohmann::json metrics_to_json(const MetricValues& metrics) {
    nlohmann::json out = nlohmann::json::object();
    for (const auto& [name, value] : metrics.all()) out[name] = number_or_null(value);
    return out;
}

nlohmann::json gates_to_json(const std::vector<GateVerdict>& verdicts) {
    nlohmann::json out = nlohmann::json::array();
    for (const auto& v : verdicts)
        out.push_back({{"gate", v.gate.text},
                       {"metric", v.gate.metric},
                       {"op", to_string(v.gate.op)},
                       {"threshold", v.gate.threshold},
                       {"value", v.value ? number_or_null(*v.value) : nlohmann::json(nullptr)},
                       {"passed", v.passed},
                       {"reason", v.reason}});
    return out;
}

nlohmann::json tool_to_json(int threads) {
    return {{"embq", version()},
            {"build", build_description()},
            {"machine", describe_machine()},
            {"threads", threads},
            {"blas_threads", blas_thread_count()},
            {"allocator", allocator_settings()}};
}

std::string format_metric(double value, int digits) { return format_fixed(value, digits); }

bool EvalReport::passed() const { return failed_gates(verdicts) == 0; }

std::string eval_report_text(const EvalReport& r) {
    std::string out = eval_headline(r, "") + "\n";
    TextTable table({"metric", "value"});
    for (const auto& [name, value] : r.result.metrics.all())
        table.add_row({name, format_metric(value)});
    out += table.render();
    if (!r.result.from_vectors) {
        char buf[256];
        std::snprintf(
            buf, sizeof buf,
            "throughput: baseline %.1f texts/s, candidate %.1f texts/s (side by side, %d threads); "
            "embedding %.1f s, search and metrics %.1f s\n",
            r.result.baseline_texts_per_second, r.result.candidate_texts_per_second, r.threads,
            r.result.embed_seconds, r.result.search_seconds);
        out += buf;
        out += "machine: " + describe_machine() + "; candidate runs as " +
               r.result.candidate_runs_as + "\n";
    }
    return out;
}

nlohmann::json eval_report_json(const EvalReport& r) {
    const EvalResult& res = r.result;
    nlohmann::json inputs = {{"baseline", file_entry(r.inputs.baseline)},
                             {"candidate", file_entry(r.inputs.candidate)}};
    if (!res.candidate_runs_as.empty()) inputs["candidate"]["runs_as"] = res.candidate_runs_as;
    if (!r.inputs.corpus.empty()) inputs["corpus"] = file_entry(r.inputs.corpus);
    if (!r.inputs.queries.empty()) inputs["queries"] = file_entry(r.inputs.queries);
    if (!r.inputs.pairs.empty()) inputs["pairs"] = file_entry(r.inputs.pairs);
    if (!r.inputs.model.card.empty()) inputs["card"] = file_entry(r.inputs.model.card);

    return {
        {"report", "embq eval"},
        {"format_version", 1},
        {"passed", r.passed()},
        {"tool", tool_to_json(r.threads)},
        {"inputs", inputs},
        {"options",
         {{"k", res.options.ks},
          {"metric", to_string(res.options.metric)},
          {"queries_sample", res.options.queries_sample},
          {"similarity_pairs", res.options.similarity_pairs},
          {"seed", res.options.seed},
          {"recall_epsilon", res.options.recall_epsilon},
          {"index", res.options.index.describe()}}},
        {"counts",
         {{"corpus", res.corpus_rows},
          {"queries", res.query_rows},
          {"queries_from_corpus", res.queries_from_corpus},
          {"pairs", res.pair_rows},
          {"pairs_kind", pairs_kind_name(res.pairs_kind)},
          {"pool", res.pool_rows},
          {"dim", res.dim}}},
        {"timing",
         {{"embed_seconds", res.embed_seconds},
          {"search_seconds", res.search_seconds},
          {"baseline_texts_per_second", number_or_null(res.baseline_texts_per_second)},
          {"candidate_texts_per_second", number_or_null(res.candidate_texts_per_second)}}},
        {"metrics", metrics_to_json(res.metrics)},
        {"gates", gates_to_json(r.verdicts)},
    };
}

std::string eval_report_markdown(const EvalReport& r) {
    const size_t failed = failed_gates(r.verdicts);
    std::string out = "## embq eval: ";
    if (r.verdicts.empty())
        out += "no gates\n\n";
    else if (failed == 0)
        out += "✅ passed (" + std::to_string(r.verdicts.size()) + " of " +
               std::to_string(r.verdicts.size()) + " gates)\n\n";
    else
        out += "❌ failed (" + std::to_string(failed) + " of " + std::to_string(r.verdicts.size()) +
               " gates)\n\n";
    out += eval_headline(r, "`") + "\n\n";
    if (!r.verdicts.empty()) {
        out += "| gate | value | result |\n|---|---:|---|\n";
        for (const auto& v : r.verdicts)
            out += "| `" + v.gate.text + "` | " + (v.value ? format_metric(*v.value) : "missing") +
                   " | " + (v.passed ? "✅ pass" : "❌ fail") + " |\n";
        out += "\n";
    }
    std::string metrics = "| metric | value |\n|---|---:|\n";
    for (const auto& [name, value] : r.result.metrics.all())
        metrics += "| " + name + " | " + format_metric(value) + " |\n";
    out += fold_markdown("All " + std::to_string(r.result.metrics.all().size()) + " metrics",
                         metrics, kFoldRows);
    if (!r.result.from_vectors)
        out += "\nThroughput measured side by side in this run: baseline " +
               format_metric(r.result.baseline_texts_per_second, 1) + " texts/s, candidate " +
               format_metric(r.result.candidate_texts_per_second, 1) + " texts/s (" +
               std::to_string(r.threads) + " threads, " + describe_machine() +
               "); the candidate runs as " + r.result.candidate_runs_as + ".\n";
    out += "\n<sub>" + build_description() + "</sub>\n";
    return out;
}

std::string eval_report_junit(const EvalReport& r) {
    JunitSuite suite{"embq eval gates", r.result.embed_seconds + r.result.search_seconds,
                     gate_cases("embq.eval", r.verdicts), eval_headline(r, "")};
    return junit_xml("embq eval", {suite});
}

}  // namespace embq
